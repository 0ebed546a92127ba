"""How an activation gets its container: warm, stem cell, cold; annotations and environment."""

from __future__ import annotations

import json

import pytest

from streams.settings import Settings
from tests.support.api import PY_HELLO
from tests.support.client import Client
from tests.support.invoker import annotations_of, own_invoker, started_event
from tests.support.stack import TEST_ENV
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

# Only an action granted its caller's key sees __OW_API_KEY (test_invoker_api_key.py).
PROVIDE_API_KEY = [{"key": "provide-api-key", "value": True}]
ECHO_PY = "def main(args):\n    return {'echo': args}\n"
ECHO_JS = "function main(params) { return { echo: params }; }\n"
ENV_PY = (
    "import os\n"
    "def main(args):\n"
    "    return {k: v for k, v in os.environ.items() if k.startswith('__OW_')}\n"
)
ENV_JS = (
    "function main() {\n"
    "  const out = {};\n"
    "  for (const k of Object.keys(process.env)) {\n"
    "    if (k.startsWith('__OW_')) out[k] = process.env[k];\n"
    "  }\n"
    "  return out;\n"
    "}\n"
)


@pytest.mark.parametrize(("kind", "code"), [("python:3.11", ECHO_PY), ("nodejs:18", ECHO_JS)])
async def test_second_activation_reuses_the_warm_container(
    client: Client, stack: Settings, kind: str, code: str
) -> None:
    status, body = await client.put_action("echo", code, kind=kind)
    assert status == 200, body
    status, first = await client.invoke("echo", {"n": 1})
    assert status == 200, first
    status, second = await client.invoke("echo", {"n": 2})
    assert status == 200, second
    assert isinstance(first, dict) and isinstance(second, dict)
    assert second["response"]["result"] == {"echo": {"n": 2}}

    assert "initTime" in annotations_of(first)
    assert "initTime" not in annotations_of(second)
    one = await started_event(stack, first["activationId"])
    two = await started_event(stack, second["activationId"])
    assert one.start in ("cold", "prewarm")
    assert two.start == "warm"
    assert two.container == one.container


async def test_an_action_without_a_matching_stem_cell_starts_cold(
    client: Client, stack: Settings
) -> None:
    # Stem cells are 256 MB: a 128 MB action has none to claim.
    status, body = await client.put_action("small", ECHO_PY, limits={"memory": 128})
    assert status == 200, body
    status, record = await client.invoke("small", {"x": 1})
    assert status == 200, record
    assert isinstance(record, dict)
    started = await started_event(stack, record["activationId"])
    assert started.start == "cold"
    marks = annotations_of(record)
    assert marks["initTime"] >= 0
    assert marks["limits"]["memory"] == 128


async def test_a_new_revision_does_not_reuse_the_old_code(client: Client) -> None:
    await client.put_action("rev", "def main(args):\n    return {'v': 1}\n")
    assert await client.invoke("rev", result=True) == (200, {"v": 1})
    await client.put_action("rev", "def main(args):\n    return {'v': 2}\n")
    assert await client.invoke("rev", result=True) == (200, {"v": 2})


async def test_annotations_name_kind_limits_path_and_times(client: Client) -> None:
    limits = {"timeout": 20_000, "memory": 256, "logs": 2, "concurrency": 1}
    await client.put_action("marks", ECHO_PY, limits=limits)
    status, first = await client.invoke("marks")
    assert status == 200 and isinstance(first, dict)
    status, second = await client.invoke("marks")
    assert status == 200 and isinstance(second, dict)
    for record in (first, second):
        marks = annotations_of(record)
        assert marks["kind"] == "python:3.11"
        assert marks["path"] == f"{client.namespace}/marks"
        assert marks["limits"] == limits
        assert marks["timeout"] is False
        assert isinstance(marks["waitTime"], int) and marks["waitTime"] >= 0
        assert record["duration"] == record["end"] - record["start"]
    assert isinstance(annotations_of(first)["initTime"], int)
    assert "initTime" not in annotations_of(second)


@pytest.mark.parametrize(("kind", "code"), [("python:3.11", ENV_PY), ("nodejs:18", ENV_JS)])
async def test_each_activation_sees_its_openwhisk_environment(
    client: Client, kind: str, code: str
) -> None:
    await client.put_action(
        "env", code, kind=kind, limits={"timeout": 30_000}, annotations=PROVIDE_API_KEY
    )
    records = []
    for _ in range(2):  # the second runs warm: the values must be its own
        status, record = await client.invoke("env")
        assert status == 200, record
        assert isinstance(record, dict)
        records.append(record)
    for record in records:
        env = record["response"]["result"]
        assert env["__OW_ACTIVATION_ID"] == record["activationId"]
        assert env["__OW_ACTION_NAME"] == f"/{client.namespace}/env"
        assert env["__OW_NAMESPACE"] == client.namespace
        # The API's door inside the container (invoker/apidoor.py), not the host's address.
        assert env["__OW_API_HOST"] == "http://127.0.0.1:3233"
        assert env["__OW_API_KEY"] == client.key
        assert env["__OW_ACTION_VERSION"] == record["version"]
        # The deadline is the activation's start plus its time limit.
        assert int(env["__OW_DEADLINE"]) == record["start"] + 30_000
    assert (
        records[0]["response"]["result"]["__OW_ACTIVATION_ID"]
        != (records[1]["response"]["result"]["__OW_ACTIVATION_ID"])
    )


