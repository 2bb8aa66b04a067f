#!/usr/bin/env bash
# Makes sure a PostgreSQL server with PostGIS answers at COPROFF_DATABASE_URL.
# Uses the configured server when it answers and offers PostGIS; otherwise, on a Debian machine
# where we are root, installs postgresql-15-postgis-3, starts the local cluster, creates the database.
set -euo pipefail

url="${COPROFF_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/coproff}"
libpq_url="${url/+psycopg/}"                 # psql speaks libpq URLs, not SQLAlchemy dialects
db_name="${libpq_url##*/}"; db_name="${db_name%%\?*}"
admin_url="${libpq_url%/*}/postgres"

answers() { psql "$admin_url" -Atqc 'select 1' >/dev/null 2>&1; }
offers_postgis() {
  [ "$(psql "$admin_url" -Atqc "select count(*) from pg_available_extensions where name = 'postgis'" 2>/dev/null)" = "1" ]
}

if ! command -v psql >/dev/null 2>&1 || ! answers || ! offers_postgis; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if ! dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1; then
      echo "==> installing PostgreSQL 15 + PostGIS 3 (apt)"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 >/dev/null
    fi
    if ! answers; then
      echo "==> starting the local PostgreSQL cluster"
      pg_ctlcluster --skip-systemctl-redirect 15 main start || true
      for _ in $(seq 1 30); do answers && break; sleep 1; done
    fi
  fi
fi

answers || { echo "PostgreSQL does not answer at $admin_url; set COPROFF_DATABASE_URL" >&2; exit 1; }
offers_postgis || { echo "PostGIS is not available on $admin_url; install postgresql-15-postgis-3" >&2; exit 1; }

if [ "$(psql "$admin_url" -Atqc "select count(*) from pg_database where datname = '$db_name'")" = "0" ]; then
  echo "==> creating database $db_name"
  psql "$admin_url" -qc "create database \"$db_name\""
fi
psql "${libpq_url}" -qc 'create extension if not exists postgis' >/dev/null
echo "==> PostGIS ready at ${libpq_url}"
