"""The controller's decisions, driven input by input (no Kafka)."""

from __future__ import annotations

from streams.controller.state import Append, ControllerState, Tracked, by_activation
from streams.events import ActivationAccepted, ActivationCompleted, ActivationScheduled, seq_for
from streams.messages import NOT_RUN_AGAIN
from streams.placement import action_hash
from streams.registry import HeartbeatRegistry
from tests.support.events import accepted, health, started

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


def placed(a: ActivationAccepted, invoker: int) -> ActivationAccepted:
    """``a`` as the API accepts it when it placed the first attempt itself."""
    return a.model_copy(update={"invoker": invoker, "decision": "home"})


def scheduled_by(out: list[Append]) -> ActivationScheduled:
    [only] = [o.event for o in out if isinstance(o.event, ActivationScheduled)]
    return only


def test_an_unplaced_activation_goes_to_its_home_invoker_with_its_acceptance() -> None:
    state = controller()
    a = accepted(1)
    out = state.on_accepted(a, 0, 10, 1_000)
    event = scheduled_by(out)
    assert event.invoker == home_of("ns/a") and event.decision == "home"
    assert event.accepted == a  # the record is the dispatch: it carries what the invoker needs
    assert state.reserved_mb[home_of("ns/a")] == 256
    assert state.tracked[a.activation_id].offset is None  # known once read back
    state.on_scheduled(event, 11)
    assert state.tracked[a.activation_id].offset == 11


def test_an_activation_the_api_placed_is_tracked_and_needs_no_write() -> None:
    state = controller()
    a = placed(accepted(1), 2)
    assert state.on_accepted(a, 0, 10, 1_000) == []
    t = state.tracked[a.activation_id]
    assert (t.phase, t.invoker, t.attempt, t.offset) == ("dispatched", 2, 0, 10)
    assert state.reserved_mb[2] == 256
    assert state.on_completed(a.activation_id, 1_001) == [] and not state.reserved_mb[2]


def test_a_full_invoker_sends_the_next_one_elsewhere_then_everything_queues() -> None:
    state = controller(memory_mb=256)
    outs = [state.on_accepted(accepted(i), 0, i, 1_000) for i in range(4)]
    invokers = [scheduled_by(o).invoker for o in outs[:3]]
    assert sorted(invokers) == [0, 1, 2] and invokers[0] == home_of("ns/a")
    assert outs[3] == [] and len(state.queue) == 1
    # The first completes: its room goes to the queued one.
    out = state.on_completed(accepted(0).activation_id, 1_001)
    assert scheduled_by(out).activation_id == accepted(3).activation_id
    assert not state.queue


def test_a_namespaces_backlog_does_not_hold_anothers_activation_behind_it() -> None:
    # Namespace "flood" fills the one invoker and queues three more; then "quiet" asks
    # once. The next room goes to "quiet", the namespace placed least recently.
    state = controller(invokers=1, memory_mb=256)
    flood = [accepted(i, namespace="flood", action="flood/a") for i in range(1, 5)]
    outs = [state.on_accepted(a, 0, i, 1_000) for i, a in enumerate(flood, 1)]
    assert scheduled_by(outs[0]).activation_id == flood[0].activation_id
    quiet = accepted(9, namespace="quiet", action="quiet/a")
    assert state.on_accepted(quiet, 0, 9, 1_000) == [] and len(state.queue) == 4
    out = state.on_completed(flood[0].activation_id, 1_001)
    assert scheduled_by(out).activation_id == quiet.activation_id
    # Then the backlog, in its own order.
    out = state.on_completed(quiet.activation_id, 1_002)
    assert scheduled_by(out).activation_id == flood[1].activation_id


def test_limits_no_api_wrote_end_at_once_and_hold_no_room() -> None:
    # -4096 MB placed by a forged record on invoker 0: ended as invalid, never counted
    # (counted, its release had left a phantom 4 GB held on invoker 0 for good).
    state = controller(invokers=1, memory_mb=256)
    forged = placed(accepted(1, memory_mb=-4096), 0)
    [refused] = completions(state.on_accepted(forged, 0, 1, 1_000))
    assert reason(refused) == "invalid" and "memory_mb of -4096" in refused.response.result["error"]
    assert state.reserved_mb.get(0, 0) == 0 and forged.activation_id not in state.tracked
    assert state.on_accepted(forged, 0, 1, 1_001) == []  # read again: ended already
    assert scheduled_by(state.on_accepted(accepted(2), 0, 2, 1_002)).invoker == 0


