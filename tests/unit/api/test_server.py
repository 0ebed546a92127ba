"""Requests aiohttp cannot parse get OpenWhisk's error bodies, with the status that fits."""

from __future__ import annotations

import json

from aiohttp.http_exceptions import BadHttpMessage, BadHttpMethod, LineTooLong

from api.requests import EPOCH_MAX_MS, decimal
from api.server import HEADER_MAX_BYTES, URI_MAX_BYTES, unparsed
from streams.positions import FromTime, decode_cursor, parse_since, parse_time


def body(status: int, exc: BaseException | None) -> tuple[int, dict[str, str]]:
    response = unparsed(status, exc)
    assert response.text is not None
    return response.status, json.loads(response.text)


def test_statuses_of_unparsed_requests() -> None:
    status, answer = body(400, LineTooLong(b"/x", URI_MAX_BYTES, "9000"))
    assert status == 414 and set(answer) == {"error", "code"}
    assert body(400, LineTooLong(b"aaa", HEADER_MAX_BYTES, "20000"))[0] == 431
    assert body(400, BadHttpMessage("Too many headers received"))[0] == 431
    assert body(400, BadHttpMethod("BLAH"))[0] == 400
    status, answer = body(500, None)
    assert (status, answer["error"]) == (500, "There was an error processing your request.")


def test_query_numbers_are_bounded_ascii() -> None:
    assert decimal("12", 0, 100) == 12 and decimal("-3", -5, 5) == -3
    for raw in (" 1", "1_0", "\u0661", "\u00b2", "1e3", "", "12345678901234567890", "101"):
        assert decimal(raw, 0, 100) is None, raw
    assert parse_time("9223372036854775808", 0) is None
    assert parse_time(str(EPOCH_MAX_MS), 0) == EPOCH_MAX_MS
    assert parse_time("999999999999999d", 10) == 0  # before the epoch: the epoch
    assert parse_since("\u00b2", 0) is None and decode_cursor("0:\u0661") is None
    assert decode_cursor("0:99999999999999999999") is None
    assert parse_since("0:12,1:40", 0) is not None
    assert parse_since("10m", 600_000) == FromTime(0)
