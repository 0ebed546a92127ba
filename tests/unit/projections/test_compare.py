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
