#!/usr/bin/env bash
# Brings the pinned Cargo.lock of every template variant up to date with its manifest.
#
# Each combination of options has its own dependency set, kept in
# template/lockfiles/<variant>.lock so that a generated project builds with
# `--locked` from its first commit. Run this after changing a dependency in
# template/Cargo.toml.liquid; the harness fails while any lockfile is stale.
set -euo pipefail

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
placeholder=lockfile-placeholder
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --quiet --manifest-path "$root/Cargo.toml" --bin cargo-generate
generate="$root/target/debug/cargo-generate"

for database in sqlite postgres; do
    for redis in false true; do
        for sentry in false true; do
            for otel in false true; do
                variant=$database
                [ "$redis" = true ] && variant+="+redis"
                [ "$sentry" = true ] && variant+="+sentry"
                [ "$otel" = true ] && variant+="+otel"
                mkdir -p "$work/$variant"
                USER=${USER:-template} "$generate" generate --path "$root" --name "$placeholder" \
                    --silent --vcs none --destination "$work/$variant" \
                    -d database="$database" -d redis="$redis" -d sentry="$sentry" -d otel="$otel" >/dev/null
                project="$work/$variant/$placeholder"
                # From the pinned lockfile, resolve only what the manifest changed:
                # pins of unchanged dependencies stay where they are.
                (cd "$project" && CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update --workspace --quiet)
                sed "s/^name = \"$placeholder\"\$/name = \"{{project-name}}\"/" "$project/Cargo.lock" \
                    >"$root/template/lockfiles/$variant.lock"
                echo "updated template/lockfiles/$variant.lock"
            done
        done
    done
done
