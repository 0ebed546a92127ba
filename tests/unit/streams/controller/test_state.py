"""The controller's decisions, driven input by input (no Kafka)."""

from __future__ import annotations

from streams.controller.scheduler import action_hash
from streams.controller.state import Append, ControllerState, Send, Tracked, by_activation
from streams.events import ActivationCompleted, ActivationScheduled, seq_for
from streams.messages import NOT_RUN_AGAIN
from streams.registry import HeartbeatRegistry
from tests.support.events import accepted, completed, health, scheduled, started

OFFLINE_MS = 10_000


def controller(invokers: int = 3, memory_mb: int = 1024, **kw: int) -> ControllerState:
    registry = HeartbeatRegistry(offline_after_ms=OFFLINE_MS)
    state = ControllerState(registry=registry, source="ctl", **kw)  # type: ignore[arg-type]
    state.assign({0, 1, 2, 3}, 4)
    registry.hearing(1_000, caught_up=True)
    for i in range(invokers):
        state.on_health(health(i, memory_mb=memory_mb), 1_000)
    return state


def heard(state: ControllerState, now: int, *alive: int) -> None:
    """Time passes, second by second; the listed invokers keep sending heartbeats."""
    registry = state.registry
    assert isinstance(registry, HeartbeatRegistry)
    t = registry.heard_ms
    while t < now:
        t = min(now, t + 1_000)
        for i in alive:
            state.on_health(health(i, at_ms=t), t)
        registry.hearing(t, caught_up=True)


def completions(outputs: list) -> list[ActivationCompleted]:
    return [
        o.event
        for o in outputs
        if isinstance(o, Append)
        and o.event.type.endswith("ted")
        and isinstance(o.event, ActivationCompleted)
    ]


def reason(c: ActivationCompleted) -> str:
    return next(a["value"] for a in c.annotations if a["key"] == "reason")


def home_of(action: str, n: int = 3) -> int:
    return action_hash("ns", action) % n


def test_an_activation_goes_to_its_home_invoker_ledger_first() -> None:
    state = controller()
    a = accepted(1)
    out = state.on_accepted(a, 0, 1_000)
    assert [type(o) for o in out] == [Append, Send]
    first, second = out
    assert isinstance(first, Append) and isinstance(first.event, ActivationScheduled)
    assert first.event.invoker == home_of("ns/a") and first.event.decision == "home"
    assert isinstance(second, Send) and second.dispatch.scheduled == first.event
    assert state.reserved_mb[home_of("ns/a")] == 256


def test_a_full_invoker_sends_the_next_one_elsewhere_then_everything_queues() -> None:
    state = controller(memory_mb=256)
    placed = [state.on_accepted(accepted(i), 0, 1_000) for i in range(4)]
    invokers = [o[0].event.invoker for o in placed[:3]]
    assert sorted(invokers) == [0, 1, 2] and invokers[0] == home_of("ns/a")
    assert placed[3] == [] and len(state.queue) == 1
    # The first completes: its room goes to the queued one.
    out = state.on_completed(completed(accepted(0)), 1_001)
    assert isinstance(out[0], Append) and out[0].event.activation_id == accepted(3).activation_id
    assert not state.queue


def test_beyond_the_queue_it_is_refused_with_no_capacity() -> None:
    state = controller(invokers=1, memory_mb=256, queue_max=1)
    state.on_accepted(accepted(1), 0, 1_000)
    assert state.on_accepted(accepted(2), 0, 1_000) == []
    [refused] = completions(state.on_accepted(accepted(3), 0, 1_000))
    assert reason(refused) == "no_capacity" and refused.response.status_code == 3


def test_with_no_invoker_it_waits_then_refuses_with_no_invoker() -> None:
    state = controller(invokers=0, no_invoker_wait_ms=3_000)
    assert state.on_accepted(accepted(1), 0, 1_000) == []
    assert completions(state.tick(3_000)) == []
    [refused] = completions(state.tick(4_001))
    assert reason(refused) == "no_invoker"


def test_an_invoker_appearing_in_time_takes_the_queued_work() -> None:
    state = controller(invokers=0)
    state.on_accepted(accepted(1), 0, 1_000)
    out = state.on_health(health(2, at_ms=1_500), 1_500)
    assert isinstance(out[0], Append) and out[0].event.invoker == 2


def lose_invoker(state: ControllerState, victim: int, now: int = 12_000) -> list:
    others = [i for i in range(3) if i != victim]
    heard(state, now, *others)
    return state.tick(now)


