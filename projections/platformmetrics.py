"""The platform's own metrics, beside OpenWhisk's user events: what the exporter last heard
from each invoker and service, and how far each consumer group is behind the ledger.

Rendered at scrape time from the latest facts (``collect``), so an invoker or a
process that stopped reporting drops out of the output instead of repeating
its last values for ever:

- ``ledgerwhisk_invoker_containers`` (gauge; invoker, state): containers in
  each invoker's pool, from its heartbeats (``InvokerHealth.containers``);
- ``ledgerwhisk_invoker_queued``, ``_in_flight``, ``_free_memory_mb`` (gauges;
  invoker): activations waiting in its pool for room, running, and memory
  (MB) not held by busy containers, from its heartbeats;
- ``ledgerwhisk_controller_queued`` (gauge; instance): activations the
  controller holds queued, from its stats;
- ``ledgerwhisk_kafka_produce_seconds`` (histogram; service, instance): each
  process's acknowledged Kafka writes, from its stats;
- ``ledgerwhisk_consumer_group_lag_records`` (gauge; group): ledger records
  each consumer group has not committed, summed over partitions;
- ``ledgerwhisk_projection_lag_seconds`` (gauge): the age of the oldest ledger
  record the projection has not committed (0 when none).

Container states are the pool's (``invoker/pool.py`` ``CONTAINER_STATES``):
``starting``, ``stem_cell``, ``warm``, ``busy``, ``paused``. The groups are the
ledger's two consumer groups, ``controller`` and ``projection``; invokers
and API instances read the ledger outside any group (their lag is their
activations' wait, which the user metrics' ``waitTime`` shows).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from streams.events import InvokerHealth, ServiceStats
from streams.producestats import PRODUCE_BUCKETS_S

# A process whose stats are older than this many intervals is gone from the output.
STATS_STALE_INTERVALS = 3
# Per ledger partition, the exporter keeps one (offset, timestamp) mark per this many
# milliseconds of record time, and at most this many marks.
MARK_EVERY_MS = 50
MARKS_MAX = 100_000


@dataclass
class RecordClock:
    """When the records of one partition were written, sampled: enough to tell the age of
    the record at any offset the projection may have committed, to ``MARK_EVERY_MS``."""

    marks: deque[tuple[int, int]] = field(default_factory=deque)  # (offset, timestamp ms)

    def saw(self, offset: int, timestamp_ms: int) -> None:
        if self.marks and timestamp_ms - self.marks[-1][1] < MARK_EVERY_MS:
            return
        self.marks.append((offset, timestamp_ms))
        if len(self.marks) > MARKS_MAX:
            self.marks.popleft()

    def written_ms(self, offset: int) -> int | None:
        """About when the record at ``offset`` was written (the first mark at or after it,
        else the last mark), forgetting marks below it; None when nothing is known."""
        while len(self.marks) > 1 and self.marks[1][0] <= offset:
            self.marks.popleft()
        for mark_offset, timestamp_ms in self.marks:
            if mark_offset >= offset:
                return timestamp_ms
        return self.marks[-1][1] if self.marks else None


def behind(ends: Mapping[int, int], committed: Mapping[int, int]) -> dict[int, int]:
    """Per partition, the records a group has not committed: ``ends`` (the next offset of
    each partition) less its committed offsets (none, or -1, counts from offset 0)."""
    return {p: max(0, end - max(0, committed.get(p, 0))) for p, end in ends.items()}


def oldest_uncommitted_ms(
    lag: Mapping[int, int], committed: Mapping[int, int], clocks: Mapping[int, RecordClock]
) -> int | None:
    """When the oldest record a group has not committed was written (ms), over the
    partitions with a ``lag``; None when it is behind on none (or nothing is known)."""
    oldest: int | None = None
    for partition, records in lag.items():
        clock = clocks.get(partition)
        if not records or clock is None:
            continue
        written = clock.written_ms(max(0, committed.get(partition, 0)))
        if written is not None and (oldest is None or written < oldest):
            oldest = written
    return oldest


class PlatformMetrics(Collector):
    """The latest heartbeat of each invoker, the latest stats of each process, the last
    measured lags; ``collect`` renders them."""

    def __init__(self, offline_after_ms: int, stats_interval_ms: int):
        self.offline_after_ms = offline_after_ms
        self.stale_ms = STATS_STALE_INTERVALS * stats_interval_ms
        self.health: dict[int, InvokerHealth] = {}
        self.stats: dict[tuple[str, str], ServiceStats] = {}
        self.group_lag: dict[str, int] = {}
        self.projection_lag_s: float | None = None
        self.now_ms = 0  # the time of the scrape, set by the exporter before rendering

    def observe_health(self, health: InvokerHealth) -> None:
        current = self.health.get(health.invoker)
        if current is None or health.at_ms >= current.at_ms:
            self.health[health.invoker] = health

    def observe_stats(self, stats: ServiceStats) -> None:
        key = (stats.service, stats.instance)
        current = self.stats.get(key)
        if current is None or stats.at_ms >= current.at_ms:
            self.stats[key] = stats

    def live_invokers(self) -> list[InvokerHealth]:
        return [
            h
            for _, h in sorted(self.health.items())
            if h.state != "offline" and self.now_ms - h.at_ms <= self.offline_after_ms
        ]

    def collect(self) -> Iterator[Metric]:
        yield from self._invokers()
        yield from self._services()
        lag = GaugeMetricFamily(
            "ledgerwhisk_consumer_group_lag_records",
            "Ledger records not yet committed by each consumer group, summed over partitions",
            labels=["group"],
        )
        for group, records in sorted(self.group_lag.items()):
            lag.add_metric([group], records)
        yield lag
        if self.projection_lag_s is not None:
            yield GaugeMetricFamily(
                "ledgerwhisk_projection_lag_seconds",
                "Age of the oldest ledger record the projection has not committed (0: none)",
                value=self.projection_lag_s,
            )

    def _invokers(self) -> Iterator[Metric]:
        containers = GaugeMetricFamily(
            "ledgerwhisk_invoker_containers",
            "Containers in each invoker's pool, by state",
            labels=["invoker", "state"],
        )
        queued = GaugeMetricFamily(
            "ledgerwhisk_invoker_queued",
            "Activations waiting in each invoker's pool for a container",
            labels=["invoker"],
        )
        in_flight = GaugeMetricFamily(
            "ledgerwhisk_invoker_in_flight", "Activations each invoker runs", labels=["invoker"]
        )
        free = GaugeMetricFamily(
            "ledgerwhisk_invoker_free_memory_mb",
            "Memory (MB) of each invoker's budget not held by busy containers",
            labels=["invoker"],
        )
        for health in self.live_invokers():
            name = f"invoker{health.invoker}"
            for state, count in sorted(health.containers.items()):
                containers.add_metric([name, state], count)
            queued.add_metric([name], health.queued)
            in_flight.add_metric([name], health.in_flight)
            free.add_metric([name], health.free_memory_mb)
        yield from (containers, queued, in_flight, free)

    def _services(self) -> Iterator[Metric]:
        produce = HistogramMetricFamily(
            "ledgerwhisk_kafka_produce_seconds",
            "Acknowledged Kafka writes of each process, from the call to the acknowledgement",
            labels=["service", "instance"],
        )
        queued = GaugeMetricFamily(
            "ledgerwhisk_controller_queued",
            "Activations the controller holds queued for an invoker",
            labels=["instance"],
        )
        for (service, instance), stats in sorted(self.stats.items()):
            if self.now_ms - stats.at_ms > self.stale_ms:
                continue
            if len(stats.produce_counts) == len(PRODUCE_BUCKETS_S) + 1:
                buckets, total = [], 0
                for bound, count in zip(
                    (*PRODUCE_BUCKETS_S, float("inf")), stats.produce_counts, strict=True
                ):
                    total += count
                    buckets.append((_bound(bound), total))
                produce.add_metric([service, instance], buckets, stats.produce_sum_s)
            if service == "controller" and stats.queued is not None:
                queued.add_metric([instance], stats.queued)
        yield from (produce, queued)


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)
