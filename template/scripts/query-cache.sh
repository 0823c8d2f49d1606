#!/usr/bin/env bash
# Refreshes .sqlx/, the query cache: what each `sqlx::query!` takes and returns, as
# the schema that migrations/ builds answers it. Builds read the cache instead of a
# database (SQLX_OFFLINE=true in .cargo/config.toml), so run this after changing a
# query or a migration, and commit .sqlx/ with the change.
#
# Usage: scripts/query-cache.sh [--check] [--install]
#
#   --check     change nothing; fail if .sqlx/ is stale (CI runs this)
#   --install   first install sqlx-cli, of the sqlx minor series in Cargo.lock, if missing
#
{%- if database == "postgres" %}
# The schema is built in a scratch database, {{crate_name}}_query_cache, dropped and
# created each run on the server DATABASE_URL names (the compose one, with .env loaded).
{%- else %}
# The schema is built in a scratch file, target/query-cache.db, made afresh each run.
{%- endif %}
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$(dirname "$0")/.."

check="" install=""
for argument in "$@"; do
    case "$argument" in
        --check) check=--check ;;
        --install) install=yes ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $argument" >&2; usage >&2; exit 2 ;;
    esac
done

# sqlx-cli writes the cache in the format of its minor series (0.9.x, say): keep it in
# the library's. Not its exact version: sqlx-cli is not published for every patch release
# of sqlx, and Dependabot moves sqlx by patch releases.
locked=$(awk '/^name = "sqlx"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
series=${locked%.*}
install_command=(cargo install sqlx-cli --locked --version "~$series" --no-default-features --features "{% if database == "postgres" %}rustls,postgres{% else %}sqlite{% endif %}")
installed=$(sqlx --version 2>/dev/null || true)
installed=${installed#sqlx-cli }
if [ "${installed%.*}" != "$series" ]; then
    if [ -z "$install" ]; then
        echo "sqlx-cli $series.x is needed for sqlx $locked: ${install_command[*]} (or pass --install)" >&2
        exit 1
    fi
    "${install_command[@]}"
fi
{%- if database == "postgres" %}

url=${DATABASE_URL:?set DATABASE_URL to the Postgres server to build the schema on (load .env)}
parameters=""
case "$url" in *\?*) parameters="?${url#*\?}" url=${url%%\?*} ;; esac
export DATABASE_URL="${url%/*}/{{crate_name}}_query_cache$parameters"
{%- else %}

mkdir -p target
export DATABASE_URL=sqlite:target/query-cache.db
{%- endif %}
sqlx database drop -y
sqlx database setup
cargo sqlx prepare ${check:+"$check"} -- --all-targets
