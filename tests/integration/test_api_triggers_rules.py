"""Triggers and rules: CRUD, fire, enable/disable, the trigger's record, causes."""

from __future__ import annotations

import json

import pytest

from streams.events import ACCEPTED, COMPLETED
from streams.history import read_activation
from streams.settings import Settings
from tests.support.api import activations_of, kv
from tests.support.client import Client
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

ECHO = "def main(args):\n    return args\n"


async def test_trigger_crud(client: Client) -> None:
    status, created = await client.request(
        "PUT", "triggers/t", json={"parameters": kv(a=1), "annotations": kv(d="x")}
    )
    assert status == 200, created
    assert created["parameters"] == kv(a=1) and created["limits"] == {}
    status, _ = await client.request("PUT", "triggers/t", json={})
    assert status == 409
    status, updated = await client.request(
        "PUT", "triggers/t", json={"parameters": kv(a=2)}, params={"overwrite": "true"}
    )
    assert updated["version"] == "0.0.2" and updated["parameters"] == kv(a=2)
    status, listed = await client.request("GET", "triggers")
    assert [t["name"] for t in listed] == ["t"]
    status, count = await client.request("GET", "triggers", params={"count": "true"})
    assert count == {"triggers": 1}
    status, fired = await client.request("POST", "triggers/t", json={"x": 1})
    assert (status, fired) == (204, None)
    status, body = await client.request(
        "PUT", "triggers/f", json={"annotations": kv(feed="not a/valid/feed/name")}
    )
    assert (status, body["error"]) == (400, "Feed name is not valid")
    status, _ = await client.request("DELETE", "triggers/t")
    assert status == 200
    status, _ = await client.request("GET", "triggers/t")
    assert status == 404
    status, _ = await client.request("POST", "triggers/t", json={})
    assert status == 404


async def test_firing_runs_every_active_rule(client: Client, stack: Settings) -> None:
    await client.put_action("echo", ECHO, parameters=kv(fromAction=1))
    await client.request("PUT", "triggers/t", json={"parameters": kv(fromTrigger=1)})
    status, rule = await client.request(
        "PUT", "rules/r", json={"trigger": "/_/t", "action": "/_/echo"}
    )
    assert status == 200, rule
    assert rule["status"] == "active"
    assert rule["trigger"] == {"path": client.namespace, "name": "t"}
    assert rule["action"] == {"path": client.namespace, "name": "echo"}
    status, trig = await client.request("GET", "triggers/t")
    assert trig["rules"] == {
        f"{client.namespace}/r": {
            "action": {"path": client.namespace, "name": "echo"},
            "status": "active",
        }
    }

    status, fired = await client.request("POST", "triggers/t", json={"payload": "hi"})
    assert status == 202, fired
    trigger_id = fired["activationId"]
    record = await client.activation(trigger_id)
    assert record["name"] == "t" and record["response"]["result"] == {"payload": "hi"}
    [line] = record["logs"]
    entry = json.loads(line)
    assert entry["success"] is True and entry["statusCode"] == 0
    assert entry["rule"] == f"{client.namespace}/r"
    assert entry["action"] == f"{client.namespace}/echo"
    action_record = await client.activation(entry["activationId"])
    assert action_record["cause"] == trigger_id
    result = dict(action_record["response"]["result"])
    # The fire request's headers reach the rule's action (Triggers.scala fire), in lower
    # case; the trigger's own record keeps the payload alone.
    headers = result.pop("__ow_headers")
    assert headers["content-type"] == "application/json" and "authorization" in headers
    assert result == {"fromAction": 1, "fromTrigger": 1, "payload": "hi"}
    logged = await read_activation(stack, trigger_id)
    assert [e.event.type for e in logged] == [ACCEPTED, COMPLETED]

    status, body = await client.request("POST", "rules/r", json={"status": "inactive"})
    assert status == 200
    status, got = await client.request("GET", "rules/r")
    assert got["status"] == "inactive"
    status, _ = await client.request("POST", "triggers/t", json={})
    assert status == 204
    status, _ = await client.request("POST", "rules/r", json={"status": "inactive"})
    assert status == 200
    status, body = await client.request("POST", "rules/r", json={"status": "paused"})
    assert status == 400 and "not a recognized rule state" in body["error"]
    status, _ = await client.request("POST", "rules/r", json={"status": "active"})
    status, fired = await client.request("POST", "triggers/t", json={})
    assert status == 202


