"""Bad input on every entity collection: malformed JSON, wrong types, names, sizes."""

from __future__ import annotations

import pytest

from .conftest import Client

pytestmark = pytest.mark.integration

COLLECTIONS = ("actions", "packages", "triggers", "rules")


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_malformed_and_wrong_bodies(client: Client, collection: str) -> None:
    status, body = await client.request("PUT", f"{collection}/x", data=b"{not json")
    assert status == 400 and body["error"].startswith("The request content was malformed")
    status, body = await client.request("PUT", f"{collection}/x", json=["a"])
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
