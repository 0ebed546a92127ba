"""Triggers and rules: CRUD, fire, enable/disable, the trigger's record, causes."""

from __future__ import annotations

import json
import re

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
        (
            {"trigger": 5, "action": "/_/a1"},
            "The request content was malformed:\nfully qualified name malformed",
        ),
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
    # Its trigger gone, the rule is inactive: disabling it has nothing to do (Rules.scala
    # activate, RulesApiTests "do nothing to disable already disabled rule"); enabling is 404.
    status, body = await client.request("POST", "rules/r2", json={"status": "inactive"})
    assert (status, body) == (200, {})
    status, body = await client.request("POST", "rules/r2", json={"status": "active"})
    assert (status, body["error"]) == (404, "Only rules with existing triggers can be activated")
    status, body = await client.request("DELETE", "rules/r2")
    assert status == 200


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


PARAMETERS_NOT_ALLOWED = (
    "Request defines parameters that are not allowed (e.g., reserved properties)."
)


async def fired_lines(client: Client, payload: dict) -> dict[str, dict]:
    """Fire ``t`` with ``payload`` (sent as compact JSON): its record's log lines by rule name."""
    data = json.dumps(payload, separators=(",", ":")).encode()
    status, fired = await client.request("POST", "triggers/t", data=data)
    assert status == 202, fired
    record = await client.activation(fired["activationId"])
    return {json.loads(line)["rule"].split("/")[-1]: json.loads(line) for line in record["logs"]}


async def test_a_rule_may_not_override_a_final_parameter(client: Client) -> None:
    await client.put_action(
        "fin", ECHO, parameters=kv(fp=1), annotations=[{"key": "final", "value": True}]
    )
    await client.put_action("open", ECHO, parameters=kv(fp=1))
    await client.request("PUT", "triggers/t", json={})
    await client.request("PUT", "rules/rfin", json={"trigger": "/_/t", "action": "/_/fin"})
    await client.request("PUT", "rules/ropen", json={"trigger": "/_/t", "action": "/_/open"})
    status, body = await client.invoke("fin", {"fp": 2})
    assert (status, body["error"]) == (400, PARAMETERS_NOT_ALLOWED)

    lines = await fired_lines(client, {"fp": 2})
    assert lines["rfin"] == {
        "statusCode": 1,
        "success": False,
        "rule": f"{client.namespace}/rfin",
        "action": f"{client.namespace}/fin",
        "error": PARAMETERS_NOT_ALLOWED,
    }
    assert lines["ropen"]["success"] is True
    opened = await client.activation(lines["ropen"]["activationId"])
    assert opened["response"]["result"]["fp"] == 2

    # The trigger's own parameters are part of the action's arguments (Triggers.scala).
    status, _ = await client.request(
        "PUT", "triggers/t", json={"parameters": kv(fp=3)}, params={"overwrite": "true"}
    )
    assert status == 200
    lines = await fired_lines(client, {})
    assert (lines["rfin"]["success"], lines["rfin"]["error"]) == (False, PARAMETERS_NOT_ALLOWED)
    # Arguments that do not touch a final parameter run the final action.
    status, _ = await client.request(
        "PUT", "triggers/t", json={"parameters": []}, params={"overwrite": "true"}
    )
    lines = await fired_lines(client, {"other": 1})
    assert lines["rfin"]["success"] is True
    ran = await client.activation(lines["rfin"]["activationId"])
    assert ran["response"]["result"]["fp"] == 1 and ran["response"]["result"]["other"] == 1


async def test_a_rules_arguments_over_the_payload_limit_run_nothing(client: Client) -> None:
    await client.put_action("echo", ECHO)
    await client.request("PUT", "triggers/t", json={"parameters": kv(tp=1)})
    await client.request("PUT", "rules/r", json={"trigger": "/_/t", "action": "/_/echo"})
    payload = {"a": "x" * (1024 * 1024 - 8)}  # exactly 1 MB: a fire takes it
    assert len(json.dumps(payload, separators=(",", ":"))) == 1024 * 1024
    lines = await fired_lines(client, payload)
    entry = lines["r"]
    assert entry["statusCode"] == 1 and entry["success"] is False, entry
    assert "activationId" not in entry
    found = re.fullmatch(r"Request larger than allowed: (\d+) > 1048576 bytes\.", entry["error"])
    assert found is not None, entry["error"]
    # The payload, the trigger's parameter and __ow_headers, as compact JSON.
    assert int(found.group(1)) > 1024 * 1024 + len(',"tp":1')
    small = await fired_lines(client, {"a": "x"})
    assert small["r"]["success"] is True


