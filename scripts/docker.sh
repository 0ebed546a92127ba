#!/usr/bin/env bash
# Docker engine for Ledgerwhisk (action containers; runtime images need
# debootstrap). The daemon is machine-wide: if one already answers we use it
# and never stop it; we stop only a dockerd that this script started.
#
#   scripts/docker.sh {install|start|stop|status|wait}
#
# Environment:
#   LEDGERWHISK_DOCKERD_PIDFILE  where we record a dockerd we started
#                                (default /run/ledgerwhisk-dockerd.pid)
#   LEDGERWHISK_DOCKERD_ARGS     extra dockerd arguments (word-split), e.g. a
#                                private -H/--data-root/--exec-root/--pidfile
#                                set for a throwaway daemon; point DOCKER_HOST
#                                at its socket too
#   LEDGERWHISK_DOCKER_TIMEOUT   readiness deadline in seconds (default 60)
#   DOCKER_HOST                  honoured by the docker client as usual
#   LEDGERWHISK_DOCKER_USER      the name this stack is counted under among the
#                                daemon's users (default: its state folder)
#   LEDGERWHISK_STATE_DIR: logs go to $LEDGERWHISK_STATE_DIR/logs/dockerd.log
set -euo pipefail

LW_SERVICE=docker
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKERD_PID="${LEDGERWHISK_DOCKERD_PIDFILE:-/run/ledgerwhisk-dockerd.pid}"
DOCKERD_LOG="$(lw_logfile dockerd)"
DOCKER_TIMEOUT="${LEDGERWHISK_DOCKER_TIMEOUT:-60}"

# ---------------------------------------------------------------- install

