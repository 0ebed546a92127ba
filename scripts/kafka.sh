#!/usr/bin/env bash
# Apache Kafka in KRaft mode (each node a combined broker + controller), for
# Ledgerwhisk dev/test: one node by default, or a cluster of N on this machine
# (a quorum of N, separate ports, data and logs). Jars come from Maven Central
# through mvn.
#
#   scripts/kafka.sh {install|start|stop|status|wait|bootstrap}
#
# `bootstrap` prints the brokers' addresses (host:port,...) for clients.
#
# Environment:
#   LEDGERWHISK_KAFKA_BROKERS  how many brokers (default $KAFKA_BROKERS, else 1).
#                              One: data in $LW_STATE/kafka, pid run/kafka.pid.
#                              N > 1: broker i (0..N-1) is node i+1 with data in
#                              $LW_STATE/kafka/broker<i>, pid run/kafka-<i>.pid,
#                              log logs/kafka-<i>.log; topics default to
#                              replication min(N, 3) (scripts/kafka/replication.sh)
#   LEDGERWHISK_KAFKA_PORT     first broker's port (default 9092); the KRaft
#                              controller listener uses port+1; broker i uses
#                              port+10*i and port+10*i+1
#   LEDGERWHISK_KAFKA_VERSION  Kafka version (default 3.9.1)
#   LEDGERWHISK_KAFKA_HEAP     JVM heap options (default "-Xms256m -Xmx1g")
#   LEDGERWHISK_KAFKA_TIMEOUT  readiness deadline in seconds (default 60)
#   LEDGERWHISK_KAFKA_PROBE    auto (default): readiness = a Metadata request
#                              (python3); log: port open + "Kafka Server
#                              started" in the log (used when no python3)
#   LEDGERWHISK_KAFKA_CDS      1 (default): use a JVM class-data-sharing
#                              archive (cached per JDK), about 1 s faster
#                              starts; 0 to disable
#   LEDGERWHISK_STATE_DIR, LEDGERWHISK_CACHE: see scripts/lib.sh
set -euo pipefail

LW_SERVICE=kafka
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="${LEDGERWHISK_KAFKA_VERSION:-3.9.1}"
SCALA_VERSION=2.13
# Logging binding shipped with the Kafka 3.9 distribution.
SLF4J_VERSION=1.7.36
RELOAD4J_VERSION=1.2.25
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

FIRST_PORT="${LEDGERWHISK_KAFKA_PORT:-9092}"
lw_valid_port LEDGERWHISK_KAFKA_PORT "$FIRST_PORT"
KAFKA_BROKERS="${LEDGERWHISK_KAFKA_BROKERS:-${KAFKA_BROKERS:-1}}"
[[ "$KAFKA_BROKERS" =~ ^[1-9]$ ]] || lw_die "LEDGERWHISK_KAFKA_BROKERS must be 1..9, got '$KAFKA_BROKERS'"
# shellcheck source=scripts/kafka/replication.sh
source "$LW_SCRIPTS/kafka/replication.sh"
KAFKA_REPLICAS="$(kafka_replicas "$KAFKA_BROKERS")"
KAFKA_MIN_ISR="$(kafka_min_insync "$KAFKA_REPLICAS")"
# How long a silent broker stays in the cluster before the quorum fences it
# and moves its leaderships (and drops it from the in-sync replicas, which
# acks=all writes wait for). A single node keeps Kafka's defaults.
if ((KAFKA_BROKERS > 1)); then
  KAFKA_SESSION_MS=4000 KAFKA_HEARTBEAT_MS=1000
else
  KAFKA_SESSION_MS=9000 KAFKA_HEARTBEAT_MS=2000
fi
KAFKA_TIMEOUT="${LEDGERWHISK_KAFKA_TIMEOUT:-60}"
KAFKA_HEAP="${LEDGERWHISK_KAFKA_HEAP:--Xms256m -Xmx1g}"

