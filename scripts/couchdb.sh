#!/usr/bin/env bash
# CouchDB HTTP API for Ledgerwhisk dev/test: PouchDB Server (npm), or an
# external CouchDB given by LEDGERWHISK_COUCHDB_URL.
#
#   scripts/couchdb.sh {install|start|stop|status|wait}
#
# Environment:
#   LEDGERWHISK_COUCHDB_URL        use this CouchDB instead (start/stop only
#                                  check that it answers)
#   LEDGERWHISK_COUCHDB_PORT       port of the local server (default 5984)
#   LEDGERWHISK_COUCHDB_LOG_LEVEL  debug|info|warning|error (default warning;
#                                  info logs every HTTP request)
#   LEDGERWHISK_COUCHDB_TIMEOUT    readiness deadline in seconds (default 30)
#   LEDGERWHISK_STATE_DIR, LEDGERWHISK_CACHE: see scripts/lib.sh
set -euo pipefail

LW_SERVICE=couchdb
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POUCHDB_SERVER_VERSION=4.2.0
COUCH_PORT="${LEDGERWHISK_COUCHDB_PORT:-5984}"
lw_valid_port LEDGERWHISK_COUCHDB_PORT "$COUCH_PORT"
COUCH_TIMEOUT="${LEDGERWHISK_COUCHDB_TIMEOUT:-30}"
COUCH_LOG_LEVEL="${LEDGERWHISK_COUCHDB_LOG_LEVEL:-warning}"
COUCH_EXTERNAL="${LEDGERWHISK_COUCHDB_URL:-}"

POUCH_HOME="$LW_CACHE/pouchdb-server-$POUCHDB_SERVER_VERSION"
POUCH_BIN="$POUCH_HOME/node_modules/pouchdb-server/bin/pouchdb-server"
COUCH_DIR="$LW_STATE/couchdb"
COUCH_DATA="$COUCH_DIR/data"
COUCH_CONFIG="$COUCH_DIR/config.json"
COUCH_LOG="$(lw_logfile couchdb)"
COUCH_PID="$(lw_pidfile couchdb)"
COUCH_LOCAL_URL="http://127.0.0.1:$COUCH_PORT"

# URL without user:password@ (for messages).
lw_redact_url() { printf '%s\n' "$1" | sed -E 's#(://)[^/@]*@#\1***@#'; }

# ---------------------------------------------------------------- install

# The install is moved into place only when complete, so the bin is the marker.
pouch_installed() { [[ -f "$POUCH_BIN" ]]; }

couch_install() {
  if [[ -n "$COUCH_EXTERNAL" ]]; then
    lw_log "LEDGERWHISK_COUCHDB_URL is set ($(lw_redact_url "$COUCH_EXTERNAL")): nothing to install"
    return 0
  fi
  if pouch_installed; then
    lw_log "pouchdb-server $POUCHDB_SERVER_VERSION already installed in $POUCH_HOME"
    return 0
  fi
  if ! lw_have node || ! lw_have npm; then
    lw_log "node/npm not found; installing Debian's nodejs and npm"
    lw_have apt-get || lw_die "node and npm are missing and apt-get is not available; install Node.js 18+ and npm"
    if ! apt-get install -y nodejs npm >&2; then
      apt-get update >&2
      apt-get install -y nodejs npm >&2 || lw_die "apt-get install nodejs npm failed"
    fi
  fi
  lw_ensure_dirs
  (
    flock -w 900 9 || lw_die "timed out waiting for $POUCH_HOME.install.lock"
    if pouch_installed; then
      exit 0
    fi
    local t0 work
    t0=$(lw_now_ms)
    lw_log "installing pouchdb-server@$POUCHDB_SERVER_VERSION from npm into $POUCH_HOME (~20 s the first time) ..."
    # Install into a scratch prefix and move it into place, so an
    # interrupted install never looks complete. --ignore-scripts: the only
    # install scripts are leveldown's (its prebuilt linux-x64 binary loads
    # without it) and sqlite3's (only for --sqlite, unused; without network
    # access to its prebuilt binaries it compiles from source for ~1 min).
    work="$(mktemp -d "$LW_CACHE/.pouchdb-server-install.XXXXXX")"
    if ! npm install --prefix "$work" --no-audit --no-fund --omit=dev --prefer-offline --ignore-scripts \
      --loglevel=error "pouchdb-server@$POUCHDB_SERVER_VERSION" >"$work.log" 2>&1; then
      tail -n 30 "$work.log" | sed 's/^/[couchdb] | /' >&2
      rm -rf "$work"
      lw_die "npm install pouchdb-server@$POUCHDB_SERVER_VERSION failed (see above, full log $work.log); is the npm registry reachable?"
    fi
    [[ -f "$work/node_modules/pouchdb-server/bin/pouchdb-server" ]] ||
      lw_die "npm finished but pouchdb-server/bin/pouchdb-server is missing in $work"
    # The native leveldb binding must load (prebuilt; npm may skip scripts).
    if ! (cd "$work/node_modules/pouchdb-server" && node -e 'require("leveldown")') >>"$work.log" 2>&1; then
      tail -n 20 "$work.log" | sed 's/^/[couchdb] | /' >&2
      lw_die "leveldown does not load on this machine (node $(node --version)); see $work.log"
    fi
    # A leftover without the bin is a broken copy (nothing can run from it).
    rm -rf "$POUCH_HOME"
    mv "$work" "$POUCH_HOME"
    rm -f "$work.log"
    lw_log "installed pouchdb-server $POUCHDB_SERVER_VERSION ($(($(lw_now_ms) - t0)) ms)"
  ) 9>"$POUCH_HOME.install.lock"
}

