#!/usr/bin/env bash
# make bench: measure the platform beside its physical floors.
#
# Runs against the stack already up on LEDGERWHISK_API_PORT (default 3233);
# when none answers there, starts one with stack.sh and stops it afterwards.
# Writes bench/results/latest.json and latest.png and prints the table.
#
# Environment: the stack's (LEDGERWHISK_STATE_DIR, LEDGERWHISK_API_PORT,
# LEDGERWHISK_KAFKA_PORT, LEDGERWHISK_COUCHDB_PORT, LEDGERWHISK_COUCHDB_URL,
# LEDGERWHISK_PREFIX) and the benchmark's own (LEDGERWHISK_BENCH_QUICK=1 for
# a short smoke run; LEDGERWHISK_BENCH_* overrides, see bench/target.py).
set -euo pipefail
LW_SERVICE=bench
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

API_PORT="${LEDGERWHISK_API_PORT:-3233}"
KAFKA_PORT="${LEDGERWHISK_KAFKA_PORT:-9092}"
COUCH_PORT="${LEDGERWHISK_COUCHDB_PORT:-5984}"

"$LW_SCRIPTS/python.sh"

started=0
stop_started() {
  if ((started)); then
    lw_log "stopping the stack the benchmark started"
    "$LW_SCRIPTS/stack.sh" down
  fi
}
trap stop_started EXIT
if lw_port_open 127.0.0.1 "$API_PORT"; then
  lw_log "using the stack already up on port $API_PORT"
else
  lw_log "no stack on port $API_PORT: starting one (stopped again when the benchmark ends)"
  started=1
  "$LW_SCRIPTS/stack.sh" up
fi

# `make up` checks (and on a fresh machine builds) the other kinds' runtime
# images in the background: measured alongside, its CPU would count against the
# platform and its floors alike (the Kafka floor of 2026-12-01 03:14 ran under it).
if build_pid="$(lw_read_pid "$(lw_pidfile runtimes-build)" runtimes/build.sh)"; then
  lw_log "waiting for the background build of runtime images (pid $build_pid) to end first: it takes the CPU the benchmark measures (progress: $(lw_logfile runtimes-build))"
  tail --pid="$build_pid" -f /dev/null
  lw_log "the background build ended; measuring"
fi

# The stack's addresses as its processes see them (stack.sh derives the same),
# for the benchmark only: stack.sh must see the caller's environment.
cd "$LW_ROOT"
env LEDGERWHISK_API_PORT="$API_PORT" \
  LEDGERWHISK_KAFKA_BOOTSTRAP="${LEDGERWHISK_KAFKA_BOOTSTRAP:-127.0.0.1:$KAFKA_PORT}" \
  LEDGERWHISK_COUCHDB_URL="${LEDGERWHISK_COUCHDB_URL:-http://127.0.0.1:$COUCH_PORT}" \
  LEDGERWHISK_PUBLIC_API_URL="${LEDGERWHISK_PUBLIC_API_URL:-http://127.0.0.1:$API_PORT}" \
  LEDGERWHISK_STATE_DIR="$LW_STATE" \
  "$LW_ROOT/.venv/bin/python" -m bench
