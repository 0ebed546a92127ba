"""Bad input on every entity collection: malformed JSON, wrong types, names, sizes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from urllib.parse import quote

import pytest

from store.couch import Couch
from streams import constants
from streams.constants import JSON_DEPTH_MAX
from streams.settings import Settings
from tests.support.api import activations_of, admin_key, call
from tests.support.client import Client
from tests.support.stack import API

ECHO = "def main(args):\n    return args\n"

pytestmark = pytest.mark.integration

COLLECTIONS = ("actions", "packages", "triggers", "rules")


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_malformed_and_wrong_bodies(client: Client, collection: str) -> None:
    status, body = await client.request("PUT", f"{collection}/x", data=b"{not json")
    assert status == 400 and body["error"].startswith("The request content was malformed")
    status, body = await client.request("PUT", f"{collection}/x", json=["a"])
    assert (status, body["error"]) == (400, "The request content must be a JSON object.")
    status, body = await client.request("PUT", f"{collection}/x", data=b"null")
    assert (status, body["error"]) == (400, "The request content must be a JSON object.")
    status, body = await client.request("PUT", f"{collection}/x", json={"annotations": "nope"})
    assert status == 400
    status, _ = await client.request("GET", f"{collection}/x")
    assert status == 404


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_names_and_paging(client: Client, collection: str) -> None:
    status, body = await client.request("PUT", f"{collection}/{'n' * 257}", json={})
    assert status == 400 and "257 > 256" in body["error"]
    status, body = await client.request("GET", f"{collection}/bad%21name")
    assert (status, body["error"]) == (400, "The name of the entity contains illegal characters.")
    status, body = await client.request("GET", collection, params={"limit": "-1"})
    assert status == 400 and f"for {collection}." in body["error"]
    status, body = await client.request("GET", collection, params={"count": "maybe"})
    assert status == 400


async def test_oversized_fire_payload_and_parameters(client: Client) -> None:
    await client.request("PUT", "triggers/t", json={})
    big = "x" * (1024 * 1024 + 1)
    status, body = await client.request("POST", "triggers/t", json={"big": big})
    assert status == 413 and "larger than allowed" in body["error"]
    status, body = await client.request(
        "PUT", "packages/p", json={"parameters": [{"key": "big", "value": big}]}
    )
    assert status == 413 and "parameters larger than allowed" in body["error"]
    status, _ = await client.request("GET", "packages/p")
    assert status == 404


# -- what every ledger reader can read back (see streams/jsoncodec.py) --------------
def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


NOT_JSON_VALUES = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", '"\\ud800"']
TOO_DEEP = [nested(JSON_DEPTH_MAX + 1), nested(220), nested(10_000)]


def body(value: str) -> bytes:
    return ('{"a": ' + value + "}").encode()


async def test_json_that_a_ledger_reader_could_not_read_is_refused_everywhere(
    client: Client,
) -> None:
    await client.put_action("echo", ECHO)
    await client.put_action("web", ECHO, annotations=[{"key": "web-export", "value": True}])
    await client.request("PUT", "triggers/t", json={})
    for value in NOT_JSON_VALUES + TOO_DEEP:
        for blocking in ("true", "false"):
            status, answer = await client.request(
                "POST",
                "actions/echo",
                data=body(value),
                params={"blocking": blocking},
            )
            assert status == 400, (value[:20], status, answer)
            assert answer["error"].startswith("The request content was malformed")
            assert set(answer) == {"error", "code"}
        status, answer = await client.request("POST", "triggers/t", data=body(value))
        assert status == 400, (value[:20], answer)
        params = ('{"parameters": [{"key": "k", "value": ' + value + "}]}").encode()
        for collection in COLLECTIONS:
            status, answer = await client.request("PUT", f"{collection}/bad", data=params)
            assert status == 400, (collection, value[:20], answer)
        status, answer, _ = await call(
            client.session,
            "POST",
            f"web/{client.namespace}/default/web.json",
            data=body(value),
            headers={"Content-Type": "application/json"},
        )
        assert status == 400, (value[:20], answer)
        assert answer["error"].startswith("The request content was malformed")
    # Nothing of it was stored or run.
    for collection in COLLECTIONS:
        status, _ = await client.request("GET", f"{collection}/bad")
        assert status == 404
    assert await activations_of(client) == []
    # The deepest accepted payload runs and comes back whole.
    deepest = json.loads(nested(JSON_DEPTH_MAX - 1))
    status, answer = await client.request(
        "POST", "actions/echo", json={"a": deepest}, params={"blocking": "true", "result": "true"}
    )
    assert (status, answer) == (200, {"a": deepest})
    # Exact big integers stay exact.
    status, answer = await client.request(
        "POST",
        "actions/echo",
        data=b'{"n": 123456789012345678901234567890}',
        params={"blocking": "true", "result": "true"},
    )
    assert (status, answer) == (200, {"n": 123456789012345678901234567890})


async def test_stored_default_parameters_no_reader_could_read_are_refused_at_invoke(
    client: Client, stack: Settings
) -> None:
    # An older version stored them unchecked: write such a document (a copy of
    # one the API stored, under a name the API has not seen, so not cached).
    await client.put_action("template", ECHO)
    couch = Couch(stack)
    try:
        db = stack.database(constants.DB_WHISKS)
        doc = await couch.get(db, f"{client.namespace}/template")
        assert doc is not None
        del doc["_rev"]
        doc.update(_id=f"{client.namespace}/deep", name="deep")
        doc["parameters"] = [{"key": "d", "value": json.loads(nested(900))}]
        await couch.put(db, doc)
    finally:
        await couch.close()
    for blocking in ("true", "false"):
        status, answer = await client.request(
            "POST", "actions/deep", json={}, params={"blocking": blocking}
        )
        assert status == 400 and "nested too deeply" in answer["error"], (status, answer)
    assert await activations_of(client) == []


@pytest.mark.parametrize("name", ["sec_ü", "名前", "\u0430b", "caf\u00e9", "x\u2028y"])
async def test_names_are_ascii_as_in_openwhisk(client: Client, name: str) -> None:
    for collection in COLLECTIONS:
        status, answer = await client.request("PUT", f"{collection}/{quote(name)}", json={})
        assert status == 400, (collection, status, answer)
        assert answer["error"] == "The name of the entity contains illegal characters."
    status, answer = await client.request(
        "PUT", f"actions/{quote(name)}/hello", json={"exec": {"kind": "python:3", "code": ECHO}}
    )
    assert status == 400


async def test_binary_is_what_the_code_is_not_what_the_client_says(client: Client) -> None:
    # OpenWhisk's Exec.scala ``isBinary``: for string code only the code decides.
    for code in ("def main(a): return a", "!!!!", "abc", "YWJj\u00e9"):
        status, answer = await client.request(
            "PUT",
            "actions/bin",
            json={"exec": {"kind": "python:3.11", "code": code, "binary": True}},
            params={"overwrite": "true"},
        )
        assert (status, answer["exec"]["binary"]) == (200, False), (code, answer)
    zipped = base64.b64encode(b"PK\x05\x06" + b"\0" * 18).decode()
    status, answer = await client.request(
        "PUT",
        "actions/bin",
        json={"exec": {"kind": "python:3.11", "code": zipped, "binary": False}},
        params={"overwrite": "true"},
    )
    assert (status, answer["exec"]["binary"]) == (200, True)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("events", {"since": "9223372036854775808"}),
        ("events", {"since": "99999999999999999999"}),
        ("events", {"since": "0:99999999999999999999"}),
        ("events", {"since": "\u00b2"}),
        ("events", {"since": "0:\u0661"}),
        ("events", {"since": "99999999999999999999d"}),
        ("activations", {"since": "9223372036854775808"}),
        ("activations", {"since": "\u0661\u0662"}),
        ("activations", {"skip": "1000000000000000000000000000000"}),
        ("activations", {"limit": "1_0"}),
        ("actions", {"skip": " 1"}),
    ],
)
async def test_numbers_in_a_query_are_bounded_ascii(
    client: Client, path: str, query: dict[str, str]
) -> None:
    status, answer = await client.request("GET", path, params=query)
    assert status == 400, (path, query, status, answer)
    assert set(answer) == {"error", "code"}


async def test_numbers_in_headers_and_timeouts_are_bounded(client: Client) -> None:
    await client.put_action("echo", ECHO)
    status, answer = await client.request(
        "POST", "actions/echo", json={}, params={"blocking": "true", "timeout": "\u00b9"}
    )
    assert status == 400, answer
    status, answer, _ = await call(
        client.session,
        "GET",
        "namespaces/_/events",
        auth=client.key,
        headers={"Last-Event-ID": "0:99999999999999999999"},
    )
    assert status == 400, answer


async def test_requests_the_http_server_cannot_read_get_openwhisk_error_bodies(
    client: Client,
) -> None:
    host, port = API.removeprefix("http://").split(":")

    async def raw(request: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(request)
            # The server may answer and close before it has read everything.
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
        head, _, payload = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), headers, json.loads(payload)

    path = "/api/v1/namespaces/_/actions"
    for size in (10_000, 100_000):
        status, headers, answer = await raw(
            f"GET {path}?q={'a' * size} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        assert status == 414 and headers["Content-Type"].startswith("application/json")
        assert set(answer) == {"error", "code"} and "URI is longer" in str(answer["error"])
    status, _, answer = await raw(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 40_000}\r\n\r\n".encode()
    )
    assert status == 431 and set(answer) == {"error", "code"}
    many = "".join(f"X-{n}: 1\r\n" for n in range(300))
    status, _, answer = await raw(f"GET {path} HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert status == 431 and set(answer) == {"error", "code"}
    for garbage in (b"BLAH\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"):
        status, _, answer = await raw(garbage)
        assert status == 400 and set(answer) == {"error", "code"}
    # The server is still there.
    status, _ = await client.request("GET", "actions")
    assert status == 200


async def test_the_invoker_table_is_for_administrators_only(
    client: Client, stack: Settings
) -> None:
    status, answer, _ = await call(client.session, "GET", "admin/invokers", auth=client.key)
    assert status == 403 and set(answer) == {"error", "code"}
    status, _, _ = await call(client.session, "GET", "admin/invokers")
    assert status == 401
    admin = await admin_key(stack)
    status, rows, _ = await call(client.session, "GET", "admin/invokers", auth=admin)
    assert status == 200 and isinstance(rows, list) and rows and "pid" in rows[0]
