#!/usr/bin/env bash
# Brings the query caches in template/query-caches/ up to date with the queries under
# template/src and the migrations.
#
# A generated project's query macros read its database's cache (.sqlx/, which
# hooks/select-query-cache.rhai places) instead of connecting at build time; Postgres
# and SQLite describe the same query differently, so each has its own. Run this after
# changing a query or a migration; the harness's queries tier fails while one is stale.
# Needs a sqlx-cli that the generated scripts/query-cache.sh accepts (one of the minor
# series of sqlx in the lockfiles), and a Postgres server at DATABASE_URL.
set -euo pipefail

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --quiet --manifest-path "$root/Cargo.toml" --bin cargo-generate
generate="$root/target/debug/cargo-generate"
"$root/scripts/template-source.sh" "$work/source"

# The first variant of each database (no other option on), from template/cargo-generate.toml.
variants=$(cargo run --quiet --manifest-path "$root/Cargo.toml" --example variants -- --lockfiles |
    awk -F '[=+ ]' '!seen[$2]++')
while read -r variant defines; do
    read -ra defines <<<"$defines"
    database=${variant%%+*}
    database=${database#database=}
    mkdir -p "$work/$database"
    USER=${USER:-template} "$generate" generate --path "$work/source" --name query-cache \
        --silent --vcs none --destination "$work/$database" "${defines[@]}" >/dev/null
    "$work/$database/query-cache/scripts/query-cache.sh"
    rm -rf "$root/template/query-caches/$database"
    cp -r "$work/$database/query-cache/.sqlx" "$root/template/query-caches/$database"
    echo "updated template/query-caches/$database"
done <<<"$variants"
