#!/usr/bin/env bash
# Measures a generated variant side by side with bare axum and with axum + sqlx serving
# the same query on the same database, all on loopback in one run, and prints a table.
#
# Usage: scripts/bench.sh [--smoke] [--no-image] [VARIANT]
#   VARIANT     a variant id as `cargo run --example variants` lists them (default: sqlite)
#   --smoke     one short round on debug builds, no image: proves the benchmark still runs
#   --no-image  skip building the Docker image (its size is then left out)
# Settings (environment):
#   BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32), BENCH_THREADS (2): each
#     load run is wrk with these, and the rounds alternate service and baseline;
#   DATABASE_URL   a Postgres server the Postgres variants may create a database on (its
#                  sslmode, Postgres's default `prefer` if none, applies to both sides);
#   REDIS_URL      the Redis server of the redis variants (default redis://127.0.0.1:6379);
#   BENCH_TARGET_DIR  where the service and the baselines build (default target/bench/target).
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
build_image=true
variant=sqlite
for argument in "$@"; do
    case $argument in
        --smoke) smoke=true build_image=false ;;
        --no-image) build_image=false ;;
        -*) echo "unknown option $argument; see the usage at the top of $0" >&2; exit 2 ;;
        *) variant=$argument ;;
    esac
done
export USER=${USER:-bench}

work=$PWD/target/bench
# Absolute: the service builds from its own directory.
target=$(realpath -m "${BENCH_TARGET_DIR:-$work/target}")
if $smoke; then
    profile=dev
    binaries=$target/debug
    # The harness's build settings, so a smoke run after it reuses its dependencies.
    export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0
    run_settings=(--seconds 1 --rounds 1 --warm-up 1)
else
    profile=release
    binaries=$target/release
    run_settings=(--seconds "${BENCH_SECONDS:-10}" --rounds "${BENCH_ROUNDS:-3}")
fi

defines=$(cargo run --quiet --locked --example variants -- --defines | awk -v id="$variant" '$1 == id { $1 = ""; print }')
if [ -z "$defines" ]; then
    echo "unknown variant $variant; the variants are:" >&2
    cargo run --quiet --locked --example variants >&2
    exit 2
fi

echo "==> generating $variant"
project=$work/$variant
rm -rf "$project" "$work/source"
mkdir -p "$project"
scripts/template-source.sh "$work/source"
# shellcheck disable=SC2086 # the defines are `-d name=value` words
if ! cargo run --quiet --locked --bin cargo-generate -- generate --path "$work/source" --name svc --silent --vcs none \
    --destination "$project" $defines >"$work/generate.log" 2>&1; then
    cat "$work/generate.log" >&2
    exit 1
fi
project=$project/svc

echo "==> building the service and the baselines ($profile)"
(cd "$project" && CARGO_TARGET_DIR=$target cargo build --quiet --locked --profile "$profile")
CARGO_TARGET_DIR=$target cargo build --quiet --locked --profile "$profile" --manifest-path bench/Cargo.toml

image=()
if $build_image && docker info >/dev/null 2>&1; then
    echo "==> building the image"
    if docker build --quiet --tag svc-bench:"$variant" "$project" >/dev/null; then
        image=(--image svc-bench:"$variant")
    else
        echo "the image did not build (no base images? tests/container/stand-in-images.sh builds stand-ins); its size is left out" >&2
    fi
fi

database=()
if [[ $variant == postgres* ]]; then
    : "${DATABASE_URL:?the Postgres variants need DATABASE_URL: a server the benchmark may create a database on}"
    bench_database=svc_bench
    psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $bench_database" -c "CREATE DATABASE $bench_database"
    # DATABASE_URL with the benchmark's database in place of its own, its parameters
    # (sslmode: TLS for the service and the baseline alike) kept.
    server=${DATABASE_URL%%\?*}
    database=(--database-url "${server%/*}/$bench_database${DATABASE_URL#"$server"}")
else
    database=(--database-url "sqlite://$work/$variant.db")
    rm -f "$work/$variant".db*
fi

python3 bench/run.py \
    --service "$binaries/svc" \
    --hello "$binaries/hello" \
    --items "$binaries/items" \
    --work "$work" \
    --threads "${BENCH_THREADS:-2}" \
    --connections "${BENCH_CONNECTIONS:-32}" \
    "${database[@]}" "${image[@]}" "${run_settings[@]}"
