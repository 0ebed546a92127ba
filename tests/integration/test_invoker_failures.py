"""What happens when user code misbehaves: every failure ends as an activation status."""

from __future__ import annotations

import asyncio
import json

import pytest

from streams.messages import (
    ABNORMAL_RUN,
    LOG_WARNING_DEVELOPER_ERROR,
    MEMORY_EXCEEDED,
    NOT_A_DICT,
    NOT_A_DICT_OR_ARRAY,
    TIMEOUT,
)
from streams.settings import Settings
from tests.support.api import PY_HELLO
from tests.support.client import Client
from tests.support.invoker import (
    annotations_of,
    container_state,
    docker_client,
    gone,
    started_event,
)
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

SLEEPY_PY = "import time\ndef main(args):\n    time.sleep(30)\n    return {}\n"
SPIN_JS = "function main() { while (true) {} }\n"
HOG_PY = (
    "def main(args):\n"
    "    hoard = []\n"
    "    for _ in range(2000):\n"
    "        hoard.append(b'x' * (1 << 20))\n"
    "    return {'survived': len(hoard)}\n"
)
HOG_JS = (
    "function main() {\n"
    "  const hoard = [];\n"
    "  for (let i = 0; i < 2000; i++) hoard.push(Buffer.alloc(1 << 20, 1));\n"
    "  return { survived: hoard.length };\n"
    "}\n"
)
ECHO_PY = "def main(args):\n    return {'echo': args}\n"


async def expect_developer_error(client: Client, name: str, status: int = 502) -> dict:
    code, record = await client.invoke(name)
    assert code == status, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "action developer error", record["response"]
    assert record["response"]["status"] == "action developer error"
    assert record["response"]["success"] is False
    return record


async def discarded(client: Client, stack: Settings, record: dict, name: str) -> None:
    """The record's container is removed and the next activation does not reuse it."""
    started = await started_event(stack, record["activationId"])

    async def removed() -> bool:
        return await gone(started.container)

    await eventually(removed, 20.0, f"container {started.container} to be removed")
    _, again = await client.invoke(name)
    assert isinstance(again, dict), again
    after = await started_event(stack, again["activationId"])
    assert after.container != started.container
    assert after.start != "warm"
    assert "initTime" in annotations_of(again)


@pytest.mark.parametrize(("kind", "code"), [("python:3.11", SLEEPY_PY), ("nodejs:18", SPIN_JS)])
async def test_timeout_is_a_developer_error_and_the_container_is_discarded(
    client: Client, stack: Settings, kind: str, code: str
) -> None:
    await client.put_action("slow", code, kind=kind, limits={"timeout": 500})
    record = await expect_developer_error(client, "slow")
    assert record["response"]["result"] == {"error": TIMEOUT.format(ms=500)}
    assert record["response"]["result"]["error"] == (
        "The action exceeded its time limits of 500 milliseconds."
    )
    assert annotations_of(record)["timeout"] is True
    assert record["logs"][-1].endswith(f" stderr: {LOG_WARNING_DEVELOPER_ERROR}"), record["logs"]
    # A spinning action is stopped, not left burning CPU in a container.
    await discarded(client, stack, record, "slow")


@pytest.mark.parametrize(("kind", "code"), [("python:3.11", HOG_PY), ("nodejs:18", HOG_JS)])
async def test_out_of_memory_is_a_developer_error_and_the_container_is_discarded(
    client: Client, stack: Settings, kind: str, code: str
) -> None:
    await client.put_action("hog", code, kind=kind, limits={"memory": 128})
    record = await expect_developer_error(client, "hog")
    assert record["response"]["result"] == {"error": MEMORY_EXCEEDED}
    assert annotations_of(record)["timeout"] is False
    assert record["logs"][-1].endswith(f" stderr: {LOG_WARNING_DEVELOPER_ERROR}"), record["logs"]
    await discarded(client, stack, record, "hog")


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("python:3.11", "def main(args):\n    return {'blob': 'z' * 1200000}\n"),
        ("nodejs:18", "function main() { return { blob: 'z'.repeat(1200000) }; }\n"),
    ],
)
async def test_a_result_over_one_megabyte_is_an_application_error_quoting_its_start(
    client: Client, stack: Settings, kind: str, code: str
) -> None:
    # ActivationResult.scala processRunResponseContent: the action ran as
    # written, so its container stays; the record quotes the first 1 MiB.
    await client.put_action("big", code, kind=kind)
    status, record = await client.invoke("big")
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "application error"
    size = record["response"]["size"]
    assert size in (len('{"blob": "z"}') + 1199999, len('{"blob":"z"}') + 1199999)
    error = record["response"]["result"]["error"]
    prefix = (
        f"The action produced a response that exceeded the allowed length: {size} > 1048576"
        " bytes. The truncated response was: "
    )
    assert error.startswith(prefix), error[:200]
    quoted = error[len(prefix) :]
    assert len(quoted) == 1048576
    assert quoted.rstrip("z") in ('{"blob": "', '{"blob":"')
    _, again = await client.invoke("big")
    assert isinstance(again, dict)
    assert (await started_event(stack, again["activationId"])).start == "warm"


