"""The HTTP status of a blocking invoke, from the completed event."""

from __future__ import annotations

import pytest

from streams.completion import http_status
from streams.events import ActivationCompleted
from tests.support import events


def completed(code: int, reason: str | None = None) -> ActivationCompleted:
    annotations = [{"key": "reason", "value": reason}] if reason else []
    return events.completed(events.accepted(), status_code=code, annotations=annotations)


@pytest.mark.parametrize(
    ("code", "reason", "status"),
    [
        (0, None, 200),
        (1, None, 502),
        (2, None, 502),
        (3, None, 500),
        (3, "lost", 500),
        (3, "no_invoker", 503),
        (3, "no_capacity", 503),
    ],
)
def test_http_status(code: int, reason: str | None, status: int) -> None:
    assert http_status(completed(code, reason)) == status
