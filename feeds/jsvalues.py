"""JavaScript's conversions that OpenWhisk's feed providers rely on: ``String``, ``Number``,
``parseInt``, truthiness and ``new Date(value)`` (pure).

The alarms package (apache/openwhisk-package-alarms ``action/alarmWebAction.js``)
checks and stores parameters with JavaScript's implicit conversions:
``+params.minutes !== parseInt(params.minutes)``, ``maxTriggers || -1`` then
``triggersLeft--``, ``new Date(params.startDate)`` and its texts interpolate
``${value}``. These functions give the same answers for JSON values (ECMA-262
``ToString``, ``ToNumber``, ``parseInt``, ``ToBoolean``, ``TimeClip``), so a
parameter is accepted, coerced and quoted as OpenWhisk does.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

# The last moment ``new Date(ms)`` holds (ECMA-262 TimeClip: 8.64e15 ms either side of
# the epoch), and the last one Python's datetime holds (9999-12-31T23:59:59.999Z): a
# date past the second cannot be scheduled here, so it is not a valid date.
JS_MAX_DATE_MS = 8_640_000_000_000_000
MAX_DATE_MS = 253_402_300_799_999
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)")
_INFINITY = re.compile(r"([+-]?)Infinity")
_BASES = {"x": 16, "o": 8, "b": 2}


def js_string(value: Any) -> str:
    """``String(value)`` of a JSON value: ``1e+30``, ``true``, ``2`` (not ``2.0``), ``a,b``.

    >>> js_string(1e30), js_string(True), js_string(2.0), js_string(1e-7), js_string([1, None])
    ('1e+30', 'true', '2', '1e-7', '1,')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    return "[object Object]"


def _number_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if 1e-6 <= abs(value) < 1e21:
        return format(Decimal(repr(value)), "f")
    # Exponent form, without Python's leading zeros in the exponent ("1e-07" is "1e-7").
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value))


def js_number(value: Any) -> float:
    """``Number(value)`` (unary ``+``): NaN when it is not a number.

    >>> js_number(" 3 "), js_number("0x10"), js_number(True), js_number("abc") != js_number("abc")
    (3.0, 16.0, 1.0, True)
    """
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        if _DECIMAL.fullmatch(text):
            return float(text)
        radix = _RADIX.fullmatch(text)
        if radix:
            try:
                return float(int(radix.group(2), _BASES[radix.group(1).lower()]))
            except ValueError:
                return math.nan
        infinity = _INFINITY.fullmatch(text)
        if infinity:
            return -math.inf if infinity.group(1) == "-" else math.inf
        return math.nan
    if isinstance(value, list):
        return js_number(js_string(value))
    return math.nan


def js_parse_int(value: Any) -> float:
    """``parseInt(value)``: the leading integer of ``String(value)``, NaN when none.

    >>> js_parse_int("1e0"), js_parse_int(1.5), js_parse_int(1e300), js_parse_int("0x10")
    (1.0, 1.0, 1.0, 16.0)
    """
    text = js_string(value).lstrip()
    sign = -1 if text.startswith("-") else 1
    text = text[1:] if text[:1] in ("+", "-") else text
    base, pattern = 10, r"\d+"
    if text[:2].lower() == "0x":
        base, pattern, text = 16, r"[0-9a-fA-F]+", text[2:]
    digits = re.match(pattern, text)
    if digits is None:
        return math.nan
    try:
        return float(sign * int(digits.group(0), base))
    except OverflowError:  # past a double, as JavaScript: Infinity
        return sign * math.inf


def js_truthy(value: Any) -> bool:
    """``Boolean(value)``: false for null, false, 0, NaN and ""; true for "0", [] and {}."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def js_date_ms(value: Any) -> int | None:
    """``new Date(value).getTime()`` of a number or a boolean (truncated to whole ms), None
    when it is not a valid date or is past what can be scheduled here (``MAX_DATE_MS``).
    Strings are parsed by the caller (ISO 8601)."""
    number = js_number(value)
    if not math.isfinite(number) or abs(number) > JS_MAX_DATE_MS:
        return None
    ms = int(number)
    return ms if ms <= MAX_DATE_MS else None
