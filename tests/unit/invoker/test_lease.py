"""The invoker's lease, admission, and claim confirmation."""

from __future__ import annotations

from invoker.lease import Admission, Assignment, Lease, assignment_of, confirmed, may_start
from streams.claims import fold
from tests.support.events import accepted, completed, scheduled, started


def at(offset: int, attempt: int = 0, partition: int = 0) -> Assignment:
    a = accepted(1, at_ms=1_000)
    return Assignment(a, attempt, partition, offset)


def test_the_first_heartbeat_starts_an_epoch_whose_floor_comes_after() -> None:
    lease = Lease(limit_ms=8_000)
    assert lease.acked(0, 5) is True and lease.epoch == 1
    assert not lease.fast(at(10), 100)  # no floor yet
    lease.set_floor(1, {0: 10, 1: 3})
    assert lease.boot_floor == {0: 10, 1: 3}
    assert lease.fast(at(10), 100) and not lease.fast(at(9), 100)
    assert lease.fast(at(3, partition=1), 100) and not lease.fast(at(2, partition=1), 100)
    # A retry never takes the fast path: its claim is always read back.
    assert not lease.fast(at(10, attempt=1), 100)


def test_the_lease_runs_out_without_acknowledged_heartbeats() -> None:
    lease = Lease(limit_ms=8_000)
    lease.acked(0, 5)
    lease.set_floor(1, {0: 0})
    assert lease.holds(7_999) and not lease.holds(8_000)
    assert not lease.fast(at(5), 9_000)


def test_a_gap_starts_a_new_epoch_and_older_placements_lose_the_fast_path() -> None:
    lease = Lease(limit_ms=8_000)
    lease.acked(0, 5)
    lease.set_floor(1, {0: 0})
    assert lease.acked(1_000, 1_005) is False
    assert lease.acked(2_000, 9_500) is True  # acknowledged 8.5 s after the last one was sent
    assert lease.floor is None and not lease.fast(at(3), 9_600)
    lease.set_floor(1, {0: 50})  # a read begun in the old epoch does not count
    assert lease.floor is None
    lease.set_floor(2, {0: 40})
    assert lease.fast(at(40), 9_600) and not lease.fast(at(39), 9_600)
    assert lease.boot_floor == {0: 0}  # the run's own floor never moves


def test_admission_skips_old_runs_duplicates_and_overdue_work() -> None:
    admission = Admission()
    floor = {0: 5}
    late = accepted(2, at_ms=1_000 - 70_000)
    assert admission.verdict(at(4), floor, now_ms=0) == "old_run"
    assert admission.verdict(at(5), floor, now_ms=0) == "run"
    assert admission.verdict(at(6), floor, now_ms=0) == "duplicate"
    # A retry of the same activation is another assignment.
    assert admission.verdict(at(7, attempt=1), floor, now_ms=0) == "run"
    assert admission.verdict(Assignment(late, 0, 0, 8), floor, now_ms=2_000) == "overdue"


def test_an_accepted_event_placed_by_the_api_is_an_assignment_of_attempt_0() -> None:
    a = accepted(1).model_copy(update={"invoker": 3, "decision": "home"})
    assert assignment_of(a, 3, 2, 17) == Assignment(a, 0, 2, 17)
    assert assignment_of(a, 4, 2, 17) is None
    assert assignment_of(accepted(1), 3, 2, 17) is None  # not placed: the controller's
    retry = scheduled(accepted(1), 3, attempt=1).model_copy(update={"accepted": accepted(1)})
    assert assignment_of(retry, 3, 0, 5) == Assignment(accepted(1), 1, 0, 5)


def test_before_starting_the_ledger_must_show_no_claim_no_end_and_no_newer_retry() -> None:
    a = accepted(1)
    assert may_start(fold([a, scheduled(a, 0)]), 0)
    assert not may_start(fold([a, scheduled(a, 0), started(a, 0)]), 0)
    assert not may_start(fold([a, scheduled(a, 0), completed(a)]), 0)
    assert not may_start(fold([a, scheduled(a, 0), scheduled(a, 1, attempt=1)]), 0)


def test_a_start_is_confirmed_only_when_it_is_the_claim_in_the_ledger() -> None:
    a = accepted(1)
    mine = started(a, 0)
    assert confirmed([a, scheduled(a, 0), mine], mine)
    assert not confirmed([a, scheduled(a, 0), scheduled(a, 1, attempt=1), mine], mine)
    assert not confirmed([a, scheduled(a, 0)], mine)  # not found: no chance taken
    other = started(a, 0, source="invoker0@9")
    assert not confirmed([a, scheduled(a, 0), other, mine], mine)
