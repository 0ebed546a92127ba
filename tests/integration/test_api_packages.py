"""Packages: CRUD, bindings, inherited parameters, public packages, the system catalog."""

from __future__ import annotations

import aiohttp
import pytest

from streams.settings import Settings
from tests.support.api import call, kv
from tests.support.client import Client, new_client

pytestmark = pytest.mark.integration

ECHO = "def main(args):\n    return args\n"


async def test_package_crud(client: Client) -> None:
    status, created = await client.request(
        "PUT", "packages/tools", json={"parameters": kv(a=1), "annotations": kv(d="x")}
    )
    assert status == 200, created
    assert created["binding"] == {} and created["version"] == "0.0.1"
    status, body = await client.request("PUT", "packages/tools", json={})
    assert status == 409
    status, updated = await client.request(
        "PUT", "packages/tools", json={"publish": True}, params={"overwrite": "true"}
    )
    assert updated["version"] == "0.0.2" and updated["publish"] is True
    assert updated["parameters"] == kv(a=1)
    await client.request(
        "PUT", "actions/tools/echo", json={"exec": {"kind": "python:3.11", "code": ECHO}}
    )
    status, fetched = await client.request("GET", "packages/tools")
    assert status == 200 and [a["name"] for a in fetched["actions"]] == ["echo"]
    assert fetched["feeds"] == []
    # An action annotated "feed" is listed as a feed (WhiskPackage.scala withActions).
    await client.request(
        "PUT",
        "actions/tools/ticks",
        json={"exec": {"kind": "python:3.11", "code": ECHO}, "annotations": kv(feed=True)},
    )
    status, fetched = await client.request("GET", "packages/tools")
    assert [a["name"] for a in fetched["actions"]] == ["echo"]
    assert [f["name"] for f in fetched["feeds"]] == ["ticks"]
    await client.request("DELETE", "actions/tools/ticks")
    status, listed = await client.request("GET", "packages")
    assert [p["name"] for p in listed] == ["tools"] and listed[0]["binding"] is False
    status, count = await client.request("GET", "packages", params={"count": "true"})
    assert count == {"packages": 1}

    status, body = await client.request("DELETE", "packages/tools")
    assert status == 409
    assert body["error"] == (
        "Package not empty (contains 1 entity). Set force param or delete package contents."
    )
    status, _ = await client.request("DELETE", "packages/tools", params={"force": "true"})
    assert status == 200
    status, _ = await client.request("GET", "actions/tools/echo")
    assert status in (403, 404)
    status, _ = await client.request("GET", "packages/tools")
    assert status == 404


async def test_bad_packages(client: Client) -> None:
    status, body = await client.request("PUT", "packages/default", json={})
    assert (status, body["error"]) == (400, "Package name 'default' is reserved.")
    status, body = await client.request(
        "PUT", "packages/b", json={"binding": {"namespace": "_", "name": "missing"}}
    )
    assert (status, body["error"]) == (400, "Binding references a package that does not exist.")
    await client.request("PUT", "packages/real", json={})
    await client.request("PUT", "packages/b1", json={"binding": {"namespace": "_", "name": "real"}})
    status, body = await client.request(
        "PUT", "packages/b2", json={"binding": {"namespace": "_", "name": "b1"}}
    )
    assert (status, body["error"]) == (400, "Cannot bind to another package binding.")
    status, body = await client.request(
        "PUT",
        "packages/real",
        json={"binding": {"namespace": "_", "name": "b1"}},
        params={"overwrite": "true"},
    )
    assert status == 409 and "cannot be converted into a binding" in body["error"]
    status, body = await client.request(
        "PUT", "actions/b1/x", json={"exec": {"kind": "python:3.11", "code": ECHO}}
    )
    assert (status, body["error"]) == (400, "Operation not permitted on package binding.")
    status, body = await client.request("PUT", "packages/p", json={"binding": "nope"})
    assert status == 400


async def test_bindings_merge_parameters_and_run_the_bound_actions(
    stack: Settings, client: Client
) -> None:
    await client.request("PUT", "packages/base", json={"parameters": kv(a=1, b=1)})
    await client.request(
        "PUT",
        "actions/base/echo",
        json={"exec": {"kind": "python:3.11", "code": ECHO}, "parameters": kv(c=1)},
    )
    status, bound = await client.request(
        "PUT",
        "packages/mine",
        json={"binding": {"namespace": client.namespace, "name": "base"}, "parameters": kv(b=2)},
    )
    assert status == 200, bound
    assert bound["binding"] == {"namespace": client.namespace, "name": "base"}
    status, fetched = await client.request("GET", "packages/mine")
    assert {p["key"]: p["value"] for p in fetched["parameters"]} == {"a": 1, "b": 2}
    assert [a["name"] for a in fetched["actions"]] == ["echo"]
    status, record = await client.invoke("mine/echo", {"d": 4})
    assert status == 200, record
    assert record["response"]["result"] == {"a": 1, "b": 2, "c": 1, "d": 4}
    annotations = {a["key"]: a["value"] for a in record["annotations"]}
    assert annotations["binding"] == f"{client.namespace}/mine"
    assert annotations["path"] == f"{client.namespace}/base/echo"
    status, listed = await client.request("GET", "actions/mine/")
    assert [a["name"] for a in listed] == ["echo"]


