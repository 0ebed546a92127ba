# shellcheck shell=bash
# Shared helpers for the Ledgerwhisk service scripts (kafka.sh, couchdb.sh,
# docker.sh, services.sh). Source it; do not execute it.
#
# Layout (every path can be moved with an environment variable, so that a test
# can run a second copy of a service next to a dev stack):
#   LW_ROOT   project root (parent of scripts/)
#   LW_STATE  ${LEDGERWHISK_STATE_DIR:-$LW_ROOT/.state}
#             $LW_STATE/<service>/         data
#             $LW_STATE/logs/<service>.log logs
#             $LW_STATE/run/<service>.pid  pid files
#   LW_CACHE  ${LEDGERWHISK_CACHE:-$HOME/.cache/ledgerwhisk}  downloads, shared
#             by every clone on the machine
#
# Callers set LW_SERVICE (used as the "[service]" log prefix) before sourcing
# or right after.

LW_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LW_ROOT="$(cd "$LW_SCRIPTS/.." && pwd)"
LW_STATE="${LEDGERWHISK_STATE_DIR:-$LW_ROOT/.state}"
LW_CACHE="${LEDGERWHISK_CACHE:-${HOME:-/root}/.cache/ledgerwhisk}"
LW_LOGS="$LW_STATE/logs"
LW_RUN="$LW_STATE/run"
: "${LW_SERVICE:=services}"
# Set by lw_stop_pid: 1 if it had to SIGKILL (read by callers).
# shellcheck disable=SC2034
LW_STOP_KILLED=0

lw_log() { printf '[%s] %s\n' "$LW_SERVICE" "$*" >&2; }
lw_warn() { printf '[%s] WARNING: %s\n' "$LW_SERVICE" "$*" >&2; }
lw_die() {
  printf '[%s] ERROR: %s\n' "$LW_SERVICE" "$*" >&2
  exit 1
}

lw_have() { command -v "$1" >/dev/null 2>&1; }

# Milliseconds since the epoch (for timing reports).
lw_now_ms() { date +%s%3N; }

lw_ensure_dirs() { mkdir -p "$LW_LOGS" "$LW_RUN" "$LW_CACHE"; }

lw_pidfile() { printf '%s/%s.pid\n' "$LW_RUN" "$1"; }
lw_logfile() { printf '%s/%s.log\n' "$LW_LOGS" "$1"; }

# lw_pid_matches PID PATTERN: PID is alive and its command line contains
# PATTERN (guards against a recycled pid belonging to something else).
lw_pid_matches() {
  local pid="$1" pattern="${2:-}"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -z "$pattern" ]] && return 0
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"$pattern"* ]]
}

# lw_read_pid PIDFILE PATTERN: print the pid recorded in PIDFILE if that
# process is still ours and alive; remove a stale pid file; return 1 otherwise.
lw_read_pid() {
  local pidfile="$1" pattern="${2:-}" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  if lw_pid_matches "$pid" "$pattern"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$pidfile"
  return 1
}

# lw_spawn PIDFILE LOGFILE CMD [ARGS...]: run CMD detached (own session, no
# stdin, stdout+stderr appended to LOGFILE) and write its pid to PIDFILE.
# The pid is written by the process itself right before it execs CMD, so it
# is the real server pid even if setsid had to fork.
lw_spawn() {
  local pidfile="$1" logfile="$2"
  shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  rm -f "$pidfile"
  # shellcheck disable=SC2016  # $$ and $@ are expanded by the inner bash
  nohup setsid bash -c 'echo "$$" >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' \
    "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.05
  done
  lw_die "could not start $1 (no pid file $pidfile after 5 s); see $logfile"
}

# lw_same_port SERVICE PORT: a running instance of SERVICE from this state
# dir was started on PORT (recorded in $LW_RUN/SERVICE.port by the start
# script); fail with a clear message if it runs on another one.
lw_same_port() {
  local f="$LW_RUN/$1.port" recorded
  [[ -f "$f" ]] || return 0
  recorded="$(cat "$f")"
  [[ "$recorded" == "$2" ]] && return 0
  lw_die "$1 from $LW_STATE already runs on port $recorded, not $2; stop it first (scripts/$1.sh stop with the same LEDGERWHISK_STATE_DIR) or use another LEDGERWHISK_STATE_DIR"
}

# lw_rotate_log FILE [MAX_MB]: keep one old copy (FILE.1) once FILE grows past
# MAX_MB (default 50), so logs appended across restarts stay bounded.
lw_rotate_log() {
  local f="$1" max=$((${2:-50} * 1024 * 1024)) size
  [[ -f "$f" ]] || return 0
  size="$(stat -c %s "$f" 2>/dev/null || echo 0)"
  if ((size > max)); then
    mv -f "$f" "$f.1"
  fi
}

