#!/usr/bin/env bash
# Takes a newer release of the template this project was generated from, by a
# three-way merge: your changes stay, the template's arrive, and a file where both
# changed the same lines is left in conflict, with git's markers, for you to resolve.
#
# Usage: scripts/update-template.sh [--to VERSION] [--from SOURCE] [--check]
#
#   --to VERSION    the release to take (default: the newest, tagged vVERSION)
#   --from SOURCE   where the template is, a git URL or path (default: the source
#                   recorded in .template/answers.toml)
#   --check         only tell whether a newer release exists: exit 1 if one does
#
# Needs git and cargo-generate. Commits nothing: review with `git status`, run the
# tests, then `git commit`; `git reset --hard HEAD` undoes the update exactly.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

to=
from=
check=false
while [ $# -gt 0 ]; do
    case "$1" in
        --to) to=${2:?--to needs a value}; shift 2 ;;
        --from) from=${2:?--from needs a value}; shift 2 ;;
        --check) check=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
answers=.template/answers.toml
if [ ! -f "$answers" ]; then
    echo "error: $answers not found: it records the template and answers this project was generated with" >&2
    exit 1
fi
# A `key = "value"` line of the answers file.
recorded() {
    sed -n -E "s/^$1 = \"(.*)\"\$/\1/p" "$answers" | head -n 1
}
source=${from:-$(recorded source)}
current=$(recorded version)
name=$(recorded name)

# The newest release of the template: its highest vVERSION tag.
newest_release() {
    local tags
    if ! tags=$(git ls-remote --tags --refs "$source" 'v*' 2>&1); then
        echo "error: cannot read the template's releases from $source: pass --from, or correct source in $answers" >&2
        echo "$tags" >&2
        exit 1
    fi
    sed -n 's|.*refs/tags/v||p' <<<"$tags" | sort -V | tail -n 1
}

if [ "$check" = true ]; then
    newest=$(newest_release)
    if [ -n "$newest" ] && [ "$newest" != "$current" ] && [ "$(printf '%s\n%s\n' "$current" "$newest" | sort -V | tail -n 1)" = "$newest" ]; then
        echo "template $newest is out (this project is at $current): run scripts/update-template.sh"
        exit 1
    fi
    echo "up to date with template $current"
    exit 0
fi

if ! git rev-parse --verify --quiet HEAD >/dev/null; then
    echo "error: nothing is committed yet: commit the project first, the update merges into the last commit" >&2
    exit 1
fi
if [ -n "$(git status --porcelain)" ]; then
    echo "error: the working tree has uncommitted changes: commit or stash them first" >&2
    exit 1
fi
target=${to:-$(newest_release)}
target=${target#v}
if [ -z "$target" ]; then
    echo "error: $source has no release (no vVERSION tag): pass --to" >&2
    exit 1
fi
if [ "$target" = "$current" ]; then
    echo "already at template $current"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git_dir=$(git rev-parse --absolute-git-dir)

# The project as release $1 of the template renders it with the recorded answers,
# stored in this repository as a tree. Cargo.lock is left out: cargo merges it below.
rendered_tree() {
    local checkout="$work/template-$1" out="$work/rendered-$1"
    if ! git clone --quiet --branch "v$1" -c advice.detachedHead=false "$source" "$checkout" 2>"$work/clone.log"; then
        echo "error: cannot fetch release v$1 of the template from $source:" >&2
        cat "$work/clone.log" >&2
        exit 1
    fi
    mkdir -p "$out"
    cargo generate --path "$checkout" --name "$name" --values-file "$answers" \
        --silent --vcs none --destination "$out" >"$work/generate.log" 2>&1 || {
        echo "error: release v$1 of the template did not generate with $answers:" >&2
        cat "$work/generate.log" >&2
        exit 1
    }
    rm -f "$out/$name/Cargo.lock"
    (cd "$out/$name" && GIT_DIR=$git_dir GIT_INDEX_FILE="$work/index" git add --all &&
        GIT_DIR=$git_dir GIT_INDEX_FILE="$work/index" git write-tree)
    rm -f "$work/index"
}

# Two commits outside every branch: the template as this project started from it,
# and as the target release has it. Cherry-picking the second applies the template's
# changes with the first as the merge base.
as_template() {
    GIT_AUTHOR_NAME=template GIT_AUTHOR_EMAIL=template@localhost \
        GIT_COMMITTER_NAME=template GIT_COMMITTER_EMAIL=template@localhost "$@"
}
base_tree=$(rendered_tree "$current")
target_tree=$(rendered_tree "$target")
base=$(as_template git commit-tree -m "Template $current" "$base_tree")
update=$(as_template git commit-tree -p "$base" -m "Update from template $current to $target" "$target_tree")

conflicts=
if ! git cherry-pick --no-commit "$update" >"$work/merge.log" 2>&1; then
    conflicts=$(git diff --name-only --diff-filter=U)
    if [ -z "$conflicts" ]; then
        echo "error: the merge failed:" >&2
        cat "$work/merge.log" >&2
        exit 1
    fi
fi

# Cargo.lock: resolve only what the merged manifest changed; every other pin stays.
lockfile_note=
if grep -qx Cargo.toml <<<"$conflicts"; then
    lockfile_note="After resolving Cargo.toml, run: cargo update --workspace"
elif cargo update --workspace --quiet 2>"$work/lock.log"; then
    git add Cargo.lock
else
    lockfile_note="cargo could not update Cargo.lock ($(tail -n 1 "$work/lock.log")); fix Cargo.toml, then run: cargo update --workspace"
fi

echo "Updated from template $current to $target; nothing is committed."
if [ -n "$conflicts" ]; then
    echo "You and the template both changed these; resolve the marked lines (or run git mergetool), then git add each:"
    while IFS= read -r file; do
        echo "  $file"
    done <<<"$conflicts"
fi
if [ -n "$lockfile_note" ]; then
    echo "$lockfile_note"
fi
echo "Next: review with git status and git diff --cached, run cargo test, then git commit."
echo "To undo the update and restore the tree exactly: git reset --hard HEAD"