async def test_rule_crud_and_references(client: Client) -> None:
    await client.put_action("a1", ECHO)
    await client.put_action("a2", ECHO)
    await client.request("PUT", "triggers/t1", json={})
    await client.request("PUT", "triggers/t2", json={})
    for body, fragment in (
        (
            {"trigger": "/_/nosuch", "action": "/_/a1"},
            f"trigger /{client.namespace}/nosuch does not exist",
        ),
        (
            {"trigger": "/_/t1", "action": "/_/nosuch"},
            f"action /{client.namespace}/nosuch does not exist",
        ),
        ({"trigger": "/_/t1"}, "rule requires a valid trigger and a valid action"),
        ({"trigger": 5, "action": "/_/a1"}, "rule requires a valid trigger and a valid action"),
    ):
        status, answer = await client.request("PUT", "rules/bad", json=body)
        assert status == 400 and fragment in answer["error"], answer
    status, _ = await client.request("GET", "rules/bad")
    assert status == 404
    status, t1 = await client.request("GET", "triggers/t1")
    assert not t1.get("rules")

    await client.request("PUT", "rules/r", json={"trigger": "/_/t1", "action": "/_/a1"})
    await client.request("POST", "rules/r", json={"status": "inactive"})
    status, moved = await client.request(
        "PUT",
        "rules/r",
        json={"trigger": "/_/t2", "action": "/_/a2"},
        params={"overwrite": "true"},
    )
    assert status == 200 and moved["status"] == "inactive" and moved["version"] == "0.0.2"
    status, t1 = await client.request("GET", "triggers/t1")
    assert t1["rules"] == {}
    status, t2 = await client.request("GET", "triggers/t2")
    assert list(t2["rules"]) == [f"{client.namespace}/r"]
    status, listed = await client.request("GET", "rules")
    assert [(r["name"], r["status"]) for r in listed] == [("r", "inactive")]
    status, count = await client.request("GET", "rules", params={"count": "true"})
    assert count == {"rules": 1}
    status, deleted = await client.request("DELETE", "rules/r")
    assert status == 200 and deleted["status"] == "inactive"
    status, t2 = await client.request("GET", "triggers/t2")
    assert t2["rules"] == {}
    await client.request("PUT", "rules/r2", json={"trigger": "/_/t1", "action": "/_/a1"})
    await client.request("DELETE", "triggers/t1")
    status, body = await client.request("POST", "rules/r2", json={"status": "inactive"})
    assert (status, body["error"]) == (404, "Only rules with existing triggers can be activated")


async def test_a_rule_whose_action_disappeared_is_logged_on_the_trigger(client: Client) -> None:
    await client.put_action("gone", ECHO)
    await client.put_action("stays", ECHO)
    await client.request("PUT", "triggers/t", json={})
    await client.request("PUT", "rules/r1", json={"trigger": "/_/t", "action": "/_/gone"})
    await client.request("PUT", "rules/r2", json={"trigger": "/_/t", "action": "/_/stays"})
    await client.request("DELETE", "actions/gone")
    status, fired = await client.request("POST", "triggers/t", json={})
    assert status == 202
    record = await client.activation(fired["activationId"])
    entries = {json.loads(line)["rule"].split("/")[-1]: json.loads(line) for line in record["logs"]}
    assert entries["r1"]["success"] is False and entries["r1"]["statusCode"] == 1
    assert entries["r1"]["error"] == "The requested resource does not exist."
    assert entries["r2"]["success"] is True

    async def ran() -> bool:
        return any(a["name"] == "stays" for a in await activations_of(client))

    await eventually(ran, what="the surviving rule's activation")
