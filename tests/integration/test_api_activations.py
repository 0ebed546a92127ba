"""Activations: list filters (name, since, upto, skip, limit, docs, count), logs, result."""

from __future__ import annotations

import pytest

from tests.support.api import PY_HELLO, activations_of, kv
from tests.support.client import Client
from tests.support.waits import eventually

pytestmark = pytest.mark.integration


async def test_list_filters(client: Client) -> None:
    await client.put_action("hello", PY_HELLO)
    await client.request("PUT", "packages/pkg", json={})
    await client.request(
        "PUT", "actions/pkg/hello", json={"exec": {"kind": "python:3.11", "code": PY_HELLO}}
    )
    ids = []
    for name in ("hello", "hello", "pkg/hello"):
        status, record = await client.invoke(name, {"name": "x"})
        assert status == 200
        ids.append(record["activationId"])

    async def all_listed() -> list:
        found = await activations_of(client)
        return found if len(found) == 3 else []

    listed = await eventually(all_listed, what="three activations listed")
    assert [a["activationId"] for a in listed] == list(reversed(ids))
    assert "logs" not in listed[0] and "response" not in listed[0]
    assert listed[0]["statusCode"] == 0

    full = await activations_of(client, docs="true")
    assert full[0]["logs"] and full[0]["response"]["result"] == {"greeting": "Hello x"}
    assert [a["activationId"] for a in await activations_of(client, name="hello")] == list(
        reversed(ids[:2])
    )
    assert [a["activationId"] for a in await activations_of(client, name="pkg/hello")] == [ids[2]]
    assert [a["activationId"] for a in await activations_of(client, limit="1", skip="1")] == [
        ids[1]
    ]
    second = listed[1]["start"]
    since = await activations_of(client, since=str(second))
    assert [a["activationId"] for a in since] == [ids[2], ids[1]]
    upto = await activations_of(client, upto=str(second))
    assert [a["activationId"] for a in upto] == [ids[1], ids[0]]
    status, count = await client.request("GET", "activations", params={"count": "true"})
    assert count == {"activations": 3}
    status, count = await client.request(
        "GET", "activations", params={"count": "true", "name": "hello"}
    )
    assert count == {"activations": 2}


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"limit": "-1"}, "The value '-1' is not in the range of 0 to 200 for activations."),
        ({"limit": "abc"}, "The value 'abc' is not an integer for activations."),
        ({"skip": "-3"}, "is not greater than or equal to 0 for activations"),
        ({"since": "abc"}, "Parameter is not a valid value for epoch seconds: abc"),
        ({"upto": "1.5"}, "Parameter is not a valid value for epoch seconds: 1.5"),
        ({"docs": "true", "count": "true"}, "The parameter 'docs' is not permitted with 'count'."),
        ({"name": "a/b/c"}, "Parameter may be a 'simple' name or 'package-name/simple' name"),
    ],
)
async def test_bad_list_queries(client: Client, query: dict, fragment: str) -> None:
    status, body = await client.request("GET", "activations", params=query)
    assert status == 400 and fragment in body["error"], body


async def test_logs_and_result(client: Client) -> None:
    await client.put_action("hello", PY_HELLO, parameters=kv(name="Ada"))
    status, record = await client.invoke("hello")
    activation_id = record["activationId"]
    await client.activation(activation_id)
    status, logs = await client.request("GET", f"activations/{activation_id}/logs")
    assert status == 200 and logs["logs"][0].endswith("stdout: Hello World")
    status, result = await client.request("GET", f"activations/{activation_id}/result")
    assert status == 200
    assert result == {
        "status": "success",
        "success": True,
        "result": {"greeting": "Hello Ada"},
        "size": result["size"],
    }
    status, body = await client.request("GET", "activations/not-an-id")
    assert (status, body["error"]) == (400, "The activation id is not valid.")
    status, body = await client.request("GET", "activations/" + "0" * 32)
    assert status == 404
