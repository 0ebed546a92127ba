"""Actions: CRUD, packages, parameters, final parameters, limits, bad input."""

from __future__ import annotations

import pytest

from tests.support.api import JS_HELLO, PY_HELLO, kv
from tests.support.client import Client

pytestmark = pytest.mark.integration

ECHO = "def main(args):\n    return args\n"


async def test_create_get_update_list_delete(client: Client) -> None:
    status, created = await client.request(
        "PUT",
        "actions/hello",
        json={
            "exec": {"kind": "python:default", "code": PY_HELLO},
            "annotations": kv(description="greets"),
            "limits": {"timeout": 5000, "memory": 128},
        },
    )
    assert status == 200, created
    assert created["version"] == "0.0.1" and created["exec"]["kind"] == "python:3.11"
    assert created["limits"] == {"timeout": 5000, "memory": 128, "logs": 10, "concurrency": 1}
    annotations = {a["key"]: a["value"] for a in created["annotations"]}
    # OpenWhisk stores provide-api-key false on a new action that does not set it.
    assert annotations == {
        "description": "greets",
        "provide-api-key": False,
        "exec": "python:3.11",
    }

    status, body = await client.request("PUT", "actions/hello", json={"exec": created["exec"]})
    assert (status, body["error"]) == (409, "resource already exists")

    status, updated = await client.request(
        "PUT",
        "actions/hello",
        json={"annotations": kv(extra=1), "limits": {"memory": 256}},
        params={"overwrite": "true"},
    )
    assert status == 200, updated
    assert updated["version"] == "0.0.2" and updated["exec"]["code"] == PY_HELLO
    assert updated["limits"]["timeout"] == 5000 and updated["limits"]["memory"] == 256
    assert {a["key"] for a in updated["annotations"]} == {
        "description",
        "extra",
        "provide-api-key",
        "exec",
    }
    # delAnnotations go before the update's own annotations (Actions.scala update).
    status, updated = await client.request(
        "PUT",
        "actions/hello",
        json={"delAnnotations": ["description", "extra", "absent"], "annotations": kv(extra=2)},
        params={"overwrite": "true"},
    )
    assert status == 200, updated
    assert {a["key"]: a["value"] for a in updated["annotations"]} == {
        "extra": 2,
        "provide-api-key": False,
        "exec": "python:3.11",
    }
    status, refused = await client.request(
        "PUT", "actions/hello", json={"delAnnotations": "extra"}, params={"overwrite": "true"}
    )
    assert status == 400 and "delAnnotations" in refused["error"]

    status, fetched = await client.request("GET", "actions/hello", params={"code": "false"})
    assert status == 200 and "code" not in fetched["exec"]
    status, fetched = await client.request("GET", "actions/hello")
    assert fetched["exec"]["code"] == PY_HELLO

    await client.put_action("second", JS_HELLO, kind="nodejs:default")
    status, listed = await client.request("GET", "actions")
    assert status == 200 and [a["name"] for a in listed] == ["second", "hello"]
    assert "exec" in listed[0] and "code" not in listed[0]["exec"]
    status, page = await client.request("GET", "actions", params={"limit": "1", "skip": "1"})
    assert [a["name"] for a in page] == ["hello"]
    status, count = await client.request("GET", "actions", params={"count": "true"})
    assert count == {"actions": 2}

    status, deleted = await client.request("DELETE", "actions/hello")
    assert status == 200 and deleted["name"] == "hello"
    status, _ = await client.request("GET", "actions/hello")
    assert status == 404
    status, _ = await client.request("DELETE", "actions/hello")
    assert status == 404


async def test_default_parameters_merge_under_the_invocation(client: Client) -> None:
    await client.put_action("echo", ECHO, parameters=kv(a=1, b=2))
    status, result = await client.invoke("echo", {"b": 3, "c": 4}, result=True)
    assert (status, result) == (200, {"a": 1, "b": 3, "c": 4})


async def test_final_parameters_may_not_be_overridden(client: Client) -> None:
    await client.put_action(
        "locked", ECHO, parameters=kv(a=1, unset=None), annotations=kv(final=True)
    )
    status, body = await client.invoke("locked", {"a": 2}, result=True)
    assert status == 400
    assert body["error"] == (
        "Request defines parameters that are not allowed (e.g., reserved properties)."
    )
    status, result = await client.invoke("locked", {"unset": 5}, result=True)
    assert (status, result) == (200, {"a": 1, "unset": 5})


