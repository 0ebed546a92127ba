"""The client side of the action protocol: ``/init`` and ``/run`` on a container."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from invoker.errors import InvokerError
from streams import jsoncodec


@dataclass(frozen=True)
class ProxyAnswer:
    """An answer of the action proxy: HTTP status, parsed body (if JSON), body size."""

    status: int
    body: Any
    size: int
    # The body was larger than the caller's limit: ``body`` is None, ``head``
    # its first ``limit`` bytes, ``size`` its whole length (the rest is read
    # and dropped, so the connection and the container stay usable).
    oversize: bool = False
    head: bytes = b""
    # Why the body is not JSON the platform accepts (``streams.jsoncodec``):
    # then ``body`` is its text.
    invalid: str | None = None


# A starting proxy is asked again at most this often: a container that comes up
# waits at most this long to be noticed (each try is one local connect).
READY_POLL_MAX_S = 0.01


class ProxyUnreachable(InvokerError):
    """The container's proxy could not be reached (not up, crashed, or killed)."""


class ProxyTimeout(InvokerError):
    """The proxy did not answer within the action's time limit."""


class RuntimeClient:
    """Talks to one container's proxy (``base`` is ``http://<container name>:8080``)."""

    def __init__(self, session: aiohttp.ClientSession, base: str):
        self._session = session
        self._base = base

    async def wait_ready(self, timeout_s: float, alive: Callable[[], bool] | None = None) -> None:
        """Wait until the proxy answers HTTP at all (any status).

        ``alive`` tells whether the container still runs: one that exited never
        answers, so the wait ends at once (``ProxyUnreachable``).
        """
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
                if alive is not None and not alive():
                    raise ProxyUnreachable("the container exited before anything answered") from exc
                if time.monotonic() > deadline:
                    raise ProxyUnreachable(f"the action proxy did not come up: {exc!r}") from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, READY_POLL_MAX_S)

    async def post(
        self, path: str, payload: dict[str, Any], timeout_s: float, limit_bytes: int | None = None
    ) -> ProxyAnswer:
        """POST ``payload``; of a body over ``limit_bytes`` only the ``head`` is kept."""
        data = json.dumps(payload).encode()
        try:
            async with self._session.post(
                f"{self._base}{path}",
                data=data,
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                raw, size = await _read_capped(resp, limit_bytes)
                if size > len(raw):
                    return ProxyAnswer(resp.status, None, size, oversize=True, head=raw)
        except TimeoutError as exc:
            raise ProxyTimeout(path) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ProxyUnreachable(f"{path}: {exc!r}") from exc
        try:
            body = jsoncodec.loads(raw) if raw else None
        except jsoncodec.InvalidJson as exc:
            text = raw.decode("utf-8", "replace")
            return ProxyAnswer(resp.status, text, len(raw), invalid=str(exc))
        return ProxyAnswer(resp.status, body, len(raw))


async def _read_capped(resp: aiohttp.ClientResponse, limit_bytes: int | None) -> tuple[bytes, int]:
    """``(body, size)``; past ``limit_bytes`` only the first ``limit_bytes`` are kept.

    The rest is read and dropped, as OpenWhisk's container client consumes it:
    the proxy finishes its answer and the container may serve again.
    """
    if limit_bytes is None:
        raw = await resp.read()
        return raw, len(raw)
    chunks: list[bytes] = []
    kept = size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if kept < limit_bytes:
            part = chunk[: limit_bytes - kept]
            chunks.append(part)
            kept += len(part)
    return b"".join(chunks), size
