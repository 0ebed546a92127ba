"""Every kind of activation record, field by field, as OpenWhisk's API shows it.

A whole record is ``WhiskActivation.toExtendedJson`` (the response without
``statusCode``); a listed one without ``docs=true`` is ``summaryAsJson``. A
trigger's has no ``end`` nor ``duration`` (nor a response ``size``): clients
tell a trigger's record by that.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.api import PY_HELLO, activations_of, kv
from tests.support.client import Client
from tests.support.stack import API
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

RECORD = {
    "namespace",
    "name",
    "subject",
    "activationId",
    "start",
    "end",
    "response",
    "logs",
    "version",
    "publish",
    "annotations",
    "duration",
}
RESPONSE = {"result", "size", "success", "status"}
SUMMARY = {"namespace", "name", "version", "publish", "annotations", "activationId", "start"}
ENDED = {"end", "duration", "statusCode"}


def check_action_record(record: Any, status: str, caused: bool = False) -> None:
    assert isinstance(record, dict), record
    assert set(record) == RECORD | ({"cause"} if caused else set()), record
    assert set(record["response"]) == RESPONSE, record["response"]
    assert record["response"]["status"] == status
    assert record["response"]["success"] is (status == "success")
    assert record["duration"] == record["end"] - record["start"]


async def listed(client: Client, activation_id: str, docs: bool = False) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        query = {"docs": "true"} if docs else {}
        rows = await activations_of(client, limit="200", **query)
        return next((r for r in rows if r["activationId"] == activation_id), None)

    return await eventually(find, what=f"{activation_id} listed")


async def test_action_and_web_action_records(client: Client) -> None:
    await client.put_action("hello", PY_HELLO, annotations=kv(**{"web-export": True}))
    await client.put_action("fails", "def main(args):\n    return {'error': 'no'}\n")
    status, ok = await client.invoke("hello")
    assert status == 200
    check_action_record(ok, "success")
    status, failed = await client.invoke("fails")
    assert status == 502
    check_action_record(failed, "application error")
    assert failed["response"]["result"] == {"error": "no"}
    async with client.session.get(f"{API}/api/v1/web/{client.namespace}/default/hello.json") as r:
        assert r.status == 200
        web_id = r.headers["x-openwhisk-activation-id"]
    for activation_id in (ok["activationId"], failed["activationId"], web_id):
        stored = await client.activation(activation_id)
        check_action_record(stored, "application error" if stored["name"] == "fails" else "success")
        assert set(await listed(client, activation_id)) == SUMMARY | ENDED
        assert await listed(client, activation_id, docs=True) == stored
        status, result = await client.request("GET", f"activations/{activation_id}/result")
        assert status == 200 and result == stored["response"]


async def test_sequence_records(client: Client) -> None:
    await client.put_action("hello", PY_HELLO)
    components = ["/_/hello", "/_/hello"]
    await client.request(
        "PUT", "actions/seq", json={"exec": {"kind": "sequence", "components": components}}
    )
    status, seq = await client.invoke("seq")
    assert status == 200 and isinstance(seq, dict)
    assert set(seq) == RECORD and set(seq["response"]) == RESPONSE
    # OpenWhisk's sequence duration is the sum of its components' (SequenceActions.scala).
    parts = [await client.activation(i) for i in seq["logs"]]
    assert seq["duration"] == sum(p["duration"] for p in parts)
    for part in parts:
        check_action_record(part, "success", caused=True)
        assert part["cause"] == seq["activationId"]
    assert set(await listed(client, seq["activationId"])) == SUMMARY | ENDED


async def test_trigger_records_have_no_end_nor_duration(client: Client) -> None:
    await client.put_action("hello", PY_HELLO)
    await client.request("PUT", "triggers/t", json={})
    await client.request("PUT", "rules/r", json={"trigger": "/_/t", "action": "/_/hello"})
    status, fired = await client.request("POST", "triggers/t", json={"a": 1})
    assert status == 202 and isinstance(fired, dict)
    record = await client.activation(fired["activationId"])
    assert set(record) == RECORD - {"end", "duration"}, record
    assert record["response"] == {"result": {"a": 1}, "success": True, "status": "success"}
    assert record["annotations"] == []
    [line] = record["logs"]
    entry = json.loads(line)
    assert set(entry) == {"rule", "action", "statusCode", "success", "activationId"}
    summary = await listed(client, record["activationId"])
    assert set(summary) == SUMMARY, summary
    assert await listed(client, record["activationId"], docs=True) == record
    # The rule's action's record is an action's, caused by the trigger.
    caused = await client.activation(entry["activationId"])
    check_action_record(caused, "success", caused=True)
    assert caused["cause"] == record["activationId"]


async def test_a_timed_out_record_has_no_size(client: Client) -> None:
    slow = "import time\ndef main(args):\n    time.sleep(30)\n    return {}\n"
    await client.put_action("slow", slow, limits={"timeout": 500})
    status, record = await client.invoke("slow")
    assert status == 502 and isinstance(record, dict), record
    assert set(record) == RECORD
    assert record["response"] == {
        "result": {"error": "The action exceeded its time limits of 500 milliseconds."},
        "success": False,
        "status": "action developer error",
    }


async def test_a_record_the_platform_ends_has_the_same_shape(client: Client) -> None:
    # An image that is not on the invoker's host: the action never runs.
    status, body = await client.request(
        "PUT", "actions/gone", json={"exec": {"kind": "blackbox", "image": "lwt/none:nope"}}
    )
    assert status == 200, body
    status, record = await client.invoke("gone")
    assert status in (500, 502), record
    assert isinstance(record, dict) and set(record) == RECORD
    # A response the platform built has no size (OpenWhisk's developerError(msg)).
    assert set(record["response"]) == RESPONSE - {"size"}, record["response"]
    assert record["response"]["success"] is False
    stored = await client.activation(record["activationId"])
    assert stored == record
