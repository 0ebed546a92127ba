#!/usr/bin/env bash
# The whole Ledgerwhisk stack: services (Docker, CouchDB API, Kafka), runtime
# images, and the platform's processes (controller, projection writer,
# invokers, API, feed service).
#
#   stack.sh up     start everything in the background; return when ready
#   stack.sh run    up, then follow the logs in the foreground; Ctrl-C stops all
#   stack.sh down   stop everything this state folder's stack started
#   stack.sh status show what runs
#
# Environment: LEDGERWHISK_STATE_DIR (default .state), INVOKERS (default 1),
# INVOKER_MEMORY_MB (user memory of each invoker: one number for all, or one
# per invoker, e.g. "2048 1024 1024"; default the setting, 2048),
# CONTROLLERS (controller instances sharing the ledger's partitions, default 1),
# KAFKA_BROKERS (brokers of the local Kafka cluster, default 1; 3 gives every
# topic three replicas, scripts/kafka.sh), LEDGERWHISK_KAFKA_BOOTSTRAP (an
# existing Kafka cluster: none is started, topics get
# LEDGERWHISK_KAFKA_REPLICATION_FACTOR replicas, default 3),
# LEDGERWHISK_API_PORT (3233), LEDGERWHISK_TLS_PORT (3443: nginx's HTTPS in
# front of the API, scripts/nginx.sh), LEDGERWHISK_KAFKA_PORT (9092),
# LEDGERWHISK_METRICS_PORT (9095: GET /metrics, projections/exporter.py),
# LEDGERWHISK_COUCHDB_PORT (5984), LEDGERWHISK_COUCHDB_URL (an external CouchDB),
# LEDGERWHISK_PREFIX (lw: topic and database names).
set -euo pipefail
LW_SERVICE=stack
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INVOKERS="${INVOKERS:-1}"
CONTROLLERS="${CONTROLLERS:-1}"
read -r -a INVOKER_MEMORY <<<"${INVOKER_MEMORY_MB:-}"
API_PORT="${LEDGERWHISK_API_PORT:-3233}"
TLS_PORT="${LEDGERWHISK_TLS_PORT:-3443}"
export LEDGERWHISK_KAFKA_BROKERS="${LEDGERWHISK_KAFKA_BROKERS:-${KAFKA_BROKERS:-1}}"
if [[ -n "${LEDGERWHISK_KAFKA_BOOTSTRAP:-}" ]]; then
  # An existing cluster: nothing of Kafka's is started or stopped here.
  KAFKA_BOOTSTRAP="$LEDGERWHISK_KAFKA_BOOTSTRAP"
  KAFKA_REPLICATION="${LEDGERWHISK_KAFKA_REPLICATION_FACTOR:-3}"
  SERVICES=(docker couchdb)
else
  KAFKA_BOOTSTRAP="$("$LW_SCRIPTS/kafka.sh" bootstrap)"
  # shellcheck source=scripts/kafka/replication.sh
  source "$LW_SCRIPTS/kafka/replication.sh"
  KAFKA_REPLICATION="$(kafka_replicas "$LEDGERWHISK_KAFKA_BROKERS")"
  SERVICES=(docker couchdb kafka)
fi
COUCH_PORT="${LEDGERWHISK_COUCHDB_PORT:-5984}"
COUCH_URL="${LEDGERWHISK_COUCHDB_URL:-http://127.0.0.1:$COUCH_PORT}"
PY="$LW_ROOT/.venv/bin/python"
GUEST_KEY="$("$PY" -c 'from streams.settings import get_settings; print(get_settings().guest_key)' 2>/dev/null || true)"

# The platform's processes read their settings from these.
PY_ENV=(
  LEDGERWHISK_KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP"
  LEDGERWHISK_KAFKA_REPLICATION_FACTOR="$KAFKA_REPLICATION"
  LEDGERWHISK_COUCHDB_URL="$COUCH_URL"
  LEDGERWHISK_API_PORT="$API_PORT"
  LEDGERWHISK_METRICS_PORT="${LEDGERWHISK_METRICS_PORT:-9095}"
  LEDGERWHISK_PUBLIC_API_URL="${LEDGERWHISK_PUBLIC_API_URL:-http://127.0.0.1:$API_PORT}"
  PYTHONUNBUFFERED=1
)

processes() {
  local i
  echo controller
  for ((i = 1; i < CONTROLLERS; i++)); do echo "controller$i"; done
  echo projection
  for ((i = 0; i < INVOKERS; i++)); do echo "invoker$i"; done
  echo api
  echo feeds
  echo metrics
}

