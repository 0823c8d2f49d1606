#!/usr/bin/env bash
# Takes a newer release of the template this project was generated from, or another
# answer to one of its options, by a three-way merge: your changes stay, the
# template's arrive, and a file where both changed the same lines is left in
# conflict, with git's markers, for you to resolve.
#
# Usage: scripts/update-template.sh [--to VERSION] [--set OPTION=VALUE]... [--from SOURCE] [--check]
#
#   --to VERSION         the release to take (default: the newest, tagged vVERSION;
#                        with --set and no --to, the release this project is at)
#   --set OPTION=VALUE   answer OPTION differently, as in `--set database=postgres` or
#                        `--set redis=true`: its files, dependencies, services and
#                        docs arrive, and .template/answers.toml records the answer.
#                        Data is not moved (docs/deployment.md, "Changing the database")
#   --from SOURCE        where the template is, a git URL or path (default: the source
#                        recorded in .template/answers.toml)
#   --check              only tell whether a newer release exists: exit 1 if one does
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
sets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --to) to=${2:?--to needs a value}; shift 2 ;;
        --set) sets+=("${2:?--set needs OPTION=VALUE}"); shift 2 ;;
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
if [ -n "$to" ] || [ ${#sets[@]} -eq 0 ]; then
    target=${to:-$(newest_release)}
else
    target=$current
fi
target=${target#v}
[ -n "$target" ] || fail "$source has no release (no vMAJOR.MINOR.PATCH tag)"
is_release "$target" || fail "$target is not a release version (MAJOR.MINOR.PATCH)"
if [ "$target" = "$current" ] && [ ${#sets[@]} -eq 0 ]; then
    echo "already at template $current"
    exit 0
fi
[ "$target" = "$current" ] || is_newer "$target" "$current" ||
    fail "$target is older than this project's template $current"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git_dir=$(git rev-parse --absolute-git-dir)

# Commands that write on the template's behalf, whoever runs the update.
as_template() {
    USER=${USER:-template} GIT_AUTHOR_NAME=template GIT_AUTHOR_EMAIL=template@localhost \
        GIT_COMMITTER_NAME=template GIT_COMMITTER_EMAIL=template@localhost "$@"
}

# Checks out release $1 of the template into $work/template-$1, once.
fetch_release() {
    [ -d "$work/template-$1" ] && return 0
    git clone --quiet --branch "v$1" -c advice.detachedHead=false -- "$source" "$work/template-$1" 2>"$work/clone.log" ||
        fail "cannot fetch release v$1 of the template from $source (a project generated from an unreleased template cannot be updated): $(cat "$work/clone.log")"
}

# Writes to $3 the answers of $1 (a copy of the recorded ones) with each of --set's
# OPTION=VALUE, refusing an option release $2 does not have or a value it does not offer.
answer_differently() {
    local settings="$work/template-$2/template/cargo-generate.toml" pair option value block
    cp "$1" "$3"
    for pair in "${sets[@]}"; do
        option=${pair%%=*} value=${pair#*=}
        [[ $pair == *=* && $option =~ ^[a-z_]+$ ]] || fail "--set $pair: write OPTION=VALUE, as in --set database=postgres"
        block=$(awk -v header="[placeholders.$option]" '$0 == header { inside = 1; next } /^\[/ { inside = 0 } inside' "$settings")
        if [ -z "$block" ] || ! grep -qE "^$option = " "$3"; then
            fail "--set $pair: the template has no option $option"
        fi
        if grep -q '^type = "bool"' <<<"$block"; then
            [[ $value =~ ^(true|false)$ ]] || fail "--set $pair: $option is true or false"
            sed -i -E "s/^$option = .*/$option = $value/" "$3"
        else
            if grep -q '^choices' <<<"$block" && ! grep -q "\"$value\"" <<<"$(grep '^choices' <<<"$block")"; then
                fail "--set $pair: $option is one of $(sed -n 's/^choices = //p' <<<"$block")"
            fi
            sed -i -E "s/^$option = .*/$option = \"${value//\//\\/}\"/" "$3"
        fi
    done
}

# Writes to the file named by $2 the tree of the project as release $1 of the template
# renders it with the answers in file $3, stored in this repository. Cargo.lock is left
# out: cargo merges it below.
render_release() {
    local checkout="$work/template-$1" out="$work/rendered-${2##*/}" option
    fetch_release "$1"
    # An option the recorded answers lack would silently take its default in the base.
    while read -r option; do
        grep -qE "^$option = " "$3" || fail "$answers records no answer for $option, which release v$1 asks"
    done < <(sed -n -E 's/^\[placeholders\.([A-Za-z0-9_-]+)\]$/\1/p' "$checkout/template/cargo-generate.toml")
    mkdir -p "$out"
    as_template cargo generate --path "$checkout" --name "$name" --values-file "$3" \
        --silent --vcs none --destination "$out" >"$work/generate.log" 2>&1 ||
        fail "release v$1 of the template refused these answers: $(grep -m 1 -iE 'error|abort' "$work/generate.log" || tail -n 1 "$work/generate.log")"
    rm -f "$out/$name/Cargo.lock"
    if ! (cd "$out/$name" && export GIT_DIR="$git_dir" GIT_WORK_TREE="$out/$name" GIT_INDEX_FILE="$work/index" &&
        git add --all && git write-tree >"$2"); then
        fail "could not store release v$1 in this repository"
    fi
    rm -f "$work/index"
}

# The sections of the CHANGELOG $1 for the releases after $current, up to $target.
changelog_since() {
    local line version printing=false
    [ -f "$1" ] || return 0
    while IFS= read -r line; do
        if [[ $line =~ ^##\ ([0-9]+\.[0-9]+\.[0-9]+) ]]; then
            version=${BASH_REMATCH[1]}
            printing=false
            if is_newer "$version" "$current" && ! is_newer "$version" "$target"; then
                printing=true
            fi
        fi
        if [ "$printing" = true ]; then
            printf '%s\n' "$line"
        fi
    done <"$1"
}

# Two commits outside every branch: the template as this project started from it,
# and as the target release has it. Cherry-picking the second applies the template's
# changes with the first as the merge base.
fetch_release "$target"
answer_differently "$answers" "$target" "$work/answers-target.toml"
render_release "$current" "$work/base-tree" "$answers"
render_release "$target" "$work/target-tree" "$work/answers-target.toml"
base_tree=$(cat "$work/base-tree")
target_tree=$(cat "$work/target-tree")
base=$(as_template git commit-tree -m "Template $current" "$base_tree")
update=$(as_template git commit-tree -p "$base" -m "Update from template $current to $target ${sets[*]}" "$target_tree")

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

if [ ${#sets[@]} -gt 0 ]; then
    echo "Updated from template $current to $target with ${sets[*]}; nothing is committed."
else
    echo "Updated from template $current to $target; nothing is committed."
fi
if [ -n "$conflicts" ]; then
    echo "You and the template both changed these; resolve the marked lines (or run git mergetool), then git add each:"
    while IFS= read -r file; do
        echo "  $file"
    done <<<"$conflicts"
fi
if [ -n "$lockfile_note" ]; then
    echo "$lockfile_note"
fi
changes=$(changelog_since "$work/template-$target/CHANGELOG.md")
if [ -n "$changes" ]; then
    echo "What the template changed since $current, and what you may need to do (its CHANGELOG.md):"
    echo
    echo "$changes"
    echo
fi
echo "Next: review with git status and git diff --cached, run cargo test, then git commit."
echo "To undo the update and restore the tree exactly: git reset --hard HEAD"
