#!/usr/bin/env bash
# Brings the pinned Cargo.lock of every template variant up to date with its manifest.
#
# Each combination of options has its own dependency set, kept in
# template/lockfiles/<choices and flags>.lock so that a generated project builds with
# `--locked` from its first commit. Run this after changing a dependency in
# template/Cargo.toml.liquid or adding an option; the harness fails while any
# lockfile is stale.
set -euo pipefail

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
placeholder="lockfile-placeholder"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --quiet --manifest-path "$root/Cargo.toml" --bin cargo-generate
generate="$root/target/debug/cargo-generate"
"$root/scripts/template-source.sh" "$work/source"

# Each variant's lockfile name and -d arguments, from template/cargo-generate.toml.
variants=$(cargo run --quiet --manifest-path "$root/Cargo.toml" --example variants -- --lockfiles)
# A combination new to the template (after an option was added, every one is) starts
# from an existing lockfile's pins, so that only what it adds is resolved.
seed=$(find "$root/template/lockfiles" -name '*.lock' | sort | head -n 1)
cp "$seed" "$work/seed.lock"
while read -r variant defines; do
    read -ra defines <<<"$defines"
    lockfile="$root/template/lockfiles/$variant.lock"
    [ -f "$lockfile" ] || cp "$work/seed.lock" "$lockfile"
    mkdir -p "$work/$variant"
    USER=${USER:-template} "$generate" generate --path "$work/source" --name "$placeholder" \
        --silent --vcs none --destination "$work/$variant" "${defines[@]}" >/dev/null
    project="$work/$variant/$placeholder"
    # From the pinned lockfile, resolve only what the manifest changed:
    # pins of unchanged dependencies stay where they are.
    (cd "$project" && CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update --workspace --quiet)
    sed "s/^name = \"$placeholder\"\$/name = \"{{project-name}}\"/" "$project/Cargo.lock" \
        >"$lockfile"
    echo "updated template/lockfiles/$variant.lock"
done <<<"$variants"

# Lockfiles of combinations that no longer exist would match a project's options too.
for lockfile in "$root"/template/lockfiles/*.lock; do
    stem=$(basename "$lockfile" .lock)
    if ! grep -q "^$stem " <<<"$variants"; then
        rm "$lockfile"
        echo "removed template/lockfiles/$stem.lock"
    fi
done
