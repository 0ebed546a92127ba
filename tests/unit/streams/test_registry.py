"""The health table: states, listening time, new runs, Consul's word."""

from __future__ import annotations

from streams.discovery import passing_invokers
from streams.registry import ConsulRegistry, HeartbeatRegistry, believable, system_state
from tests.support.events import health


def listening(registry: HeartbeatRegistry, until: int, step: int = 500) -> None:
    t = registry.heard_ms
    while t < until:
        t = min(until, t + step)
        registry.hearing(t, caught_up=True)


def test_silence_for_the_offline_time_makes_an_invoker_offline() -> None:
    registry = HeartbeatRegistry(offline_after_ms=10_000)
    registry.hearing(1_000, caught_up=True)
    registry.observe(health(0), 1_000)
    listening(registry, 11_000)
    assert registry.state(0, 11_000) == "healthy"
    listening(registry, 11_500)
    assert registry.state(0, 11_500) == "offline"
    assert registry.usable(11_500) == []


def test_silence_while_not_listening_does_not_count() -> None:
    registry = HeartbeatRegistry(offline_after_ms=10_000)
    registry.hearing(1_000, caught_up=True)
    registry.observe(health(0), 1_000)
    registry.hearing(5_000, caught_up=False)  # Kafka went away ...
    registry.hearing(15_000, caught_up=True)  # ... and came back: a full window again
    listening(registry, 25_000)
    assert registry.state(0, 25_000) == "healthy"
    listening(registry, 25_500)
    assert registry.state(0, 25_500) == "offline"
    # A reader that stalled (no fetch for longer than the deaf gap) is treated alike.
    registry.observe(health(0, at_ms=26_000), 26_000)
    registry.hearing(60_000, caught_up=True)
    assert registry.state(0, 60_000) == "healthy"


def test_what_the_invoker_says_of_itself_counts_while_it_speaks() -> None:
    registry = HeartbeatRegistry(offline_after_ms=10_000)
    registry.hearing(1_000, caught_up=True)
    registry.observe(health(0, state="unhealthy"), 1_000)
    registry.observe(health(1, state="up"), 1_000)
    registry.observe(health(2, state="offline"), 1_000)  # its goodbye
    assert [registry.state(i, 1_000) for i in range(3)] == ["unhealthy", "up", "offline"]
    assert registry.usable(1_000) == []


def test_a_new_run_is_reported_and_late_heartbeats_are_ignored() -> None:
    registry = HeartbeatRegistry(offline_after_ms=10_000)
    assert registry.observe(health(0, at_ms=1_000, pid=1), 1_000) is False
    assert registry.observe(health(0, at_ms=2_000, pid=1), 2_000) is False
    assert registry.observe(health(0, at_ms=3_000, pid=2), 3_000) is True
    assert registry.observe(health(0, at_ms=2_500, pid=1), 3_100) is False
    record = registry.get(0)
    assert record is not None and record.health is not None and record.health.pid == 2


def test_a_stamp_out_of_order_within_a_run_hides_nothing_after_it() -> None:
    # A forged (or skewed) heartbeat of the invoker's own run, stamped ahead: the
    # run's later heartbeats, stamped earlier, are still taken (log order).
    registry = HeartbeatRegistry(offline_after_ms=10_000)
    registry.observe(health(0, at_ms=1_000, pid=1), 1_000)
    registry.observe(health(0, at_ms=36_000, pid=1), 1_500)
    registry.observe(health(0, at_ms=2_000, pid=1, state="unhealthy"), 2_000)
    record = registry.get(0)
    assert record is not None and record.health is not None
    assert (record.health.at_ms, record.seen_ms) == (2_000, 2_000)


def test_a_heartbeat_stamped_far_ahead_of_the_clock_is_not_believed() -> None:
    assert believable(health(0, at_ms=15_000), 10_000)
    assert not believable(health(0, at_ms=15_001), 10_000)
    assert not believable(health(0, at_ms=253_402_300_799_000), 10_000)  # year 9999


def test_an_expected_invoker_never_heard_goes_offline_after_the_same_silence() -> None:
    registry = HeartbeatRegistry(offline_after_ms=10_000)
    registry.hearing(1_000, caught_up=True)
    registry.expect(3, 1_000)
    assert registry.state(3, 1_000) == "up"
    listening(registry, 11_500)
    assert registry.state(3, 11_500) == "offline"


def test_system_errors_in_the_window_make_an_invoker_unhealthy() -> None:
    assert system_state([1_000, 2_000], 3_000, 30_000, 3) == "healthy"
    assert system_state([1_000, 2_000, 2_500], 3_000, 30_000, 3) == "unhealthy"
    assert system_state([1_000, 2_000, 2_500], 40_000, 30_000, 3) == "healthy"


def test_consul_decides_who_is_alive_when_it_answers() -> None:
    registry = ConsulRegistry(offline_after_ms=10_000)
    registry.hearing(1_000, caught_up=True)
    registry.observe(health(0), 1_000)
    registry.observe(health(1), 1_000)
    registry.consul({0})
    assert [registry.state(i, 1_000) for i in (0, 1)] == ["healthy", "offline"]
    registry.consul(None)  # Consul did not answer: heartbeats alone decide
    assert registry.state(1, 1_000) == "healthy"


def test_passing_invokers_are_read_from_consuls_answer() -> None:
    entries = [
        {"Service": {"ID": "lw-invoker0", "Meta": {"invoker": "0"}}},
        {"Service": {"ID": "lw-invoker2", "Meta": {"invoker": "2", "pid": "7"}}},
        {"Service": {"ID": "other", "Meta": {}}},
    ]
    assert passing_invokers(entries) == {0, 2}
