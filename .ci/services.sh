#!/usr/bin/env bash
# Starts the Postgres and Redis the harness tests against. They listen on
# loopback and on the Docker bridge address, so that containers reach them as
# external services, as production containers reach managed ones.
set -euo pipefail

bridge=$(ip -4 -o addr show docker0 2>/dev/null | awk '{ split($4, a, "/"); print a[1] }')
addresses="127.0.0.1${bridge:+,$bridge}"

version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -n 1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
    pg_createcluster "$version" main >/dev/null
fi
config=/etc/postgresql/$version/main
# A server for tests, thrown away with the machine: every test creates a database of
# its own, which need not survive a crash, so nothing waits for the disk.
cat >"$config/conf.d/harness.conf" <<CONF
listen_addresses = '$addresses'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
grep -q '172.16.0.0/12' "$config/pg_hba.conf" ||
    echo 'host all all 172.16.0.0/12 scram-sha-256' >>"$config/pg_hba.conf"
pg_ctlcluster "$version" main restart
until pg_isready -q -h 127.0.0.1; do sleep 0.5; done
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
# The container tests' application role: production refuses placeholder passwords.
su postgres -c "psql -q -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'e2e') THEN CREATE ROLE e2e LOGIN CREATEDB PASSWORD 'e2e-s3cret'; END IF; END \\\$\\\$\""

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind "${addresses//,/ }" --protected-mode no \
        --save '' --appendonly no >/dev/null
fi
until redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; do sleep 0.2; done
echo "postgres $version and redis are up on $addresses"
