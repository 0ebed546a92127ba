"""Tenancy (403/404 as OpenWhisk), namespaces, limits, the API description, and throttles."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from streams.settings import Settings
from tests.support.api import PY_HELLO, call
from tests.support.client import Client, new_client

pytestmark = pytest.mark.integration

SLOW = "import time\ndef main(args):\n    time.sleep(args.get('s', 3))\n    return {}\n"
ECHO = "def main(args):\n    return args\n"


async def test_a_namespace_is_private(stack: Settings, client: Client) -> None:
    await client.put_action("mine", PY_HELLO)
    await client.request("PUT", "triggers/t", json={})
    await client.request("PUT", "packages/p", json={})
    status, record = await client.invoke("mine")
    activation_id = record["activationId"]
    await client.activation(activation_id)
    ns = client.namespace
    async with aiohttp.ClientSession() as session:
        other = await new_client(stack, session)
        for method, path in (
            ("GET", f"namespaces/{ns}/actions"),
            ("GET", f"namespaces/{ns}/actions/mine"),
            ("PUT", f"namespaces/{ns}/actions/mine"),
            ("DELETE", f"namespaces/{ns}/actions/mine"),
            ("POST", f"namespaces/{ns}/actions/mine"),
            ("GET", f"namespaces/{ns}/actions/nosuch"),
            ("GET", f"namespaces/{ns}/triggers"),
            ("POST", f"namespaces/{ns}/triggers/t"),
            ("GET", f"namespaces/{ns}/rules"),
            ("PUT", f"namespaces/{ns}/packages/p"),
            ("GET", f"namespaces/{ns}/activations"),
            ("GET", f"namespaces/{ns}/activations/{activation_id}"),
            ("GET", f"namespaces/{ns}/limits"),
        ):
            status, body, _ = await call(
                session,
                method,
                path,
                auth=other.key,
                json_body={} if method in ("PUT", "POST") else None,
            )
            assert status == 403, (method, path, body)
            # OpenWhisk names the resource: the namespace, and the entity if any.
            resource = "/".join(
                p
                for p in path.split("/")[1:]
                if p not in ("actions", "triggers", "rules", "packages", "activations", "limits")
            )
            assert body["error"] == (
                f"The supplied authentication is not authorized to access '{resource}'."
            )
        status, body, _ = await call(
            session, "GET", f"namespaces/_/activations/{activation_id}", auth=other.key
        )
        assert status == 404
        status, listed, _ = await call(session, "GET", "namespaces/_/actions", auth=other.key)
        assert (status, listed) == (200, [])
    status, body = await client.request("GET", "actions/mine")
    assert status == 200


async def test_namespaces_limits_and_description(stack: Settings) -> None:
    async with aiohttp.ClientSession() as session:
        me = await new_client(stack, session, {"invocationsPerMinute": 7})
        status, names, _ = await call(session, "GET", "namespaces", auth=me.key)
        assert (status, names) == (200, [me.namespace])
        status, limits, _ = await call(session, "GET", "namespaces/_/limits", auth=me.key)
        assert status == 200 and limits["invocationsPerMinute"] == 7
        assert limits["concurrentInvocations"] == stack.throttle_concurrent
        assert limits["maxActionMemory"] == 512 and limits["minActionTimeout"] == 100
        status, same, _ = await call(
            session, "GET", f"namespaces/{me.namespace}/limits", auth=me.key
        )
        assert same == limits
        status, docs, _ = await call(session, "GET", "api-docs", auth=me.key)
        assert status == 200 and docs["openapi"].startswith("3.")
        for path in (
            "/namespaces/{namespace}/actions/{actionName}",
            "/namespaces/{namespace}/triggers/{triggerName}",
            "/namespaces/{namespace}/rules/{ruleName}",
            "/namespaces/{namespace}/packages/{packageName}",
            "/namespaces/{namespace}/activations",
            "/namespaces/{namespace}/limits",
        ):
            assert path in docs["paths"], path
        status, _body, _ = await call(session, "GET", "namespaces")
        assert status == 401
        status, _body, _ = await call(session, "PATCH", "namespaces/_/actions/x", auth=me.key)
        assert status == 405


async def test_invocations_per_minute(stack: Settings) -> None:
    # The allowance is per calendar minute: start well clear of its end.
    left_s = 60 - time.time() % 60
    if left_s < 15:
        await asyncio.sleep(left_s + 0.1)
    async with aiohttp.ClientSession() as session:
        me = await new_client(stack, session, {"invocationsPerMinute": 2, "firesPerMinute": 1})
        await me.put_action("echo", ECHO)
        for _ in range(2):
            status, _ = await me.invoke("echo", {}, blocking=False)
            assert status == 202
        status, body = await me.invoke("echo", {}, blocking=False)
        assert status == 429
        assert body["error"] == "Too many requests in the last minute (count: 3, allowed: 2)."
        await me.request("PUT", "triggers/t", json={})
        status, _ = await me.request("POST", "triggers/t", json={})
        assert status == 204
        status, body = await me.request("POST", "triggers/t", json={})
        assert status == 429 and "(count: 2, allowed: 1)" in body["error"]


async def test_concurrent_activations(stack: Settings) -> None:
    async with aiohttp.ClientSession() as session:
        me = await new_client(stack, session, {"concurrentInvocations": 1})
        await me.put_action("slow", SLOW)
        status, first = await me.invoke("slow", {"s": 3}, blocking=False)
        assert status == 202
        status, body = await me.invoke("slow", {"s": 0}, blocking=False)
        assert status == 429
        assert body["error"] == "Too many concurrent requests in flight (count: 1, allowed: 1)."
        await me.activation(first["activationId"], deadline_s=60)

        async def admitted() -> bool:
            status, _ = await me.invoke("slow", {"s": 0}, blocking=True)
            return status == 200

        for _ in range(50):
            if await admitted():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the namespace stayed throttled after its activation completed")
