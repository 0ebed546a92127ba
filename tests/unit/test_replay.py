"""Projection rebuild and verification (pure parts), and the re-run's accepted event."""

from __future__ import annotations

from api.auth import Identity
from api.rerun import REPLAY_OF, rerun_of
from projections.compare import MISSING, comparable, record_differences
from projections.rebuild import horizon, selected, total_of
from projections.record import apply_all, public_view
from streams.events import ActivationAccepted
from streams.history import LogRecord

from .ledger_events import four

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


def _original() -> ActivationAccepted:
    first = four(A, params={"name": "Ada", "n": 3})[0]
    assert isinstance(first, ActivationAccepted)
    return first


def test_a_replay_keeps_the_parameters_and_the_original_revision() -> None:
    original = _original()
    again = rerun_of(original, GUEST, source="api1", blocking=False, grace_ms=10_000)
    assert again.params == {"name": "Ada", "n": 3}
    assert (again.action_rev, again.action_version, again.kind) == ("1-x", "0.0.1", "python:3.11")
    assert again.activation_id != A and again.seq == 1 and again.subject == "guest"
    assert again.deadline_ms == again.at_ms + original.limits.timeout_ms + 10_000
    assert again.reply_to == "api1" and not again.blocking
    assert (
        again.cause is not None and again.cause.kind == "replay" and again.cause.activation_id == A
    )
    assert again.annotations == [{"key": REPLAY_OF, "value": A}]


def test_a_replay_of_the_current_version_takes_its_code_and_limits() -> None:
    current = {
        "_rev": "3-z",
        "version": "0.0.3",
        "exec": {"kind": "nodejs:18", "main": "run"},
        "limits": {"timeout": 5000, "memory": 128, "logs": 1, "concurrency": 1},
    }
    again = rerun_of(_original(), GUEST, source="api0", blocking=True, grace_ms=0, current=current)
    assert (again.action_rev, again.action_version, again.kind, again.main) == (
        "3-z",
        "0.0.3",
        "nodejs:18",
        "run",
    )
    assert again.limits.timeout_ms == 5000 and again.deadline_ms == again.at_ms + 5000
    assert again.params == {"name": "Ada", "n": 3}


def test_a_replay_of_a_replay_names_only_the_one_it_replays() -> None:
    first = rerun_of(_original(), GUEST, source="a", blocking=False, grace_ms=0)
    second = rerun_of(first, GUEST, source="a", blocking=False, grace_ms=0)
    assert second.annotations == [{"key": REPLAY_OF, "value": first.activation_id}]


def test_the_replay_annotation_reaches_the_record() -> None:
    first = rerun_of(_original(), GUEST, source="a", blocking=False, grace_ms=0)
    rest = [e.model_copy(update={"activation_id": first.activation_id}) for e in four(A)[1:]]
    shown = public_view(apply_all(None, [first, *rest]) or {})
    assert {"key": REPLAY_OF, "value": A} in shown["annotations"]
    assert shown["annotations"][0]["key"] == "path"  # the completion's come first
    assert shown["cause"] == A


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
