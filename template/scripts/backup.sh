#!/usr/bin/env bash
{%- if database == "postgres" %}
# Dumps the Postgres database named by DATABASE_URL to a timestamped file.
#
# Usage: scripts/backup.sh [--env-file FILE] [--dir DIR]
#
#   --env-file FILE   where DATABASE_URL and BACKUP_DIR are read (default: .env.production)
#   --dir DIR         where the dump goes (default: BACKUP_DIR, else ./backups)
#
# Needs pg_dump of the server's major version or newer (package postgresql-client).
# The dump is in pg_dump's custom format: restore it with scripts/restore.sh.
{%- else %}
# Copies the live SQLite database to a timestamped file, safely while the service runs.
#
# Usage: scripts/backup.sh [--env-file FILE] [--dir DIR] [--db PATH]
#
#   --env-file FILE   where DATA_VOLUME and BACKUP_DIR are read (default: .env.production)
#   --dir DIR         where the copy goes (default: BACKUP_DIR, else ./backups)
#   --db PATH         the database file (default: {{crate_name}}.db in the data volume)
#
# Uses SQLite's online backup (package sqlite3), so the copy is consistent even
# while the service writes. Restore it with scripts/restore.sh.
{%- endif %}
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

env_file=.env.production
dir=
{%- if database == "sqlite" %}
db=
{%- endif %}
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir=${2:?--dir needs a value}; shift 2 ;;
{%- if database == "sqlite" %}
        --db) db=${2:?--db needs a value}; shift 2 ;;
{%- endif %}
        *) shared_option "$@"; shift "${shifted:?}" ;;
    esac
done

cd "$(dirname "$0")/.."
# A backup holds every row: readable by its owner only, like the database it came from.
umask 077
dir=${dir:-$(setting BACKUP_DIR)}
dir=${dir:-./backups}
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
{%- if database == "postgres" %}

use_database
file="$dir/{{crate_name}}-$stamp.dump"
pg_dump --format=custom --no-owner --file "$file" --dbname "$database"
{%- else %}

db=${db:-$(volume_database)}
if [ ! -f "$db" ]; then
    echo "error: no database at $db" >&2
    exit 1
fi
file="$dir/{{crate_name}}-$stamp.db"
sqlite3 "$db" ".backup '$file'"
sqlite3 "$file" "PRAGMA integrity_check" | grep -qx ok
{%- endif %}
echo "$file"