# The user memory of invoker $1: its own entry of INVOKER_MEMORY_MB, else the last one.
invoker_memory() {
  local n=${#INVOKER_MEMORY[@]}
  ((n > 0)) || return 0
  if (($1 < n)); then echo "${INVOKER_MEMORY[$1]}"; else echo "${INVOKER_MEMORY[$((n - 1))]}"; fi
}

module_of() {
  case "$1" in
    controller*) echo streams.controller.agent ;;
    projection) echo projections.writer ;;
    invoker*) echo invoker.agent ;;
    api) echo api.main ;;
    feeds) echo feeds.service ;;
    metrics) echo projections.exporter ;;
  esac
}

start_process() {
  local name="$1" pidfile logfile
  pidfile="$(lw_pidfile "$name")"
  logfile="$(lw_logfile "$name")"
  if lw_read_pid "$pidfile" "$(module_of "$name")" >/dev/null; then
    lw_log "$name already running"
    return 0
  fi
  [[ -f "$logfile" ]] && mv -f "$logfile" "$logfile.1"
  local extra=()
  if [[ "$name" == invoker* ]]; then
    local id="${name#invoker}" memory
    extra=(LEDGERWHISK_INVOKER_ID="$id")
    memory="$(invoker_memory "$id")"
    [[ -z "$memory" ]] || extra+=(LEDGERWHISK_INVOKER_USER_MEMORY_MB="$memory")
  elif [[ "$name" == controller* ]]; then
    extra=(LEDGERWHISK_CONTROLLER_INSTANCE="$name")
  fi
  lw_spawn "$pidfile" "$logfile" env "${PY_ENV[@]}" "${extra[@]}" \
    "$PY" -m "$(module_of "$name")"
}

ready_line() {
  case "$1" in
    api) echo "listening on http://" ;;
    invoker*) echo "ready (user memory" ;;
    feeds) echo "feeds: ready" ;;
    metrics) echo "metrics: serving" ;; # projections/exporter.py SERVING
    *) echo "reading ledger partitions" ;; # streams/groupreader.py READING
  esac
}

wait_process() {
  local name="$1" logfile pid
  logfile="$(lw_logfile "$name")"
  pid="$(lw_read_pid "$(lw_pidfile "$name")" "$(module_of "$name")")" ||
    LW_SERVICE="$name" lw_fail_readiness "the process exited at start" \
      "read the log below, fix the cause, then run 'make up' again" "$logfile"
  local status=0
  LW_WAIT_PID="$pid" lw_wait_until 120 "$name" grep -qF "$(ready_line "$name")" "$logfile" || status=$?
  if ((status != 0)); then
    LW_SERVICE="$name" lw_fail_readiness "no ready line in its log (status $status)" \
      "read the log below; 'make down' then 'make up' retries" "$logfile"
  fi
}

cmd_up() {
  local start
  start="$(lw_now_ms)"
  lw_ensure_dirs
  "$LW_SCRIPTS/python.sh"
  "$LW_SCRIPTS/services.sh" start "${SERVICES[@]}"
  # Python and Node.js first: the stack serves once they exist; the other
  # kinds' images are built in the background (build_in_background below).
  # Its output goes to the terminal and to its own log (the background build's log
  # is rotated when that build starts).
  LEDGERWHISK_BUILD_LOGGED=1 "$LW_ROOT/runtimes/build.sh" --first 2>&1 |
    tee -a "$(lw_logfile runtimes-first-build)"
  lw_log "preparing topics, databases and the guest subject"
  env "${PY_ENV[@]}" "$PY" -m api.setup --invokers "$INVOKERS" >>"$(lw_logfile setup)" 2>&1 ||
    LW_SERVICE=setup lw_fail_readiness "could not prepare topics and databases" \
      "check that Kafka and CouchDB are up ('scripts/services.sh status')" "$(lw_logfile setup)"
  local name
  for name in $(processes); do start_process "$name"; done
  for name in $(processes); do wait_process "$name"; done
  # Ready means an invocation would run: the controller has heard every invoker.
  # nginx forwards to the API instances once they serve.
  LEDGERWHISK_API_PORT="$API_PORT" LEDGERWHISK_TLS_PORT="$TLS_PORT" \
    LEDGERWHISK_NGINX_UPSTREAMS="127.0.0.1:$API_PORT" "$LW_SCRIPTS/nginx.sh" start
  local i status
  for ((i = 0; i < INVOKERS; i++)); do
    status=0
    lw_wait_until 60 "controller to hear invoker $i" \
      grep -qF "invoker $i is up" "$(lw_logfile controller)" || status=$?
    ((status == 0)) || LW_SERVICE=controller lw_fail_readiness \
      "it heard no heartbeat from invoker $i" \
      "check $(lw_logfile "invoker$i") for errors" "$(lw_logfile controller)"
  done
  lw_log "stack ready in $(( ($(lw_now_ms) - start) / 1000 )) s: API on http://127.0.0.1:$API_PORT and https://127.0.0.1:$TLS_PORT ($INVOKERS invoker(s), $CONTROLLERS controller(s), Kafka $KAFKA_BOOTSTRAP with $KAFKA_REPLICATION replica(s))"
  lw_log "logs: $LW_LOGS"
  build_in_background
}

