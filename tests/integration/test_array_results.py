"""JSON-array results, as OpenWhisk has accepted them since 2022, in every runtime and path.

OpenWhisk's core takes an array answered with 200 as a success whose result is
that array (``ActivationResult.scala`` ``processRunResponseContent``); a
blocking invoke answers it bare, ``?result=true`` or not (``Actions.scala``
``doInvoke``; apache/openwhisk#5500); a sequence passes it on whole as the
next component's arguments, without that component's defaults
(``SequenceActions.invokeNextAction``, ``PrimitiveActions.invokeSimpleAction``);
a web action fails with a 500, its controller reading every result as an
object (``WebActions.completeRequest``). The runtimes (nodejs ``service.js``,
the actionloop proxy's ``runHandler.go`` for python, go, java, ruby and php,
the docker skeleton's ``actionproxy.py``) return and receive arrays; PHP's
``runner.php`` sends every array as an object, a list's keys its indexes.
"""

from __future__ import annotations

from typing import Any

import pytest

from streams.messages import NOT_A_DICT, NOT_A_DICT_OR_ARRAY, SERVER_ERROR
from tests.support.api import kv
from tests.support.client import Client
from tests.support.stack import API

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TIMEOUT_MS = 30_000  # covers a compile at /init (go, java) on a loaded machine
ARRAY = ["a", {"n": 1}]
FLIPPED = [{"n": 1}, "a"]


def skeleton(code: str) -> dict[str, Any]:
    return {"kind": "blackbox", "image": "openwhisk/dockerskeleton", "code": code}


# Per kind: an action returning ARRAY, and one returning the array it is given reversed.
MAKERS: dict[str, dict[str, Any]] = {
    "python:3.11": {"kind": "python:3.11", "code": "def main(args):\n    return ['a', {'n': 1}]\n"},
    "nodejs:18": {"kind": "nodejs:18", "code": "function main() { return ['a', {n: 1}]; }\n"},
    "go:1.19": {
        "kind": "go:1.19",
        "code": "package main\n\n"
        "func Main(obj map[string]interface{}) []interface{} {\n"
        '\treturn []interface{}{"a", map[string]interface{}{"n": 1}}\n}\n',
    },
    "java:17": {
        "kind": "java:17",
        "code": "import com.google.gson.JsonArray;\nimport com.google.gson.JsonObject;\n\n"
        "public class Make {\n"
        "    public static JsonArray main(JsonObject args) {\n"
        "        JsonArray out = new JsonArray();\n"
        '        out.add("a");\n'
        "        JsonObject n = new JsonObject();\n"
        '        n.addProperty("n", 1);\n'
        "        out.add(n);\n"
        "        return out;\n"
        "    }\n}\n",
    },
    "ruby:3.1": {"kind": "ruby:3.1", "code": "def main(args)\n  ['a', { 'n' => 1 }]\nend\n"},
    "php:8.2": {
        "kind": "php:8.2",
        "code": "<?php\nfunction main(array $args): array\n{\n    return ['a', ['n' => 1]];\n}\n",
    },
    "native": skeleton("#!/bin/sh\necho 'made an array'\necho '[\"a\", {\"n\": 1}]'\n"),
}
FLIPPERS: dict[str, dict[str, Any]] = {
    "python:3.11": {
        "kind": "python:3.11",
        "code": "def main(args):\n    return list(reversed(args))\n",
    },
    "nodejs:18": {
        "kind": "nodejs:18",
        "code": "function main(args) { return args.slice().reverse(); }\n",
    },
    "go:1.19": {
        "kind": "go:1.19",
        "code": "package main\n\n"
        "func Main(obj []interface{}) []interface{} {\n"
        "\tout := []interface{}{}\n"
        "\tfor i := len(obj) - 1; i >= 0; i-- {\n\t\tout = append(out, obj[i])\n\t}\n"
        "\treturn out\n}\n",
    },
    "java:17": {
        "kind": "java:17",
        "code": "import com.google.gson.JsonArray;\n\n"
        "public class Flip {\n"
        "    public static JsonArray main(JsonArray args) {\n"
        "        JsonArray out = new JsonArray();\n"
        "        for (int i = args.size() - 1; i >= 0; i--) out.add(args.get(i));\n"
        "        return out;\n"
        "    }\n}\n",
    },
    "ruby:3.1": {"kind": "ruby:3.1", "code": "def main(args)\n  args.reverse\nend\n"},
    "php:8.2": {
        "kind": "php:8.2",
        "code": "<?php\nfunction main(array $args): array\n"
        "{\n    return array_reverse($args);\n}\n",
    },
    "native": skeleton(
        "#!/usr/bin/python3\nimport json, sys\n"
        "print(json.dumps(list(reversed(json.loads(sys.argv[1])))))\n"
    ),
}
KINDS = list(MAKERS)


def made(kind: str) -> Any:
    """What the maker's activation holds: PHP sends a list as an object (runner.php)."""
    return {"0": "a", "1": {"n": 1}} if kind == "php:8.2" else ARRAY


def flipped(kind: str) -> Any:
    return {"0": {"n": 1}, "1": "a"} if kind == "php:8.2" else FLIPPED


async def put(client: Client, name: str, exec_: dict[str, Any], **body: Any) -> None:
    status, answer = await client.request(
        "PUT",
        f"actions/{name}",
        json={"exec": exec_, "limits": {"timeout": TIMEOUT_MS}, **body},
        params={"overwrite": "true"},
    )
    assert status == 200, answer


