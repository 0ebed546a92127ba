"""The projection writer's batch: what it writes."""

from __future__ import annotations

from projections.record import apply_all
from projections.writer import writes_for
from tests.support.events import four

AID = "0" * 12 + "a" * 20


def events() -> list:
    return four(AID)


def test_a_record_believed_new_is_written_without_a_revision() -> None:
    evs = events()
    [doc] = writes_for({AID: evs[:2]}, {AID: None})
    assert doc["_id"] == AID and "_rev" not in doc
    assert doc["ledger"]["state"] == "activation.scheduled"


def test_a_known_record_is_written_over_its_revision() -> None:
    evs = events()
    before = {**(apply_all(None, evs[:2]) or {}), "_id": AID, "_rev": "2-abc"}
    [doc] = writes_for({AID: evs[2:]}, {AID: before})
    assert doc["_rev"] == "2-abc"
    assert doc["response"]["result"] == {"ok": True}


def test_events_already_in_the_record_write_nothing() -> None:
    evs = events()
    before = {**(apply_all(None, evs) or {}), "_id": AID, "_rev": "4-abc"}
    assert writes_for({AID: evs[1:3]}, {AID: before}) == []
