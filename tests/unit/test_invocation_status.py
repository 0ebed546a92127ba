"""The HTTP status of a blocking invoke, from the completed event."""

from __future__ import annotations

import pytest

from streams.completion import http_status
from streams.events import ActivationCompleted, Response


def completed(code: int, reason: str | None = None) -> ActivationCompleted:
    annotations = [{"key": "reason", "value": reason}] if reason else []
    return ActivationCompleted(
        activation_id="0" * 32,
        seq=4,
        at_ms=1,
        namespace="ns",
        source="t",
        response=Response(status_code=code, result={}),
        start_ms=1,
        end_ms=1,
        duration_ms=0,
        annotations=annotations,
    )


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
