# shellcheck shell=bash
# Shared by the scripts in this directory: `. "$(dirname "$0")/common.sh"`.

# A value from the env file named by $env_file, without surrounding quotes;
# empty when the file or the value is missing.
setting() {
    local file=${env_file:?the calling script sets env_file}
    [ -f "$file" ] || return 0
    # A missing name is no failure, even under the callers' `set -o pipefail`.
    { grep -E "^$1=" "$file" || true; } | tail -n 1 | cut -d= -f2- | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# The comment block at the top of the calling script, as its --help text.
usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

# Reads an option every script takes (--env-file FILE, --help) into `env_file` and
# sets `shifted` to the number of arguments it used; refuses any other option.
# shellcheck disable=SC2034 # `shifted` is read by the calling script.
shared_option() {
    case "$1" in
        --env-file) env_file=${2:?--env-file needs a value}; shifted=2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
}
{%- if database == "postgres" %}

# DATABASE_URL from the environment, else from its secret file (under SECRETS_DIR, as
# compose.secrets.yml gives it to the service), else from the env file; the script
# stops when none has it.
database_url() {
    local secrets_dir url
    secrets_dir=$(setting SECRETS_DIR)
    url=${DATABASE_URL:-}
    if [ -z "$url" ] && [ -f "${secrets_dir:-./secrets}/database_url" ]; then
        url=$(<"${secrets_dir:-./secrets}/database_url")
    fi
    url=${url:-$(setting DATABASE_URL)}
    if [ -z "$url" ]; then
        echo "error: DATABASE_URL is not set in the environment, in ${secrets_dir:-./secrets}/database_url or in ${env_file:-the env file}" >&2
        exit 1
    fi
    echo "$url"
}

# Points libpq's tools at DATABASE_URL: sets `database` to the URL without its password
# and exports the password as PGPASSWORD, since `ps` shows a command line to every user
# of the host, and a process's environment only to its owner.
use_database() {
    local url password
    url=$(database_url) || exit 1
    if [[ $url =~ ^([a-z]+://[^:@/]*):([^@/]*)@(.*)$ ]]; then
        # The URL percent-encodes the password; PGPASSWORD holds it as it is.
        password=${BASH_REMATCH[2]//\\/\\\\}
        PGPASSWORD=$(printf '%b' "${password//%/\\x}")
        export PGPASSWORD
        url="${BASH_REMATCH[1]}@${BASH_REMATCH[3]}"
    fi
    # shellcheck disable=SC2034 # read by the calling script
    database=$url
}
{%- endif %}
{%- if database == "sqlite" %}

# The SQLite file inside the compose data volume (DATA_VOLUME, by default app-data);
# fails, saying why, when the volume is not there.
volume_database() {
    local volume mountpoint
    volume="{{project-name}}_$(setting DATA_VOLUME)"
    [ "$volume" = "{{project-name}}_" ] && volume="{{project-name}}_app-data"
    if ! mountpoint=$(docker volume inspect "$volume" 2>/dev/null | grep -m 1 '"Mountpoint"' | cut -d '"' -f 4) || [ -z "$mountpoint" ]; then
        echo "error: no docker volume $volume: pass --db PATH, or set DATA_VOLUME in ${env_file:-the env file}" >&2
        return 1
    fi
    echo "$mountpoint/{{crate_name}}.db"
}
{%- endif %}
