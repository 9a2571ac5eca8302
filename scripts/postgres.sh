#!/usr/bin/env bash
# A PRIVATE PostgreSQL cluster for opentsm's tests and benchmarks, from the Debian packages.
#
#   scripts/postgres.sh start    # initdb (first time) + start; prints the URL on the last line
#   scripts/postgres.sh url      # prints the URL (whether or not the server runs)
#   scripts/postgres.sh status   # exit 0 when running
#   scripts/postgres.sh stop     # stops it (the data folder stays; `destroy` removes it)
#   scripts/postgres.sh destroy
#
# The cluster lives in OPENTSM_PG_DIR (default /tmp/opentsm-pg-$UID), listens on 127.0.0.1 and a
# Unix socket in that folder, port OPENTSM_PG_PORT (default 55432), trust authentication (local only),
# superuser `postgres`, database `opentsm`. initdb refuses to run as root, so as root the cluster
# belongs to the `postgres` system user (runuser). When no PostgreSQL server binaries are found they
# are installed with apt-get (package `postgresql`). Concurrent `start`s are serialised with flock.
set -euo pipefail

PORT="${OPENTSM_PG_PORT:-55432}"
DIR="${OPENTSM_PG_DIR:-/tmp/opentsm-pg-$(id -u)}"
DATA="$DIR/data"
LOG="$DIR/postgres.log"
DBNAME=opentsm
URL="postgres://postgres@127.0.0.1:$PORT/$DBNAME"

die() { echo "postgres.sh: $*" >&2; exit 1; }

find_bin() { # the newest /usr/lib/postgresql/N/bin holding initdb and pg_ctl
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  return 1
}

install_pg() {
  echo "postgres.sh: PostgreSQL server not found; installing the Debian package postgresql" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
    sudo="sudo -n"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || true
  $sudo apt-get install -y -qq --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
}

# Run a PostgreSQL program as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() {
  [ -f "$DATA/postmaster.pid" ] || return 1
  as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U postgres >/dev/null 2>&1; }

start() {
  BIN=$(find_bin) || { install_pg; BIN=$(find_bin) || die "no PostgreSQL server binaries after installing"; }
  mkdir -p "$DIR"
  exec 9>"$DIR.lock"
  flock -w 120 9 || die "timed out waiting for another postgres.sh start"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user postgres missing (the Debian package creates it)"
    chown postgres: "$DIR"
  fi
  chmod 700 "$DIR"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    rm -rf "$DATA"
    as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $PORT"
      echo "unix_socket_directories = '$DIR'"
      echo "max_connections = 300"
      echo "log_min_messages = warning"
    } | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
  fi
  if running && ready; then
    :
  else
    if [ -f "$DATA/postmaster.pid" ] && ! running; then as_owner rm -f "$DATA/postmaster.pid"; fi
    as_owner touch "$LOG" 2>/dev/null || true
    [ "$(id -u)" -eq 0 ] && chown postgres: "$LOG"
    # 9>&-: the server must not inherit (and hold forever) the flock of this script
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null 9>&- \
      || { tail -n 20 "$LOG" >&2; die "pg_ctl start failed (port $PORT taken?)"; }
  fi
  for _ in $(seq 1 100); do ready && break; sleep 0.1; done
  ready || die "server started but does not answer on 127.0.0.1:$PORT"
  if [ "$("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" != 1 ]; then
    "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DBNAME" 2>/dev/null \
      || [ "$("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" = 1 ] \
      || die "createdb $DBNAME failed"
  fi
  echo "$URL"
}

stop() {
  BIN=$(find_bin) || die "PostgreSQL is not installed"
  if [ -f "$DATA/postmaster.pid" ]; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || die "pg_ctl stop failed"
    echo "stopped"
  else
    echo "not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  status)
    BIN=$(find_bin) || die "PostgreSQL is not installed"
    if running && ready; then echo "running: $URL"; else echo "not running"; exit 1; fi
    ;;
  destroy)
    stop || true
    rm -rf "$DIR" "$DIR.lock"
    ;;
  *) echo "usage: $0 start|stop|url|status|destroy" >&2; exit 2 ;;
esac
