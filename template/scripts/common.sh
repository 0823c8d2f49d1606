# shellcheck shell=bash
# Shared by the scripts in this directory: `. "$(dirname "$0")/common.sh"`.

# A value from the env file named by $env_file, without surrounding quotes;
# empty when the file or the value is missing.
setting() {
    local file=${env_file:?the calling script sets env_file}
    [ -f "$file" ] || return 0
    grep -E "^$1=" "$file" | tail -n 1 | cut -d= -f2- | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# The comment block at the top of the calling script, as its --help text.
usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}
{%- if database == "sqlite" %}

# The SQLite file inside the compose data volume (DATA_VOLUME, by default app-data).
volume_database() {
    local volume mountpoint
    volume="{{project-name}}_$(setting DATA_VOLUME)"
    [ "$volume" = "{{project-name}}_" ] && volume="{{project-name}}_app-data"
    mountpoint=$(docker volume inspect "$volume" | grep -m 1 '"Mountpoint"' | cut -d '"' -f 4)
    echo "$mountpoint/{{crate_name}}.db"
}
{%- endif %}
