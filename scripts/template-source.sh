#!/usr/bin/env bash
# Copies this checkout's files, as a fresh clone holds them (tracked, and untracked but
# not ignored), into the directory $1: the template for `cargo generate --path`, and
# what the harness takes for a fresh clone of the work in progress.
# Given the checkout itself, cargo-generate copies all of it, build output included, and
# expands the first cargo-generate.toml in path order, which can be one the harness left
# under target/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
git -C "$root" ls-files -z --cached --others --exclude-standard |
    tar -C "$root" --null --files-from - --ignore-failed-read -cf - |
    tar -C "$1" -xf -
