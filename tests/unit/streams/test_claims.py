"""The claim rule: the first start of the most recently scheduled attempt wins."""

from __future__ import annotations

from streams.claims import Claim, fold
from tests.support.events import accepted, completed, scheduled, started

A = accepted(1)


def test_the_start_of_the_scheduled_attempt_is_the_claim() -> None:
    claim = fold([A, scheduled(A, 0), started(A, 0)])
    assert claim.holder is not None and claim.holder.attempt == 0
    assert claim.holds(started(A, 0))
    assert not claim.completed


def test_a_retry_after_the_claim_is_void() -> None:
    claim = fold([A, scheduled(A, 0), started(A, 0), scheduled(A, 1, attempt=1)])
    assert claim.holder is not None and claim.holder.invoker == 0
    assert claim.attempt == 0


def test_a_start_after_a_retry_is_void_and_the_retry_can_claim() -> None:
    late = started(A, 0)
    claim = fold([A, scheduled(A, 0), scheduled(A, 1, attempt=1), late])
    assert claim.holder is None and claim.attempt == 1
    claim = fold([started(A, 1, attempt=1)], claim)
    assert claim.holds(started(A, 1, attempt=1)) and not claim.holds(late)


def test_a_second_start_of_the_same_attempt_is_void() -> None:
    first = started(A, 0, source="invoker0@1")
    again = started(A, 0, source="invoker0@2")  # the same invoker after a restart
    claim = fold([A, scheduled(A, 0), first, again])
    assert claim.holds(first) and not claim.holds(again)


def test_an_older_schedule_read_late_changes_nothing() -> None:
    claim = fold([A, scheduled(A, 2, attempt=1), scheduled(A, 0)])
    assert (claim.attempt, claim.invoker) == (1, 2)


def test_completion_is_recorded() -> None:
    assert fold([A, scheduled(A, 0), started(A, 0), completed(A)]).completed
    assert Claim().holder is None


def test_an_accepted_placed_by_the_api_is_attempt_zero_scheduled() -> None:
    placed = accepted(2, invoker=1)
    claim = fold([placed, started(placed, 1)])
    assert claim.holder is not None and (claim.holder.attempt, claim.holder.invoker) == (0, 1)


def test_a_retry_of_an_api_placement_moves_the_claim_to_the_retry() -> None:
    placed = accepted(3, invoker=0)
    late = started(placed, 0)
    claim = fold([placed, scheduled(placed, 1, attempt=1), late])
    assert claim.holder is None and (claim.attempt, claim.invoker) == (1, 1)
    assert not fold([started(placed, 1, attempt=1)], claim).holds(late)


def test_an_unplaced_accepted_schedules_nothing() -> None:
    claim = fold([accepted(4)])
    assert claim.attempt is None and claim.invoker is None
