#!/usr/bin/env bash
# Start, stop or inspect a private pcscd whose only reader is vpcd (vsmartcard), so that a
# simulated card served with `serveVpcd` (src/transport/vpcd.ts) shows up to every PC/SC tool as
# reader "Virtual PCD 00 00" (port VPCD_PORT) and "Virtual PCD 00 01" (port VPCD_PORT+1).
#
#   scripts/pcscd.sh start     # needs root (pcscd owns /run/pcscd); prints how to stop it
#   scripts/pcscd.sh status
#   scripts/pcscd.sh stop
#
# Environment: VPCD_PORT (default 35963), OPENTSM_PCSCD_DIR (default /tmp/opentsm-pcscd: config,
# log and pid file), AUTO_EXIT=1 to pass --auto-exit (pcscd quits after 60 s without clients).
# Needs the Debian packages pcscd and vsmartcard-vpcd (opensc / pcsc-tools to look at the card).
set -euo pipefail

VPCD_PORT="${VPCD_PORT:-35963}"
DIR="${OPENTSM_PCSCD_DIR:-/tmp/opentsm-pcscd}"
PIDFILE="$DIR/pcscd.pid"
LOG="$DIR/pcscd.log"
SYSTEM_PIDFILE=/run/pcscd/pcscd.pid

die() { echo "pcscd.sh: $*" >&2; exit 1; }

find_driver() {
  for p in /usr/lib/pcsc/drivers/serial/libifdvpcd.so /usr/local/lib/pcsc/drivers/serial/libifdvpcd.so; do
    [ -e "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

listening() { # is anything listening on TCP port $1?
  local hex
  hex=$(printf '%04X' "$1")
  awk -v h=":$hex" 'NR > 1 && substr($2, length($2) - 4) == h && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

running_pid() { # pid of a live pcscd, if any
  local f pid
  for f in "$PIDFILE" "$SYSTEM_PIDFILE"; do
    if [ -r "$f" ]; then
      pid=$(tr -dc '0-9' < "$f")
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; return 0; fi
    fi
  done
  return 1
}

start() {
  command -v pcscd >/dev/null 2>&1 || [ -x /usr/sbin/pcscd ] || die "pcscd is not installed (apt-get install pcscd)"
  local pcscd driver channel pid
  pcscd=$(command -v pcscd || echo /usr/sbin/pcscd)
  driver=$(find_driver) || die "vpcd driver missing (apt-get install vsmartcard-vpcd)"
  [ "$(id -u)" = 0 ] || die "run as root: pcscd needs to create /run/pcscd"
  if pid=$(running_pid); then
    if listening "$VPCD_PORT"; then
      echo "pcscd already running (pid $pid) with vpcd on port $VPCD_PORT"
      exit 0
    fi
    die "a pcscd (pid $pid) is running without vpcd on port $VPCD_PORT; stop it first"
  fi
  listening "$VPCD_PORT" && die "port $VPCD_PORT is taken by another program"

  mkdir -p "$DIR/reader.conf.d"
  channel=$(printf '0x%X' "$VPCD_PORT")
  cat > "$DIR/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$channel
LIBPATH      $driver
CHANNELID    $channel
CONF
  local args=(--foreground --info --config "$DIR/reader.conf.d")
  [ "${AUTO_EXIT:-0}" = 1 ] && args+=(--auto-exit)
  setsid "$pcscd" "${args[@]}" > "$LOG" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$PIDFILE"
  for _ in $(seq 1 150); do
    if listening "$VPCD_PORT" && [ -S /run/pcscd/pcscd.comm ]; then
      echo "pcscd started (pid $pid); vpcd listens on port $VPCD_PORT (reader 'Virtual PCD 00 00')"
      echo "log: $LOG"
      echo "stop with: $0 stop    (or: kill $pid)"
      exit 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$LOG" >&2; die "pcscd exited"; }
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  cat "$LOG" >&2
  die "pcscd did not open port $VPCD_PORT within 15 s"
}

stop() {
  local pid
  if [ ! -r "$PIDFILE" ]; then echo "no pcscd started by this script"; exit 0; fi
  pid=$(tr -dc '0-9' < "$PIDFILE")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "pcscd (pid $pid) stopped"
  else
    echo "pcscd (pid ${pid:-?}) was not running"
  fi
  rm -f "$PIDFILE"
}

status() {
  local pid
  if pid=$(running_pid); then
    echo "pcscd running (pid $pid)"
    if listening "$VPCD_PORT"; then echo "vpcd listening on port $VPCD_PORT"; else echo "vpcd NOT listening on port $VPCD_PORT"; fi
  else
    echo "pcscd not running"
    exit 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
