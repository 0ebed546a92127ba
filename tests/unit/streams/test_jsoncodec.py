"""The one JSON reader takes only what every ledger reader can read back; the writer is exact."""

from __future__ import annotations

import json

import pytest

from streams import constants
from streams.events import ActivationAccepted, Limits, decode_event, encode
from streams.jsoncodec import InvalidJson, check, dumps, loads


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_records_encode_to_the_same_json() -> None:
    doc = {"_id": "a", "response": {"result": {"ü": [1, 2.5, None, True]}}, "logs": ["x\ny"]}
    assert json.loads(dumps(doc)) == doc


def test_what_orjson_refuses_falls_back_to_the_standard_library() -> None:
    huge = {"result": {"n": 2**70}}
    assert json.loads(dumps(huge)) == huge


@pytest.mark.parametrize(
    "text",
    [
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": -Infinity}',
        '{"a": 1e400}',
        '{"a": -1e400}',
        '{"a": 1' + "0" * 400 + "}",
        '{"a": "\\ud800"}',
        '{"a": "\\udc00x"}',
        '{"12345678901234567890": "\\ud800", "n": 12345678901234567890}',
        '{"n": 12345678901234567890, "x": NaN}',
        "{'a': 1}",
        '{"a": 1',
        "",
        nested(constants.JSON_DEPTH_MAX + 1),
        '{"a": ' + nested(constants.JSON_DEPTH_MAX) + "}",
        nested(10_000),
        '{"n": 12345678901234567890, "a": ' + nested(5_000) + "}",
    ],
)
def test_what_is_not_accepted(text: str) -> None:
    with pytest.raises(InvalidJson):
        loads(text)


def test_what_is_accepted_is_read_exactly() -> None:
    assert loads('{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}
    assert loads('{"e": "\\ud83d\\ude00", "f": 1.5e300, "g": -0.0}') == {
        "e": "\U0001f600",
        "f": 1.5e300,
        "g": -0.0,
    }
    deepest = nested(constants.JSON_DEPTH_MAX)
    assert loads(deepest) is not None
    # Brackets inside strings are not nesting.
    assert loads(json.dumps({"s": "[" * 500})) == {"s": "[" * 500}


def test_the_deepest_accepted_value_fits_in_a_ledger_event_every_reader_decodes() -> None:
    params = {"a": json.loads(nested(constants.JSON_DEPTH_MAX - 1))}
    check(params)
    event = ActivationAccepted(
        activation_id="0" * 32,
        seq=1,
        at_ms=0,
        namespace="ns",
        source="test",
        action="ns/a",
        action_name="a",
        action_version="0.0.1",
        action_rev="1-a",
        kind="python:3.11",
        params=params,
        limits=Limits(timeout_ms=1000, memory_mb=128, logs_mb=1),
        subject="s",
        blocking=False,
        deadline_ms=1,
        reply_to="api0",
    )
    assert decode_event(encode(event)) == event


@pytest.mark.parametrize(
    "value",
    [
        {"a": float("nan")},
        {"a": float("inf")},
        {"a": "\ud800"},
        {"\udfff": 1},
        {1: 2},
        {"a": object()},
        json.loads(nested(constants.JSON_DEPTH_MAX + 1)),
    ],
)
def test_check_refuses_values_built_in_python(value: object) -> None:
    with pytest.raises(InvalidJson):
        check(value)
