"""Which activations hold their caller's key: only actions annotated ``provide-api-key: true``.

OpenWhisk stores ``provide-api-key: false`` on every new action that does not
set the annotation (docs/annotations.md; Actions.scala ``amendAnnotations``)
and gives ``__OW_API_KEY`` only where it is truthy (ContainerProxy.scala).
Every path that starts code is checked: a direct invoke, a sequence's
components, a rule's action, a re-run and a web action.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.api import kv
from tests.support.client import Client
from tests.support.stack import API

pytestmark = pytest.mark.integration

# Each run appends the key it sees (None without one) to the keys it was given.
KEYS_PY = (
    "import os\n"
    "def main(args):\n"
    "    return {'keys': args.get('keys', []) + [os.environ.get('__OW_API_KEY')]}\n"
)
GRANTED = kv(**{"provide-api-key": True})


def annotations(doc: Any) -> dict[str, Any]:
    assert isinstance(doc, dict), doc
    return {a["key"]: a["value"] for a in doc["annotations"]}


async def test_a_new_action_is_stored_without_the_key(client: Client) -> None:
    status, created = await client.put_action("plain", KEYS_PY)
    assert status == 200, created
    assert annotations(created)["provide-api-key"] is False
    status, got = await client.request("GET", "actions/plain")
    assert status == 200 and annotations(got)["provide-api-key"] is False
    # An update keeps what is stored (OpenWhisk adds the annotation on create only).
    status, updated = await client.put_action("plain", KEYS_PY, annotations=kv(note="x"))
    assert status == 200 and annotations(updated) == {
        "provide-api-key": False,
        "note": "x",
        "exec": "python:3.11",
    }
    # The creator's own value is kept, whatever it is.
    status, granted = await client.put_action("granted", KEYS_PY, annotations=GRANTED)
    assert status == 200 and annotations(granted)["provide-api-key"] is True

    assert await client.invoke("plain", result=True) == (200, {"keys": [None]})
    assert await client.invoke("granted", result=True) == (200, {"keys": [client.key]})


async def test_every_path_that_starts_code_gives_the_key_only_when_granted(
    client: Client,
) -> None:
    await client.put_action("plain", KEYS_PY, annotations=kv(**{"web-export": True}))
    await client.put_action(
        "granted", KEYS_PY, annotations=kv(**{"web-export": True, "provide-api-key": True})
    )
    key = client.key

    # A sequence's components, each by its own annotation.
    components = [f"/_/{n}" for n in ("plain", "granted", "plain")]
    status, body = await client.request(
        "PUT", "actions/seq", json={"exec": {"kind": "sequence", "components": components}}
    )
    assert status == 200, body
    assert await client.invoke("seq", result=True) == (200, {"keys": [None, key, None]})

    # A rule's action, fired by a trigger.
    await client.request("PUT", "triggers/t", json={})
    for name in ("plain", "granted"):
        status, body = await client.request(
            "PUT", f"rules/r-{name}", json={"trigger": "/_/t", "action": f"/_/{name}"}
        )
        assert status == 200, body
    status, fired = await client.request("POST", "triggers/t", json={})
    assert status == 202 and isinstance(fired, dict), fired
    trigger = await client.activation(fired["activationId"])
    by_action = {}
    for line in trigger["logs"]:
        entry = json.loads(line)
        by_action[entry["action"]] = await client.activation(entry["activationId"])
    assert by_action[f"{client.namespace}/plain"]["response"]["result"] == {"keys": [None]}
    assert by_action[f"{client.namespace}/granted"]["response"]["result"] == {"keys": [key]}

    # A re-run of each.
    for name, expected in (("plain", [None]), ("granted", [key])):
        status, first = await client.invoke(name)
        assert status == 200 and isinstance(first, dict), first
        status, again = await client.request(
            "POST",
            f"activations/{first['activationId']}/rerun",
            params={"blocking": "true", "result": "true"},
        )
        assert (status, again) == (200, {"keys": expected})

    # A web action (it runs as its owner).
    for name, expected in (("plain", [None]), ("granted", [key])):
        async with client.session.get(
            f"{API}/api/v1/web/{client.namespace}/default/{name}.json"
        ) as resp:
            assert resp.status == 200
            assert await resp.json() == {"keys": expected}