def test_work_not_started_on_a_lost_invoker_is_retried_after_reading_the_retry_back() -> None:
    state = controller()
    a = accepted(1)
    victim = state.on_accepted(a, 0, 1_000)[0].event.invoker
    heard(state, 5_000, *(i for i in range(3) if i != victim))
    assert state.tick(5_000) == []  # silent, but not long enough
    assert completions(lose_invoker(state, victim)) == []
    assert state.tracked[a.activation_id].phase == "dispatched"  # its dispatch may be in flight
    state.on_dispatched(a.activation_id, 0, offset=4)
    out = state.tick(12_000)
    [retry] = [o for o in out if isinstance(o, Append)]
    assert isinstance(retry.event, ActivationScheduled)
    assert retry.event.attempt == 1 and retry.event.invoker != victim
    assert retry.event.decision == "reschedule" and retry.event.seq == seq_for(
        "activation.scheduled", 1
    )
    assert not any(isinstance(o, Send) for o in out)  # not dispatched before the read-back
    assert state.reserved_mb.get(victim, 0) == 0
    state.on_scheduled(scheduled(a, victim), 12_000)  # its first schedule, read late: nothing
    [send] = state.on_scheduled(retry.event, 12_001)
    assert isinstance(send, Send) and send.dispatch.scheduled.invoker == retry.event.invoker


def test_a_start_that_beat_the_retry_into_the_log_keeps_the_activation() -> None:
    state = controller()
    a = accepted(1)
    victim = state.on_accepted(a, 0, 1_000)[0].event.invoker
    state.on_dispatched(a.activation_id, 0, offset=4)
    state.on_scheduled(scheduled(a, victim), 1_000)
    retry = next(o for o in lose_invoker(state, victim) if isinstance(o, Append)).event
    state.on_started(started(a, victim))  # written before the retry
    assert state.on_scheduled(retry, 12_001) == []  # no dispatch: the retry is void
    assert state.reserved_mb[retry.invoker] == 0
    # Its holder is offline: it ends as a whisk error of attempt 0 at the next tick.
    [lost] = completions(state.tick(12_500))
    assert reason(lost) == "lost" and lost.seq == seq_for("activation.completed", 0)


def test_started_work_on_a_lost_invoker_ends_as_a_whisk_error() -> None:
    state = controller()
    a = accepted(1)
    victim = state.on_accepted(a, 0, 1_000)[0].event.invoker
    state.on_scheduled(scheduled(a, victim), 1_000)
    state.on_started(started(a, victim))
    [lost] = completions(lose_invoker(state, victim))
    assert reason(lost) == "lost" and a.activation_id not in state.tracked
    assert state.reserved_mb[victim] == 0


def test_a_start_read_while_the_retry_waits_in_the_queue_keeps_it_with_its_holder() -> None:
    state = controller(invokers=1)
    a = accepted(1)
    state.on_accepted(a, 0, 1_000)
    state.on_dispatched(a.activation_id, 0, offset=4)
    state.on_scheduled(scheduled(a, 0), 1_000)
    heard(state, 12_000)
    assert completions(state.tick(12_000)) == []  # no other invoker: queued for a retry
    assert list(state.queue) == [a.activation_id]
    state.on_started(started(a, 0))
    assert not state.queue
    [lost] = completions(state.tick(12_100))
    assert lost.seq == seq_for("activation.completed", 0)


def test_a_restarted_invoker_gives_back_its_old_dispatches_and_fails_its_old_starts() -> None:
    state = controller()
    a, b = accepted(1, action="ns/x"), accepted(2, action="ns/x")
    victim = state.on_accepted(a, 0, 1_000)[0].event.invoker
    state.on_accepted(b, 0, 1_000)
    state.on_dispatched(a.activation_id, 0, offset=5)
    state.on_dispatched(b.activation_id, 0, offset=6)
    for x in (a, b):
        state.on_scheduled(scheduled(x, victim), 1_000)
    state.on_started(started(a, victim, source=f"invoker{victim}@1"))
    # The invoker comes back as a new run that acts on dispatches from offset 7.
    state.on_health(health(victim, at_ms=2_000, pid=2, dispatch_from=7), 2_000)
    out = state.tick(2_000)
    [lost] = completions(out)
    assert lost.activation_id == a.activation_id
    assert lost.response.result == {"error": NOT_RUN_AGAIN}
    [retry] = [o.event for o in out if isinstance(o, Append) and o.event.type.endswith("uled")]
    assert retry.activation_id == b.activation_id and retry.attempt == 1


