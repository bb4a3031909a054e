#!/bin/sh
# Creates jiesu's roles and databases on one PostgreSQL server:
#   role temporal (LOGIN CREATEDB) owns temporal and temporal_visibility,
#   role jiesu    (LOGIN)          owns jiesu.
# The postgres image runs files in /docker-entrypoint-initdb.d only when the data volume is
# empty, so this runs once. Changing a *_DB_PASSWORD later needs ALTER ROLE by hand.
# Written to be safe to run again (every statement is guarded).
set -e

: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is required}"
: "${JIESU_DB_PASSWORD:?JIESU_DB_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set temporal_password="$TEMPORAL_DB_PASSWORD" \
    --set jiesu_password="$JIESU_DB_PASSWORD" <<'SQL'
-- temporal-sql-tool `create` needs CREATEDB even when the database already exists
-- (PostgreSQL checks the privilege before the name), so the role keeps it.
SELECT format('CREATE ROLE temporal LOGIN CREATEDB PASSWORD %L', :'temporal_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'temporal')\gexec
SELECT format('CREATE ROLE jiesu LOGIN PASSWORD %L', :'jiesu_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jiesu')\gexec

SELECT 'CREATE DATABASE temporal OWNER temporal'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'temporal')\gexec
SELECT 'CREATE DATABASE temporal_visibility OWNER temporal'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'temporal_visibility')\gexec
SELECT 'CREATE DATABASE jiesu OWNER jiesu'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'jiesu')\gexec

-- Temporal's visibility schema (postgresql/v12/visibility, v1.2) indexes with btree_gin.
-- Creating it here, as the superuser, means the schema job never needs more than ownership.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
SQL
