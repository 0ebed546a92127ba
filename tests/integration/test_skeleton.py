"""The walking skeleton: one invocation through every real hop."""

from __future__ import annotations

import pytest

from streams.events import (
    ACCEPTED,
    COMPLETED,
    STARTED,
    ActivationAccepted,
    ActivationCompleted,
    ActivationStarted,
)
from streams.history import read_activation
from streams.settings import Settings
from tests.support.client import Client
from tests.support.stack import API

pytestmark = pytest.mark.integration

HELLO = 'def main(args):\n    return {"greeting": "Hello " + args.get("name", "stranger")}\n'


async def test_blocking_invoke_returns_the_result(client: Client) -> None:
    status, body = await client.put_action("hello", HELLO)
    assert status == 200, body
    assert isinstance(body, dict) and body["exec"]["kind"] == "python:3.11"

    status, body = await client.invoke("hello", {"name": "Ada"}, result=True)
    assert (status, body) == (200, {"greeting": "Hello Ada"})


async def test_blocking_invoke_returns_the_whole_record(client: Client) -> None:
    await client.put_action("hello", HELLO)
    status, body = await client.invoke("hello", {"name": "Bo"})
    assert status == 200, body
    assert isinstance(body, dict)
    assert body["response"] == {
        "status": "success",
        "statusCode": 0,
        "success": True,
        "result": {"greeting": "Hello Bo"},
        "size": body["response"]["size"],
    }
    assert body["namespace"] == client.namespace and body["name"] == "hello"
    annotations = {a["key"]: a["value"] for a in body["annotations"]}
    assert annotations["path"] == f"{client.namespace}/hello"
    assert annotations["kind"] == "python:3.11"
    assert body["end"] >= body["start"] > 0


async def test_non_blocking_invoke_answers_202_then_the_record_appears(client: Client) -> None:
    await client.put_action("hello", HELLO)
    status, body = await client.invoke("hello", {"name": "Cy"}, blocking=False)
    assert status == 202 and isinstance(body, dict)
    activation_id = body["activationId"]
    assert len(activation_id) == 32
    record = await client.activation(activation_id)
    assert record["activationId"] == activation_id
    assert record["response"]["result"] == {"greeting": "Hello Cy"}


async def test_the_three_events_are_in_the_log_in_order(client: Client, stack: Settings) -> None:
    await client.put_action("hello", HELLO)
    status, body = await client.invoke("hello", {"name": "Di"})
    assert status == 200 and isinstance(body, dict)
    logged = await read_activation(stack, body["activationId"])
    # The API placed it: its acceptance names the invoker (and is its dispatch).
    assert [e.event.type for e in logged] == [ACCEPTED, STARTED, COMPLETED]
    offsets = [e.offset for e in logged]
    assert offsets == sorted(offsets)
    assert [e.event.seq for e in logged] == [1, 3, 4]
    accepted, started, completed = (e.event for e in logged)
    assert isinstance(accepted, ActivationAccepted) and isinstance(started, ActivationStarted)
    assert accepted.params == {"name": "Di"}
    assert accepted.invoker == started.invoker == 0 and accepted.decision == "home"
    # The completion carries what the record needs of the acceptance.
    assert isinstance(completed, ActivationCompleted) and completed.head == accepted.head()


async def test_get_activation_matches_the_blocking_answer(client: Client) -> None:
    await client.put_action("hello", HELLO)
    status, body = await client.invoke("hello", {"name": "Ed"})
    assert status == 200 and isinstance(body, dict)
    record = await client.activation(body["activationId"])
    assert record == body


async def test_malformed_json_is_a_400_with_an_error_body(client: Client) -> None:
    status, body = await client.request(
        "PUT", "actions/broken", data=b"{not json", params={"overwrite": "true"}
    )
    assert status == 400 and isinstance(body, dict)
    assert "malformed" in body["error"] and body["code"]


async def test_missing_exec_is_a_400(client: Client) -> None:
    status, body = await client.request("PUT", "actions/noexec", json={"parameters": []})
    assert status == 400 and isinstance(body, dict)
    assert body["error"] == "exec undefined"
    status, _ = await client.request("GET", "actions/noexec")
    assert status == 404


async def test_unknown_action_is_a_404(client: Client) -> None:
    status, body = await client.invoke("nosuchaction", {})
    assert status == 404 and isinstance(body, dict)
    assert body["error"] == "The requested resource does not exist."


async def test_missing_or_wrong_credentials_are_401(client: Client) -> None:
    status, body = await client.request("GET", "actions", auth=False)
    assert status == 401 and isinstance(body, dict) and body["error"]
    status, body = await client.request("GET", "actions", auth=client.key.split(":")[0] + ":wrong")
    assert status == 401


async def test_another_namespace_is_forbidden(client: Client) -> None:
    async with client.session.get(
        f"{API}/api/v1/namespaces/guest/actions", headers={"Authorization": client.auth}
    ) as resp:
        assert resp.status == 403
