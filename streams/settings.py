"""One settings object for every Ledgerwhisk process (env prefix ``LEDGERWHISK_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams import constants


class Settings(BaseSettings):
    """Where the services are and how the platform behaves.

    Every field can be set from the environment, e.g. ``LEDGERWHISK_KAFKA_BOOTSTRAP``.
    """

    model_config = SettingsConfigDict(env_prefix="LEDGERWHISK_", extra="ignore")

    # host:port[,host:port...]: the dev broker, the brokers of `make up
    # KAFKA_BROKERS=3`, or an existing cluster.
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Copies of each partition of the platform's topics: 1 on one broker, 3 on a
    # cluster. Producer acks, idempotence, min.insync.replicas and the readers'
    # isolation level follow from it (streams/replication.py).
    kafka_replication_factor: int = 1
    couchdb_url: str = "http://127.0.0.1:5984"
    couchdb_user: str | None = None
    couchdb_password: str | None = None
    # Every database and topic name starts with this prefix, so that a test run
    # and a dev stack never share state.
    prefix: str = "lw"
    api_host: str = "127.0.0.1"
    api_port: int = 3233
    api_instance: str = "api0"
    # How many API instances share the invokers: each places first attempts on
    # at most its share (1 / api_instances) of every invoker.
    api_instances: int = 1
    # False leaves every placement to the controller (one more hop per activation;
    # for comparisons, and to exercise the controller's placements).
    api_places: bool = True
    # When every invoker is full in its share, an API instance still places on
    # them up to this many times its share, and the invoker's pool holds the
    # excess until a container frees (OpenWhisk forces work onto an invoker when
    # all are full); beyond it, the controller queues (and answers 503 when full).
    api_overcommit: float = 2.0
    public_api_url: str = "http://127.0.0.1:3233"
    # One line per request in the API's log (kept in memory, written once a second).
    api_access_log: bool = True
    guest_key: str = constants.GUEST_KEY
    guest_namespace: str = constants.GUEST_NAMESPACE

    ledger_partitions: int = 4
    # Milliseconds to keep ledger events; -1 keeps them forever (replay needs them).
    ledger_retention_ms: int = -1
    health_retention_ms: int = 3600 * 1000
    # Records no reader could decode, kept for an operator (see streams/deadletters.py).
    dead_letter_retention_ms: int = 30 * 24 * 3600 * 1000

    # Event streams (GET .../events): SSE comment interval, and how many live
    # events may wait for one slow reader before it falls back to the log.
    events_heartbeat_s: float = 15.0
    events_queue_max: int = 1_000

    invoker_id: int = 0
    invoker_user_memory_mb: int = 2048
    invoker_heartbeat_s: float = 1.0
    invoker_offline_after_s: float = 10.0
    container_idle_pause_s: float = 10.0
    container_idle_remove_s: float = 600.0
    stem_cells: bool = True
    docker_socket: str = "/var/run/docker.sock"
    # The invoker's own Docker engine, named as Docker's DOCKER_HOST does:
    # unix:///run/docker.sock. Only a local socket: the invoker reaches each
    # container's action proxy inside its network namespace, so the engine runs
    # on the invoker's host (each invoker host its own engine). Unset: docker_socket.
    docker_host: str | None = None
    # Activations waiting at an invoker for room (arrival order); past it, or
    # past their deadline less their timeout, they end as whisk errors.
    invoker_queue_max: int = 100
    # Per-container limits, so a fork bomb or an fd leak stays in its container.
    container_pids_limit: int = 512
    container_nofile_limit: int = 1024
    # A container's root filesystem is read-only; /tmp is a tmpfs of this many MB
    # (at most half the action's memory, which its pages count against).
    container_tmp_mb: int = 128
    container_read_only_root: bool = True
    # How long a new container's action proxy may take to answer at all.
    container_ready_s: float = 30.0
    # How long after a deadline an activation may still be completed by its
    # invoker before the controller declares it lost.
    completion_grace_s: float = 30.0
    # An invoker takes no chance near the controller's offline limit: it runs
    # user code without re-reading the ledger only while its last acknowledged
    # heartbeat is younger than invoker_offline_after_s minus this margin.
    invoker_lease_margin_s: float = 2.0
    # Unhealthy: this many system errors (whisk errors of the invoker's own
    # making) within the window.
    invoker_unhealthy_errors: int = 3
    invoker_unhealthy_window_s: float = 30.0
    # Downloads and build products shared by every clone on the machine
    # (LEDGERWHISK_CACHE, as scripts/ and runtimes/build.sh read it).
    cache: str = str(Path.home() / ".cache" / "ledgerwhisk")
    # Builds of compiled kinds (go, java source), kept on the host so a second
    # cold start of the same code does not compile again; default <cache>/builds.
    invoker_build_cache_dir: str | None = None
    # Test only: "host_dir:container_dir" bind-mounted into every action container.
    invoker_test_mount: str | None = None

    # A name for this controller instance, stable across its restarts and unique
    # among the instances (stack.sh uses the process name). With one, a restarted
    # instance gets its partitions back at once; without, after the session timeout.
    controller_instance: str | None = None
    # Activations waiting for room, per controller instance; beyond it: 503.
    controller_queue_max: int = 1000
    # With no usable invoker, an activation waits this long for one, then 503.
    controller_no_invoker_wait_s: float = 3.0
    # How long a consumer-group member may stay silent before Kafka gives its
    # partitions to the others (a killed controller or invoker).
    group_session_timeout_s: float = 10.0

    # A Consul agent, e.g. http://127.0.0.1:8500: invokers register there too,
    # with a TTL check, and the controller reads who is alive from it.
    consul_url: str | None = None
    # Per-namespace throttles (a subject's own ``limits`` override them):
    # invocations and trigger fires per minute, activations in flight at once.
    throttle_invocations_per_minute: int = 60_000
    throttle_concurrent: int = 1_000
    throttle_fires_per_minute: int = 60_000

    # Feeds (feeds/): the shortest interval the alarms feed accepts, in seconds
    # (OpenWhisk's is one minute; tests set a few seconds), and where the feed
    # service fires triggers (the platform's own REST API; default public_api_url).
    feeds_min_interval_s: float = 60.0
    # The metrics exporter (projections/exporter.py): GET /metrics here, apart
    # from the API and not behind nginx (OpenWhisk's user-events port).
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9095
    # Every service sends its own figures (Kafka produce latency, its queue) this
    # often to the service-stats topic; the exporter polls consumer-group lag alike.
    stats_interval_s: float = 5.0
    feeds_api_url: str | None = None

    @field_validator("docker_host")
    @classmethod
    def _local_engine(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("unix:///"):
            raise ValueError(
                f"LEDGERWHISK_DOCKER_HOST must be unix:///path/to/docker.sock, got {value!r}"
            )
        return value

    def docker_socket_path(self) -> str:
        """The Unix socket of this invoker's engine: ``docker_host``, else ``docker_socket``."""
        if self.docker_host is None:
            return self.docker_socket
        return self.docker_host.removeprefix("unix://")

    def topic(self, name: str) -> str:
        """Full Kafka topic name for one of the names in ``constants.TOPIC_*``."""
        return f"{self.prefix}.{name}"

    def build_cache_dir(self) -> str:
        """The host directory of the invoker's build cache (one folder per namespace in it)."""
        return self.invoker_build_cache_dir or str(Path(self.cache) / "builds")

    def database(self, name: str) -> str:
        """Full CouchDB database name for ``subjects``, ``whisks`` or ``activations``."""
        return f"{self.prefix}_{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