async def test_a_python_exception_is_an_application_error_with_its_text(
    client: Client, stack: Settings
) -> None:
    # OpenWhisk's Python runtime (launcher.py): {"error": str(ex)}, the
    # traceback in the logs, the container kept.
    await client.put_action("raises", "def main(args):\n    raise ValueError('bad input 7')\n")
    status, record = await client.invoke("raises")
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "application error"
    assert record["response"]["result"] == {"error": "bad input 7"}
    assert any("ValueError: bad input 7" in line for line in record["logs"]), record["logs"]
    _, again = await client.invoke("raises")
    assert isinstance(again, dict)
    assert (await started_event(stack, again["activationId"])).start == "warm"


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("async function main() { return a.b.c }\n", "ReferenceError", "a is not defined"),
        ("async function main() { throw new Error('boom 10'); }\n", "Error", "boom 10"),
        (
            "function main() { return new Promise((_, no) => setTimeout(() => no("
            "new TypeError('late 11')), 5)); }\n",
            "TypeError",
            "late 11",
        ),
    ],
)
async def test_a_rejected_nodejs_promise_is_an_application_error_with_the_serialised_error(
    client: Client, stack: Settings, code: str, name: str, message: str
) -> None:
    # OpenWhisk's Node.js runtime (runner.js finalizeResult, serialize-error);
    # its test "support errors thrown from async functions".
    await client.put_action("rejects", code, kind="nodejs:18")
    status, record = await client.invoke("rejects")
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "application error"
    error = record["response"]["result"]["error"]
    assert (error["name"], error["message"]) == (name, message)
    assert f"{name}: {message}".lower() in json.dumps(error).lower()
    assert error["stack"].startswith(f"{name}: {message}\n")
    # The action worked as written: its container stays warm.
    _, again = await client.invoke("rejects")
    assert isinstance(again, dict)
    assert (await started_event(stack, again["activationId"])).start == "warm"


@pytest.mark.parametrize(
    ("kind", "code", "message"),
    [
        # OpenWhisk's actionloop proxy (python) and its nodejs runtime word it so;
        # an array is a result (tests/integration/test_array_results.py).
        ("python:3.11", "def main(args):\n    return 'text'\n", NOT_A_DICT_OR_ARRAY),
        ("nodejs:18", "function main() { return 42; }\n", NOT_A_DICT),
    ],
)
async def test_a_result_that_is_not_an_object_is_a_developer_error(
    client: Client, kind: str, code: str, message: str
) -> None:
    await client.put_action("notdict", code, kind=kind)
    record = await expect_developer_error(client, "notdict")
    assert record["response"]["result"] == {"error": message}


@pytest.mark.parametrize(
    ("kind", "code", "error"),
    [
        ("python:3.11", "def main(args):\n    return {'error': 'no such user'}\n", "no such user"),
        ("nodejs:18", "function main() { return { error: 'no such user' }; }\n", "no such user"),
        # A rejection is wrapped whatever it holds (runner.js finalizeResult).
        (
            "nodejs:18",
            "function main() { return Promise.reject({ error: 'no such user' }); }\n",
            {"error": "no such user"},
        ),
        ("nodejs:18", "function main() { return Promise.reject(); }\n", {}),
    ],
)
async def test_an_error_result_is_an_application_error(
    client: Client, stack: Settings, kind: str, code: str, error: object
) -> None:
    await client.put_action("apperr", code, kind=kind)
    status, record = await client.invoke("apperr")
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "application error"
    assert record["response"]["result"] == {"error": error}
    # Only a developer error gets OpenWhisk's warning that logs may be missing.
    assert not any(LOG_WARNING_DEVELOPER_ERROR in line for line in record["logs"])
    status, result = await client.invoke("apperr", result=True)
    assert (status, result) == (502, {"error": error})
    # An application error is the action working as written: its container stays warm.
    status, again = await client.invoke("apperr")
    assert isinstance(again, dict)
    assert (await started_event(stack, again["activationId"])).start == "warm"


