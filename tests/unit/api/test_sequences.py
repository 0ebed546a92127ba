"""The sequence accounting: chaining, stopping on errors, the sequence's record."""

from __future__ import annotations

from api.sequences import Accounting
from streams import constants
from tests.support import events


def completed(aid: str, result: dict | list, code: int = 0, duration: int = 5, memory: int = 256):
    return events.completed(
        events.accepted(activation_id=aid, at_ms=0),
        result=result,
        status_code=code,
        start_ms=0,
        end_ms=duration,
        annotations=[{"key": "limits", "value": {"memory": memory}}],
    )


def test_output_of_one_is_input_of_the_next() -> None:
    acct = Accounting.start({"n": 1})
    assert acct.next_input() == {"n": 1}
    acct = acct.after(completed("a" * 32, {"n": 2}), 1)
    assert acct.next_input() == {"n": 2} and not acct.stopped
    acct = acct.after(completed("b" * 32, {"n": 3}, duration=7, memory=512), 2)
    assert acct.logs == ("a" * 32, "b" * 32)
    assert acct.duration_ms == 12 and acct.max_memory_mb == 512 and acct.atomic == 2


def test_an_array_result_is_the_next_input_as_it_is() -> None:
    # OpenWhisk's SequenceActions.invokeNextAction passes a JsArray on unchanged.
    acct = Accounting.start({"payload": "b\na"}).after(completed("a" * 32, ["b", "a"]), 1)
    assert acct.next_input() == ["b", "a"] and not acct.stopped
    assert acct.response.result == ["b", "a"]


def test_an_error_field_stops_the_chain() -> None:
    acct = Accounting.start({}).after(completed("a" * 32, {"error": "no"}, code=1), 1)
    assert acct.stopped and acct.response.status_code == 1


def test_a_failure_keeps_its_activation_id_in_the_logs() -> None:
    acct = Accounting.start({}).fail(3, "Sequence failed.", "c" * 32)
    assert acct.stopped and acct.logs == ("c" * 32,)
    assert acct.response.result == {"error": "Sequence failed."}


def test_the_sequence_record_lists_components_and_sums_durations() -> None:
    accepted = events.accepted(
        activation_id="s" * 32, at_ms=100, action="ns/seq", kind=constants.KIND_SEQUENCE
    )
    acct = Accounting.start({}).after(completed("a" * 32, {"x": 1}, duration=4), 1)
    done = acct.completed(accepted, topmost=True, end_ms=150, source="t")
    assert done.logs == ["a" * 32] and done.duration_ms == 4
    assert done.start_ms == 100 and done.end_ms == 150
    keys = {a["key"]: a["value"] for a in done.annotations}
    assert keys["topmost"] is True and keys["kind"] == "sequence" and keys["path"] == "ns/seq"