KAFKA_HOME="$LW_CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"

# kafka_broker I: point the KAFKA_* globals at broker I (0-based). The single
# broker keeps the names it always had, so an existing .state goes on working.
kafka_broker() {
  KAFKA_INDEX="$1"
  KAFKA_PORT=$((FIRST_PORT + 10 * $1))
  CONTROLLER_PORT=$((KAFKA_PORT + 1))
  if ((KAFKA_BROKERS == 1)); then
    KAFKA_NAME=kafka
    KAFKA_DIR="$LW_STATE/kafka"
  else
    KAFKA_NAME="kafka-$1"
    KAFKA_DIR="$LW_STATE/kafka/broker$1"
  fi
  KAFKA_DATA="$KAFKA_DIR/data"
  KAFKA_CONFIG="$KAFKA_DIR/server.properties"
  KAFKA_LOG="$(lw_logfile "$KAFKA_NAME")"
  KAFKA_PID="$(lw_pidfile "$KAFKA_NAME")"
  # Marker that identifies our broker's command line (guards against pid reuse).
  KAFKA_PATTERN="-Dledgerwhisk.service=$KAFKA_NAME"
}

# Every broker's index, first to last.
kafka_indexes() { seq 0 $((KAFKA_BROKERS - 1)); }

# The KRaft quorum: every node's controller listener.
kafka_voters() {
  local i out=()
  for i in $(kafka_indexes); do out+=("$((i + 1))@127.0.0.1:$((FIRST_PORT + 10 * i + 1))"); done
  (IFS=,; echo "${out[*]}")
}

# What clients bootstrap from: every broker.
kafka_bootstrap() {
  local i out=()
  for i in $(kafka_indexes); do out+=("127.0.0.1:$((FIRST_PORT + 10 * i))"); done
  (IFS=,; echo "${out[*]}")
}

kafka_broker 0

# ---------------------------------------------------------------- install

kafka_installed() { [[ -f "$KAFKA_LIBS/.complete" ]]; }

kafka_pom() {
  cat <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>ledgerwhisk</groupId>
  <artifactId>kafka-server-libs</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- kafka_$SCALA_VERSION (core: kafka.Kafka, kafka.tools.StorageTool)
         pulls kafka-server, -metadata, -raft, -storage, -group-coordinator,
         -transaction-coordinator, -server-common, -clients, scala, ... -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$SCALA_VERSION</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>$SLF4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>ch.qos.reload4j</groupId>
      <artifactId>reload4j</artifactId>
      <version>$RELOAD4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
}

kafka_install() {
  if kafka_installed; then
    lw_log "kafka $KAFKA_VERSION already installed in $KAFKA_LIBS"
    return 0
  fi
  lw_have java || lw_die "java not found on PATH; install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
  lw_have mvn || lw_die "mvn not found on PATH; install Maven (apt-get install -y maven)"
  lw_ensure_dirs
  mkdir -p "$KAFKA_HOME"
  (
    # One installer at a time per cache (a dev stack and a test may race).
    flock -w 900 9 || lw_die "timed out waiting for $KAFKA_HOME/.install.lock"
    if kafka_installed; then
      exit 0
    fi
    local t0 work
    t0=$(lw_now_ms)
    lw_log "resolving kafka_$SCALA_VERSION:$KAFKA_VERSION jars from Maven Central (local repo $LW_CACHE/m2) ..."
    work="$(mktemp -d "$KAFKA_HOME/.install.XXXXXX")"
    kafka_pom >"$work/pom.xml"
    if ! mvn -B -q -f "$work/pom.xml" \
      -Dmaven.repo.local="$LW_CACHE/m2" \
      "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime \
      -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1; then
      tail -n 30 "$work/mvn.log" | sed 's/^/[kafka] | /' >&2
      lw_die "mvn could not resolve the Kafka jars (see above; full log $work/mvn.log). Is Maven Central reachable?"
    fi
    [[ -f "$work/libs/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" ]] ||
      lw_die "mvn finished but kafka_$SCALA_VERSION-$KAFKA_VERSION.jar is missing in $work/libs"
    cp "$work/pom.xml" "$work/libs/ledgerwhisk-pom.xml"
    date -u +%FT%TZ >"$work/libs/.complete"
    rm -rf "$KAFKA_LIBS"
    mv "$work/libs" "$KAFKA_LIBS"
    rm -rf "$work"
    lw_log "installed $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS ($(($(lw_now_ms) - t0)) ms)"
  ) 9>"$KAFKA_HOME/.install.lock"
}

