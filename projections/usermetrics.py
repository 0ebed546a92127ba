"""OpenWhisk's user-event metrics, as a projection of the ledger's ``completed`` events.

OpenWhisk's invokers publish one user event per activation they ran, and its
user-events service turns them into Prometheus metrics
(``core/monitoring/user-events``, ``PrometheusRecorder.scala`` and
``EventMessage.scala`` in apache/openwhisk). Here each ``completed`` event is
that event: ``observation_of`` decides what it counts (pure), ``UserMetrics``
holds the metrics in its own registry and renders them with
``prometheus_client``.

The names, types and labels are OpenWhisk's, so its Grafana boards work
(each name below follows ``openwhisk_action_``):

| metric | type | labels |
|---|---|---|
| ``activations_total`` | counter | namespace, initiator, action, kind, memory |
| ``coldStarts_total`` | counter | namespace, initiator, action |
| ``status`` | (see below) | namespace, initiator, action, status |
| ``waitTime_seconds`` | histogram | namespace, initiator, action |
| ``initTime_seconds`` | histogram (cold starts only) | namespace, initiator, action |
| ``duration_seconds`` | histogram | namespace, initiator, action |
| ``status_code`` | (see below) | namespace, initiator, action, status_code |
| ``response_size_bytes`` | histogram (OpenWhisk's; our buckets) | namespace, initiator, action |
| ``memory`` | gauge (the memory limit, MB) | namespace, initiator, action |
| ``limit_concurrent_total`` | counter | namespace |
| ``limit_timed_total`` | counter | namespace |

``namespace`` and ``action`` split the action's path at its first ``/``
(``guest/pkg/hello`` gives ``guest`` and ``pkg/hello``); ``initiator`` is the
namespace the activation ran for (the invoking subject's); ``status`` is
``success``, ``application_error``, ``developer_error`` or ``internal_error``;
``status_code`` is the ``statusCode`` the action's result (or its ``error``)
sets, as OpenWhisk's ``Activation.userDefinedStatusCode`` (Message.scala) reads
it: an integer, a fraction cut to one, anything else 400 (and, ours, to bound
the label, any code outside 100-599); none when the result sets none.
OpenWhisk's Java client names these two counters without ``_total``;
``prometheus_client`` adds ``_total`` to every counter, so those families are
exposed untyped under OpenWhisk's exact names (``rate()`` reads them alike).
The response size is observed only when the result has one (a time-out or a
whisk error the platform built has none), as OpenWhisk's ``a.size.foreach``.
The limit counters count the API's 429s, one ``NamespaceThrottled`` fact
each on the ``throttles`` topic (``observe_throttle``), by the throttled
namespace: ``timed`` for a per-minute rate (invocations or trigger fires),
``concurrent`` for activations in flight.

Only activations an invoker ran are counted, as OpenWhisk's invokers alone
send user events: a sequence's or a trigger's own activation is not (its
components are), nor a completion whose acceptance could not be read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import Metric, UnknownMetricFamily
from prometheus_client.registry import Collector

from streams import constants
from streams.events import ActivationCompleted, NamespaceThrottled

ACTIVATIONS = "openwhisk_action_activations_total"
COLD_STARTS = "openwhisk_action_coldStarts_total"
STATUS = "openwhisk_action_status"
STATUS_CODE = "openwhisk_action_status_code"
WAIT_TIME = "openwhisk_action_waitTime_seconds"
INIT_TIME = "openwhisk_action_initTime_seconds"
DURATION = "openwhisk_action_duration_seconds"
RESPONSE_SIZE = "openwhisk_action_response_size_bytes"
MEMORY = "openwhisk_action_memory"
LIMIT_CONCURRENT = "openwhisk_action_limit_concurrent_total"
LIMIT_TIMED = "openwhisk_action_limit_timed_total"

ACTION_LABELS = ("namespace", "initiator", "action")
# OpenWhisk's names of the four activation statuses (EventMessage.scala).
STATUS_NAMES = {
    constants.STATUS_SUCCESS: "success",
    constants.STATUS_APPLICATION_ERROR: "application_error",
    constants.STATUS_DEVELOPER_ERROR: "developer_error",
    constants.STATUS_WHISK_ERROR: "internal_error",
}
# Result sizes from 64 bytes to the largest result (1 MB = 64 * 4**7), in steps of four.
SIZE_BUCKETS = tuple(float(64 * 4**i) for i in range(8))


@dataclass(frozen=True)
class Observation:
    """What one activation adds to the metrics (times in seconds, sizes in bytes)."""

    namespace: str
    initiator: str
    action: str
    kind: str
    memory_mb: int
    status: str
    wait_s: float
    init_s: float | None  # None: a warm start
    duration_s: float
    response_bytes: int | None  # None: the result has no size (the platform built it)
    status_code: int | None = None  # the result's own statusCode, if it sets one


# The status codes an HTTP answer can have (WebActions.scala refuses others).
HTTP_CODES = (100, 599)


def status_code_of(result: object) -> int | None:
    """The ``statusCode`` an action's result sets: ``error.statusCode``, else ``statusCode``
    (Message.scala ``userDefinedStatusCode``: a number cut to an integer, anything else
    400; here also a number outside 100-599); None when the result sets none."""
    if not isinstance(result, dict):
        return None
    error = result.get("error")
    if isinstance(error, dict) and "statusCode" in error:
        value = error["statusCode"]
    elif "statusCode" in result:
        value = result["statusCode"]
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 400
    try:
        code = int(value)
    except (OverflowError, ValueError):  # inf, nan
        return 400
    # Ours: a code no HTTP answer can have counts as 400 (a web action answers it so),
    # which bounds the label's values; OpenWhisk keeps any 32-bit integer.
    return code if HTTP_CODES[0] <= code <= HTTP_CODES[1] else 400


def observation_of(event: ActivationCompleted) -> Observation | None:
    """What ``event`` counts for, or None when OpenWhisk would send no user event for it."""
    head = event.head
    if head is None or head.kind in constants.ORCHESTRATED_KINDS:
        return None
    namespace, _, action = head.action.partition("/")
    notes = {a.get("key"): a.get("value") for a in event.annotations}
    limits = notes.get("limits")
    memory = limits.get("memory") if isinstance(limits, dict) else None
    init_ms = notes.get("initTime")
    wait_ms = notes.get("waitTime")
    code = event.response.status_code
    return Observation(
        namespace=namespace,
        initiator=event.namespace,
        action=action or namespace,
        kind=head.kind,
        memory_mb=memory if isinstance(memory, int) else 0,
        status=STATUS_NAMES.get(code, str(code)),
        wait_s=_seconds(wait_ms),
        init_s=_seconds(init_ms) if isinstance(init_ms, int) and init_ms > 0 else None,
        duration_s=event.duration_ms / 1000,
        # A response the platform built (a time-out, a whisk error) has no size.
        response_bytes=event.response.size,
        status_code=status_code_of(event.response.result),
    )


def _seconds(ms: object) -> float:
    return ms / 1000 if isinstance(ms, int | float) and ms > 0 else 0.0


class UserMetrics:
    """The user-event metrics of every activation observed, in a registry of their own.

    Not thread-safe by design: one event loop observes and renders.
    """

    def __init__(self) -> None:
        # No ``_created`` series: the counters start with the ledger, not with this process.
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.activations = Counter(
            ACTIVATIONS, "Activation Count", [*ACTION_LABELS, "kind", "memory"], registry=r
        )
        self.cold_starts = Counter(COLD_STARTS, "Cold start counts", ACTION_LABELS, registry=r)
        self.wait_time = Histogram(
            WAIT_TIME, "Internal system hold time", ACTION_LABELS, registry=r
        )
        self.init_time = Histogram(
            INIT_TIME, "Time it took to initialize an action", ACTION_LABELS, registry=r
        )
        self.duration = Histogram(
            DURATION, "Actual time the action code was running", ACTION_LABELS, registry=r
        )
        self.response_size = Histogram(
            RESPONSE_SIZE,
            "Size of the activation's result",
            ACTION_LABELS,
            buckets=SIZE_BUCKETS,
            registry=r,
        )
        self.memory = Gauge(
            MEMORY, "Memory limit of the action containers (MB)", ACTION_LABELS, registry=r
        )
        self.limit_concurrent = Counter(
            LIMIT_CONCURRENT,
            "a user has exceeded its limit for concurrent invocations",
            ["namespace"],
            registry=r,
        )
        self.limit_timed = Counter(
            LIMIT_TIMED,
            "the user has reached its per minute limit for the number of invocations",
            ["namespace"],
            registry=r,
        )
        self.statuses = _ExactCounter(STATUS, "Activation failure status type", "status")
        r.register(self.statuses)
        self.status_codes = _ExactCounter(
            STATUS_CODE,
            "status code returned in action result response set by developer",
            "status_code",
        )
        r.register(self.status_codes)
        self.observed = 0

    def observe(self, seen: Observation) -> None:
        """Count one activation."""
        who = (seen.namespace, seen.initiator, seen.action)
        self.activations.labels(*who, seen.kind, str(seen.memory_mb)).inc()
        if seen.init_s is not None:
            self.cold_starts.labels(*who).inc()
            self.init_time.labels(*who).observe(seen.init_s)
        self.wait_time.labels(*who).observe(seen.wait_s)
        self.duration.labels(*who).observe(seen.duration_s)
        if seen.response_bytes is not None:
            self.response_size.labels(*who).observe(seen.response_bytes)
        self.memory.labels(*who).set(seen.memory_mb)
        self.statuses.counts[(*who, seen.status)] += 1
        if seen.status_code is not None:
            self.status_codes.counts[(*who, str(seen.status_code))] += 1
        self.observed += 1

    def observe_throttle(self, fact: NamespaceThrottled) -> None:
        """Count one 429."""
        limit = self.limit_concurrent if fact.limit == "concurrent" else self.limit_timed
        limit.labels(fact.namespace).inc()


class _ExactCounter(Collector):
    """A counter by action and one more label, under OpenWhisk's exact name (no
    ``_total``; see the module's docstring)."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self.counts: defaultdict[tuple[str, str, str, str], int] = defaultdict(int)

    def collect(self) -> Iterator[Metric]:
        family = UnknownMetricFamily(
            self.name, self.documentation, labels=[*ACTION_LABELS, self.label]
        )
        for labels, count in sorted(self.counts.items()):
            family.add_metric(list(labels), count)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield UnknownMetricFamily(self.name, self.documentation)
