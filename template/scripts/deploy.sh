#!/usr/bin/env bash
# Updates this host to the newest commit of a branch and (re)starts the service.
#
# Usage: scripts/deploy.sh [--branch NAME] [--tag IMAGE_TAG] [--build] [--proxy] [--env-secrets] [--env-file FILE]
#
#   --branch NAME     branch to deploy (default: main)
#   --tag TAG         image tag to run, overriding IMAGE_TAG in the env file
#   --build           build the image here instead of pulling it from the registry
#   --proxy           start the proxy profile too: Caddy, HTTPS for DOMAIN on 80 and 443
#   --env-secrets     take secrets from the env file instead of the files under
#                     SECRETS_DIR that compose.secrets.yml gives the service (the
#                     default where compose.secrets.yml exists; docs/deployment.md)
#   --env-file FILE   settings for compose.production.yml (default: .env.production)
#
# Steps: stash local changes under a timestamped label, fetch and reset to the
# branch, pull (or build) the image, run migrations, start the service and wait
# for its health check, show its status, then print how to roll back.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

branch=main
tag=
build=false
services=(app)
profiles=()
secret_files=true
env_file=.env.production
while [ $# -gt 0 ]; do
    case "$1" in
        --branch) branch=${2:?--branch needs a value}; shift 2 ;;
        --tag) tag=${2:?--tag needs a value}; shift 2 ;;
        --build) build=true; shift ;;
        --proxy) services+=(proxy); profiles=(--profile proxy); shift ;;
        --env-secrets) secret_files=false; shift ;;
        # Secrets as files are the default; the option stays for scripts that pass it.
        --secrets) secret_files=true; shift ;;
        *) shared_option "$@"; shift "${shifted:?}" ;;
    esac
done

# An IPv4 address as a number; each part read as decimal, leading zeros and all.
ipv4_number() {
    local IFS=.
    # shellcheck disable=SC2086 # split on the dots
    set -- $1
    echo $(( (10#$1 << 24) + (10#$2 << 16) + (10#$3 << 8) + 10#$4 ))
}

# Whether two IPv4 networks (a.b.c.d/n) share an address.
networks_overlap() {
    local length=$(( ${1#*/} < ${2#*/} ? ${1#*/} : ${2#*/} ))
    local mask=$(( (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF ))
    (( ($(ipv4_number "${1%/*}") & mask) == ($(ipv4_number "${2%/*}") & mask) ))
}

# compose.production.yml gives the stack the subnet NETWORK_PREFIX.0/24. The engine
# refuses a subnet that overlaps another network's, with a message that names no
# setting, so another stack's network (or any other) is named here, before anything
# changes. Compose takes both settings from the environment first, then the env file.
check_network_prefix() {
    local prefix project subnet id details name other
    prefix=${NETWORK_PREFIX:-$(setting NETWORK_PREFIX)}
    prefix=${prefix:-172.30.94}
    if ! [[ $prefix =~ ^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){2}$ ]]; then
        echo "error: NETWORK_PREFIX=$prefix is not the first three numbers of an IPv4 network, such as 172.30.94 (docs/deployment.md)" >&2
        exit 1
    fi
    project=${COMPOSE_PROJECT_NAME:-$(setting COMPOSE_PROJECT_NAME)}
    project=${project:-{{project-name}}}
    subnet="$prefix.0/24"
    for id in $(docker network ls --quiet); do
        # Gone since it was listed: nothing to overlap.
        details=$(docker network inspect "$id" 2>/dev/null) || continue
        grep -q "\"com.docker.compose.project\": \"$project\"" <<<"$details" && continue
        name=$(grep -m 1 -o '"Name": "[^"]*"' <<<"$details" | cut -d '"' -f 4)
        while read -r other; do
            if networks_overlap "$subnet" "$other"; then
                echo "error: the stack's network, $subnet (NETWORK_PREFIX in $env_file), overlaps docker network $name ($other): set NETWORK_PREFIX to a free /24 (docs/deployment.md)" >&2
                exit 1
            fi
        done < <(grep -o '"Subnet": "[0-9./]*"' <<<"$details" | cut -d '"' -f 4)
    done
}

cd "$(dirname "$0")/.."
if [ ! -f "$env_file" ]; then
    echo "error: $env_file not found: copy .env.production.example to $env_file and fill it in" >&2
    exit 1
fi

compose_files=(-f compose.production.yml)
if [ "$secret_files" = true ] && [ -f compose.secrets.yml ]; then
    compose_files+=(-f compose.secrets.yml)
    secrets_dir=$(setting SECRETS_DIR)
    while read -r name; do
        if [ ! -f "${secrets_dir:-./secrets}/$name" ]; then
            echo "error: ${secrets_dir:-./secrets}/$name not found: write each secret to its file (docs/deployment.md, \"Secrets\"), or pass --env-secrets to take them from $env_file" >&2
            exit 1
        fi
    done < <(grep -o 'secrets}/[a-z_]*$' compose.secrets.yml | cut -d/ -f2)
fi

compose=(docker compose "${compose_files[@]}" --env-file "$env_file")
check_network_prefix
previous_tag=$(setting IMAGE_TAG)
if [ -n "$tag" ]; then
    export IMAGE_TAG=$tag
fi
image="$(setting IMAGE):${IMAGE_TAG:-$previous_tag}"

stash_label=
if [ -n "$(git status --porcelain)" ]; then
    stash_label="deploy-$(date -u +%Y%m%dT%H%M%SZ)"
    git stash push --include-untracked --message "$stash_label"
    echo "==> stashed local changes as '$stash_label'"
fi

echo "==> updating to origin/$branch"
git fetch --prune origin "$branch"
git checkout --quiet -B "$branch" "origin/$branch"
git reset --hard "origin/$branch"

if [ "$build" = true ]; then
    echo "==> building $image"
    docker build --tag "$image" \
        --build-arg VERSION="${IMAGE_TAG:-$previous_tag}" \
        --build-arg REVISION="$(git rev-parse HEAD)" \
        --build-arg SOURCE="$(git remote get-url origin)" .
else
    echo "==> pulling $image"
    "${compose[@]}" pull app
fi

echo "==> applying migrations"
"${compose[@]}" --profile migrate run --rm migrate

echo "==> starting ${services[*]}"
"${compose[@]}" "${profiles[@]}" up -d --wait "${services[@]}"
"${compose[@]}" ps

echo
echo "Deployed $image from $(git rev-parse --short HEAD)."
echo "To roll back: scripts/deploy.sh --branch $branch --tag $previous_tag"
if [ -n "$stash_label" ]; then
    echo "Local changes were stashed as '$stash_label': see them with 'git stash list', restore with 'git stash pop'."
fi