# ---------------------------------------------------------------- readiness

# couch_root_ok URL: GET URL/ answers JSON that looks like CouchDB
# ("couchdb": "Welcome" for CouchDB, "express-pouchdb": "Welcome!" for
# PouchDB Server; both have "version").
couch_root_ok() {
  local url="${1%/}/" body
  if lw_have curl; then
    body="$(curl -sf -m 3 -H 'Accept: application/json' "$url")" || return 1
  else
    body="$(python3 -c '
import sys, urllib.request
r = urllib.request.Request(sys.argv[1], headers={"Accept": "application/json"})
print(urllib.request.urlopen(r, timeout=3).read().decode())' "$url")" || return 1
  fi
  [[ "$body" == *'"version"'* ]] || return 1
  [[ "$body" == *'"couchdb"'* || "$body" == *'"express-pouchdb"'* ]]
}

couch_external_check() {
  local shown
  shown="$(lw_redact_url "$COUCH_EXTERNAL")"
  if lw_wait_until "$COUCH_TIMEOUT" "$shown" couch_root_ok "$COUCH_EXTERNAL"; then
    lw_log "external CouchDB at $shown answers (LEDGERWHISK_COUCHDB_URL; not managed by this script)"
    return 0
  fi
  lw_fail_readiness "LEDGERWHISK_COUCHDB_URL=$shown does not answer GET / with CouchDB JSON within ${COUCH_TIMEOUT}s" \
    "start that CouchDB, fix the URL (credentials, port), or unset LEDGERWHISK_COUCHDB_URL to use the local PouchDB Server" \
    "(external server: no local log)"
}

# couch_wait [PID]: wait for readiness; PID (default: from the pid file) is the
# process we started; if it dies meanwhile, fail at once.
couch_wait() {
  local pid="${1:-}" rc=0
  [[ -n "$pid" ]] || pid="$(lw_read_pid "$COUCH_PID" "$COUCH_DATA" || true)"
  LW_WAIT_PID="$pid" lw_wait_until "$COUCH_TIMEOUT" "couchdb on $COUCH_LOCAL_URL" couch_root_ok "$COUCH_LOCAL_URL" || rc=$?
  case "$rc" in
    0) return 0 ;;
    2) lw_fail_readiness "pouchdb-server exited during startup" \
      "read the log below; a port clash on LEDGERWHISK_COUCHDB_PORT=$COUCH_PORT or a broken install ($POUCH_HOME: remove it and run scripts/couchdb.sh install) are the usual causes" \
      "$COUCH_LOG" ;;
    *)
      if [[ -z "$pid" ]]; then
        lw_fail_readiness "nothing answers on $COUCH_LOCAL_URL and no server was started from $LW_STATE" \
          "run scripts/couchdb.sh start" "$COUCH_LOG"
      fi
      lw_fail_readiness "no CouchDB JSON from GET $COUCH_LOCAL_URL/ within ${COUCH_TIMEOUT}s (pid $pid)" \
        "check the log; raise LEDGERWHISK_COUCHDB_TIMEOUT on a slow machine, or scripts/couchdb.sh stop && scripts/couchdb.sh start" \
        "$COUCH_LOG" ;;
  esac
}

# ---------------------------------------------------------------- start/stop

# Write (or update) PouchDB Server's config file, which backs /_config and
# would otherwise be ./config.json with its log at ./log.txt in the cwd.
couch_write_config() {
  mkdir -p "$COUCH_DATA"
  node -e '
const fs = require("fs");
const [file, log, level, dir, port] = process.argv.slice(1);
let cfg = {};
try { cfg = JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) {}
cfg.log = Object.assign(cfg.log || {}, { file: log, level: level });
cfg.couchdb = Object.assign(cfg.couchdb || {}, { database_dir: dir + "/" });
cfg.httpd = Object.assign(cfg.httpd || {}, { bind_address: "127.0.0.1", port: Number(port) });
fs.writeFileSync(file + ".tmp", JSON.stringify(cfg, null, 2) + "\n");
fs.renameSync(file + ".tmp", file);
' "$COUCH_CONFIG" "$COUCH_LOG" "$COUCH_LOG_LEVEL" "$COUCH_DATA" "$COUCH_PORT"
}

