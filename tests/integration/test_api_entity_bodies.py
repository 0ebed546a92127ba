"""Entity bodies as OpenWhisk's controller reads them: nulls, kinds, images, names,
limits, sequence components, Content-Type and empty bodies (Actions.scala, Exec.scala,
EntityPath.scala, the limits' serdes, pekko-http's unmarshalling)."""

from __future__ import annotations

import pytest

from streams import constants
from tests.support.api import kv
from tests.support.client import Client

pytestmark = pytest.mark.integration

ECHO = "def main(args):\n    return args\n"
MALFORMED = "The request content was malformed:\n"


async def test_a_null_field_in_an_update_keeps_what_was_stored(client: Client) -> None:
    status, _ = await client.put_action(
        "keep", ECHO, parameters=kv(keep=1), limits={"timeout": 5000}
    )
    assert status == 200
    status, updated = await client.request(
        "PUT",
        "actions/keep",
        json={"exec": None, "parameters": None, "annotations": None, "limits": {"timeout": None}},
        params={"overwrite": "true"},
    )
    assert status == 200, updated
    assert updated["parameters"] == kv(keep=1)
    assert updated["exec"]["code"] == ECHO and updated["limits"]["timeout"] == 5000
    assert updated["version"] == "0.0.2"
    await client.request("PUT", "packages/pkg", json={"parameters": kv(p=2)})
    status, package = await client.request(
        "PUT", "packages/pkg", json={"parameters": None}, params={"overwrite": "true"}
    )
    assert (status, package["parameters"]) == (200, kv(p=2))


async def test_kinds_are_read_as_exec_scala_reads_them(client: Client) -> None:
    status, created = await client.request(
        "PUT", "actions/upper", json={"exec": {"kind": " Python:3.11 ", "code": ECHO}}
    )
    assert (status, created["exec"]["kind"]) == (200, "python:3.11")
    for exec_, text in (
        ({"kind": "cobol:1", "code": "x"}, "The specified runtime 'cobol:1' is not supported"),
        ({"code": "x"}, "'kind' must be a string defined in 'exec'"),
        (
            {"kind": "python:default"},
            "'code' must be a string defined in 'exec' for 'python:default'",
        ),
        ({"kind": "blackbox"}, "'image' must be a string defined in 'exec' for 'blackbox'"),
        ({"kind": "blackbox", "image": "Bad Image!!"}, "could not parse image name"),
        ({"kind": "sequence"}, "'components' must be defined for sequence kind"),
        ({"kind": "python:3.11", "code": "x", "main": 5}, "if defined, 'main' be a string"),
    ):
        status, answer = await client.request("PUT", "actions/bad", json={"exec": exec_})
        assert status == 400 and answer["error"].startswith(MALFORMED + text), (exec_, answer)
    status, _ = await client.request("GET", "actions/bad")
    assert status == 404
    # A client's binary flag does not make text code binary (Exec.scala isBinary).
    status, created = await client.request(
        "PUT", "actions/flag", json={"exec": {"kind": "python:3.11", "code": ECHO, "binary": True}}
    )
    assert (status, created["exec"]["binary"]) == (200, False)


async def test_code_past_48_mb_is_413_and_not_stored(client: Client) -> None:
    code = "#" * (constants.EXEC_MAX_BYTES + 1) + "\n" + ECHO
    status, answer = await client.request(
        "PUT", "actions/huge", json={"exec": {"kind": "python:3.11", "code": code}}
    )
    size = len(code.encode())
    assert (status, answer["error"]) == (
        413,
        f"exec larger than allowed: {size} > {constants.EXEC_MAX_BYTES} bytes.",
    )
    status, _ = await client.request("GET", "actions/huge")
    assert status == 404


async def test_names_may_hold_an_ampersand(client: Client) -> None:
    status, created = await client.put_action("a@&b", ECHO)
    assert (status, created["name"]) == (200, "a@&b")
    status, answer = await client.put_action("&a", ECHO)
    assert (status, answer["error"]) == (400, "The name of the entity contains illegal characters.")


