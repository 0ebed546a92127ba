#!/usr/bin/env bash
# nginx in front of the API: HTTPS on 127.0.0.1:$LEDGERWHISK_TLS_PORT, forwarding
# to the API instances (Debian's nginx package; its configuration is written by
# api/frontdoor.py under $LEDGERWHISK_STATE_DIR/nginx at every start).
#
#   scripts/nginx.sh {install|start|stop|status|wait}
#
# Environment:
#   LEDGERWHISK_TLS_PORT       the HTTPS port (default 3443)
#   LEDGERWHISK_TLS_CERT       a PEM certificate chain to serve, with
#   LEDGERWHISK_TLS_KEY        its key; without both, the stack's own local CA
#                              and certificate are made once under
#                              $LEDGERWHISK_STATE_DIR/tls (clients trust tls/ca.pem)
#   LEDGERWHISK_NGINX_UPSTREAMS  host:port of every API instance, space-separated
#                              (default 127.0.0.1:$LEDGERWHISK_API_PORT)
#   LEDGERWHISK_API_PORT       (3233) the API's port
#   LEDGERWHISK_NGINX_TIMEOUT  readiness deadline in seconds (default 30)
#   LEDGERWHISK_STATE_DIR: see scripts/lib.sh
set -euo pipefail

LW_SERVICE=nginx
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TLS_PORT="${LEDGERWHISK_TLS_PORT:-3443}"
lw_valid_port LEDGERWHISK_TLS_PORT "$TLS_PORT"
API_PORT="${LEDGERWHISK_API_PORT:-3233}"
read -r -a UPSTREAMS <<<"${LEDGERWHISK_NGINX_UPSTREAMS:-127.0.0.1:$API_PORT}"
NGINX_TIMEOUT="${LEDGERWHISK_NGINX_TIMEOUT:-30}"
NGINX_DIR="$LW_STATE/nginx"
NGINX_CONF="$NGINX_DIR/nginx.conf"
NGINX_LOG="$(lw_logfile nginx)"
NGINX_PID="$(lw_pidfile nginx)"
# The master's command line names its configuration file (guards against pid reuse).
NGINX_PATTERN="$NGINX_CONF"
PY="$LW_ROOT/.venv/bin/python"

nginx_install() {
  if lw_have nginx || [[ -x /usr/sbin/nginx ]]; then
    lw_log "nginx already installed"
    return 0
  fi
  local t0
  t0=$(lw_now_ms)
  # Debian's package would start its own nginx on port 80 where an init system
  # lets it; ours runs from its own configuration only.
  lw_apt_install nginx
  lw_log "installed nginx ($(($(lw_now_ms) - t0)) ms)"
}

nginx_bin() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

nginx_answers() {
  lw_port_open 127.0.0.1 "$TLS_PORT"
}

nginx_wait() {
  local pid="${1:-}" rc=0
  [[ -n "$pid" ]] || pid="$(lw_read_pid "$NGINX_PID" "$NGINX_PATTERN" || true)"
  LW_WAIT_PID="$pid" lw_wait_until "$NGINX_TIMEOUT" "nginx on 127.0.0.1:$TLS_PORT" nginx_answers || rc=$?
  ((rc == 0)) || lw_fail_readiness "nothing answers on 127.0.0.1:$TLS_PORT (status $rc)" \
    "read the log below; LEDGERWHISK_TLS_PORT picks another port" "$NGINX_LOG"
}

nginx_configure() {
  local args=(--prefix "$NGINX_DIR" --tls-port "$TLS_PORT") upstream
  for upstream in "${UPSTREAMS[@]}"; do args+=(--upstream "$upstream"); done
  if [[ -n "${LEDGERWHISK_TLS_CERT:-}${LEDGERWHISK_TLS_KEY:-}" ]]; then
    [[ -r "${LEDGERWHISK_TLS_CERT:-}" && -r "${LEDGERWHISK_TLS_KEY:-}" ]] ||
      lw_die "LEDGERWHISK_TLS_CERT and LEDGERWHISK_TLS_KEY must both name readable PEM files"
    args+=(--cert "$LEDGERWHISK_TLS_CERT" --key "$LEDGERWHISK_TLS_KEY")
  fi
  "$PY" -m api.frontdoor "${args[@]}" >/dev/null
  "$(nginx_bin)" -t -q -p "$NGINX_DIR" -c "$NGINX_CONF" -e "$NGINX_DIR/logs/error.log" >>"$NGINX_LOG" 2>&1 ||
    lw_fail_readiness "nginx -t rejects $NGINX_CONF" "read the log below" "$NGINX_LOG"
}

nginx_start() {
  local t0 pid
  t0=$(lw_now_ms)
  if pid="$(lw_read_pid "$NGINX_PID" "$NGINX_PATTERN")"; then
    lw_same_port nginx "$TLS_PORT"
    lw_log "already running (pid $pid) on https://127.0.0.1:$TLS_PORT"
    return 0
  fi
  if lw_port_open 127.0.0.1 "$TLS_PORT"; then
    lw_fail_readiness "port 127.0.0.1:$TLS_PORT is already in use by a process not started from $LW_STATE" \
      "stop that process, or pick another port with LEDGERWHISK_TLS_PORT" "$NGINX_LOG"
  fi
  nginx_install
  lw_ensure_dirs
  lw_rotate_log "$NGINX_LOG"
  nginx_configure
  echo "$TLS_PORT" >"$LW_RUN/nginx.port"
  lw_log "starting nginx on https://127.0.0.1:$TLS_PORT -> ${UPSTREAMS[*]} (config $NGINX_CONF, log $NGINX_LOG)"
  lw_spawn "$NGINX_PID" "$NGINX_LOG" "$(nginx_bin)" -p "$NGINX_DIR" -c "$NGINX_CONF" \
    -e "$NGINX_DIR/logs/error.log"
  nginx_wait "$(head -n1 "$NGINX_PID")"
  lw_log "ready on https://127.0.0.1:$TLS_PORT (pid $(head -n1 "$NGINX_PID"), $(($(lw_now_ms) - t0)) ms)"
}

nginx_stop() {
  # SIGTERM: nginx's fast shutdown (open event streams end at once).
  lw_stop_pid "$NGINX_PID" "$NGINX_PATTERN" "${LEDGERWHISK_NGINX_STOP_TIMEOUT:-10}"
  rm -f "$LW_RUN/nginx.port"
}

nginx_status() {
  lw_service_status "$NGINX_PID" "$NGINX_PATTERN" "https://127.0.0.1:$TLS_PORT" nginx_answers
}

case "${1:-}" in
  install) nginx_install ;;
  start) nginx_start ;;
  stop) nginx_stop ;;
  status) nginx_status ;;
  wait)
    nginx_wait
    lw_log "ready on https://127.0.0.1:$TLS_PORT"
    ;;
  *) lw_usage ;;
esac
