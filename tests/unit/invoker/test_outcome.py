"""What an activation's limits mean to the invoker before it asks for a container."""

from __future__ import annotations

import pytest

from invoker import outcome
from streams import constants
from streams.events import Limits

IN_RANGE = Limits(timeout_ms=60_000, memory_mb=256, logs_mb=10, concurrency=1)


def test_limits_the_api_accepts_run() -> None:
    assert outcome.of_limits(IN_RANGE) is None
    edges = Limits(timeout_ms=100, memory_mb=128, logs_mb=0, concurrency=500)
    assert outcome.of_limits(edges) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("memory_mb", -4096),
        ("memory_mb", 100_000),
        ("timeout_ms", 0),
        ("timeout_ms", 10**12),
        ("logs_mb", -1),
        ("concurrency", 0),
    ],
)
def test_limits_no_api_wrote_are_a_whisk_error_naming_them(field: str, value: int) -> None:
    refused = outcome.of_limits(IN_RANGE.model_copy(update={field: value}))
    assert refused is not None
    assert refused.status_code == constants.STATUS_WHISK_ERROR
    assert isinstance(refused.result, dict)
    assert f"{field} of {value}" in refused.result["error"]
