"""The platform's own metrics as the exporter renders them (pure: no services)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from projections.platformmetrics import (
    MARK_EVERY_MS,
    PlatformMetrics,
    RecordClock,
    behind,
    oldest_uncommitted_ms,
)
from streams.events import InvokerHealth, ServiceStats
from streams.producestats import PRODUCE_BUCKETS_S, ProduceClock


def health(invoker: int, at_ms: int, state: str = "healthy") -> InvokerHealth:
    return InvokerHealth(
        invoker=invoker,
        state=state,  # type: ignore[arg-type]
        user_memory_mb=1024,
        free_memory_mb=768,
        in_flight=1,
        pid=1,
        host="h",
        at_ms=at_ms,
        containers={"busy": 1, "warm": 2, "stem_cell": 1, "starting": 0, "paused": 0},
        queued=3,
    )


def stats(service: str, at_ms: int, counts: list[int], queued: int | None = None) -> ServiceStats:
    return ServiceStats(
        service=service,
        instance="0",
        incarnation="x",
        at_ms=at_ms,
        produce_counts=counts,
        produce_sum_s=0.25,
        queued=queued,
    )


def render(metrics: PlatformMetrics, now_ms: int) -> str:
    registry = CollectorRegistry()
    registry.register(metrics)
    metrics.now_ms = now_ms
    return generate_latest(registry).decode()


def test_the_produce_clock_counts_each_write_in_its_bucket() -> None:
    clock = ProduceClock()
    for seconds in (0.0004, 0.0005, 0.0015, 0.003, 9.0):
        clock.observe(seconds)
    # Bounds are inclusive upper bounds, as Prometheus's le.
    assert clock.counts[:4] == [2, 0, 1, 1]
    assert clock.counts[-1] == 1 and sum(clock.counts) == 5
    assert abs(clock.sum_s - 9.0054) < 1e-9


def test_invokers_render_by_state_and_a_silent_one_drops_out() -> None:
    metrics = PlatformMetrics(offline_after_ms=10_000, stats_interval_ms=1_000)
    metrics.observe_health(health(0, at_ms=100_000))
    metrics.observe_health(health(1, at_ms=100_000, state="offline"))
    metrics.observe_health(health(2, at_ms=80_000))  # silent for 25 s at the scrape
    metrics.observe_health(health(0, at_ms=90_000))  # older, delivered late: ignored
    text = render(metrics, now_ms=105_000)
    assert 'ledgerwhisk_invoker_containers{invoker="invoker0",state="warm"} 2.0' in text
    assert 'ledgerwhisk_invoker_containers{invoker="invoker0",state="busy"} 1.0' in text
    assert 'ledgerwhisk_invoker_queued{invoker="invoker0"} 3.0' in text
    assert 'ledgerwhisk_invoker_free_memory_mb{invoker="invoker0"} 768.0' in text
    assert "invoker1" not in text and "invoker2" not in text


def test_produce_latency_is_a_cumulative_histogram_and_stale_processes_drop_out() -> None:
    metrics = PlatformMetrics(offline_after_ms=10_000, stats_interval_ms=1_000)
    counts = [0] * (len(PRODUCE_BUCKETS_S) + 1)
    counts[1], counts[3], counts[-1] = 4, 1, 1
    metrics.observe_stats(stats("controller", 50_000, counts, queued=7))
    metrics.observe_stats(stats("api", 40_000, counts))  # 10 s old at the scrape: stale
    text = render(metrics, now_ms=50_500)
    bucket = 'ledgerwhisk_kafka_produce_seconds_bucket{instance="0",le="%s",service="controller"}'
    assert f"{bucket % '0.0005'} 0.0" in text
    assert f"{bucket % '0.001'} 4.0" in text
    assert f"{bucket % '0.005'} 5.0" in text
    assert f"{bucket % '+Inf'} 6.0" in text
    assert 'ledgerwhisk_kafka_produce_seconds_count{instance="0",service="controller"} 6.0' in text
    assert 'ledgerwhisk_controller_queued{instance="0"} 7.0' in text
    assert 'service="api"' not in text


def test_the_record_clock_tells_the_age_of_an_offset() -> None:
    clock = RecordClock()
    for offset in range(100):
        clock.saw(offset, 1_000 + offset * 10)  # 10 ms apart: one mark per MARK_EVERY_MS
    assert len(clock.marks) == 100 * 10 // MARK_EVERY_MS
    assert clock.written_ms(0) == 1_000
    # Offset 12 lies between marks: the next mark's time, at most MARK_EVERY_MS later.
    assert clock.written_ms(12) == 1_150
    # Marks below the asked offset are forgotten (the projection never goes back).
    assert clock.marks[0] == (10, 1_100)
    assert clock.written_ms(500) == 1_000 + 95 * 10  # beyond the marks: the last one
    assert list(clock.marks) == [(95, 1_950)]


def test_a_groups_lag_counts_from_its_committed_offsets_or_from_the_start() -> None:
    # Partition 2 has no committed offset (-1 or absent): every record is behind.
    lag = behind({0: 100, 1: 50, 2: 7, 3: 0}, {0: 90, 1: 50, 2: -1})
    assert lag == {0: 10, 1: 0, 2: 7, 3: 0}


def test_the_oldest_uncommitted_record_is_the_earliest_over_lagging_partitions() -> None:
    clocks = {0: RecordClock(), 1: RecordClock()}
    for offset in range(10):
        clocks[0].saw(offset, 10_000 + offset * 100)
        clocks[1].saw(offset, 5_000 + offset * 100)
    # Partition 1 is caught up: its older records do not count.
    assert oldest_uncommitted_ms({0: 4, 1: 0}, {0: 6, 1: 10}, clocks) == 10_600
    assert oldest_uncommitted_ms({0: 4, 1: 2}, {0: 6, 1: 8}, clocks) == 5_800
    assert oldest_uncommitted_ms({0: 0, 1: 0}, {0: 10, 1: 10}, clocks) is None
    assert oldest_uncommitted_ms({5: 3}, {}, clocks) is None  # nothing read there yet
