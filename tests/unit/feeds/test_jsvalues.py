"""feeds/jsvalues.py: JavaScript's String, Number, parseInt, truthiness and Date range."""

from __future__ import annotations

import math
from typing import Any

import pytest

from feeds.jsvalues import (
    MAX_DATE_MS,
    js_date_ms,
    js_number,
    js_parse_int,
    js_string,
    js_truthy,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e30, "1e+30"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (2.0, "2"),
        (1.5, "1.5"),
        (0.00001, "0.00001"),
        (1e-7, "1e-7"),
        (-3, "-3"),
        (True, "true"),
        (None, "null"),
        ("x", "x"),
        ([1, "a", None], "1,a,"),
        ({"a": 1}, "[object Object]"),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
    ],
)
def test_string_is_javascripts(value: Any, text: str) -> None:
    assert js_string(value) == text


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("2", 2.0),
        (" 3 ", 3.0),
        ("1e0", 1.0),
        ("0x10", 16.0),
        ("", 0.0),
        (None, 0.0),
        (True, 1.0),
        ([1], 1.0),
        ("Infinity", math.inf),
        (1.5, 1.5),
    ],
)
def test_number_is_javascripts(value: Any, number: float) -> None:
    assert js_number(value) == number


@pytest.mark.parametrize("value", ["abc", "-0x10", "1e", {"a": 1}, [1, 2], "2 3"])
def test_what_is_no_number_is_nan(value: Any) -> None:
    assert math.isnan(js_number(value))


@pytest.mark.parametrize(
    ("value", "number"),
    [("1e0", 1.0), (1.5, 1.0), (1e300, 1.0), ("0x10", 16.0), (" -7px", -7.0), ([2], 2.0)],
)
def test_parse_int_reads_the_leading_integer(value: Any, number: float) -> None:
    assert js_parse_int(value) == number


@pytest.mark.parametrize("value", ["abc", True, None, "", {"a": 1}])
def test_parse_int_of_no_digits_is_nan(value: Any) -> None:
    assert math.isnan(js_parse_int(value))


def test_truthiness_is_javascripts() -> None:
    falsy: list[Any] = [None, False, 0, 0.0, math.nan, ""]
    truthy: list[Any] = ["0", "false", [], {}, -1, True]
    assert [js_truthy(v) for v in falsy] == [False] * 6
    assert [js_truthy(v) for v in truthy] == [True] * 6


def test_dates_hold_javascripts_range_up_to_year_9999() -> None:
    assert js_date_ms(1e30) is None
    assert js_date_ms(math.inf) is None
    assert js_date_ms(8.64e15) is None  # a JavaScript Date, but past what can be scheduled
    assert js_date_ms(MAX_DATE_MS) == MAX_DATE_MS
    assert js_date_ms(MAX_DATE_MS + 1) is None
    assert js_date_ms(True) == 1
    assert js_date_ms(1.9) == 1