async def test_actions_in_packages_inherit_package_parameters(client: Client) -> None:
    status, body = await client.request(
        "PUT", "actions/nopkg/echo", json={"exec": {"kind": "python:3.11", "code": ECHO}}
    )
    assert status == 404, body
    await client.request("PUT", "packages/tools", json={"parameters": kv(p=1, q=1)})
    status, created = await client.request(
        "PUT",
        "actions/tools/echo",
        json={"exec": {"kind": "python:3.11", "code": ECHO}, "parameters": kv(q=2)},
    )
    assert status == 200, created
    assert created["namespace"] == f"{client.namespace}/tools"
    status, result = await client.invoke("tools/echo", {"r": 3}, result=True)
    assert (status, result) == (200, {"p": 1, "q": 2, "r": 3})
    status, listed = await client.request("GET", "actions/tools/")
    assert status == 200 and [a["name"] for a in listed] == ["echo"]
    status, everything = await client.request("GET", "actions")
    assert [a["namespace"] for a in everything] == [f"{client.namespace}/tools"]
    status, record = await client.invoke("tools/echo", {})
    assert record["name"] == "echo"
    paths = {a["key"]: a["value"] for a in record["annotations"]}
    assert paths["path"] == f"{client.namespace}/tools/echo"


async def test_names_of_another_collection_conflict(client: Client) -> None:
    await client.request("PUT", "triggers/taken", json={})
    status, body = await client.put_action("taken", ECHO)
    assert status == 409 and "not in this collection" in body["error"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"exec": {"kind": "cobol:1", "code": "x"}}, "runtime 'cobol:1' is not supported"),
        ({"exec": {"kind": "python:3.11"}}, "'code' must be a string"),
        ({"exec": {"kind": "python:3.11", "code": 5}}, "'code' must be a string"),
        (
            {"exec": {"kind": "python:3.11", "code": ECHO}, "parameters": {"a": 1}},
            "parameters malformed!",
        ),
        (
            {"exec": {"kind": "python:3.11", "code": ECHO}, "limits": {"memory": 4096}},
            "requirement failed: memory size 4096 MB exceeds",
        ),
        (
            {"exec": {"kind": "python:3.11", "code": ECHO}, "limits": {"timeout": 1}},
            "duration 1 milliseconds below",
        ),
        (
            {"exec": {"kind": "python:3.11", "code": ECHO}, "limits": {"memory": "big"}},
            "memory limit malformed",
        ),
        ({"exec": {"kind": "python:3.11", "code": ECHO}, "publish": "yes"}, "publish"),
        ({"exec": "python"}, "JSON object expected"),
        ([1, 2], "must be a JSON object"),
    ],
)
async def test_bad_actions_are_400_and_leave_nothing(
    client: Client, body: object, fragment: str
) -> None:
    status, answer = await client.request("PUT", "actions/bad", json=body)
    assert status == 400, answer
    assert fragment in answer["error"] and answer["code"]
    status, _ = await client.request("GET", "actions/bad")
    assert status == 404


async def test_bad_names_and_sizes(client: Client) -> None:
    status, body = await client.put_action("a" * 257, ECHO)
    assert status == 400 and "longer than allowed" in body["error"]
    status, body = await client.put_action("bad%24name", ECHO)
    assert status == 400 and body["error"] == "The name of the entity contains illegal characters."
    status, body = await client.put_action("big", ECHO, parameters=kv(x="a" * (1024 * 1024 + 10)))
    assert status == 413 and "parameters larger than allowed" in body["error"]
    await client.put_action("echo", ECHO)
    status, body = await client.invoke("echo", {"x": "a" * (1024 * 1024 + 10)})
    assert status == 413 and "Request larger than allowed" in body["error"]
    status, body = await client.request(
        "POST", "actions/echo", data=b"{nope", params={"blocking": "true"}
    )
    assert status == 400 and "malformed" in body["error"]
    for query, fragment in (
        ({"timeout": "abc"}, "Timeout must be number of milliseconds up to 60000."),
        ({"timeout": "0"}, "Timeout must be number"),
        ({"blocking": "perhaps"}, "not a valid Boolean"),
    ):
        status, body = await client.request("POST", "actions/echo", json={}, params=query)
        assert status == 400 and fragment in body["error"], (query, body)
    for query in ({"limit": "-1"}, {"limit": "201"}, {"skip": "-1"}, {"limit": "x"}):
        status, body = await client.request("GET", "actions", params=query)
        assert status == 400 and "for actions" in body["error"], (query, body)


async def test_invoke_answers_the_activation_id_header_and_whole_record(client: Client) -> None:
    await client.put_action("hello", PY_HELLO)
    async with client.session.post(
        client.url("actions/hello"),
        json={"name": "Ada"},
        params={"blocking": "true"},
        headers={"Authorization": client.auth},
    ) as resp:
        body = await resp.json()
        assert resp.status == 200
        assert resp.headers["x-openwhisk-activation-id"] == body["activationId"]
    assert body["response"]["result"] == {"greeting": "Hello Ada"}
    assert any(line.endswith("stdout: Hello World") for line in body["logs"])