async def invoke(client: Client, name: str, **query: str) -> tuple[int, Any, str]:
    """A blocking invoke: its status, body and activation id (from its header)."""
    async with client.session.post(
        client.url(f"actions/{name}"),
        params={"blocking": "true", **query},
        json={},
        headers={"Authorization": client.auth},
    ) as resp:
        return resp.status, await resp.json(), resp.headers["x-openwhisk-activation-id"]


@pytest.mark.parametrize("kind", KINDS)
async def test_an_array_result_is_a_success_answered_bare(client: Client, kind: str) -> None:
    await put(client, "maker", MAKERS[kind])
    status, body, activation_id = await invoke(client, "maker")
    expected = made(kind)
    if kind == "php:8.2":  # an object: the whole record, as for any object result
        assert status == 200 and body["response"]["result"] == expected, body
    else:
        assert (status, body) == (200, expected)
    record = await client.activation(activation_id)
    assert record["response"]["status"] == "success", record["response"]
    assert record["response"]["success"] is True
    assert record["response"]["result"] == expected
    assert isinstance(record["response"]["size"], int)
    status, body, _ = await invoke(client, "maker", result="true")
    assert (status, body) == (200, expected)
    # The container stays warm, as after any success.
    status, body, again = await invoke(client, "maker", result="true")
    assert (status, body) == (200, expected)
    annotations = {a["key"] for a in (await client.activation(again))["annotations"]}
    assert "initTime" not in annotations


@pytest.mark.parametrize("kind", KINDS)
async def test_a_sequence_passes_an_array_on_whole(client: Client, kind: str) -> None:
    await put(client, "maker", MAKERS["python:3.11"])
    # The flipper's defaults do not join an array input (invokeSimpleAction).
    await put(client, "flipper", FLIPPERS[kind], parameters=kv(extra=1))
    status, created = await client.request(
        "PUT",
        "actions/chain",
        json={"exec": {"kind": "sequence", "components": ["/_/maker", "/_/flipper"]}},
        params={"overwrite": "true"},
    )
    assert status == 200, created
    status, body, activation_id = await invoke(client, "chain")
    expected = flipped(kind)
    assert status == 200, body
    if kind == "php:8.2":
        assert body["response"]["result"] == expected
    else:
        assert body == expected
    record = await client.activation(activation_id)
    assert record["response"]["result"] == expected
    assert record["response"]["status"] == "success"
    first, second = [await client.activation(aid) for aid in record["logs"]]
    assert first["response"]["result"] == ARRAY
    assert second["response"]["result"] == expected
    assert all(c["cause"] == activation_id for c in (first, second))


NOT_OBJECTS = {
    # nodejs: its own runtime's text (service.js); the others: the actionloop
    # proxy's and the docker skeleton's.
    "python:3.11": ("def main(args):\n    return 'text'\n", NOT_A_DICT_OR_ARRAY),
    "nodejs:18": ("function main() { return 42; }\n", NOT_A_DICT),
    "ruby:3.1": ("def main(args)\n  'text'\nend\n", NOT_A_DICT_OR_ARRAY),
    "php:8.2": (
        "<?php\nfunction main(array $args)\n{\n    return 'text';\n}\n",
        NOT_A_DICT_OR_ARRAY,
    ),
    "native": ("#!/bin/sh\necho 42\n", NOT_A_DICT_OR_ARRAY),
}


NULL_RESULTS = {
    # nodejs: service.js answers null with 200 (typeof null is "object") and the
    # invoker quotes it (ActivationResult.scala invalidRunResponse); python: the
    # launcher writes null and the actionloop proxy refuses it (runHandler.go).
    "python:3.11": (
        "def main(args):\n    return None\n",
        NOT_A_DICT_OR_ARRAY,
    ),
    "nodejs:18": (
        "function main() { return null; }\n",
        "The action did not produce a valid JSON or JSON Array response: null",
    ),
}


@pytest.mark.parametrize("kind", list(NULL_RESULTS))
async def test_a_null_result_is_a_developer_error_in_the_runtimes_words(
    client: Client, kind: str
) -> None:
    code, error = NULL_RESULTS[kind]
    await put(client, "nothing", {"kind": kind, "code": code})
    status, body, _ = await invoke(client, "nothing")
    assert status == 502, body
    assert body["response"]["status"] == "action developer error"
    assert body["response"]["result"] == {"error": error}


@pytest.mark.parametrize("kind", list(NOT_OBJECTS))
async def test_a_result_neither_object_nor_array_is_a_developer_error(
    client: Client, kind: str
) -> None:
    code, message = NOT_OBJECTS[kind]
    exec_ = skeleton(code) if kind == "native" else {"kind": kind, "code": code}
    await put(client, "scalar", exec_)
    status, body, _ = await invoke(client, "scalar")
    assert status == 502, body
    assert body["response"]["status"] == "action developer error"
    assert body["response"]["result"] == {"error": message}


async def test_a_web_action_with_an_array_result_answers_500(client: Client) -> None:
    await put(client, "webarray", MAKERS["nodejs:18"], annotations=kv(**{"web-export": True}))
    for extension in ("", ".json", ".http"):
        url = f"{API}/api/v1/web/{client.namespace}/default/webarray{extension}"
        async with client.session.get(url) as resp:
            assert resp.status == 500, await resp.text()
            assert await resp.text() == SERVER_ERROR
            assert resp.content_type == "text/plain"