couch_start() {
  if [[ -n "$COUCH_EXTERNAL" ]]; then
    couch_external_check
    return 0
  fi
  local t0 pid
  t0=$(lw_now_ms)
  if pid="$(lw_read_pid "$COUCH_PID" "$COUCH_DATA")"; then
    lw_same_port couchdb "$COUCH_PORT"
    if couch_root_ok "$COUCH_LOCAL_URL"; then
      lw_log "already running (pid $pid) and ready on $COUCH_LOCAL_URL"
      return 0
    fi
    lw_log "already running (pid $pid); waiting for readiness"
    couch_wait
    lw_log "ready on $COUCH_LOCAL_URL"
    return 0
  fi
  if lw_port_open 127.0.0.1 "$COUCH_PORT"; then
    lw_fail_readiness "port 127.0.0.1:$COUCH_PORT is already in use by a process not started from $LW_STATE (no live pid in $COUCH_PID)" \
      "stop that process, pick another port with LEDGERWHISK_COUCHDB_PORT, or point LEDGERWHISK_COUCHDB_URL at it" "$COUCH_LOG"
  fi
  couch_install
  lw_ensure_dirs
  lw_rotate_log "$COUCH_LOG"
  couch_write_config
  printf '[%s] [info] scripts/couchdb.sh: starting pouchdb-server %s on %s (log level %s)\n' \
    "$(date -u)" "$POUCHDB_SERVER_VERSION" "$COUCH_LOCAL_URL" "$COUCH_LOG_LEVEL" >>"$COUCH_LOG"
  lw_log "starting pouchdb-server $POUCHDB_SERVER_VERSION on $COUCH_LOCAL_URL (data $COUCH_DATA, log $COUCH_LOG)"
  # cwd = the data's parent, so nothing it writes can land in the caller's cwd.
  # --no-stdout-logs: the server writes its log file itself (log.file in the
  # config); stdout/stderr (startup, crashes) are appended to the same file.
  echo "$COUCH_PORT" >"$LW_RUN/couchdb.port"
  (
    cd "$COUCH_DIR"
    lw_spawn "$COUCH_PID" "$COUCH_LOG" node "$POUCH_BIN" \
      --host 127.0.0.1 --port "$COUCH_PORT" --dir "$COUCH_DATA" \
      --config "$COUCH_CONFIG" --no-stdout-logs --no-color
  )
  couch_wait "$(head -n1 "$COUCH_PID")"
  lw_log "ready on $COUCH_LOCAL_URL (pid $(cat "$COUCH_PID"), $(($(lw_now_ms) - t0)) ms)"
}

couch_stop() {
  if [[ -n "$COUCH_EXTERNAL" ]]; then
    lw_log "LEDGERWHISK_COUCHDB_URL is set: external CouchDB $(lw_redact_url "$COUCH_EXTERNAL") is not ours to stop"
    return 0
  fi
  lw_stop_pid "$COUCH_PID" "$COUCH_DATA" "${LEDGERWHISK_COUCHDB_STOP_TIMEOUT:-15}"
  rm -f "$LW_RUN/couchdb.port"
}

couch_status() {
  if [[ -n "$COUCH_EXTERNAL" ]]; then
    local shown
    shown="$(lw_redact_url "$COUCH_EXTERNAL")"
    if couch_root_ok "$COUCH_EXTERNAL"; then
      lw_log "external CouchDB at $shown answers"
      return 0
    fi
    lw_log "external CouchDB at $shown does not answer"
    return 1
  fi
  local pid
  if pid="$(lw_read_pid "$COUCH_PID" "$COUCH_DATA")"; then
    lw_same_port couchdb "$COUCH_PORT"
    if couch_root_ok "$COUCH_LOCAL_URL"; then
      lw_log "ready on $COUCH_LOCAL_URL (pid $pid, state $LW_STATE)"
      return 0
    fi
    lw_log "running (pid $pid) but not answering on $COUCH_LOCAL_URL; log $COUCH_LOG"
    return 1
  fi
  if couch_root_ok "$COUCH_LOCAL_URL"; then
    lw_log "a CouchDB answers on $COUCH_LOCAL_URL but was not started from $LW_STATE"
    return 0
  fi
  lw_log "not running (state $LW_STATE, port $COUCH_PORT)"
  return 1
}

case "${1:-}" in
  install) couch_install ;;
  start) couch_start ;;
  stop) couch_stop ;;
  status) couch_status ;;
  wait)
    if [[ -n "$COUCH_EXTERNAL" ]]; then
      couch_external_check
    else
      couch_wait
      lw_log "ready on $COUCH_LOCAL_URL"
    fi
    ;;
  *) lw_usage ;;
esac
