#!/usr/bin/env bash
# Install, start, stop or check Ledgerwhisk's backing services.
#
#   scripts/services.sh {install|start|stop|status|wait} [kafka] [couchdb] [docker]
#
# No names = all three. start/install/wait run docker first (apt and the
# machine-wide daemon), then couchdb and kafka in parallel; stop runs in the
# reverse order (kafka and couchdb in parallel, then docker). status checks
# each and fails if any is not ready. Each script's environment variables
# apply (LEDGERWHISK_STATE_DIR, LEDGERWHISK_KAFKA_PORT, ...).
set -euo pipefail

LW_SERVICE=services
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $(basename "$0") {install|start|stop|status|wait} [kafka] [couchdb] [docker]" >&2
  exit 2
}

cmd="${1:-}"
[[ -n "$cmd" ]] || usage
shift
case "$cmd" in install | start | stop | status | wait) ;; *) usage ;; esac

declare -A want=()
if (($# == 0)); then
  want=([docker]=1 [couchdb]=1 [kafka]=1)
fi
for svc in "$@"; do
  case "$svc" in
    kafka | couchdb | docker) want[$svc]=1 ;;
    *)
      echo "[services] unknown service '$svc' (known: kafka couchdb docker)" >&2
      usage
      ;;
  esac
done

failed=()

# run_group SERVICE...: run "$cmd" for the wanted services in the group in
# parallel; remember which failed.
run_group() {
  local svc pids=() names=()
  for svc in "$@"; do
    [[ -n "${want[$svc]:-}" ]] || continue
    "$LW_SCRIPTS/$svc.sh" "$cmd" &
    pids+=("$!")
    names+=("$svc")
  done
  local i
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      failed+=("${names[$i]}")
    fi
  done
}

t0=$(lw_now_ms)
case "$cmd" in
  stop)
    run_group kafka couchdb
    run_group docker
    ;;
  status)
    run_group docker couchdb kafka
    ;;
  *)
    run_group docker
    if [[ "$cmd" == start && " ${failed[*]} " == *" docker "* ]]; then
      lw_log "docker failed to start; starting couchdb and kafka anyway"
    fi
    run_group couchdb kafka
    ;;
esac

if ((${#failed[@]})); then
  lw_log "$cmd failed for: ${failed[*]}"
  exit 1
fi
lw_log "$cmd ok: ${!want[*]} ($(($(lw_now_ms) - t0)) ms)"