docker_install() {
  local want=()
  lw_have dockerd || want+=(docker.io)
  lw_have debootstrap || want+=(debootstrap)
  if ((${#want[@]} == 0)); then
    lw_log "dockerd and debootstrap already installed"
    return 0
  fi
  local t0
  t0=$(lw_now_ms)
  lw_apt_install "${want[@]}"
  lw_have dockerd || lw_die "dockerd still not on PATH after installing docker.io"
  lw_log "installed ${want[*]} ($(($(lw_now_ms) - t0)) ms)"
}

# ---------------------------------------------------------------- readiness

docker_answers() {
  lw_have docker || return 1
  timeout 10 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

# docker_wait [PID]: wait for readiness; PID (default: from the pid file) is the
# process we started; if it dies meanwhile, fail at once.
docker_wait() {
  local pid="${1:-}" rc=0
  [[ -n "$pid" ]] || pid="$(lw_read_pid "$DOCKERD_PID" dockerd || true)"
  LW_WAIT_PID="$pid" lw_wait_until "$DOCKER_TIMEOUT" "docker daemon" docker_answers || rc=$?
  case "$rc" in
    0) return 0 ;;
    2) lw_fail_readiness "dockerd exited during startup" \
      "read the log below (storage driver, cgroups, iptables or a stale /var/run/docker.pid are the usual causes); LEDGERWHISK_DOCKERD_ARGS passes extra dockerd flags" \
      "$DOCKERD_LOG" ;;
    *)
      if [[ -z "$pid" ]]; then
        lw_fail_readiness "'docker info' gets no answer from a daemon${DOCKER_HOST:+ at DOCKER_HOST=$DOCKER_HOST}" \
          "run scripts/docker.sh start (as root)" "$DOCKERD_LOG"
      fi
      lw_fail_readiness "'docker info' gets no answer within ${DOCKER_TIMEOUT}s (dockerd pid $pid)" \
        "check the log; raise LEDGERWHISK_DOCKER_TIMEOUT, or scripts/docker.sh stop && scripts/docker.sh start" \
        "$DOCKERD_LOG" ;;
  esac
}

# ---------------------------------------------------------------- start/stop

docker_start() {
  local t0 pid
  t0=$(lw_now_ms)
  docker_add_user
  if docker_answers; then
    if pid="$(lw_read_pid "$DOCKERD_PID" dockerd)"; then
      lw_log "already running (dockerd pid $pid, started by ledgerwhisk)"
    else
      lw_log "already running (not started by ledgerwhisk; left alone)"
    fi
    return 0
  fi
  if pid="$(lw_read_pid "$DOCKERD_PID" dockerd)"; then
    lw_log "dockerd pid $pid (started by ledgerwhisk) is not answering yet; waiting"
    docker_wait
    lw_log "ready"
    return 0
  fi
  if [[ -z "${LEDGERWHISK_DOCKERD_ARGS:-}" ]] && pgrep -x dockerd >/dev/null 2>&1; then
    # Someone else's daemon is running but does not answer us: do not start
    # a second one on the same socket/data root.
    lw_fail_readiness "a dockerd not started by ledgerwhisk is running (pid $(pgrep -x dockerd | tr '\n' ' ')) but 'docker info' gets no answer${DOCKER_HOST:+ at DOCKER_HOST=$DOCKER_HOST}" \
      "wait for it, fix DOCKER_HOST, or restart that daemon yourself" "$DOCKERD_LOG"
  fi
  docker_install
  lw_have docker || lw_die "the docker client is not on PATH (package docker.io provides it)"
  [[ "$(id -u)" == 0 ]] || lw_die "starting dockerd needs root"
  lw_ensure_dirs
  mkdir -p "$(dirname "$DOCKERD_PID")"
  # A daemon killed without its shutdown (a machine restored from a snapshot,
  # say) leaves its pid file, and a new dockerd refuses to start over it.
  local stale=/var/run/docker.pid old
  if [[ -f "$stale" ]]; then
    old="$(cat "$stale" 2>/dev/null || true)"
    if [[ -z "$old" ]] || ! kill -0 "$old" 2>/dev/null; then
      lw_log "removing the stale $stale (pid ${old:-none} is not running)"
      rm -f "$stale"
    fi
  fi
  # Action containers run with --network none (the invoker reaches them inside
  # their own network namespace), so the daemon needs no bridge, no NAT and no
  # private-range addresses at all.
  # shellcheck disable=SC2206  # extra args are meant to be word-split
  local extra=(--bridge=none --iptables=false --ip-forward=false --ip-masq=false ${LEDGERWHISK_DOCKERD_ARGS:-})
  lw_log "starting dockerd ${extra[*]} (log $DOCKERD_LOG, pid file $DOCKERD_PID)"
  (
    cd /
    lw_spawn "$DOCKERD_PID" "$DOCKERD_LOG" dockerd "${extra[@]}"
  )
  # Mark it as ours, with where it logs (line 1 stays the pid).
  printf 'started by ledgerwhisk at %s from %s; log %s\n' \
    "$(date -u +%FT%TZ)" "$LW_ROOT" "$DOCKERD_LOG" >>"$DOCKERD_PID"
  docker_wait "$(head -n1 "$DOCKERD_PID")"
  lw_log "ready (dockerd pid $(head -n1 "$DOCKERD_PID"), started by ledgerwhisk, $(($(lw_now_ms) - t0)) ms)"
}

# Several stacks (a dev stack, a test run, other checkouts) share the one
# machine-wide daemon: each records its state folder as a user, and the daemon
# we started stops only when the last user stops.
DOCKERD_USERS="${DOCKERD_PID%.pid}.users"
DOCKER_USER="${LEDGERWHISK_DOCKER_USER:-$LW_STATE}"

docker_add_user() {
  mkdir -p "$(dirname "$DOCKERD_USERS")"
  touch "$DOCKERD_USERS"
  grep -qxF "$DOCKER_USER" "$DOCKERD_USERS" || echo "$DOCKER_USER" >>"$DOCKERD_USERS"
}

docker_remove_user() {
  [[ -f "$DOCKERD_USERS" ]] || return 0
  local rest
  rest="$(grep -vxF "$DOCKER_USER" "$DOCKERD_USERS" || true)"
  printf '%s' "${rest:+$rest$'\n'}" >"$DOCKERD_USERS"
}

docker_stop() {
  docker_remove_user
  if [[ -s "$DOCKERD_USERS" ]]; then
    lw_log "other stacks still use dockerd ($(tr '\n' ' ' <"$DOCKERD_USERS")); leaving it running"
    return 0
  fi
  if ! lw_read_pid "$DOCKERD_PID" dockerd >/dev/null; then
    if docker_answers; then
      lw_log "the running docker daemon was not started by ledgerwhisk; leaving it alone"
    else
      lw_log "not running (no dockerd started by ledgerwhisk)"
    fi
    rm -f "$DOCKERD_PID"
    return 0
  fi
  # dockerd stops its containers first (up to its shutdown timeout, 15 s).
  lw_stop_pid "$DOCKERD_PID" dockerd "${LEDGERWHISK_DOCKER_STOP_TIMEOUT:-60}"
}

docker_status() {
  local pid owner="not started by ledgerwhisk"
  if pid="$(lw_read_pid "$DOCKERD_PID" dockerd)"; then
    owner="dockerd pid $pid, started by ledgerwhisk"
  fi
  if docker_answers; then
    lw_log "ready (server $(timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'); $owner)"
    return 0
  fi
  lw_log "not answering${DOCKER_HOST:+ at DOCKER_HOST=$DOCKER_HOST} ($owner)"
  return 1
}

case "${1:-}" in
  install) docker_install ;;
  start) docker_start ;;
  stop) docker_stop ;;
  status) docker_status ;;
  wait)
    docker_wait
    lw_log "ready"
    ;;
  *) lw_usage ;;
esac
