"""The projection merge: idempotent and order-tolerant."""

from __future__ import annotations

import itertools

from projections.record import apply_all, is_completed, public_view
from streams.events import Response
from tests.support.events import four

AID = "0" * 12 + "a" * 20


def events() -> list:
    return four(AID)


def test_clean_sequence_gives_a_completed_record() -> None:
    rec = apply_all(None, events())
    assert rec is not None and is_completed(rec)
    shown = public_view(rec)
    assert shown["response"]["result"] == {"ok": True}
    assert shown["response"]["status"] == "success"
    assert shown["name"] == "hello" and shown["duration"] == 8 and shown["logs"] == ["l1"]


def test_every_order_and_duplicates_give_the_same_record() -> None:
    clean = apply_all(None, events())
    for order in itertools.permutations(events()):
        doubled = list(order) + list(order[:2])
        assert apply_all(None, doubled) == clean


def test_applying_all_at_once_is_applying_one_by_one() -> None:
    for order in itertools.permutations(events()):
        record = None
        for event in order:
            record = apply_all(record, [event]) or record
        assert apply_all(None, list(order)) == record
        assert apply_all(record, list(order[:2])) is None


def test_reapplying_changes_nothing() -> None:
    clean = apply_all(None, events())
    assert apply_all(clean, events()) is None


def test_completed_without_started_matches_the_visible_record() -> None:
    evs = events()
    partial = apply_all(None, [evs[0], evs[3]])
    clean = apply_all(None, evs)
    assert partial is not None and clean is not None
    assert public_view(partial) == public_view(clean)


def test_the_earlier_of_two_completions_of_one_attempt_wins() -> None:
    evs = events()
    lost = evs[3].model_copy(
        update={
            "at_ms": 200,
            "source": "controller",
            "response": Response(status_code=3, result={"error": "x"}),
        }
    )
    a = apply_all(None, [*evs, lost])
    b = apply_all(None, [lost, *evs])
    assert a == b and a is not None
    assert a["response"]["statusCode"] == 0


def test_a_completion_with_a_head_alone_renders_the_whole_record() -> None:
    from streams import completion
    from streams.events import Response
    from tests.support import events

    a = events.accepted(1, namespace="guest", action="guest/pkg/hello", params={"p": 1})
    a = a.model_copy(update={"annotations": [{"key": "causedBy", "value": "sequence"}]})
    done = completion.of_run(
        a,
        0,
        "invoker0@1",
        0,
        Response(status_code=0, result={"ok": True}, size=11),
        start_ms=a.at_ms + 5,
        end_ms=a.at_ms + 9,
        logs=["l1"],
    )
    alone = apply_all(None, [done])
    assert alone is not None and is_completed(alone)
    # The same record as from the acceptance and the completion together.
    together = apply_all(None, [a, done])
    assert together is not None
    assert public_view(alone) == public_view(together)
    assert public_view(alone)["namespace"] == "guest" and public_view(alone)["name"] == "hello"


def test_an_array_result_survives_the_ledger_and_the_projection() -> None:
    from streams.events import decode_event, encode

    accepted, scheduled, started, done = events()
    done = done.model_copy(update={"response": Response(status_code=0, result=[1, "b"], size=7)})
    again = decode_event(encode(done))
    assert again == done and again.response.result == [1, "b"]
    rec = apply_all(None, [accepted, scheduled, started, again])
    assert rec is not None and public_view(rec)["response"]["result"] == [1, "b"]
