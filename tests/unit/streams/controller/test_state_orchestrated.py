"""Sequences and trigger fires: the controller never schedules them, only watches their deadline."""

from __future__ import annotations

from streams import constants
from streams.controller.state import Append, ControllerState
from streams.events import ActivationAccepted, ActivationCompleted
from streams.registry import HeartbeatRegistry
from tests.support import events


def accepted(kind: str, deadline_ms: int = 1_000) -> ActivationAccepted:
    return events.accepted(
        activation_id="a" * 32,
        at_ms=0,
        action="ns/seq",
        kind=kind,
        deadline_ms=deadline_ms,
        annotations=[{"key": "causedBy", "value": "sequence"}],
    )


def state() -> ControllerState:
    return ControllerState(registry=HeartbeatRegistry(offline_after_ms=10_000), source="c")


def test_orchestrated_kinds_are_not_scheduled_nor_queued() -> None:
    controller = state()
    for kind in (constants.KIND_SEQUENCE, constants.KIND_TRIGGER):
        assert controller.on_accepted(accepted(kind), 0, 0, 0) == []
    assert not controller.queue and not controller.tracked


def test_an_orchestration_past_its_deadline_is_completed_with_an_error() -> None:
    controller = state()
    controller.on_accepted(accepted(constants.KIND_SEQUENCE, deadline_ms=500), 0, 0, 0)
    assert controller.tick(400) == []
    [out] = controller.tick(501)
    assert isinstance(out, Append)
    assert isinstance(out.event, ActivationCompleted)
    assert out.event.response.status_code == constants.STATUS_WHISK_ERROR
    keys = [a["key"] for a in out.event.annotations]
    assert keys[0] == "causedBy" and "path" in keys  # the API's annotations come first
    assert controller.tick(600) == []


def test_a_completed_orchestration_is_forgotten() -> None:
    controller = state()
    controller.on_accepted(accepted(constants.KIND_TRIGGER, deadline_ms=500), 0, 0, 0)
    done = events.completed(accepted(constants.KIND_TRIGGER), start_ms=0, end_ms=10)
    controller.on_completed(done.activation_id, 10)
    assert controller.tick(1_000) == []