# ---------------------------------------------------------------- readiness

# Send a Kafka Metadata v4 request (no topics) and succeed if the broker
# lists at least one broker. Pure python3 standard library.
#   python3 -c "$KAFKA_PROBE_PY" HOST PORT [WAIT_SECONDS [PID]]
# With WAIT_SECONDS, retry every 50 ms until then (one process instead of
# one per poll); exit 0 ready, 1 not ready, 2 PID exited meanwhile.
KAFKA_PROBE_PY='
import os, socket, struct, sys, time
host, port = sys.argv[1], int(sys.argv[2])
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 0
pid = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else 0

def probe():
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.settimeout(2)
            client = b"lw-probe"
            # header v1: api_key=3 (Metadata), api_version=4, correlation_id,
            # client_id; body v4: topics=[] (int32 0), allow_auto_topic_creation=0
            body = struct.pack(">hhih", 3, 4, 7, len(client)) + client + struct.pack(">ib", 0, 0)
            s.sendall(struct.pack(">i", len(body)) + body)
            def recv(n):
                buf = b""
                while len(buf) < n:
                    chunk = s.recv(n - len(buf))
                    if not chunk:
                        raise EOFError("connection closed")
                    buf += chunk
                return buf
            (size,) = struct.unpack(">i", recv(4))
            resp = recv(size)
            corr, _throttle, nbrokers = struct.unpack(">iii", resp[:12])
            return corr == 7 and nbrokers >= 1
    except Exception:
        return False

deadline = time.monotonic() + wait
while True:
    if probe():
        sys.exit(0)
    if pid:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.exit(2)
        except PermissionError:
            pass
    if time.monotonic() >= deadline:
        sys.exit(1)
    time.sleep(0.05)
'

kafka_use_python() { [[ "${LEDGERWHISK_KAFKA_PROBE:-auto}" != log ]] && lw_have python3; }

kafka_metadata_ok() {
  if kafka_use_python; then
    python3 -c "$KAFKA_PROBE_PY" 127.0.0.1 "$KAFKA_PORT"
  else
    # No python: port open plus the broker's own "started" log line since
    # the last start.
    lw_port_open 127.0.0.1 "$KAFKA_PORT" || return 1
    local offset=0
    [[ -f "$LW_RUN/$KAFKA_NAME.logoffset" ]] && offset="$(cat "$LW_RUN/$KAFKA_NAME.logoffset")"
    tail -c "+$((offset + 1))" "$KAFKA_LOG" 2>/dev/null | grep -q "Kafka Server started"
  fi
}

