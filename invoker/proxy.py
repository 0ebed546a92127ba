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
    # The body was larger than the caller's limit: it was not read to its end
    # and ``body`` is None; ``size`` is its announced (or read so far) length.
    oversize: bool = False
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
        """POST ``payload``; a body over ``limit_bytes`` is not read (``oversize``)."""
        data = json.dumps(payload).encode()
        try:
            async with self._session.post(
                f"{self._base}{path}",
                data=data,
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                raw, size = await _read_capped(resp, limit_bytes)
                if raw is None:
                    # Never hand a half-read connection back to the pool.
                    resp.close()
                    return ProxyAnswer(resp.status, None, size, oversize=True)
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


async def _read_capped(
    resp: aiohttp.ClientResponse, limit_bytes: int | None
) -> tuple[bytes | None, int]:
    """The body, or ``(None, size)`` as soon as it is known to exceed ``limit_bytes``."""
    if limit_bytes is None:
        raw = await resp.read()
        return raw, len(raw)
    announced = resp.content_length
    if announced is not None and announced > limit_bytes:
        return None, announced
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit_bytes:
            return None, size
        chunks.append(chunk)
    return b"".join(chunks), size
