"""The API's ledger tail recognises completions without decoding every event."""

from __future__ import annotations

from api.ledger import COMPLETED_MARK
from streams.events import encode
from tests.support.events import four


def events() -> list:
    return four("0" * 12 + "a" * 20)


def test_the_mark_is_in_completed_events_only() -> None:
    marked = [COMPLETED_MARK in encode(e) for e in events()]
    assert marked == [False, False, False, True]