# kafka_wait [PID]: wait for readiness; PID (default: from the pid file) is the
# process we started; if it dies meanwhile, fail at once.
kafka_wait() {
  local pid="${1:-}" rc=0
  [[ -n "$pid" ]] || pid="$(lw_read_pid "$KAFKA_PID" "$KAFKA_PATTERN" || true)"
  if kafka_use_python; then
    python3 -c "$KAFKA_PROBE_PY" 127.0.0.1 "$KAFKA_PORT" "$KAFKA_TIMEOUT" "$pid" || rc=$?
    ((rc == 2)) && lw_log "process $pid exited while waiting for kafka on 127.0.0.1:$KAFKA_PORT"
  else
    LW_WAIT_PID="$pid" lw_wait_until "$KAFKA_TIMEOUT" "kafka on 127.0.0.1:$KAFKA_PORT" kafka_metadata_ok || rc=$?
  fi
  case "$rc" in
    0) return 0 ;;
    2) lw_fail_readiness "the broker process exited during startup" \
      "read the log below; a port clash (LEDGERWHISK_KAFKA_PORT=$KAFKA_PORT, controller $CONTROLLER_PORT) or a damaged data dir ($KAFKA_DATA: remove it to start empty) are the usual causes" \
      "$KAFKA_LOG" ;;
    *)
      if [[ -z "$pid" ]]; then
        lw_fail_readiness "no broker answers a metadata request on 127.0.0.1:$KAFKA_PORT and none was started from $LW_STATE" \
          "run scripts/kafka.sh start" "$KAFKA_LOG"
      fi
      lw_fail_readiness "no answer to a metadata request on 127.0.0.1:$KAFKA_PORT within ${KAFKA_TIMEOUT}s (pid $pid)" \
        "check the log; raise LEDGERWHISK_KAFKA_TIMEOUT on a slow machine, or scripts/kafka.sh stop && scripts/kafka.sh start" \
        "$KAFKA_LOG" ;;
  esac
}

# ---------------------------------------------------------------- start/stop

kafka_classpath() {
  # Every jar in libs/ (ordering does not matter: no duplicates).
  printf '%s/*' "$KAFKA_LIBS"
}

kafka_java_opts() {
  # shellcheck disable=SC2206  # heap options are meant to be word-split
  local heap=($KAFKA_HEAP)
  printf '%s\n' "${heap[@]}" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
    "-Dlog4j.configuration=file:$LW_SCRIPTS/kafka/log4j.properties" \
    "-Dkafka.logs.dir=$KAFKA_DIR" \
    "$KAFKA_PATTERN"
}

# Class-data sharing: the JVM spends about a third of the broker's start
# loading classes. The first broker started without an archive dumps one when
# it exits (JDK 17 -XX:ArchiveClassesAtExit; adds ~2-3 s to that one stop);
# later starts map it (-XX:SharedArchiveFile). Keyed by the java binary, so a
# JDK upgrade makes a new one. A stale or unusable archive is ignored by the
# JVM (-Xshare:auto).
kafka_cds_archive() {
  local javabin key
  javabin="$(readlink -f "$(command -v java)")"
  key="$(stat -c '%n %s %Y' "$javabin" | cksum | cut -d' ' -f1)"
  printf '%s/cds/kafka-java-%s.jsa\n' "$KAFKA_HOME" "$key"
}

# Prints the extra JVM options for the server and records a pending dump.
kafka_cds_opts() {
  rm -f "$LW_RUN/$KAFKA_NAME.cds"
  [[ "${LEDGERWHISK_KAFKA_CDS:-1}" == 1 ]] || return 0
  local archive
  archive="$(kafka_cds_archive)" || return 0
  if [[ -s "$archive" ]]; then
    printf '%s\n' "-XX:SharedArchiveFile=$archive"
  else
    mkdir -p "$(dirname "$archive")"
    # A dump takes seconds; older leftovers come from brokers that exited
    # without our stop (killed, or stopped by someone else): drop them.
    find "$(dirname "$archive")" -maxdepth 1 -name '*.tmp' -mmin +10 -delete 2>/dev/null || true
    local pending="$archive.$$-$KAFKA_INDEX.tmp"
    printf '%s\n' "$pending" >"$LW_RUN/$KAFKA_NAME.cds"
    printf '%s\n' "-XX:ArchiveClassesAtExit=$pending" -Xlog:cds=error
  fi
}