def test_a_dispatch_at_or_above_the_new_runs_offset_stays() -> None:
    state = controller()
    a = accepted(1)
    victim = state.on_accepted(a, 0, 1_000)[0].event.invoker
    state.on_dispatched(a.activation_id, 0, offset=7)
    state.on_health(health(victim, at_ms=2_000, pid=2, dispatch_from=7), 2_000)
    assert state.tick(2_000) == [] and state.tracked[a.activation_id].phase == "dispatched"


def test_a_deaf_controller_blames_nobody() -> None:
    state = controller()
    a = accepted(1)
    state.on_accepted(a, 0, 1_000)
    state.registry.hearing(2_000, caught_up=False)
    state.registry.hearing(30_000, caught_up=True)  # Kafka came back after 28 s
    assert state.tick(30_000) == []
    assert state.registry.state(0, 30_000) == "healthy"


def test_an_overdue_activation_is_declared_lost() -> None:
    state = controller()
    a = accepted(1, timeout_ms=1_000, grace_ms=1_000)
    state.on_accepted(a, 0, 1_000)
    heard(state, 3_500, 0, 1, 2)
    [lost] = completions(state.tick(3_500))
    assert reason(lost) == "lost"


def test_events_read_again_after_a_restore_change_nothing() -> None:
    state = controller()
    a, b = accepted(1), accepted(2)
    t = Tracked(a, 0, phase="dispatched", invoker=1, scheduled=scheduled(a, 1), offset=3)
    missing = Tracked(b, 0, phase="dispatched", invoker=2, scheduled=scheduled(b, 2))
    out = state.restore([t, missing], done={accepted(3).activation_id}, now_ms=1_000)
    [resend] = out
    assert isinstance(resend, Send) and resend.dispatch.redelivered
    assert resend.dispatch.scheduled.activation_id == b.activation_id
    assert state.on_accepted(a, 0, 1_000) == []
    assert state.on_accepted(accepted(3), 0, 1_000) == []
    assert state.reserved_mb == {1: 256, 2: 256}


def test_shares_split_every_invoker_between_instances() -> None:
    state = controller(invokers=1, memory_mb=1024)
    state.assign({0, 1}, 4)  # another instance took partitions 2 and 3
    assert state.share == 0.5
    placed = [state.on_accepted(accepted(i), 0, 1_000) for i in range(3)]
    assert [bool(p) for p in placed] == [True, True, False]  # 512 MB of 1024


def test_a_revoked_partition_is_forgotten_and_its_room_released() -> None:
    state = controller()
    state.on_accepted(accepted(1), 2, 1_000)
    state.assign({0, 1}, 4)
    assert not state.tracked and sum(state.reserved_mb.values()) == 0


def test_writes_are_grouped_per_activation_in_their_order() -> None:
    # A completion frees room: its queued successors' writes come out together.
    state = controller(memory_mb=256)
    for i in range(4):
        state.on_accepted(accepted(i), 0, 1_000)
    overdue = state.tick(10**9)  # everything lost or refused: one write each
    freed = state.on_completed(completed(accepted(0)), 1_001)
    groups = by_activation(overdue + freed)
    for aid, writes in groups.items():
        ids = {
            o.event.activation_id if isinstance(o, Append) else o.dispatch.scheduled.activation_id
            for o in writes
        }
        assert ids == {aid}
    flat = [o for writes in groups.values() for o in writes]
    assert sorted(map(id, flat)) == sorted(map(id, overdue + freed))
    placed = by_activation(state.on_accepted(accepted(9), 0, 10**9 + 1))
    assert [type(o) for o in placed[accepted(9).activation_id]] == [Append, Send]


def test_the_log_says_why_an_invoker_turned_unhealthy() -> None:
    from streams.controller.agent import why
    from streams.events import InvokerHealth

    health = InvokerHealth(
        invoker=0,
        state="unhealthy",
        user_memory_mb=1,
        free_memory_mb=1,
        in_flight=0,
        pid=1,
        host="h",
        at_ms=1,
        recent_faults=3,
        last_fault="Docker did not answer",
    )
    assert why(health, "unhealthy") == (
        ": 3 whisk errors of its own within the unhealthy window, the last: Docker did not answer"
    )
    assert why(health, "healthy") == "" and why(None, "unhealthy") == ""
