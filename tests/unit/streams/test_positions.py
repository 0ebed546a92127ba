"""Cursors and ``since`` specs: parsing, filling, clamping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.positions import (
    FromCursor,
    FromEarliest,
    FromNow,
    FromTime,
    advance,
    behind,
    clamp,
    decode_cursor,
    encode_cursor,
    fill,
    parse_since,
    parse_time,
)

NOW = 1_700_000_000_000


def test_a_cursor_round_trips_in_partition_order() -> None:
    cursor = {3: 9, 0: 12, 1: 40, 2: 7}
    assert encode_cursor(cursor) == "0:12,1:40,2:7,3:9"
    assert decode_cursor("0:12,1:40,2:7,3:9") == cursor


@pytest.mark.parametrize("text", ["", "0", "0:", ":1", "a:1", "0:1,", "0:-1", "0:1;1:2"])
def test_malformed_cursors_are_refused(text: str) -> None:
    assert decode_cursor(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10m", NOW - 600_000),
        ("90s", NOW - 90_000),
        ("2h", NOW - 7_200_000),
        ("1d", NOW - 86_400_000),
        ("1w", NOW - 604_800_000),
        ("250ms", NOW - 250),
        ("1714564800000", 1714564800000),
        ("2024-05-01T12:00:00Z", int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)),
        ("2024-05-01T12:00:00", int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)),
        (
            "2024-05-01T14:00:00+02:00",
            int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000),
        ),
        ("2024-05-01", int(datetime(2024, 5, 1, tzinfo=UTC).timestamp() * 1000)),
    ],
)
def test_times_parse_to_epoch_ms(text: str, expected: int) -> None:
    assert parse_time(text, NOW) == expected
    assert parse_since(text, NOW) == FromTime(expected)


def test_since_names_offsets_and_the_ends() -> None:
    assert parse_since(None, NOW) == FromNow()
    assert parse_since("", NOW) == FromNow()
    assert parse_since("now", NOW) == FromNow()
    assert parse_since("earliest", NOW) == FromEarliest()
    assert parse_since("0:5", NOW) == FromCursor({0: 5})
    assert parse_since("0:5,2:7", NOW) == FromCursor({0: 5, 2: 7})


@pytest.mark.parametrize("text", ["yesterday", "10 minutes", "-5m", "2024-13-01", "0:5,x"])
def test_malformed_since_is_none(text: str) -> None:
    assert parse_since(text, NOW) is None


def test_fill_starts_unnamed_partitions_at_the_live_end() -> None:
    assert fill({0: 5}, {0: 9, 1: 20, 2: 30}) == {0: 5, 1: 20, 2: 30}


def test_advance_takes_the_furthest_offset_per_partition() -> None:
    assert advance({0: 5, 1: 9}, {0: 7, 1: 3, 2: 1}) == {0: 7, 1: 9, 2: 1}


def test_clamp_reports_what_retention_removed() -> None:
    clamped = clamp({0: 2, 1: 50, 2: 10}, beginning={0: 5, 1: 0, 2: 0}, end={0: 9, 1: 40, 2: 20})
    assert clamped.cursor == {0: 5, 1: 40, 2: 10}
    assert clamped.expired == {0: (2, 5)}


def test_behind_lists_partitions_still_to_read() -> None:
    assert behind({0: 5, 1: 9, 2: 3}, {0: 5, 1: 12, 2: 1}) == {1: 9}