def test_the_apis_placements_take_room_the_controller_sees() -> None:
    state = controller(invokers=1, memory_mb=256)
    state.on_accepted(placed(accepted(1), 0), 0, 1, 1_000)
    assert state.on_accepted(accepted(2), 0, 2, 1_000) == []  # queued: invoker 0 is full
    out = state.on_completed(accepted(1).activation_id, 1_001)
    assert scheduled_by(out).activation_id == accepted(2).activation_id


def test_beyond_the_queue_it_is_refused_with_no_capacity() -> None:
    state = controller(invokers=1, memory_mb=256, queue_max=1)
    state.on_accepted(accepted(1), 0, 1, 1_000)
    assert state.on_accepted(accepted(2), 0, 2, 1_000) == []
    [refused] = completions(state.on_accepted(accepted(3), 0, 3, 1_000))
    assert reason(refused) == "no_capacity" and refused.response.status_code == 3
    assert refused.head == accepted(3).head()  # the record needs nothing else


def test_with_no_invoker_it_waits_then_refuses_with_no_invoker() -> None:
    state = controller(invokers=0, no_invoker_wait_ms=3_000)
    assert state.on_accepted(accepted(1), 0, 1, 1_000) == []
    assert completions(state.tick(3_000)) == []
    [refused] = completions(state.tick(4_001))
    assert reason(refused) == "no_invoker"


def test_an_invoker_appearing_in_time_takes_the_queued_work() -> None:
    state = controller(invokers=0)
    state.on_accepted(accepted(1), 0, 1, 1_000)
    out = state.on_health(health(2, at_ms=1_500), 1_500)
    assert scheduled_by(out).invoker == 2


def lose_invoker(state: ControllerState, victim: int, now: int = 12_000) -> list[Append]:
    others = [i for i in range(3) if i != victim]
    heard(state, now, *others)
    return state.tick(now)


def test_work_not_started_on_a_lost_invoker_is_retried_once_its_placement_was_read() -> None:
    state = controller()
    a = accepted(1)
    first = scheduled_by(state.on_accepted(a, 0, 1, 1_000))
    victim = first.invoker
    heard(state, 5_000, *(i for i in range(3) if i != victim))
    assert state.tick(5_000) == []  # silent, but not long enough
    assert completions(lose_invoker(state, victim)) == []
    # Its placement was never read back: it may still be on its way into the log.
    assert state.tracked[a.activation_id].phase == "dispatched"
    state.on_scheduled(first, 4)
    retry = scheduled_by(state.tick(12_000))
    assert retry.attempt == 1 and retry.invoker != victim and retry.accepted == a
    assert retry.decision == "reschedule" and retry.seq == seq_for("activation.scheduled", 1)
    assert state.reserved_mb.get(victim, 0) == 0
    state.on_scheduled(retry, 9)
    assert state.tracked[a.activation_id].offset == 9


def test_a_start_that_beat_the_retry_into_the_log_keeps_the_activation() -> None:
    state = controller()
    a = placed(accepted(1), 1)
    state.on_accepted(a, 0, 4, 1_000)
    retry = scheduled_by(lose_invoker(state, 1))
    state.on_started(started(a, 1))  # written before the retry
    state.on_scheduled(retry, 12)  # the retry is void
    t = state.tracked[a.activation_id]
    assert (t.attempt, t.invoker) == (0, 1) and state.reserved_mb[retry.invoker] == 0
    # Its holder is offline: it ends as a whisk error of attempt 0 at the next tick.
    [lost] = completions(state.tick(12_500))
    assert reason(lost) == "lost" and lost.seq == seq_for("activation.completed", 0)


def test_started_work_on_a_lost_invoker_ends_as_a_whisk_error() -> None:
    state = controller()
    a = placed(accepted(1), 1)
    state.on_accepted(a, 0, 4, 1_000)
    state.on_started(started(a, 1))
    [lost] = completions(lose_invoker(state, 1))
    assert reason(lost) == "lost" and a.activation_id not in state.tracked
    assert state.reserved_mb[1] == 0


