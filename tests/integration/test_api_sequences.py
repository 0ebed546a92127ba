"""Sequences: components as real activations, chaining, errors, the ledger's record."""

from __future__ import annotations

import pytest

from streams.events import ACCEPTED, COMPLETED
from streams.history import read_activation
from streams.settings import Settings
from tests.support.api import kv
from tests.support.client import Client
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

INC = "def main(args):\n    return {'n': args.get('n', 0) + 1}\n"
FAIL = "def main(args):\n    return {'error': 'stop here'}\n"


def seq(*components: str) -> dict:
    """A sequence's exec; a bare component name is the caller's (``/_/name``: OpenWhisk
    reads components as fully qualified names)."""
    named = [c if "/" in c else f"/_/{c}" for c in components]
    return {"exec": {"kind": "sequence", "components": named}}


async def test_a_sequence_chains_its_components(client: Client, stack: Settings) -> None:
    await client.put_action("inc", INC)
    status, created = await client.request(
        "PUT", "actions/s", json=seq("/_/inc", "inc", "/whisk.system/utils/echo")
    )
    assert status == 200, created
    assert created["exec"]["components"] == [
        f"/{client.namespace}/inc",
        f"/{client.namespace}/inc",
        "/whisk.system/utils/echo",
    ]
    # Its one parameter names its components; a request's are discarded (Actions.scala).
    assert created["parameters"] == [{"key": "_actions", "value": created["exec"]["components"]}]
    status, kept = await client.request(
        "PUT", "actions/s", json={"parameters": kv(p=1)}, params={"overwrite": "true"}
    )
    assert status == 200 and kept["parameters"] == created["parameters"], kept
    status, record = await client.invoke("s", {"n": 1})
    assert status == 200, record
    assert record["response"]["result"] == {"n": 3}
    assert len(record["logs"]) == 3
    annotations = {a["key"]: a["value"] for a in record["annotations"]}
    assert annotations["kind"] == "sequence" and annotations["topmost"] is True
    components = [await client.activation(aid) for aid in record["logs"]]
    assert [c["name"] for c in components] == ["inc", "inc", "echo"]
    assert all(c["cause"] == record["activationId"] for c in components)
    assert record["duration"] == sum(c["duration"] for c in components)
    assert {a["key"]: a["value"] for a in components[0]["annotations"]}["causedBy"] == "sequence"
    stored = await client.activation(record["activationId"])
    assert stored == record
    logged = await read_activation(stack, record["activationId"])
    assert [e.event.type for e in logged] == [ACCEPTED, COMPLETED]
    status, result = await client.invoke("s", {"n": 10}, result=True)
    assert (status, result) == (200, {"n": 12})


async def test_an_error_stops_the_chain(client: Client) -> None:
    await client.put_action("inc", INC)
    await client.put_action("fail", FAIL)
    await client.request("PUT", "actions/s", json=seq("inc", "fail", "inc"))
    status, record = await client.invoke("s", {"n": 1})
    assert status == 502, record
    assert record["response"]["result"] == {"error": "stop here"}
    assert record["response"]["status"] == "application error"
    assert len(record["logs"]) == 2


async def test_nested_sequences_and_non_blocking_invokes(client: Client) -> None:
    await client.put_action("inc", INC)
    await client.request("PUT", "actions/inner", json=seq("inc", "inc"))
    await client.request("PUT", "actions/outer", json=seq("inner", "inc"))
    status, body = await client.invoke("outer", {"n": 0}, blocking=False)
    assert status == 202
    record = await client.activation(body["activationId"])
    assert record["response"]["result"] == {"n": 3}
    inner = await client.activation(record["logs"][0])
    assert inner["cause"] == record["activationId"] and len(inner["logs"]) == 2
    annotations = {a["key"]: a["value"] for a in inner["annotations"]}
    assert annotations["topmost"] is False and annotations["causedBy"] == "sequence"


async def test_a_sequence_of_catalog_actions(client: Client) -> None:
    await client.request(
        "PUT",
        "actions/lines",
        json=seq(
            "/whisk.system/utils/split", "/whisk.system/utils/sort", "/whisk.system/utils/head"
        ),
    )
    status, result = await client.invoke("lines", {"payload": "c\nb\na", "num": 2}, result=True)
    # The output of one is the whole input of the next: `num` stops at split.
    assert (status, result) == (200, {"lines": ["a"], "num": 1})


async def test_bad_sequences(client: Client) -> None:
    await client.put_action("inc", INC)
    for body, message in (
        (seq("nosuch"), "Sequence component does not exist."),
        (
            {"exec": {"kind": "sequence", "components": []}},
            "No component specified for the sequence.",
        ),
        (seq(*["inc"] * 51), "Too many actions in the sequence."),
    ):
        status, answer = await client.request("PUT", "actions/bad", json=body)
        assert (status, answer["error"]) == (400, message)
    await client.request("PUT", "actions/a", json=seq("inc"))
    status, answer = await client.request("PUT", "actions/b", json=seq("a"))
    assert status == 200
    status, answer = await client.request(
        "PUT", "actions/a", json=seq("b"), params={"overwrite": "true"}
    )
    assert (status, answer["error"]) == (400, "Sequence may not refer to itself.")


async def test_a_component_deleted_after_creation_fails_the_sequence(client: Client) -> None:
    await client.put_action("inc", INC)
    await client.put_action("gone", INC)
    await client.request("PUT", "actions/s", json=seq("inc", "gone"))
    await client.request("DELETE", "actions/gone")
    status, record = await client.invoke("s", {"n": 1})
    assert status == 502
    assert record["response"]["result"] == {"error": "Sequence component does not exist."}
    assert len(record["logs"]) == 1

    async def listed() -> bool:
        status, body = await client.request("GET", "activations", params={"name": "s"})
        return status == 200 and len(body) == 1

    await eventually(listed, what="the sequence record in the list")