@pytest.mark.parametrize(
    ("kind", "code", "message", "error"),
    [
        # OpenWhisk's Node.js runtime (service.js runCode): `An error has occurred: ${error}`,
        # the thrown value as String() shows it.
        (
            "nodejs:18",
            "function main() { throw new Error('bad input 8'); }\n",
            "bad input 8",
            "An error has occurred: Error: bad input 8",
        ),
        (
            "nodejs:18",
            "function main() { throw 'just a string'; }\n",
            "just a string",
            "An error has occurred: just a string",
        ),
        (
            "nodejs:18",
            "function main() { console.error('an object'); throw {code: 7}; }\n",
            "an object",
            "An error has occurred: [object Object]",
        ),
    ],
)
async def test_an_uncaught_exception_is_a_developer_error_with_its_message(
    client: Client, stack: Settings, kind: str, code: str, message: str, error: str
) -> None:
    await client.put_action("raises", code, kind=kind)
    record = await expect_developer_error(client, "raises")
    assert record["response"]["result"]["error"] == error
    assert any(message in line for line in record["logs"]), record["logs"]
    # OpenWhisk's last log line of a developer error (Messages.logWarningDeveloperError).
    assert record["logs"][-1].endswith(f" stderr: {LOG_WARNING_DEVELOPER_ERROR}"), record["logs"]
    # After a developer error the container is not trusted again.
    await discarded(client, stack, record, "raises")


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("python:3.11", "import os\ndef main(args):\n    os._exit(3)\n"),
        ("nodejs:18", "function main() { process.exit(4); }\n"),
    ],
)
async def test_a_crashing_action_is_a_developer_error(
    client: Client, stack: Settings, kind: str, code: str
) -> None:
    await client.put_action("crash", code, kind=kind)
    record = await expect_developer_error(client, "crash")
    assert record["response"]["result"] == {"error": ABNORMAL_RUN}
    await discarded(client, stack, record, "crash")


async def test_a_syntax_error_fails_at_init(client: Client) -> None:
    await client.put_action("broken", "def main(args)\n    return {}\n")
    record = await expect_developer_error(client, "broken")
    assert "SyntaxError" in record["response"]["result"]["error"]
    assert "initTime" in annotations_of(record)


async def test_other_actions_are_unaffected_by_a_failing_one(client: Client) -> None:
    await client.put_action("slow", SLEEPY_PY, limits={"timeout": 300})
    await client.put_action("echo", ECHO_PY)
    await expect_developer_error(client, "slow")
    assert await client.invoke("echo", {"ok": 1}, result=True) == (200, {"echo": {"ok": 1}})


async def test_a_slow_init_is_a_timeout_during_initialization(
    client: Client, stack: Settings
) -> None:
    code = "import time\ntime.sleep(30)\ndef main(args):\n    return {}\n"
    await client.put_action("slowinit", code, limits={"timeout": 400})
    record = await expect_developer_error(client, "slowinit")
    assert record["response"]["result"] == {
        "error": "The action exceeded its time limits of 400 milliseconds during initialization."
    }
    assert annotations_of(record)["timeout"] is True
    await discarded(client, stack, record, "slowinit")


async def test_a_warm_container_killed_outside_the_invoker_is_passed_over(
    client: Client, stack: Settings
) -> None:
    # Docker restarting (or an operator's `docker kill`) ends a warm container
    # without the invoker hearing of it: the next activation must not be blamed.
    await client.put_action("survivor", PY_HELLO)
    status, first = await client.invoke("survivor")
    assert status == 200, first
    assert isinstance(first, dict)
    warm = await started_event(stack, first["activationId"])
    await asyncio.to_thread(docker_client().api.kill, warm.container)
    await eventually(lambda: _stopped(warm.container), 10, "the killed container to stop")
    status, again = await client.invoke("survivor", {"name": "again"})
    assert status == 200, again
    assert isinstance(again, dict)
    assert again["response"]["result"] == {"greeting": "Hello again"}
    after = await started_event(stack, again["activationId"])
    assert after.container != warm.container and after.start != "warm"


async def _stopped(name: str) -> bool:
    state = await container_state(name)
    return state is None or not state.get("Running")


NOT_JSON_RESULTS = {
    # What JSON does not have (the Python runtime refuses to send it)...
    "nan": ("python:3.11", "def main(args):\n    return {'x': float('nan')}\n"),
    "surrogate": ("python:3.11", "def main(args):\n    return {'x': '\\ud800'}\n"),
    # ...and any depth: past what every ledger reader decodes (the invoker refuses it).
    "deep": (
        "python:3.11",
        "def main(args):\n    v = []\n    for _ in range(300):\n        v = [v]\n"
        "    return {'x': v}\n",
    ),
    "deepjs": (
        "nodejs:18",
        "function main() { let v = []; for (let i = 0; i < 300; i++) v = [v]; return {x: v}; }",
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_JSON_RESULTS))
async def test_a_result_no_reader_could_read_is_a_developer_error(
    client: Client, name: str
) -> None:
    kind, code = NOT_JSON_RESULTS[name]
    await client.put_action(name, code, kind=kind)
    status, body = await client.invoke(name)
    assert status == 502 and isinstance(body, dict), body
    response = body["response"]
    assert response["status"] == "action developer error"
    error = response["result"]["error"]
    if name.startswith("deep"):
        assert error.startswith("The action did not produce a valid JSON response"), error
        assert "nested too deeply" in error
    else:
        assert error == NOT_A_DICT_OR_ARRAY
    record = await client.activation(body["activationId"])
    assert record["response"] == response