# After the broker exited: publish its class archive if it dumped one.
kafka_cds_finish() {
  [[ -f "$LW_RUN/$KAFKA_NAME.cds" ]] || return 0
  local pending archive
  pending="$(cat "$LW_RUN/$KAFKA_NAME.cds")"
  archive="${pending%.*.tmp}"
  if [[ "${LW_STOP_KILLED:-0}" == 0 && -s "$pending" && ! -s "$archive" ]]; then
    mv -f "$pending" "$archive"
    lw_log "saved JVM class archive $archive (faster next starts)"
  fi
  rm -f "$pending" "$LW_RUN/$KAFKA_NAME.cds"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DATA"
  sed -e "s|@PORT@|$KAFKA_PORT|g" \
    -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
    -e "s|@NODE_ID@|$((KAFKA_INDEX + 1))|g" \
    -e "s|@VOTERS@|$(kafka_voters)|g" \
    -e "s|@REPLICAS@|$KAFKA_REPLICAS|g" \
    -e "s|@MIN_ISR@|$KAFKA_MIN_ISR|g" \
    -e "s|@SESSION_MS@|$KAFKA_SESSION_MS|g" \
    -e "s|@HEARTBEAT_MS@|$KAFKA_HEARTBEAT_MS|g" \
    -e "s|@LOG_DIR@|$KAFKA_DATA|g" \
    "$LW_SCRIPTS/kafka/server.properties.template" >"$KAFKA_CONFIG.tmp"
  mv -f "$KAFKA_CONFIG.tmp" "$KAFKA_CONFIG"
}

kafka_format() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  local cluster_id t0
  t0=$(lw_now_ms)
  # 16 random bytes, base64url without padding: a valid Kafka Uuid. Like Kafka's
  # own Uuid.randomUuid, draw again when it starts with "-": the storage tool
  # would read such an id as an option (one format in 64 failed so).
  cluster_id="-"
  # The brokers of one cluster share its id: drawn once, kept beside them.
  local shared="$LW_STATE/kafka/cluster.id"
  if ((KAFKA_BROKERS > 1)) && [[ -s "$shared" ]]; then
    cluster_id="$(cat "$shared")"
  fi
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  if ((KAFKA_BROKERS > 1)); then
    mkdir -p "$(dirname "$shared")"
    echo "$cluster_id" >"$shared"
  fi
  lw_log "formatting $KAFKA_DATA (cluster id $cluster_id)"
  local opts
  mapfile -t opts < <(kafka_java_opts)
  if ! java "${opts[@]}" -cp "$(kafka_classpath)" kafka.tools.StorageTool \
    format -t "$cluster_id" -c "$KAFKA_CONFIG" --ignore-formatted >>"$KAFKA_LOG" 2>&1; then
    lw_fail_readiness "formatting the KRaft storage in $KAFKA_DATA failed" \
      "remove $KAFKA_DATA and retry; check the log" "$KAFKA_LOG"
  fi
  lw_log "formatted ($(($(lw_now_ms) - t0)) ms)"
}

# Spawn broker $KAFKA_INDEX unless it runs already; KAFKA_SPAWNED says which.
kafka_spawn() {
  local pid
  if pid="$(lw_read_pid "$KAFKA_PID" "$KAFKA_PATTERN")"; then
    lw_same_port "$KAFKA_NAME" "$KAFKA_PORT"
    lw_log "$KAFKA_NAME already running (pid $pid)"
    return 0
  fi
  local p
  for p in "$KAFKA_PORT" "$CONTROLLER_PORT"; do
    if lw_port_open 127.0.0.1 "$p"; then
      lw_fail_readiness "port 127.0.0.1:$p is already in use by a process not started from $LW_STATE (no live pid in $KAFKA_PID)" \
        "stop that process, or pick other ports with LEDGERWHISK_KAFKA_PORT (broker i uses port+10*i and the next)" "$KAFKA_LOG"
    fi
  done
  lw_ensure_dirs
  lw_rotate_log "$KAFKA_LOG"
  kafka_write_config
  kafka_format
  # Remember where this start begins in the log (for the no-python probe).
  stat -c %s "$KAFKA_LOG" 2>/dev/null >"$LW_RUN/$KAFKA_NAME.logoffset" || echo 0 >"$LW_RUN/$KAFKA_NAME.logoffset"
  local opts cds
  mapfile -t opts < <(kafka_java_opts)
  mapfile -t cds < <(kafka_cds_opts)
  opts+=("${cds[@]}")
  echo "$KAFKA_PORT" >"$LW_RUN/$KAFKA_NAME.port"
  lw_log "starting $KAFKA_NAME $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (node $((KAFKA_INDEX + 1)) of $KAFKA_BROKERS, controller :$CONTROLLER_PORT, data $KAFKA_DATA, log $KAFKA_LOG)"
  lw_spawn "$KAFKA_PID" "$KAFKA_LOG" java "${opts[@]}" -cp "$(kafka_classpath)" kafka.Kafka "$KAFKA_CONFIG"
}

