"""Log collection: Docker frames, sentinels, truncation, ordering."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

from invoker.logs import LogCollector, docker_frames, fixed_width
from streams.constants import SENTINEL


def frame(kind: int, payload: str) -> bytes:
    data = payload.encode()
    return struct.pack(">BxxxL", kind, len(data)) + data


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_frames_split_across_chunks_decode_to_lines() -> None:
    data = frame(1, "2026-01-01T00:00:00.1Z a\n2026-01-01T00:00:00.2Z b\n") + frame(2, "t c\n")
    got = [pair async for pair in docker_frames(chunks(data, 5))]
    assert got == [
        ("stdout", "2026-01-01T00:00:00.1Z a"),
        ("stdout", "2026-01-01T00:00:00.2Z b"),
        ("stderr", "t c"),
    ]


async def test_collector_cuts_at_both_sentinels_and_sorts_by_time() -> None:
    logs = LogCollector()
    logs.begin(1024)
    logs.feed("stderr", "2026-01-01T00:00:00.2Z second")
    logs.feed("stdout", "2026-01-01T00:00:00.1Z first")
    logs.feed("stdout", f"2026-01-01T00:00:00.3Z {SENTINEL}")
    logs.feed("stdout", "2026-01-01T00:00:00.4Z after the sentinel")
    logs.feed("stderr", f"2026-01-01T00:00:00.3Z {SENTINEL}")
    lines = await logs.finish(1.0)
    assert lines == [
        "2026-01-01T00:00:00.100000000Z stdout: first",
        "2026-01-01T00:00:00.200000000Z stderr: second",
    ]


async def test_collector_truncates_at_the_limit_with_a_visible_line() -> None:
    logs = LogCollector()
    logs.begin(10)
    for i in range(5):
        logs.feed("stdout", f"2026-01-01T00:00:0{i}.0Z 12345")
    lines = await logs.finish(0.01)
    assert len(lines) == 3
    assert " stderr: Logs were truncated" in lines[-1] and "10 bytes" in lines[-1]
    assert lines[-1][:30] >= lines[-2][:30]  # stamped like every other line


async def test_collector_keeps_nothing_outside_an_activation() -> None:
    logs = LogCollector()
    logs.feed("stdout", "2026-01-01T00:00:00.1Z stem cell booting")
    logs.begin(1024)
    logs.feed("stdout", "2026-01-01T00:00:00.2Z mine")
    logs.feed("stdout", f"2026-01-01T00:00:00.3Z {SENTINEL}")
    logs.feed("stderr", f"2026-01-01T00:00:00.3Z {SENTINEL}")
    assert await logs.finish(1.0) == ["2026-01-01T00:00:00.200000000Z stdout: mine"]
    logs.feed("stdout", "2026-01-01T00:00:00.4Z a late callback")
    logs.begin(1024)
    logs.feed("stdout", f"2026-01-01T00:00:00.5Z {SENTINEL}")
    logs.feed("stderr", f"2026-01-01T00:00:00.5Z {SENTINEL}")
    assert await logs.finish(1.0) == []


def test_fixed_width() -> None:
    assert fixed_width("2026-01-01T00:00:00.18593085Z") == "2026-01-01T00:00:00.185930850Z"


async def test_a_line_docker_split_into_pieces_comes_out_whole() -> None:
    data = (
        frame(1, "2026-01-01T00:00:00.1Z " + "a" * 5)
        + frame(2, "2026-01-01T00:00:00.15Z other\n")
        + frame(1, "2026-01-01T00:00:00.2Z " + "b" * 5)
        + frame(1, "2026-01-01T00:00:00.3Z c\n")
    )
    got = [pair async for pair in docker_frames(chunks(data, 7))]
    assert got == [
        ("stderr", "2026-01-01T00:00:00.15Z other"),
        ("stdout", "2026-01-01T00:00:00.1Z aaaaabbbbbc"),
    ]
