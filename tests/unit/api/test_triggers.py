"""A trigger's rules: the arguments each rule's action gets, and what its invoke would refuse."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from api.auth import Identity
from api.context import Context
from api.entities import ACTION
from api.triggers import fire_rule, request_bytes, rule_args
from streams import constants
from tests.unit.api.entities_in_memory import EntitiesInMemory

NS = "guest"
IDENTITY = Identity(subject="guest", namespace=NS, uuid="u", key="k")
PARAMETERS_NOT_ALLOWED = (
    "Request defines parameters that are not allowed (e.g., reserved properties)."
)


@dataclass
class Started:
    activation_id: str


@dataclass
class FakeInvocations:
    started: list[dict[str, Any]] = field(default_factory=list)

    async def start(self, identity: Identity, target: Any, args: dict[str, Any], **_: Any) -> Any:
        self.started.append(args)
        return Started("a" * 32)


@dataclass
class FakeContext:
    entities: EntitiesInMemory
    invocations: FakeInvocations


def action(name: str, *, final: bool, **params: Any) -> dict[str, Any]:
    return {
        "_id": f"{NS}/{name}",
        "entityType": ACTION,
        "namespace": NS,
        "name": name,
        "exec": {"kind": "python:3.11", "code": "def main(a): return a"},
        "parameters": [{"key": k, "value": v} for k, v in params.items()],
        "annotations": [{"key": "final", "value": True}] if final else [],
    }


def context(*docs: dict[str, Any]) -> tuple[Context, FakeInvocations]:
    invocations = FakeInvocations()
    fake = FakeContext(EntitiesInMemory({d["_id"]: d for d in docs}), invocations)
    return cast(Context, fake), invocations


LINK = {"action": {"path": NS, "name": "a"}, "status": "active"}


async def line_of(c: Context, args: dict[str, Any]) -> dict[str, Any]:
    line = await fire_rule(c, IDENTITY, "t" * 32, f"{NS}/r", LINK, args, request_bytes(args))
    return dict(json.loads(line))


def test_rule_args_merge_trigger_parameters_headers_then_payload() -> None:
    trigger = {"parameters": [{"key": "tp", "value": 1}, {"key": "x", "value": "trigger"}]}
    args = rule_args(trigger, {"x": "payload"}, {"h": "v"})
    assert args == {"tp": 1, "x": "payload", "__ow_headers": {"h": "v"}}


async def test_a_fire_payload_may_not_set_a_final_parameter() -> None:
    c, invocations = context(action("a", final=True, fp=1))
    entry = await line_of(c, {"fp": 2})
    assert entry == {
        "statusCode": 1,
        "success": False,
        "rule": f"{NS}/r",
        "action": f"{NS}/a",
        "error": PARAMETERS_NOT_ALLOWED,
    }
    assert invocations.started == []


async def test_a_trigger_parameter_may_not_set_a_final_parameter_either() -> None:
    # Triggers.scala: the trigger's parameters are part of the internal POST's body.
    c, invocations = context(action("a", final=True, fp=1))
    args = rule_args({"parameters": [{"key": "fp", "value": 3}]}, {}, None)
    entry = await line_of(c, args)
    assert (entry["success"], entry["error"]) == (False, PARAMETERS_NOT_ALLOWED)
    assert invocations.started == []


async def test_other_arguments_reach_a_final_action() -> None:
    c, invocations = context(action("a", final=True, fp=1))
    entry = await line_of(c, {"other": 2})
    assert entry["success"] is True and entry["activationId"] == "a" * 32
    assert invocations.started == [{"other": 2}]
    c, invocations = context(action("a", final=False, fp=1))
    assert (await line_of(c, {"fp": 2}))["success"] is True


async def test_arguments_over_the_payload_limit_start_nothing() -> None:
    c, invocations = context(action("a", final=False))
    args = {"a": "x" * constants.PAYLOAD_MAX_BYTES}
    size = len(json.dumps(args, separators=(",", ":")))
    assert request_bytes(args) == size == constants.PAYLOAD_MAX_BYTES + 8
    entry = await line_of(c, args)
    assert entry["statusCode"] == 1 and entry["success"] is False
    assert entry["error"] == f"Request larger than allowed: {size} > 1048576 bytes."
    assert invocations.started == []
    at_limit = {"a": "x" * (constants.PAYLOAD_MAX_BYTES - 8)}
    assert request_bytes(at_limit) == constants.PAYLOAD_MAX_BYTES
    assert (await line_of(c, at_limit))["success"] is True


def test_request_bytes_count_utf8_and_compact_json() -> None:
    assert request_bytes({"k": "é"}) == len('{"k":"é"}'.encode())
    assert request_bytes({"a": [1, 2], "b": {}}) == len('{"a":[1,2],"b":{}}')
