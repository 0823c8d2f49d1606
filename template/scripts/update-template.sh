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
# Exits 2 on an error. Options a newer release adds take their defaults; see its
# CHANGELOG.md section, and set them in .template/answers.toml before updating if not.
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
# A remote that asks for a password is an error here, not a prompt.
export GIT_TERMINAL_PROMPT=0
# Errors exit 2, so that `--check`'s 1 means only "a newer release exists".
fail() {
    echo "error: $*" >&2
    exit 2
}
answers=.template/answers.toml
[ -f "$answers" ] || fail "$answers not found: it records the template and answers this project was generated with"
# A `key = "value"` line of the answers file.
recorded() {
    sed -n -E "s/^$1 = \"(.*)\"\$/\1/p" "$answers" | head -n 1
}
source=${from:-$(recorded source)}
current=$(recorded version)
name=$(recorded name)
if [ -z "$source" ] || [ -z "$current" ] || [ -z "$name" ]; then
    fail "$answers lacks its source, version or name"
fi
case "$source" in
    *your-org*) [ -n "$from" ] || fail "set source in $answers to where your template is published, or pass --from" ;;
esac

# A release version: MAJOR.MINOR.PATCH.
is_release() {
    [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
}
# Whether release $1 comes after release $2.
is_newer() {
    [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1)" = "$1" ]
}
# The newest release of the template: its highest vMAJOR.MINOR.PATCH tag.
newest_release() {
    local tags
    tags=$(git ls-remote --tags --refs -- "$source" 'v*' 2>&1) ||
        fail "cannot read the template's releases from $source (pass --from, or correct source in $answers): $tags"
    sed -n 's|.*refs/tags/v||p' <<<"$tags" | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1 || true
}

if [ "$check" = true ]; then
    newest=$(newest_release)
    if [ -n "$newest" ] && is_newer "$newest" "$current"; then
        echo "template $newest is out (this project is at $current): run scripts/update-template.sh"
        exit 1
    fi
    echo "up to date with template $current"
    exit 0
fi

git rev-parse --verify --quiet HEAD >/dev/null ||
    fail "nothing is committed yet: commit the project first, the update merges into the last commit"
[ -z "$(git rev-parse --show-prefix)" ] ||
    fail "the project is not at the top of its git repository: the update merges at the top level"
[ -z "$(git status --porcelain)" ] || fail "the working tree has uncommitted changes: commit or stash them first"
target=${to:-$(newest_release)}
target=${target#v}
[ -n "$target" ] || fail "$source has no release (no vMAJOR.MINOR.PATCH tag)"
is_release "$target" || fail "$target is not a release version (MAJOR.MINOR.PATCH)"
if [ "$target" = "$current" ]; then
    echo "already at template $current"
    exit 0
fi
is_newer "$target" "$current" || fail "$target is older than this project's template $current"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git_dir=$(git rev-parse --absolute-git-dir)

# Commands that write on the template's behalf, whoever runs the update.
as_template() {
    USER=${USER:-template} GIT_AUTHOR_NAME=template GIT_AUTHOR_EMAIL=template@localhost \
        GIT_COMMITTER_NAME=template GIT_COMMITTER_EMAIL=template@localhost "$@"
}

# Writes to the file named by $2 the tree of the project as release $1 of the template
# renders it with the recorded answers, stored in this repository. Cargo.lock is left
# out: cargo merges it below.
render_release() {
    local checkout="$work/template-$1" out="$work/rendered-$1" option
    git clone --quiet --branch "v$1" -c advice.detachedHead=false -- "$source" "$checkout" 2>"$work/clone.log" ||
        fail "cannot fetch release v$1 of the template from $source (a project generated from an unreleased template cannot be updated): $(cat "$work/clone.log")"
    # An option the recorded answers lack would silently take its default in the base.
    while read -r option; do
        grep -qE "^$option = " "$answers" || fail "$answers records no answer for $option, which release v$1 asks"
    done < <(sed -n -E 's/^\[placeholders\.([A-Za-z0-9_-]+)\]$/\1/p' "$checkout/template/cargo-generate.toml")
    mkdir -p "$out"
    as_template cargo generate --path "$checkout" --name "$name" --values-file "$answers" \
        --silent --vcs none --destination "$out" >"$work/generate.log" 2>&1 ||
        fail "release v$1 of the template did not generate with $answers: $(cat "$work/generate.log")"
    rm -f "$out/$name/Cargo.lock"
    if ! (cd "$out/$name" && export GIT_DIR="$git_dir" GIT_WORK_TREE="$out/$name" GIT_INDEX_FILE="$work/index" &&
        git add --all && git write-tree >"$2"); then
        fail "could not store release v$1 in this repository"
    fi
    rm -f "$work/index"
}

# Two commits outside every branch: the template as this project started from it,
# and as the target release has it. Cherry-picking the second applies the template's
# changes with the first as the merge base.
render_release "$current" "$work/base-tree"
render_release "$target" "$work/target-tree"
base_tree=$(cat "$work/base-tree")
target_tree=$(cat "$work/target-tree")
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
