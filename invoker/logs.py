"""Collect a container's stdout/stderr and cut it into activations at the sentinel."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from streams.constants import SENTINEL
from streams.messages import LOGS_TRUNCATED

STREAMS = {1: "stdout", 2: "stderr"}


async def docker_frames(
    chunks: AsyncIterator[bytes], timestamps: bool = True
) -> AsyncIterator[tuple[str, str]]:
    """Decode Docker's multiplexed log stream into ``(stream, line)`` pairs.

    Each frame is an 8-byte header (stream type, 3 zero bytes, big-endian
    length) followed by one log message. Docker stores a line longer than
    16 kB as several messages, each without the newline but the last, and
    with ``timestamps`` each piece gets a stamp of its own: a continuation's
    stamp is dropped so the line comes out whole, with its first stamp.
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
            if pending[key] and timestamps:
                payload = payload.partition(b" ")[2]
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


def now_stamp() -> str:
    """The current time in the fixed-width form of Docker's stamps."""
    return fixed_width(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


class LogCollector:
    """Lines of the activation running now, up to the sentinel on both streams.

    Lines arrive as Docker gives them with ``timestamps=1``:
    ``2026-11-27T20:00:00.123456789Z text``; they are kept in OpenWhisk's
    format ``<time> <stream>: <text>``. Only lines between ``begin`` and
    ``finish`` are kept: output while no activation runs (a stem cell booting,
    a callback firing after its activation ended) belongs to none, so memory
    stays bounded by the log limit.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._bytes = 0
        self._limit = 0
        self._truncated = False
        self._collecting = False
        self._seen: set[str] = set()
        self._done = asyncio.Event()

    def begin(self, limit_bytes: int) -> None:
        """Start collecting for a new activation with the given log limit."""
        self._lines, self._bytes, self._truncated = [], 0, False
        self._seen.clear()
        self._done.clear()
        self._limit = limit_bytes
        self._collecting = True

    def feed(self, stream: str, raw: str) -> None:
        stamp, _, text = raw.partition(" ")
        if text == SENTINEL:
            self._seen.add(stream)
            if len(self._seen) == 2:
                self._done.set()
            return
        if not self._collecting or stream in self._seen:
            return  # output after this stream's sentinel belongs to no activation
        size = len(text.encode())
        if self._bytes + size > self._limit:
            self._truncated = True
            return
        self._bytes += size
        self._lines.append(f"{fixed_width(stamp)} {stream}: {text}")

    async def finish(self, timeout_s: float) -> list[str]:
        """The activation's lines, once both sentinels arrived (or the wait ran out)."""
        try:
            await asyncio.wait_for(self._done.wait(), timeout_s)
        except TimeoutError:
            pass
        self._collecting = False
        # Both streams interleaved by time; fixed-width stamps sort as text.
        lines = sorted(self._lines, key=lambda line: line[:30])
        self._lines = []
        if self._truncated:
            lines.append(f"{now_stamp()} stderr: {LOGS_TRUNCATED.format(limit=self._limit)}")
        return lines
