"""Verifying a rebuild: records compared field by field."""

from __future__ import annotations

from projections.compare import MISSING, record_differences
from projections.record import apply_all
from tests.support.events import four

A = "0" * 12 + "a" * 20
B = "0" * 12 + "b" * 20


def test_identical_records_have_no_differences() -> None:
    rec = apply_all(None, four(A))
    assert rec is not None
    assert record_differences(A, {**rec, "_rev": "1-a"}, {**rec, "_rev": "2-b"}) == []


def test_differences_name_the_field_and_both_values() -> None:
    rec = apply_all(None, four(A))
    assert rec is not None
    changed = {**rec, "response": {**rec["response"], "result": {"ok": False}}}
    diffs = record_differences(A, rec, changed)
    assert [(d.field, d.live, d.rebuilt) for d in diffs] == [
        ("response.result.ok", True, False),
    ]
    # The ledger parts are compared too, down to their leaves.
    assert any(
        d.field.startswith("ledger.parts")
        for d in record_differences(A, rec, apply_all(None, four(A)[:3]))
    )


def test_a_missing_record_is_one_difference() -> None:
    rec = apply_all(None, four(A))
    assert [(d.live, d.rebuilt) for d in record_differences(A, rec, None)] == [("present", MISSING)]
    assert [(d.live, d.rebuilt) for d in record_differences(A, None, rec)] == [(MISSING, "present")]


def test_a_field_present_on_one_side_only_differs() -> None:
    rec = apply_all(None, four(A))
    assert rec is not None
    extra = {**rec, "cause": "x"}
    assert [(d.field, d.live, d.rebuilt) for d in record_differences(A, rec, extra)] == [
        ("cause", MISSING, "x")
    ]


def test_only_what_the_cut_covers_is_compared() -> None:
    from projections.compare import verdict
    from projections.record import apply_all
    from tests.support.events import four

    a = "0" * 12 + "a" * 20
    whole = apply_all(None, four(a))
    started = apply_all(None, four(a)[:3])
    assert verdict(a, whole, None, frozenset()) == "compare"
    # The log touched it after the cut: the live record may hold what the rebuild cannot.
    assert verdict(a, whole, None, {a}) == "after_cut"
    assert verdict(a, None, None, {a}) == "after_cut"  # accepted after the cut: live only
    # Running at the cut: the live record may have completed since.
    assert verdict(a, started, None, frozenset()) == "open_at_cut"
    # A record the rebuild lacks, untouched after the cut, is compared (and differs).
    assert verdict(a, None, None, frozenset()) == "compare"


def test_differences_of_records_touched_during_the_comparison_move_apart() -> None:
    from projections.compare import Difference, Verified

    found = Verified(
        10, [Difference("x", "logs", 1, 2), Difference("y", "(record)", "present", "<missing>")]
    )
    moved = found.without({"y", "z"})
    assert moved.compared == 9 and [d.activation_id for d in moved.differences] == ["x"]
    assert moved.after_cut == 1 and moved.not_compared == 1
    assert found.without(set()) is found


def test_the_writer_has_reached_the_cut_when_every_partition_has() -> None:
    from projections.cut import reached

    assert reached({0: 5, 1: 7}, {0: 5, 1: 7})
    assert not reached({0: 5, 1: 6}, {0: 5, 1: 7})
    assert reached({}, {0: 0}) and not reached({}, {0: 1})  # never committed: at 0
