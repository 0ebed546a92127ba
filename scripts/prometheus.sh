#!/usr/bin/env bash
# A Prometheus server scraping the stack's GET /metrics (Debian's prometheus
# package). Not part of `make up`: for watching a stack, and for the test that
# checks the metrics through a real server (tests/integration/test_metrics.py).
#
#   scripts/prometheus.sh {install|start|stop|status}
#
# Environment:
#   LEDGERWHISK_PROMETHEUS_PORT   its web and query API port (default 9090)
#   LEDGERWHISK_METRICS_PORT      the exporter it scrapes (default 9095)
#   LEDGERWHISK_PROMETHEUS_SCRAPE_S  scrape interval in seconds (default 5)
#   LEDGERWHISK_STATE_DIR: its config and data go to $LEDGERWHISK_STATE_DIR/prometheus
set -euo pipefail

LW_SERVICE=prometheus
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROM_PORT="${LEDGERWHISK_PROMETHEUS_PORT:-9090}"
lw_valid_port LEDGERWHISK_PROMETHEUS_PORT "$PROM_PORT"
METRICS_PORT="${LEDGERWHISK_METRICS_PORT:-9095}"
SCRAPE_S="${LEDGERWHISK_PROMETHEUS_SCRAPE_S:-5}"
PROM_DIR="$LW_STATE/prometheus"
PROM_CONFIG="$PROM_DIR/prometheus.yml"
PROM_LOG="$(lw_logfile prometheus)"
PROM_PID="$(lw_pidfile prometheus)"
# Its command line names its own configuration file (guards against pid reuse).
PROM_PATTERN="$PROM_CONFIG"

prom_bin() { command -v prometheus 2>/dev/null || echo /usr/bin/prometheus; }

prom_install() {
  if [[ -x "$(prom_bin)" ]]; then
    lw_log "prometheus already installed"
    return 0
  fi
  local t0
  t0=$(lw_now_ms)
  lw_apt_install prometheus
  lw_log "installed prometheus ($(($(lw_now_ms) - t0)) ms)"
}

prom_ready() {
  lw_have curl || return 1
  curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null
}

prom_write_config() {
  mkdir -p "$PROM_DIR/data"
  cat >"$PROM_CONFIG.tmp" <<EOF
# Written by scripts/prometheus.sh at every start; edits are lost.
global:
  scrape_interval: ${SCRAPE_S}s
  evaluation_interval: ${SCRAPE_S}s
scrape_configs:
  - job_name: ledgerwhisk
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$METRICS_PORT"]
EOF
  mv -f "$PROM_CONFIG.tmp" "$PROM_CONFIG"
}

prom_start() {
  local pid t0
  t0=$(lw_now_ms)
  if pid="$(lw_read_pid "$PROM_PID" "$PROM_PATTERN")"; then
    lw_same_port prometheus "$PROM_PORT"
    lw_log "already running (pid $pid) on http://127.0.0.1:$PROM_PORT"
    return 0
  fi
  if lw_port_open 127.0.0.1 "$PROM_PORT"; then
    lw_fail_readiness "port 127.0.0.1:$PROM_PORT is already in use by a process not started from $LW_STATE" \
      "stop it, or pick another port with LEDGERWHISK_PROMETHEUS_PORT" "$PROM_LOG"
  fi
  prom_install
  lw_ensure_dirs
  lw_rotate_log "$PROM_LOG"
  prom_write_config
  echo "$PROM_PORT" >"$LW_RUN/prometheus.port"
  lw_log "starting prometheus on http://127.0.0.1:$PROM_PORT scraping 127.0.0.1:$METRICS_PORT every ${SCRAPE_S}s (data $PROM_DIR/data, log $PROM_LOG)"
  lw_spawn "$PROM_PID" "$PROM_LOG" "$(prom_bin)" \
    --config.file="$PROM_CONFIG" \
    --storage.tsdb.path="$PROM_DIR/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT"
  local status=0
  LW_WAIT_PID="$(head -n1 "$PROM_PID")" lw_wait_until 60 "prometheus on 127.0.0.1:$PROM_PORT" prom_ready || status=$?
  ((status == 0)) || lw_fail_readiness "GET /-/ready does not answer (status $status)" \
    "read the log below" "$PROM_LOG"
  lw_log "ready on http://127.0.0.1:$PROM_PORT (pid $(head -n1 "$PROM_PID"), $(($(lw_now_ms) - t0)) ms)"
}

prom_stop() {
  lw_stop_pid "$PROM_PID" "$PROM_PATTERN" "${LEDGERWHISK_PROMETHEUS_STOP_TIMEOUT:-30}"
  rm -f "$LW_RUN/prometheus.port"
}

prom_status() {
  lw_service_status "$PROM_PID" "$PROM_PATTERN" "http://127.0.0.1:$PROM_PORT" prom_ready
}

case "${1:-}" in
  install) prom_install ;;
  start) prom_start ;;
  stop) prom_stop ;;
  status) prom_status ;;
  *) echo "usage: $(basename "$0") {install|start|stop|status}" >&2; exit 2 ;;
esac
