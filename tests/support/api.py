"""Helpers for the API and CLI integration tests: sample actions, raw calls, listing."""

from __future__ import annotations

import json
import os
from typing import Any

import aiohttp

from api.setup import new_key, put_subject
from store.couch import Couch
from streams.settings import Settings
from tests.support.client import Client, basic
from tests.support.stack import API

PY_HELLO = (
    "def main(args):\n"
    "    print('Hello World')\n"
    "    return {'greeting': 'Hello ' + args.get('name', 'stranger')}\n"
)
JS_HELLO = (
    "function main(args) {\n"
    "  console.log('Hello World');\n"
    "  return {greeting: 'Hello ' + (args.name || 'stranger')};\n"
    "}\n"
)


async def call(
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    *,
    auth: str | None = None,
    json_body: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, Any, Any]:
    """``(status, body, headers)`` for any path under ``/api/v1``."""
    all_headers = dict(headers or {})
    if auth:
        all_headers["Authorization"] = basic(auth)
    async with session.request(
        method,
        f"{API}/api/v1/{path.lstrip('/')}",
        json=json_body,
        data=data,
        headers=all_headers,
        params=params,
    ) as resp:
        raw = await resp.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        return resp.status, body, resp.headers


async def activations_of(client: Client, **query: str) -> list[dict[str, Any]]:
    status, body = await client.request("GET", "activations", params=query or None)
    assert status == 200, body
    assert isinstance(body, list)
    return body


def kv(**values: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in values.items()]


async def admin_key(stack: Settings) -> str:
    """The key of a new administrator subject (``/api/v1/admin/...`` answers it)."""
    key = new_key()
    couch = Couch(stack)
    try:
        await put_subject(couch, stack, "a" + os.urandom(4).hex(), key, admin=True)
    finally:
        await couch.close()
    return key