CALLER_PY = """
import base64, json, os, socket, urllib.request

def main(args):
    host, key = os.environ["__OW_API_HOST"], os.environ["__OW_API_KEY"]
    request = urllib.request.Request(
        host + "/api/v1/namespaces/_/actions/" + args["callee"] + "?blocking=true&result=true",
        data=json.dumps({"name": "from inside"}).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(key.encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        called = {"status": answer.status, "result": json.loads(answer.read())}
    # Nothing but the API is there: not CouchDB's port, not the host's API port.
    refused = []
    for port in args["elsewhere"]:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            refused.append(port)
    return {"called": called, "refused": refused}
"""

CALLER_JS = """
async function main(args) {
  const key = Buffer.from(process.env.__OW_API_KEY).toString('base64');
  const url = process.env.__OW_API_HOST + '/api/v1/namespaces/_/actions/' + args.callee +
    '?blocking=true&result=true';
  const answer = await fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', Authorization: 'Basic ' + key},
    body: JSON.stringify({name: 'from inside'}),
  });
  return {called: {status: answer.status, result: await answer.json()}};
}
"""


async def test_an_action_calls_the_api_at_its_api_host(client: Client) -> None:
    await client.put_action("callee", PY_HELLO)
    await client.put_action(
        "caller", CALLER_PY, limits={"timeout": 60_000}, annotations=PROVIDE_API_KEY
    )
    elsewhere = [int(TEST_ENV["LEDGERWHISK_COUCHDB_PORT"]), int(TEST_ENV["LEDGERWHISK_API_PORT"])]
    status, out = await client.invoke(
        "caller", {"callee": "callee", "elsewhere": elsewhere}, result=True
    )
    assert status == 200, out
    assert out["called"] == {"status": 200, "result": {"greeting": "Hello from inside"}}
    assert out["refused"] == elsewhere
    await client.put_action(
        "caller-js",
        CALLER_JS,
        kind="nodejs:18",
        limits={"timeout": 60_000},
        annotations=PROVIDE_API_KEY,
    )
    status, out = await client.invoke("caller-js", {"callee": "callee"}, result=True)
    assert status == 200, out
    assert out["called"] == {"status": 200, "result": {"greeting": "Hello from inside"}}


async def test_an_action_may_decline_the_api_key(client: Client) -> None:
    await client.put_action(
        "nokey", ENV_PY, annotations=[{"key": "provide-api-key", "value": False}]
    )
    status, env = await client.invoke("nokey", result=True)
    assert status == 200 and isinstance(env, dict)
    assert "__OW_API_KEY" not in env
    assert env["__OW_NAMESPACE"] == client.namespace


async def test_stem_cells_serve_their_kind_and_are_refilled(
    client: Client, stack: Settings
) -> None:
    await client.put_action("py", ECHO_PY)
    await client.put_action("js", ECHO_JS, kind="nodejs:18")
    await client.put_action("big", ECHO_PY, limits={"memory": 384})
    async with own_invoker(stack, stem_cells=True, invoker_user_memory_mb=2048) as own:
        pool = own.pool

        def free_stem_cells(kind: str) -> list[str]:
            return sorted(
                e.key
                for e in pool.entries.values()
                if e.action is None and e.kind == kind and e.container is not None
            )

        # start() returns once the manifest's stem cells answer.
        python_cells = free_stem_cells("python:3.11")
        assert len(python_cells) == 2
        assert len(free_stem_cells("nodejs:18")) == 1

        done = await own.run(own.dispatch(await own.action(client, "py"), {"a": 1}))
        assert done.response.result == {"echo": {"a": 1}}
        started = own.started(done.activation_id)
        assert started is not None and started.start == "prewarm"
        assert started.container in python_cells
        # It still paid for /init: the stem cell had no code yet.
        assert "initTime" in {a["key"] for a in done.annotations}
        # The pool makes a new stem cell to replace the one used.
        await eventually(
            lambda: len(free_stem_cells("python:3.11")) == 2, 20.0, "the python refill"
        )
        assert started.container not in free_stem_cells("python:3.11")

        done = await own.run(own.dispatch(await own.action(client, "js"), {"b": 2}))
        assert done.response.result == {"echo": {"b": 2}}
        started = own.started(done.activation_id)
        assert started is not None and started.start == "prewarm"

        # No stem cell of 384 MB: cold.
        done = await own.run(own.dispatch(await own.action(client, "big")))
        assert done.response.status_code == 0, json.dumps(done.response.result)
        started = own.started(done.activation_id)
        assert started is not None and started.start == "cold"