# lw_port_open HOST PORT: something accepts TCP connections there.
lw_port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# lw_wait_until SECONDS DESCRIPTION CMD [ARGS...]: poll CMD until it succeeds
# or the deadline passes. While waiting, if LW_WAIT_PID is set and that
# process dies, give up early (returns 2). Returns 1 on timeout.
lw_wait_until() {
  local timeout="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + timeout)) delay=0.05 told=0
  while true; do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    if [[ -n "${LW_WAIT_PID:-}" ]] && ! kill -0 "$LW_WAIT_PID" 2>/dev/null; then
      lw_log "process $LW_WAIT_PID exited while waiting for $what"
      return 2
    fi
    if ((SECONDS >= deadline)); then
      return 1
    fi
    if ((told == 0 && SECONDS + timeout - deadline >= 5)); then
      lw_log "still waiting for $what ..."
      told=1
    fi
    sleep "$delay"
    # back off gently from 50 ms to 250 ms
    case "$delay" in
      0.05) delay=0.1 ;;
      0.1) delay=0.25 ;;
    esac
  done
}

# lw_wait_for_port HOST PORT SECONDS
lw_wait_for_port() {
  lw_wait_until "$3" "port $1:$2" lw_port_open "$1" "$2"
}

# lw_fail_readiness CAUSE FIX LOGFILE: standard readiness-failure report
# (service, cause, fix, log path, last lines of the log), then exit 1.
lw_fail_readiness() {
  local cause="$1" fix="$2" logfile="$3"
  {
    printf '[%s] ERROR: %s is not ready: %s\n' "$LW_SERVICE" "$LW_SERVICE" "$cause"
    printf '[%s] fix: %s\n' "$LW_SERVICE" "$fix"
    printf '[%s] log: %s\n' "$LW_SERVICE" "$logfile"
    if [[ -f "$logfile" ]]; then
      printf '[%s] ---- last 20 lines of %s ----\n' "$LW_SERVICE" "$logfile"
      tail -n 20 "$logfile" | sed "s/^/[$LW_SERVICE] | /"
      printf '[%s] ----\n' "$LW_SERVICE"
    fi
  } >&2
  exit 1
}

# lw_stop_pid PIDFILE PATTERN SECONDS: stop the process recorded in PIDFILE
# (if it is alive and still matches PATTERN): SIGTERM, wait, SIGKILL after
# SECONDS (then sets LW_STOP_KILLED=1). Returns 0 if nothing was running.
lw_stop_pid() {
  local pidfile="$1" pattern="$2" timeout="${3:-30}" pid
  LW_STOP_KILLED=0
  if ! pid="$(lw_read_pid "$pidfile" "$pattern")"; then
    lw_log "not running (no live pid in $pidfile)"
    rm -f "$pidfile"
    return 0
  fi
  lw_log "stopping pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      lw_warn "pid $pid still alive after ${timeout}s; sending SIGKILL"
      # shellcheck disable=SC2034
      LW_STOP_KILLED=1
      kill -KILL "$pid" 2>/dev/null || true
      local i
      for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      break
    fi
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    lw_die "pid $pid survived SIGKILL"
  fi
  rm -f "$pidfile"
  lw_log "stopped"
}

# lw_service_status PIDFILE PATTERN ADDRESS PROBE...: `status` of a service this
# state started: ready (0) when its pid is alive and PROBE (a command) succeeds.
lw_service_status() {
  local pidfile="$1" pattern="$2" address="$3" pid
  shift 3
  if pid="$(lw_read_pid "$pidfile" "$pattern")" && "$@"; then
    lw_log "ready on $address (pid $pid, state $LW_STATE)"
    return 0
  fi
  lw_log "not running (state $LW_STATE, $address)"
  return 1
}

# lw_valid_port NAME VALUE
lw_valid_port() {
  if ! [[ "$2" =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
    lw_die "$1 must be a TCP port number, got '$2'"
  fi
}

APT_UPDATED=0
# lw_apt_install PKG...: (docker.sh, nginx.sh, prometheus.sh) apt-get install, running apt-get update first only
# when the package lists do not know a package (fresh machine) or the
# install fails (stale lists).
lw_apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  lw_have apt-get || lw_die "apt-get not found; install $* by hand"
  local pkg need_update=0
  for pkg in "$@"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      need_update=1
    fi
  done
  if ((need_update)); then
    lw_log "apt-get update"
    apt-get update >&2 || lw_die "apt-get update failed; are Debian's package mirrors reachable?"
    APT_UPDATED=1
  fi
  lw_log "apt-get install -y $*"
  if ! apt-get install -y --no-install-recommends "$@" >&2; then
    ((APT_UPDATED)) && lw_die "apt-get install -y $* failed"
    apt-get update >&2 || lw_die "apt-get update failed"
    APT_UPDATED=1
    apt-get install -y --no-install-recommends "$@" >&2 || lw_die "apt-get install -y $* failed"
  fi
}

lw_usage() {
  printf 'usage: %s {install|start|stop|status|wait}\n' "$(basename "$0")" >&2
  exit 2
}