async def test_rule_names_are_fully_qualified(client: Client) -> None:
    await client.put_action("a1", ECHO)
    await client.request("PUT", "triggers/t1", json={})
    await client.request("PUT", "triggers/t2", json={})
    ns = client.namespace
    # The object form the API answers: a GET -> PUT round trip works.
    status, rule = await client.request(
        "PUT",
        "rules/robj",
        json={"trigger": {"path": ns, "name": "t1"}, "action": {"path": "_", "name": "a1"}},
    )
    assert status == 200, rule
    assert rule["trigger"] == {"path": ns, "name": "t1"}
    assert rule["action"] == {"path": ns, "name": "a1"}
    status, got = await client.request("GET", "rules/robj")
    status, updated = await client.request(
        "PUT", "rules/robj", json=got, params={"overwrite": "true"}
    )
    assert status == 200, updated
    # The body's own version is kept, as WhiskRulePut's ``version`` is (not bumped).
    assert updated["version"] == got["version"] and updated["status"] == "active"
    assert (updated["trigger"], updated["action"]) == (got["trigger"], got["action"])
    # A string's first segment is the namespace, with or without a leading slash.
    status, rule = await client.request(
        "PUT", "rules/rstr", json={"trigger": f"{ns}/t2", "action": "_/a1"}
    )
    assert status == 200, rule
    assert rule["trigger"] == {"path": ns, "name": "t2"}
    not_qualified = (
        "The request content was malformed:\nrequirement failed: The fully qualified name of "
        "the entity must contain at least the namespace and the name of the entity."
    )
    for body in ({"trigger": "t1", "action": "/_/a1"}, {"trigger": "/_/t1", "action": "a1"}):
        status, answer = await client.request("PUT", "rules/rbad", json=body)
        assert (status, answer["error"]) == (400, not_qualified), body
    # ``pkg/name`` is namespace ``pkg``, action ``name``: not the caller's to read.
    status, answer = await client.request(
        "PUT", "rules/rbad", json={"trigger": "/_/t1", "action": "somepkg/a1"}
    )
    assert status == 403
    assert answer["error"] == (
        "The supplied authentication is not authorized to access 'somepkg/a1'."
    )
    status, _ = await client.request("GET", "rules/rbad")
    assert status == 404


async def test_rule_status_texts(client: Client) -> None:
    await client.put_action("a1", ECHO)
    await client.request("PUT", "triggers/t", json={})
    await client.request("PUT", "rules/r", json={"trigger": "/_/t", "action": "/_/a1"})
    malformed = "The request content was malformed:\n"
    for body, detail in (
        ({"status": "xxx"}, "requirement failed: xxx is not a recognized rule state"),
        ({}, "key not found: status"),
        ({"status": None}, "null (of class spray.json.JsNull$)"),
    ):
        status, answer = await client.request("POST", "rules/r", json=body)
        assert (status, answer["error"]) == (400, malformed + detail), body
    status, _ = await client.request("POST", "rules/r", json={"status": " inactive "})
    assert status == 200
    status, got = await client.request("GET", "rules/r")
    assert got["status"] == "inactive"


async def test_rule_references_are_entitled_before_they_are_looked_up(client: Client) -> None:
    await client.put_action("a1", ECHO)
    await client.request("PUT", "triggers/t", json={})
    status, answer = await client.request(
        "PUT",
        "rules/r",
        json={"trigger": "/_/nosuch", "action": "/whisk.system/secret"},
    )
    assert status == 403, answer
    assert answer["error"] == (
        "The supplied authentication is not authorized to access 'whisk.system/secret'."
    )
    status, answer = await client.request(
        "PUT",
        "rules/r",
        json={"trigger": "/nosuchns/t", "action": "/whisk.system/secret"},
    )
    assert status == 403
    assert answer["error"] == (
        "The supplied authentication is not authorized to access 'nosuchns/t, whisk.system/secret'."
    )
    # Entitled first, then the 409 of an existing rule (Rules.scala create: putEntity after).
    await client.request("PUT", "rules/r", json={"trigger": "/_/t", "action": "/_/a1"})
    status, answer = await client.request(
        "PUT", "rules/r", json={"trigger": "/_/t", "action": "/whisk.system/secret"}
    )
    assert status == 403, answer
