"""Collect a container's stdout/stderr and cut it into activations at the sentinel."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

from streams.constants import SENTINEL
from streams.messages import LOGS_TRUNCATED

STREAMS = {1: "stdout", 2: "stderr"}


async def docker_frames(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, str]]:
    """Decode Docker's multiplexed log stream into ``(stream, line)`` pairs.

    Each frame is an 8-byte header (stream type, 3 zero bytes, big-endian
    length) followed by the payload; a payload may hold part of a line.
    """
    buffer = b""
    pending = {1: b"", 2: b""}
    async for chunk in chunks:
        buffer += chunk
        while len(buffer) >= 8:
            kind, size = struct.unpack(">BxxxL", buffer[:8])
            if len(buffer) < 8 + size:
                break
            payload, buffer = buffer[8 : 8 + size], buffer[8 + size :]
            key = kind if kind in pending else 1
            data = pending[key] + payload
            *lines, pending[key] = data.split(b"\n")
            for line in lines:
                yield STREAMS.get(kind, "stdout"), line.decode("utf-8", "replace")


def fixed_width(stamp: str) -> str:
    """Docker trims trailing zeros of the nanoseconds; pad them back so stamps sort."""
    if stamp.endswith("Z") and "." in stamp:
        head, _, frac = stamp[:-1].partition(".")
        return f"{head}.{frac.ljust(9, '0')[:9]}Z"
    return stamp


class LogCollector:
    """Lines of the activation running now, up to the sentinel on both streams.

    Lines arrive as Docker gives them with ``timestamps=1``:
    ``2026-11-27T20:00:00.123456789Z text``; they are kept in OpenWhisk's
    format ``<time> <stream>: <text>``.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._bytes = 0
        self._limit = 10 * 1024 * 1024
        self._truncated = False
        self._seen: set[str] = set()
        self._done = asyncio.Event()

    def begin(self, limit_bytes: int) -> None:
        """Start collecting for a new activation with the given log limit."""
        self._lines, self._bytes, self._truncated = [], 0, False
        self._seen.clear()
        self._done.clear()
        self._limit = limit_bytes

    def feed(self, stream: str, raw: str) -> None:
        stamp, _, text = raw.partition(" ")
        stamp = fixed_width(stamp)
        if text == SENTINEL:
            self._seen.add(stream)
            if len(self._seen) == 2:
                self._done.set()
            return
        if stream in self._seen:
            return  # output after this stream's sentinel belongs to no activation
        size = len(text.encode())
        if self._bytes + size > self._limit:
            self._truncated = True
            return
        self._bytes += size
        self._lines.append(f"{stamp} {stream}: {text}")

    async def finish(self, timeout_s: float) -> list[str]:
        """The activation's lines, once both sentinels arrived (or the wait ran out)."""
        try:
            await asyncio.wait_for(self._done.wait(), timeout_s)
        except TimeoutError:
            pass
        # Both streams interleaved by time; fixed-width stamps sort as text.
        lines = sorted(self._lines, key=lambda line: line[:30])
        if self._truncated:
            lines.append(LOGS_TRUNCATED.format(limit=self._limit))
        return lines