def test_a_start_read_while_the_retry_waits_in_the_queue_keeps_it_with_its_holder() -> None:
    state = controller(invokers=1)
    a = placed(accepted(1), 0)
    state.on_accepted(a, 0, 4, 1_000)
    heard(state, 12_000)
    assert completions(state.tick(12_000)) == []  # no other invoker: queued for a retry
    assert list(state.queue) == [a.activation_id]
    state.on_started(started(a, 0))
    assert not state.queue
    [lost] = completions(state.tick(12_100))
    assert lost.seq == seq_for("activation.completed", 0)


def test_a_restarted_invoker_gives_back_its_old_placements_and_fails_its_old_starts() -> None:
    state = controller()
    a, b = placed(accepted(1, action="ns/x"), 1), placed(accepted(2, action="ns/x"), 1)
    state.on_accepted(a, 0, 5, 1_000)
    state.on_accepted(b, 0, 6, 1_000)
    state.on_started(started(a, 1, source="invoker1@1"))
    # The invoker comes back as a new run that acts on partition 0 from offset 7.
    state.on_health(health(1, at_ms=2_000, pid=2, ledger_from={0: 7, 1: 0}), 2_000)
    out = state.tick(2_000)
    [lost] = completions(out)
    assert lost.activation_id == a.activation_id
    assert lost.response.result == {"error": NOT_RUN_AGAIN}
    retry = scheduled_by(out)
    assert retry.activation_id == b.activation_id and retry.attempt == 1


def test_a_placement_at_or_above_the_new_runs_offset_stays() -> None:
    state = controller()
    a = placed(accepted(1), 1)
    state.on_accepted(a, 0, 7, 1_000)
    state.on_health(health(1, at_ms=2_000, pid=2, ledger_from={0: 7}), 2_000)
    assert state.tick(2_000) == [] and state.tracked[a.activation_id].phase == "dispatched"


def test_a_deaf_controller_blames_nobody() -> None:
    state = controller()
    a = accepted(1)
    state.on_accepted(a, 0, 1, 1_000)
    state.registry.hearing(2_000, caught_up=False)
    state.registry.hearing(30_000, caught_up=True)  # Kafka came back after 28 s
    assert state.tick(30_000) == []
    assert state.registry.state(0, 30_000) == "healthy"


def test_an_overdue_activation_is_declared_lost() -> None:
    state = controller()
    a = accepted(1, timeout_ms=1_000, grace_ms=1_000)
    state.on_accepted(a, 0, 1, 1_000)
    heard(state, 3_500, 0, 1, 2)
    [lost] = completions(state.tick(3_500))
    assert reason(lost) == "lost"


def test_events_read_again_after_a_restore_change_nothing() -> None:
    state = controller()
    a, b = accepted(1), accepted(2)
    t = Tracked(a, 0, phase="dispatched", invoker=1, offset=3)
    queued = Tracked(b, 0)
    out = state.restore([t, queued], done={accepted(3).activation_id}, now_ms=1_000)
    assert scheduled_by(out).activation_id == b.activation_id  # placed anew
    assert state.on_accepted(a, 0, 3, 1_000) == []
    assert state.on_accepted(accepted(3), 0, 9, 1_000) == []
    assert sum(state.reserved_mb.values()) == 512  # a (on 1) and b, placed anew


def test_shares_split_every_invoker_between_instances() -> None:
    state = controller(invokers=1, memory_mb=1024)
    state.assign({0, 1}, 4)  # another instance took partitions 2 and 3
    assert state.share == 0.5
    outs = [state.on_accepted(accepted(i), 0, i, 1_000) for i in range(3)]
    assert [bool(o) for o in outs] == [True, True, False]  # 512 MB of 1024


def test_a_revoked_partition_is_forgotten_and_its_room_released() -> None:
    state = controller()
    state.on_accepted(accepted(1), 2, 1, 1_000)
    state.assign({0, 1}, 4)
    assert not state.tracked and sum(state.reserved_mb.values()) == 0


def test_writes_are_grouped_per_activation_in_their_order() -> None:
    # A completion frees room: its queued successors' writes come out together.
    state = controller(memory_mb=256)
    for i in range(4):
        state.on_accepted(accepted(i), 0, i, 1_000)
    overdue = state.tick(10**9)  # everything lost or refused: one write each
    freed = state.on_completed(accepted(0).activation_id, 1_001)
    groups = by_activation(overdue + freed)
    for aid, writes in groups.items():
        assert {o.event.activation_id for o in writes} == {aid}
    flat = [o for writes in groups.values() for o in writes]
    assert sorted(map(id, flat)) == sorted(map(id, overdue + freed))


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
