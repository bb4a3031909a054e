#!/bin/sh
# One-shot schema job for Temporal's two PostgreSQL databases, run in temporalio/admin-tools
# (same steps as temporalio/samples-server compose/scripts/setup-postgres.sh).
#   create         -> no-op when the database exists
#   setup-schema   -> version tables; skipped when a schema version is already recorded
#   update-schema  -> applies the versioned scripts shipped in this admin-tools image
# Safe to run on every `docker compose up`; upgrading the admin-tools/server tags upgrades the
# schema here before the new server starts.
# Connection: SQL_HOST, SQL_PORT, SQL_USER; the password is read by temporal-sql-tool itself
# from SQL_PASSWORD, so it never appears on a command line.
set -eu

SQL_HOST="${SQL_HOST:-postgresql}"
SQL_PORT="${SQL_PORT:-5432}"
SQL_USER="${SQL_USER:-temporal}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
export SQL_PASSWORD
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

echo "Waiting for PostgreSQL at ${SQL_HOST}:${SQL_PORT}..."
tries=0
until nc -z -w 5 "$SQL_HOST" "$SQL_PORT"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "PostgreSQL at ${SQL_HOST}:${SQL_PORT} is not reachable" >&2
        exit 1
    fi
    sleep 2
done

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

setup() {
    db="$1"
    schema="$2"
    echo "Setting up database ${db} (${SCHEMA_DIR}/${schema})"
    sql_tool --db "$db" create
    sql_tool --db "$db" setup-schema -v 0.0
    sql_tool --db "$db" update-schema -d "${SCHEMA_DIR}/${schema}/versioned"
}

setup temporal temporal
setup temporal_visibility visibility
echo "Temporal schema is up to date"