async def test_public_packages_are_readable_by_other_namespaces(
    stack: Settings, client: Client
) -> None:
    await client.request("PUT", "packages/shared", json={"publish": True})
    await client.request("PUT", "packages/private", json={})
    for pkg in ("shared", "private"):
        await client.request(
            "PUT", f"actions/{pkg}/echo", json={"exec": {"kind": "python:3.11", "code": ECHO}}
        )
    async with aiohttp.ClientSession() as session:
        other = await new_client(stack, session)
        ns = client.namespace
        status, listed, _ = await call(session, "GET", f"namespaces/{ns}/packages", auth=other.key)
        assert status == 200 and [p["name"] for p in listed] == ["shared"]
        status, pkg, _ = await call(
            session, "GET", f"namespaces/{ns}/packages/shared", auth=other.key
        )
        assert status == 200 and pkg["actions"][0]["name"] == "echo"
        status, result, _ = await call(
            session,
            "POST",
            f"namespaces/{ns}/actions/shared/echo",
            auth=other.key,
            json_body={"x": 1},
            params={"blocking": "true", "result": "true"},
        )
        assert (status, result) == (200, {"x": 1})
        for path in (
            f"namespaces/{ns}/packages/private",
            f"namespaces/{ns}/actions/private/echo",
            f"namespaces/{ns}/packages/nosuch",
        ):
            status, body, _ = await call(session, "GET", path, auth=other.key)
            assert status == 403, (path, body)
        status, body, _ = await call(
            session,
            "PUT",
            "namespaces/_/packages/mybind",
            auth=other.key,
            json_body={"binding": {"namespace": ns, "name": "private"}},
        )
        assert status == 403
        status, body, _ = await call(
            session,
            "PUT",
            f"namespaces/{ns}/actions/shared/intruder",
            auth=other.key,
            json_body={"exec": {"kind": "python:3.11", "code": ECHO}},
        )
        assert status == 403


@pytest.mark.parametrize(
    ("action", "params", "expected"),
    [
        ("echo", {"payload": "Five fuzzy felines"}, {"payload": "Five fuzzy felines"}),
        ("cat", {"lines": [4, 2, 3]}, {"lines": [4, 2, 3], "payload": "4\n2\n3"}),
        ("sort", {"lines": ["b", "c", "a"]}, {"lines": ["a", "b", "c"], "length": 3}),
        ("head", {"lines": [4, 2, 3], "num": 2}, {"lines": [4, 2], "num": 2}),
        (
            "split",
            {"payload": "one,two,three", "separator": ","},
            {"lines": ["one", "two", "three"], "payload": "one,two,three"},
        ),
    ],
)
async def test_the_system_catalog_runs_from_any_namespace(
    client: Client, action: str, params: dict, expected: dict
) -> None:
    status, result = await client.request(
        "POST",
        f"/../whisk.system/actions/utils/{action}",
        json=params,
        params={"blocking": "true", "result": "true"},
    )
    assert (status, result) == (200, expected)


async def test_catalog_date_and_namespace(client: Client) -> None:
    async def run(name: str) -> dict:
        status, result, _ = await call(
            client.session,
            "POST",
            f"namespaces/whisk.system/actions/utils/{name}",
            auth=client.key,
            params={"blocking": "true", "result": "true"},
        )
        assert status == 200, result
        return result

    assert await run("namespace") == {"namespace": client.namespace}
    assert (await run("date"))["date"][:2] == "20"
    status, pkg, _ = await call(
        client.session, "GET", "namespaces/whisk.system/packages/utils", auth=client.key
    )
    assert {a["name"] for a in pkg["actions"]} >= {
        "echo",
        "cat",
        "sort",
        "head",
        "split",
        "date",
        "namespace",
    }
    status, _body, _ = await call(
        client.session,
        "PUT",
        "namespaces/whisk.system/actions/utils/mine",
        auth=client.key,
        json_body={"exec": {"kind": "python:3.11", "code": ECHO}},
    )
    assert status == 403
