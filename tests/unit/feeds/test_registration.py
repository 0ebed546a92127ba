"""feeds/registration.py: generations, the service's state, READ's status."""

from __future__ import annotations

from feeds import registration as reg

NOW = 1_800_000_000_000


def new() -> dict:
    return reg.new_registration(
        "/whisk.system/alarms/alarm", "alarm", "ns", "t", "u:k", {"kind": "cron"}, None, NOW
    )


def test_a_new_registration_is_active_and_its_own_cause_when_none_is_known() -> None:
    doc = new()
    assert doc["_id"] == "ns/t"
    assert doc["cause"] == doc["uuid"] and len(doc["uuid"]) == 32
    assert reg.status(doc, None) == {
        "active": True,
        "dateChanged": NOW,
        "dateChangedISO": "2027-01-15T08:00:00Z",
    }


def test_pause_is_a_new_generation_with_a_user_reason() -> None:
    paused = reg.changed(new(), NOW + 5, paused=True)
    assert paused["generation"] == 2
    status = reg.status(paused, None)
    assert status["active"] is False and status["reason"]["kind"] == "USER"
    assert not reg.is_live(paused, None)


def test_an_end_holds_for_its_generation_only() -> None:
    doc = new()
    state = reg.current_state(doc, None)
    ended = reg.ended(state, NOW + 10, "gone", 404)
    assert not reg.is_live(doc, ended)
    assert reg.status(doc, ended)["reason"] == {
        "kind": "AUTO",
        "statusCode": 404,
        "message": "gone",
    }
    assert reg.status(doc, ended)["dateChanged"] == NOW + 10
    updated = reg.changed(doc, NOW + 20, config={"kind": "cron", "cron": "*"})
    assert reg.is_live(updated, ended)
    assert reg.status(updated, ended)["active"] is True


def test_a_new_generation_replans_but_keeps_the_fire_in_flight_and_the_count() -> None:
    doc = new()
    state = {**reg.current_state(doc, None), "fired": 4, "next_ms": NOW + 1, "_rev": "3-x"}
    state = reg.with_pending(state, {"fire_id": "f" * 32, "due_ms": NOW + 1})
    fresh = reg.current_state(reg.changed(doc, NOW + 2), state)
    assert fresh["generation"] == 2 and fresh["next_ms"] is None and fresh["ended"] is None
    assert fresh["fired"] == 4 and fresh["pending"] == state["pending"]
    assert fresh["_rev"] == "3-x"
    assert reg.current_state(doc, state) is state


def test_after_a_fire_nothing_is_in_flight() -> None:
    state = reg.with_pending(reg.current_state(new(), None), {"fire_id": "f" * 32})
    after = reg.after_fire(state, NOW + 1_000)
    assert after["pending"] is None and after["fired"] == 1 and after["next_ms"] == NOW + 1_000


def test_create_over_a_registration_replaces_it_with_a_fresh_one() -> None:
    old = {**reg.changed(new(), NOW + 5, paused=True), "_rev": "2-x"}
    ended = reg.ended(reg.current_state(old, None), NOW + 6, "gone", 404)
    fresh = reg.new_registration(
        "/whisk.system/messaging/kafkaFeed",
        "kafka",
        "ns",
        "t",
        "u:k",
        {"kind": "kafka"},
        "c" * 32,
        NOW + 9,
    )
    replaced = reg.replacing(old, fresh)
    assert replaced["_rev"] == "2-x" and replaced["generation"] == 3
    assert replaced["uuid"] == fresh["uuid"] != old["uuid"]
    assert replaced["feed"] == "/whisk.system/messaging/kafkaFeed" and not replaced["paused"]
    # The old registration's end is its own state's (keyed by the old uuid): the new one
    # has none, so it runs.
    assert reg.is_live(replaced, None) and not reg.is_live(old, ended)
    assert reg.status(replaced, None)["active"] is True
