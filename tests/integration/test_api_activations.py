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
    assert (status, body["error"]) == (400, "Activation id length is 9 but must be 32.")
    status, body = await client.request("GET", "activations/" + "0" * 32)
    assert status == 404


async def test_an_empty_time_range_and_signed_numbers_answer_as_openwhisk(client: Client) -> None:
    await client.put_action("hello", PY_HELLO)
    status, record = await client.invoke("hello", {})
    assert status == 200
    await client.activation(record["activationId"])
    reversed_range = {"since": "1796110874085", "upto": "1796110868213"}
    for extra, empty in (
        ({}, []),
        ({"name": "hello"}, []),
        ({"count": "true"}, {"activations": 0}),
    ):
        status, body = await client.request(
            "GET", "activations", params={**reversed_range, **extra}
        )
        assert (status, body) == (200, empty), extra
    # Java's toLong/toInt take a sign: since=-5 is 1969, limit=+5 is 5, skip=+0 is 0.
    listed = await activations_of(client, since="-5", limit="+5", skip="+0")
    assert [a["activationId"] for a in listed] == [record["activationId"]]
    assert await activations_of(client, since="+5", upto=f"+{record['start']}") == listed
    # Every list reads limit and skip alike.
    for collection in ("actions", "packages", "triggers", "rules"):
        status, body = await client.request("GET", collection, params={"limit": "+5", "skip": "+0"})
        assert status == 200, (collection, body)
    for query, fragment in (
        ({"limit": "-5"}, "The value '-5' is not in the range of 0 to 200 for activations."),
        ({"skip": "-5"}, "The value '-5' is not greater than or equal to 0 for activations."),
        ({"since": "9223372036854775808"}, "epoch seconds: 9223372036854775808"),
    ):
        status, body = await client.request("GET", "activations", params=query)
        assert status == 400 and fragment in body["error"], (query, body)


async def test_a_wrong_length_id_is_refused_with_openwhisks_length_message(client: Client) -> None:
    good = "01a2308cdee91516bba89b63820359ba"
    for given in (good[:31], good + "0"):
        for tail in ("", "/logs", "/result"):
            status, body = await client.request("GET", f"activations/{given}{tail}")
            assert status == 400, (given, tail)
            assert body["error"] == f"Activation id length is {len(given)} but must be 32."
    for given in (good[:31] + "z", good.upper()):
        status, body = await client.request("GET", f"activations/{given}")
        assert (status, body["error"]) == (400, "The activation id is not valid.")


async def test_a_trailing_slash_names_the_same_collection_or_record(client: Client) -> None:
    await client.put_action("hello", PY_HELLO)
    status, record = await client.invoke("hello", {})
    assert status == 200
    activation_id = record["activationId"]
    await client.activation(activation_id)
    status, one = await client.request("GET", f"activations/{activation_id}/")
    assert status == 200 and one["activationId"] == activation_id
    status, listed = await client.request("GET", "activations/", params={"limit": "1"})
    assert status == 200 and [a["activationId"] for a in listed] == [activation_id]
    for collection in ("actions", "packages", "triggers", "rules"):
        plain = await client.request("GET", collection)
        assert await client.request("GET", f"{collection}/") == plain, collection
    status, _ = await client.request("GET", f"activations/{activation_id}/logs/")
    assert status == 404  # OpenWhisk's logs and result routes end without a slash
