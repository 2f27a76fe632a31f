#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the store tests: `start` prints TEST_DATABASE_URL, `stop` removes it.
# Run as root: the cluster belongs to the `postgres` user (trust auth, 127.0.0.1 only).
set -euo pipefail

PORT="${PGPORT:-54329}"
# One directory per port, so two clusters on two ports can coexist.
STATE="${PG_TEST_CLUSTER_DIR:-/tmp/pg-test-cluster-$PORT}"

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

ensure_installed() {
  if [ -z "$(find_bin)" ] || [ ! -x "$(find_bin)/initdb" ]; then
    echo "installing postgresql (apt-get)..." >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
  fi
}

as_postgres() {
  su postgres -s /bin/sh -c "$1"
}

start() {
  ensure_installed
  local bin
  bin="$(find_bin)"
  if [ -f "$STATE/data/postmaster.pid" ] && as_postgres "'$bin/pg_ctl' -D '$STATE/data' status" >/dev/null 2>&1; then
    echo "already running" >&2
  else
    rm -rf "$STATE"
    mkdir -p "$STATE"
    chown postgres: "$STATE"
    chmod 700 "$STATE"
    as_postgres "'$bin/initdb' -D '$STATE/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    # Enough connections for parallel test pools; fsync off because the data is thrown away.
    as_postgres "'$bin/pg_ctl' -D '$STATE/data' -l '$STATE/log.txt' -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$STATE' -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" -w start" >/dev/null
  fi
  for _ in $(seq 1 50); do
    if "$bin/pg_isready" -h 127.0.0.1 -p "$PORT" -U postgres >/dev/null 2>&1; then
      echo "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
      return 0
    fi
    sleep 0.2
  done
  echo "postgres did not become ready; see $STATE/log.txt" >&2
  exit 1
}

stop() {
  local bin
  bin="$(find_bin)"
  if [ -n "$bin" ] && [ -d "$STATE/data" ]; then
    as_postgres "'$bin/pg_ctl' -D '$STATE/data' -m fast -w stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$STATE"
  echo "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop  (PGPORT overrides port 54329)" >&2; exit 2 ;;
esac
