"""Log collection: Docker's attach frames, sentinels, truncation, arrival order."""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncIterator, Iterator

from invoker.logs import LogCollector, docker_frames, now_stamp
from streams.constants import SENTINEL


def frame(kind: int, payload: str) -> bytes:
    data = payload.encode()
    return struct.pack(">BxxxL", kind, len(data)) + data


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def ticking() -> LogCollector:
    """A collector whose clock says 00:00:00.1, .2, ... at each line it stamps."""
    ticks: Iterator[int] = iter(range(1, 100))
    return LogCollector(clock=lambda: f"2026-01-01T00:00:00.{next(ticks)}00000000Z")


async def test_frames_split_across_chunks_decode_to_lines() -> None:
    data = frame(1, "a\nb\n") + frame(2, "c\n")
    got = [pair async for pair in docker_frames(chunks(data, 5))]
    assert got == [("stdout", "a"), ("stdout", "b"), ("stderr", "c")]


async def test_a_line_written_in_pieces_comes_out_whole() -> None:
    data = frame(1, "a" * 5) + frame(2, "other\n") + frame(1, "b" * 5) + frame(1, "c\nd")
    got = [pair async for pair in docker_frames(chunks(data, 7))]
    # "d" has no newline yet: it waits for the rest of its line.
    assert got == [("stderr", "other"), ("stdout", "aaaaabbbbbc")]


async def test_collector_cuts_at_both_sentinels_in_arrival_order() -> None:
    logs = ticking()
    logs.begin(1024)
    logs.feed("stderr", "first")
    logs.feed("stdout", "second")
    logs.feed("stdout", SENTINEL)
    logs.feed("stdout", "after the sentinel")
    logs.feed("stderr", SENTINEL)
    lines = await logs.finish(1.0)
    assert lines == [
        "2026-01-01T00:00:00.100000000Z stderr: first",
        "2026-01-01T00:00:00.200000000Z stdout: second",
    ]


async def test_a_sentinel_glued_to_output_without_a_newline_still_ends_the_stream() -> None:
    # process.stdout.write("partial"), print(..., end=""), fmt.Print: the
    # runtime's sentinel follows on the same line. Waiting for a line that is
    # only the sentinel took the 2 s wait on every such activation.
    logs = ticking()
    logs.begin(1024)
    logs.feed("stdout", "partial" + SENTINEL)
    logs.feed("stderr", "no newline either" + SENTINEL)
    lines = await logs.finish(10.0)
    assert lines == [
        "2026-01-01T00:00:00.100000000Z stdout: partial",
        "2026-01-01T00:00:00.200000000Z stderr: no newline either",
    ]


async def test_collector_truncates_at_the_limit_with_a_visible_line() -> None:
    logs = ticking()
    logs.begin(10)
    for _ in range(5):
        logs.feed("stdout", "12345")
    lines = await logs.finish(0.01)
    assert len(lines) == 3
    assert " stderr: Logs were truncated" in lines[-1] and "10 bytes" in lines[-1]
    assert lines[-1][:30] >= lines[-2][:30]  # stamped like every other line


async def test_collector_keeps_nothing_outside_an_activation() -> None:
    logs = ticking()
    logs.feed("stdout", "stem cell booting")
    logs.begin(1024)
    logs.feed("stdout", "mine")
    logs.feed("stdout", SENTINEL)
    logs.feed("stderr", SENTINEL)
    assert await logs.finish(1.0) == ["2026-01-01T00:00:00.100000000Z stdout: mine"]
    logs.feed("stdout", "a late callback")
    logs.begin(1024)
    logs.feed("stdout", SENTINEL)
    logs.feed("stderr", SENTINEL)
    assert await logs.finish(1.0) == []


def test_stamps_have_a_fixed_width_and_sort_as_text() -> None:
    first, second = now_stamp(), now_stamp()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", first)
    assert first <= second
