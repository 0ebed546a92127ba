"""The client side of the action protocol: ``/init`` and ``/run`` on a container."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class ProxyAnswer:
    """An answer of the action proxy: HTTP status, parsed body (if JSON), body size."""

    status: int
    body: Any
    size: int


class ProxyUnreachable(Exception):
    """The container's proxy could not be reached (not up, crashed, or killed)."""


class ProxyTimeout(Exception):
    """The proxy did not answer within the action's time limit."""


class RuntimeClient:
    """Talks to one container's proxy (``base`` is ``http://<container name>:8080``)."""

    def __init__(self, session: aiohttp.ClientSession, base: str):
        self._session = session
        self._base = base

    async def wait_ready(self, timeout_s: float) -> None:
        """Wait until the proxy answers HTTP at all (any status)."""
        deadline = time.monotonic() + timeout_s
        delay = 0.002
        while True:
            try:
                async with self._session.get(
                    f"{self._base}/", timeout=aiohttp.ClientTimeout(total=1)
                ) as resp:
                    await resp.read()
                    return
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                if time.monotonic() > deadline:
                    raise ProxyUnreachable(f"the action proxy did not come up: {exc!r}") from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)

    async def post(self, path: str, payload: dict[str, Any], timeout_s: float) -> ProxyAnswer:
        data = json.dumps(payload).encode()
        try:
            async with self._session.post(
                f"{self._base}{path}",
                data=data,
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                raw = await resp.read()
        except TimeoutError as exc:
            raise ProxyTimeout(path) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ProxyUnreachable(f"{path}: {exc!r}") from exc
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return ProxyAnswer(resp.status, body, len(raw))
