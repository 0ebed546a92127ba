"""The benchmark's OpenWhisk client: one keep-alive session, the calls a benchmark makes."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

NOOP_PYTHON = "def main(args):\n    return {}\n"
KIND = "python:3.11"


class BenchError(Exception):
    """The stack answered something a benchmark cannot go on with."""


@dataclass(frozen=True)
class Invoked:
    """One invoke as the client saw it."""

    status: int
    activation_id: str | None
    sent_ms: float  # wall clock (epoch ms) when the request left
    elapsed_ms: float  # monotonic duration of the whole HTTP exchange
    body: Any

    @property
    def received_ms(self) -> float:
        return self.sent_ms + self.elapsed_ms


class Client:
    """A keep-alive session to the API as one subject."""

    def __init__(self, api_url: str, auth: str, connections: int = 64):
        self.api_url = api_url.rstrip("/")
        header = "Basic " + base64.b64encode(auth.encode()).decode()
        self._session = aiohttp.ClientSession(
            headers={"Authorization": header},
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=120),
        )

    async def close(self) -> None:
        await self._session.close()

    def _url(self, path: str) -> str:
        return f"{self.api_url}/api/v1/namespaces/_/{path.lstrip('/')}"

    async def put_action(
        self, name: str, code: str = NOOP_PYTHON, memory_mb: int = 256, kind: str = KIND
    ) -> dict[str, Any]:
        body = {"exec": {"kind": kind, "code": code}, "limits": {"memory": memory_mb}}
        async with self._session.put(
            self._url(f"actions/{name}"), params={"overwrite": "true"}, json=body
        ) as resp:
            answer = await resp.json(content_type=None)
            if resp.status != 200:
                raise BenchError(f"PUT action {name}: {resp.status} {answer}")
            return dict(answer)

    async def delete_action(self, name: str) -> None:
        async with self._session.delete(self._url(f"actions/{name}")) as resp:
            await resp.read()

    async def invoke(
        self, name: str, params: dict[str, Any] | None = None, blocking: bool = True
    ) -> Invoked:
        query = {"blocking": "true" if blocking else "false"}
        sent_ms = time.time() * 1000
        t0 = time.perf_counter()
        async with self._session.post(
            self._url(f"actions/{name}"), params=query, json=params or {}
        ) as resp:
            raw = await resp.read()
        elapsed = (time.perf_counter() - t0) * 1000
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        activation_id = body.get("activationId") if isinstance(body, dict) else None
        return Invoked(resp.status, activation_id, sent_ms, elapsed, body)

    async def ping(self) -> bool:
        try:
            async with self._session.get(f"{self.api_url}/api/v1") as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False
