"""Collect a container's stdout/stderr and cut it into activations at the sentinel."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from streams.constants import SENTINEL
from streams.messages import LOGS_TRUNCATED

STREAMS = {1: "stdout", 2: "stderr"}


async def docker_frames(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, str]]:
    """Decode Docker's multiplexed output stream into ``(stream, line)`` pairs.

    Each frame is an 8-byte header (stream type, 3 zero bytes, big-endian
    length) followed by a piece of what the container wrote, cut anywhere: a
    line may span frames (a 40 kB line comes out whole). Output after the last
    newline of a stream waits for the rest of its line.
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
            *lines, pending[key] = (pending[key] + payload).split(b"\n")
            for line in lines:
                yield STREAMS.get(kind, "stdout"), line.decode("utf-8", "replace")


def now_stamp() -> str:
    """The current time as OpenWhisk's log lines show it, to the nanosecond's width:
    ``2026-11-27T20:00:00.123456000Z`` (fixed width, so stamps sort as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


class LogCollector:
    """Lines of the activation running now, up to the sentinel on both streams.

    Lines are stamped by ``clock`` as they arrive from Docker's attach stream
    and kept in OpenWhisk's format ``<time> <stream>: <text>``, in the order
    they arrived. Only lines between ``begin`` and
    ``finish`` are kept: output while no activation runs (a stem cell booting,
    a callback firing after its activation ended) belongs to none, so memory
    stays bounded by the log limit.
    """

    def __init__(self, clock: Callable[[], str] = now_stamp) -> None:
        self._clock = clock
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

    def feed(self, stream: str, text: str) -> None:
        """One line the container wrote on ``stream`` (``stdout`` or ``stderr``).

        The sentinel ends the stream's output wherever it is in its line (as
        OpenWhisk's ``DockerContainer.logs`` finds it by ``containsSlice``): an
        action whose last output has no newline has the sentinel glued to it.
        Unlike OpenWhisk, which drops that whole line, the action's text before
        the sentinel is kept as its last line.
        """
        at = text.find(SENTINEL)
        if at >= 0:
            if at > 0:
                self._keep(stream, text[:at])
            self._seen.add(stream)
            if len(self._seen) == 2:
                self._done.set()
            return
        self._keep(stream, text)

    def _keep(self, stream: str, text: str) -> None:
        if not self._collecting or stream in self._seen:
            return  # output after this stream's sentinel belongs to no activation
        size = len(text.encode())
        if self._bytes + size > self._limit:
            self._truncated = True
            return
        self._bytes += size
        self._lines.append(f"{self._clock()} {stream}: {text}")

    async def finish(self, timeout_s: float) -> list[str]:
        """The activation's lines, once both sentinels arrived (or the wait ran out)."""
        try:
            await asyncio.wait_for(self._done.wait(), timeout_s)
        except TimeoutError:
            pass
        self._collecting = False
        lines, self._lines = self._lines, []
        if self._truncated:
            lines.append(f"{self._clock()} stderr: {LOGS_TRUNCATED.format(limit=self._limit)}")
        return lines
