"""Projection rebuild (pure parts): what a rebuild reads, and how far back the log is whole."""

from __future__ import annotations

from api.auth import Identity
from projections.compare import comparable
from projections.rebuild import horizon, selected, total_of
from projections.record import apply_all
from streams.history import LogRecord
from tests.support.events import four

A = "0" * 12 + "a" * 20
B = "0" * 12 + "b" * 20
GUEST = Identity("guest", "guest", "u", "k")


def test_until_selects_what_the_log_had_received_by_then() -> None:
    record = LogRecord(0, 5, 1_000, b"k", b"{}")
    assert selected(record, None)
    assert selected(record, 1_000)
    assert not selected(record, 999)


def test_total_counts_the_records_to_read() -> None:
    assert total_of({0: 5, 1: 0, 2: 9}, {0: 10, 1: 3, 2: 9}) == 8


def test_a_whole_log_has_no_horizon() -> None:
    assert horizon({0: 0, 1: 0}, {0: 50, 1: 60}, now=1_000) is None


def test_the_horizon_is_when_the_latest_trimmed_partition_starts() -> None:
    assert horizon({0: 5, 1: 0, 2: 9}, {0: 50, 1: 10, 2: 70}, now=1_000) == 70
    # A trimmed partition that holds nothing lost everything up to now.
    assert horizon({0: 5, 1: 3}, {0: 50}, now=1_000) == 1_000


def test_only_records_whose_history_the_log_still_holds_are_compared() -> None:
    whole = apply_all(None, four(A))
    partial = apply_all(None, four(A)[1:])  # the acceptance expired
    assert comparable(A, whole, None) and comparable(A, partial, None)
    assert comparable(A, whole, horizon_ms=10**15)
    assert not comparable(A, partial, horizon_ms=1)
    old, new = f"{1_000:012x}" + "a" * 20, f"{5_000:012x}" + "a" * 20
    assert not comparable(old, None, horizon_ms=2_000)  # gone from the log: expired
    assert comparable(new, None, horizon_ms=2_000)  # should be there: a real difference