async def test_limits_read_as_their_serdes_and_namespace_checks(client: Client) -> None:
    base = {"exec": {"kind": "python:3.11", "code": ECHO}}
    status, created = await client.request(
        "PUT", "actions/whole", json={**base, "limits": {"memory": 256.0, "instances": 2}}
    )
    assert status == 200, created
    assert created["limits"]["memory"] == 256 and created["limits"]["instances"] == 2
    for limits, status_text in (
        ({"memory": 1}, "requirement failed: memory size 1 MB below allowed threshold of 128 MB"),
        ({"logs": 99}, "requirement failed: log size 99 MB exceeds allowed threshold of 10 MB"),
        ({"timeout": 1.5}, MALFORMED + "requirement failed: time limit must be whole number"),
        ({"concurrency": "x"}, MALFORMED + "concurrency limit malformed"),
        (
            {"instances": 10**6},
            "Max action instance concurrency must not exceed your namespace concurrency of",
        ),
    ):
        status, answer = await client.request("PUT", "actions/bad", json={**base, "limits": limits})
        assert status == 400 and answer["error"].startswith(status_text), (limits, answer)
    # An update without instances keeps them (Actions.scala update).
    status, updated = await client.request(
        "PUT", "actions/whole", json={"limits": {"memory": 128}}, params={"overwrite": "true"}
    )
    assert (status, updated["limits"]["instances"]) == (200, 2)


async def test_sequence_components_name_their_namespace(client: Client) -> None:
    await client.put_action("inc", ECHO)
    status, answer = await client.request(
        "PUT", "actions/seq", json={"exec": {"kind": "sequence", "components": ["inc"]}}
    )
    assert status == 400
    assert answer["error"] == MALFORMED + (
        "requirement failed: The fully qualified name of the entity must contain at least "
        "the namespace and the name of the entity."
    )
    # Without a leading slash the first segment is still the namespace.
    status, created = await client.request(
        "PUT",
        "actions/seq",
        json={"exec": {"kind": "sequence", "components": [f"{client.namespace}/inc", "/_/inc"]}},
    )
    assert status == 200, created
    assert created["exec"]["components"] == [f"/{client.namespace}/inc"] * 2
    # The object form the API answers for rules is read for components too.
    status, created = await client.request(
        "PUT",
        "actions/seq",
        json={"exec": {"kind": "sequence", "components": [{"path": "_", "name": "inc"}]}},
        params={"overwrite": "true"},
    )
    assert (status, created["exec"]["components"]) == (200, [f"/{client.namespace}/inc"])
    status, answer = await client.request(
        "PUT",
        "actions/seq",
        json={"exec": {"kind": "sequence", "components": [{"path": "_", "name": "a/b"}]}},
        params={"overwrite": "true"},
    )
    assert (status, answer["error"]) == (400, MALFORMED + "fully qualified name malformed")


async def test_bodies_must_be_json_as_pekko_reads_them(client: Client) -> None:
    body = b'{"exec": {"kind": "python:3.11", "code": "def main(a):\\n    return a\\n"}}'
    for content_type, shown in (
        ("text/plain", "text/plain"),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        ("text/plain; charset=utf-8", "text/plain; charset=UTF-8"),
        (None, "application/octet-stream"),
    ):
        status, answer = await client.request(
            "PUT", "actions/typed", data=body, content_type=content_type
        )
        assert (status, answer["error"]) == (
            415,
            f"The request's Content-Type [{shown}] is not supported. Expected:\napplication/json",
        ), content_type
    status, _ = await client.request("GET", "actions/typed")
    assert status == 404
    status, _ = await client.request(
        "PUT", "actions/typed", data=body, content_type="application/json; charset=utf-8"
    )
    assert status == 200
    # An invoke without a body is no arguments, whatever type it claims (aiohttp's client
    # says application/octet-stream); a PUT's empty body must still claim JSON.
    status, _ = await client.request("POST", "actions/typed", params={"blocking": "true"})
    assert status == 200
    status, _ = await client.request(
        "POST", "actions/typed", data=b"", content_type="text/plain", params={"blocking": "true"}
    )
    assert status == 200
    status, answer = await client.request(
        "PUT", "actions/typed", data=b"", content_type="text/plain"
    )
    assert status == 415, answer
    status, answer = await client.request(
        "POST", "actions/typed", data=b'{"a": 1}', content_type="text/plain"
    )
    assert status == 415, answer
    # A PUT without a body (spray-json's parser on no input), and a payload that is no object.
    status, answer = await client.request("PUT", "actions/empty", data=b"")
    assert status == 400
    assert answer["error"] == MALFORMED + (
        "Unexpected end-of-input at input index 0 (line 1, position 1), expected JSON Value:\n\n^\n"
    )
    await client.request("PUT", "triggers/t", json={})
    for path in ("actions/typed", "triggers/t"):
        for payload in (b"null", b"[1]", b'"x"'):
            status, answer = await client.request("POST", path, data=payload)
            assert (status, answer["error"]) == (400, MALFORMED + "JSON object expected"), path
