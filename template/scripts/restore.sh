#!/usr/bin/env bash
{%- if database == "postgres" %}
# Restores a dump made by scripts/backup.sh into the database named by DATABASE_URL.
#
# Usage: scripts/restore.sh --yes [--env-file FILE] DUMP
#
#   --yes             confirm: objects in the database are replaced by the dump's
#   --env-file FILE   where DATABASE_URL is read (default: .env.production)
#
# Stop the service first (docker compose -f compose.production.yml stop app)
# and start it after; needs pg_restore (package postgresql-client).
{%- else %}
# Restores a copy made by scripts/backup.sh as the live SQLite database.
#
# Usage: scripts/restore.sh --yes [--env-file FILE] [--db PATH] BACKUP
#
#   --yes             confirm: the current database is replaced (and kept as .before-restore)
#   --env-file FILE   where DATA_VOLUME is read (default: .env.production)
#   --db PATH         the database file (default: {{crate_name}}.db in the data volume)
#
# Stop the service first (docker compose -f compose.production.yml stop app) and start it after.
{%- endif %}
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

env_file=.env.production
confirmed=false
backup=
{%- if database == "sqlite" %}
db=
{%- endif %}
while [ $# -gt 0 ]; do
    case "$1" in
        --yes) confirmed=true; shift ;;
{%- if database == "sqlite" %}
        --db) db=${2:?--db needs a value}; shift 2 ;;
{%- endif %}
        -*) shared_option "$@"; shift "${shifted:?}" ;;
        *) backup=$1; shift ;;
    esac
done

if [ -z "$backup" ] || [ ! -f "$backup" ]; then
    echo "error: name an existing backup file" >&2
    usage >&2
    exit 2
fi
if [ "$confirmed" != true ]; then
    echo "error: restoring replaces the current data; pass --yes to confirm" >&2
    exit 2
fi

cd "$(dirname "$0")/.."
{%- if database == "postgres" %}

use_database
pg_restore --clean --if-exists --no-owner --exit-on-error --dbname "$database" "$backup"
{%- else %}

db=${db:-$(volume_database)}
sqlite3 "$backup" "PRAGMA integrity_check" | grep -qx ok
if [ -f "$db" ]; then
    cp -p "$db" "$db.before-restore"
fi
rm -f "$db-wal" "$db-shm"
cp "$backup" "$db"
chown 65532:65532 "$db" 2>/dev/null || true
{%- endif %}
echo "restored $backup"
