"""The invoker's lease, admission, and claim confirmation."""

from __future__ import annotations

from invoker.lease import Admission, Lease, confirmed, may_start
from streams.claims import fold
from streams.events import Dispatch
from tests.support.events import accepted, completed, scheduled, started


def test_the_first_heartbeat_starts_an_epoch_whose_floor_comes_after() -> None:
    lease = Lease(limit_ms=8_000)
    assert lease.acked(0, 5) is True and lease.epoch == 1
    assert not lease.fast(10, 100)  # no floor yet
    lease.set_floor(1, 10)
    assert lease.boot_floor == 10 and lease.fast(10, 100) and not lease.fast(9, 100)


def test_the_lease_runs_out_without_acknowledged_heartbeats() -> None:
    lease = Lease(limit_ms=8_000)
    lease.acked(0, 5)
    lease.set_floor(1, 0)
    assert lease.holds(7_999) and not lease.holds(8_000)
    assert not lease.fast(5, 9_000)


def test_a_gap_starts_a_new_epoch_and_older_dispatches_lose_the_fast_path() -> None:
    lease = Lease(limit_ms=8_000)
    lease.acked(0, 5)
    lease.set_floor(1, 0)
    assert lease.acked(1_000, 1_005) is False
    assert lease.acked(2_000, 9_500) is True  # acknowledged 8.5 s after the last one was sent
    assert lease.floor is None and not lease.fast(3, 9_600)
    lease.set_floor(1, 50)  # a read begun in the old epoch does not count
    assert lease.floor is None
    lease.set_floor(2, 40)
    assert lease.fast(40, 9_600) and not lease.fast(39, 9_600)
    assert lease.boot_floor == 0  # the run's own floor never moves


def dispatch(n: int = 1, deadline_at: int = 1_000) -> Dispatch:
    a = accepted(n, at_ms=deadline_at - 70_000)
    return Dispatch(accepted=a, scheduled=scheduled(a, 0))


def test_admission_skips_old_runs_duplicates_and_overdue_work() -> None:
    admission = Admission()
    d = dispatch()
    assert admission.verdict(d, 4, boot_floor=5, now_ms=0) == "old_run"
    assert admission.verdict(d, 5, boot_floor=5, now_ms=0) == "run"
    assert admission.verdict(d, 6, boot_floor=5, now_ms=0) == "duplicate"
    assert admission.verdict(dispatch(2), 7, boot_floor=5, now_ms=2_000) == "overdue"


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