# Start every broker that does not run (a quorum needs most of them up at once
# before any answers), then wait until each answers a metadata request.
kafka_start() {
  local t0 i
  t0=$(lw_now_ms)
  kafka_install
  for i in $(kafka_indexes); do
    kafka_broker "$i"
    kafka_spawn
  done
  for i in $(kafka_indexes); do
    kafka_broker "$i"
    kafka_wait
    lw_log "$KAFKA_NAME ready on 127.0.0.1:$KAFKA_PORT (pid $(cat "$KAFKA_PID"), $(($(lw_now_ms) - t0)) ms)"
  done
}

# Stop every broker at once: stopped one by one, the last ones would wait for
# a quorum that is gone before their controlled shutdown gives up.
kafka_stop() {
  local i pids=() status=0
  for i in $(kafka_indexes); do
    (
      kafka_broker "$i"
      LW_SERVICE="$KAFKA_NAME"
      lw_stop_pid "$KAFKA_PID" "$KAFKA_PATTERN" "${LEDGERWHISK_KAFKA_STOP_TIMEOUT:-30}"
      kafka_cds_finish
      rm -f "$LW_RUN/$KAFKA_NAME.port" "$LW_RUN/$KAFKA_NAME.logoffset"
    ) &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || status=1; done
  return "$status"
}

kafka_status_one() {
  local pid
  if pid="$(lw_read_pid "$KAFKA_PID" "$KAFKA_PATTERN")"; then
    lw_same_port "$KAFKA_NAME" "$KAFKA_PORT"
    if kafka_metadata_ok >/dev/null 2>&1; then
      lw_log "$KAFKA_NAME ready on 127.0.0.1:$KAFKA_PORT (pid $pid, state $LW_STATE)"
      return 0
    fi
    lw_log "$KAFKA_NAME running (pid $pid) but not answering on 127.0.0.1:$KAFKA_PORT; log $KAFKA_LOG"
    return 1
  fi
  if kafka_metadata_ok >/dev/null 2>&1; then
    lw_log "a broker answers on 127.0.0.1:$KAFKA_PORT but was not started from $LW_STATE"
    return 0
  fi
  lw_log "$KAFKA_NAME not running (state $LW_STATE, port $KAFKA_PORT)"
  return 1
}

kafka_status() {
  local i status=0
  for i in $(kafka_indexes); do
    kafka_broker "$i"
    kafka_status_one || status=1
  done
  return "$status"
}

case "${1:-}" in
  install) kafka_install ;;
  start) kafka_start ;;
  stop) kafka_stop ;;
  status) kafka_status ;;
  wait)
    for i in $(kafka_indexes); do
      kafka_broker "$i"
      kafka_wait
      lw_log "$KAFKA_NAME ready on 127.0.0.1:$KAFKA_PORT"
    done
    ;;
  bootstrap) kafka_bootstrap ;;
  *) lw_usage ;;
esac