# The runtime images `build.sh --first` left out (java, go, ruby, php, native),
# built by a detached build.sh (one at a time: it takes the build lock). Until
# one is built, the invoker answers an action of its kind with "being built".
build_in_background() {
  local pidfile logfile
  pidfile="$(lw_pidfile runtimes-build)"
  logfile="$(lw_logfile runtimes-build)"
  if lw_read_pid "$pidfile" runtimes/build.sh >/dev/null; then
    lw_log "runtime images: a background build is still running (progress: $logfile)"
    return 0
  fi
  [[ -f "$logfile" ]] && mv -f "$logfile" "$logfile.1"
  LEDGERWHISK_BUILD_LOGGED=1 lw_spawn "$pidfile" "$logfile" "$LW_ROOT/runtimes/build.sh"
  lw_log "runtime images: building the other kinds in the background; up-to-date ones are skipped (progress: $logfile)"
}

# The processes to expect, then any invokers or controllers a larger
# INVOKERS or CONTROLLERS started before (they have pid files).
known_processes() {
  local name pidfile names=()
  for name in $(processes); do names+=("$name"); done
  for pidfile in "$LW_RUN"/invoker*.pid "$LW_RUN"/controller*.pid; do
    [[ -f "$pidfile" ]] || continue
    name="$(basename "$pidfile" .pid)"
    [[ " ${names[*]} " == *" $name "* ]] || names+=("$name")
  done
  echo "${names[@]}"
}

cmd_down() {
  LEDGERWHISK_TLS_PORT="$TLS_PORT" "$LW_SCRIPTS/nginx.sh" stop
  local name names=()
  for name in $(known_processes); do names=("$name" "${names[@]}"); done
  for name in "${names[@]}"; do
    LW_SERVICE="$name" lw_stop_pid "$(lw_pidfile "$name")" "$(module_of "$name")" 20
  done
  "$LW_SCRIPTS/services.sh" stop "${SERVICES[@]}"
}

cmd_status() {
  local name pid
  for name in $(known_processes); do
    if pid="$(lw_read_pid "$(lw_pidfile "$name")" "$(module_of "$name")")"; then
      printf '%-12s running (pid %s)\n' "$name" "$pid"
    else
      printf '%-12s stopped\n' "$name"
    fi
  done
  LEDGERWHISK_TLS_PORT="$TLS_PORT" "$LW_SCRIPTS/nginx.sh" status || true
  "$LW_SCRIPTS/services.sh" status "${SERVICES[@]}" || true
}

cmd_run() {
  cmd_up
  trap 'echo; cmd_down; exit 0' INT TERM
  cat <<MSG

Ledgerwhisk is ready on http://127.0.0.1:$API_PORT and https://127.0.0.1:$TLS_PORT
(Ctrl-C stops everything; the HTTPS certificate's CA: ${LEDGERWHISK_TLS_CERT:-$LW_STATE/tls/ca.pem})
Try:
  curl -s -u '$GUEST_KEY' http://127.0.0.1:$API_PORT/api/v1/namespaces

MSG
  # The log tails end with the API process: a `make down` from another shell ends
  # this `make run` too (GNU tail's --pid).
  local api_pid
  api_pid="$(lw_read_pid "$(lw_pidfile api)" "$(module_of api)")" || api_pid=""
  local until=()
  [[ -n "$api_pid" ]] && until=(--pid="$api_pid")
  tail -n +1 -F "${until[@]}" "$LW_LOGS/runtimes-build.log" 2>/dev/null | grep --line-buffered -v '   Step \|   | ' &
  tail -n 0 -F "${until[@]}" "$LW_LOGS"/{projection,api,feeds,metrics}.log "$LW_LOGS"/controller*.log "$LW_LOGS"/invoker*.log &
  wait $!
  echo
  echo "[stack] the API stopped (make down, or it exited: see $LW_LOGS/api.log); make run ends"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  run) cmd_run ;;
  status) cmd_status ;;
  *) echo "usage: $0 {up|run|down|status}" >&2; exit 2 ;;
esac
