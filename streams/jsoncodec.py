"""JSON as the platform reads and writes it: one strict reader, one fast writer.

Every JSON text that enters the platform — a request body, a web action's
body, an action's answer to ``/run`` — is read by ``loads``, which takes only
what every reader of the ledger can read back:

- RFC 8259 JSON: no ``NaN``, ``Infinity`` or ``-Infinity``;
- numbers that are finite as IEEE doubles (``1e400`` is not; integers are kept
  exact, and up to ±1.8e308 in size);
- valid Unicode: no lone surrogate such as ``"\\ud800"`` (UTF-8 cannot carry it);
- at most ``constants.JSON_DEPTH_MAX`` levels of nesting (an object or array
  is one level; the ledger's own envelope stays well under the decoders' limit).

``check`` applies the same rules to a value built in Python (a stored
entity's default parameters merged with a payload). Both raise
``InvalidJson``, a ``ValueError`` whose message says which rule was broken.

``dumps`` encodes CouchDB bulk writes with orjson; a value orjson refuses
(an integer beyond 64 bits) is encoded by the standard library instead.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

import orjson

from streams import constants

# A run of this many digits may be an integer orjson would turn into a float.
_LONG_DIGITS = re.compile(rb"\d{19,}")
# An escaped UTF-16 surrogate: the only way a lone one can get into a string.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_UNICODE_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidJson(ValueError):
    """A JSON text or value the platform does not accept; the message says why."""


def _reject_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJson(f"the number {text[:40]} is too large")
    return value


def _bounded_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:  # beyond sys.get_int_max_str_digits()
        raise InvalidJson(f"the number {text[:40]}... is too large") from exc
    if abs(value) > sys.float_info.max:
        raise InvalidJson(f"the number {text[:40]}... is too large")
    return value


def _exact(raw: bytes | str) -> Any:
    """The standard library's reader with the strict hooks (exact big integers)."""
    try:
        return json.loads(
            raw,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except RecursionError as exc:
        raise _too_deep() from exc


def _too_deep(depth: int | None = None) -> InvalidJson:
    found = f" ({depth} levels)" if depth is not None else ""
    return InvalidJson(
        f"the JSON is nested too deeply{found}: at most {constants.JSON_DEPTH_MAX} "
        "levels of objects and arrays are allowed"
    )


def loads(raw: bytes | str) -> Any:
    """The value of a JSON text, checked as the module docstring says.

    Raises ``InvalidJson`` (syntax errors included, with their position).
    """
    data = raw.encode() if isinstance(raw, str) else raw
    try:
        if _LONG_DIGITS.search(data):
            # As UTF-8 text, as orjson reads it: json.loads would guess UTF-16 and
            # drop a byte order mark from bytes (a str with one is refused).
            value = _exact(data.decode("utf-8"))
            strings_checked = False
        else:
            # orjson refuses NaN, infinities, overflowing numbers and lone
            # surrogates by itself, and nesting beyond 1024 levels.
            value = orjson.loads(data)
            strings_checked = True
    except InvalidJson:
        raise
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            raise _too_deep() from exc
        raise InvalidJson(str(exc)) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJson(str(exc)) from exc
    # Fewer brackets than the limit cannot nest deeper than it: no walk needed.
    if data.count(b"[") + data.count(b"{") > constants.JSON_DEPTH_MAX:
        _walk(value, strings=False)
    if not strings_checked and _SURROGATE_ESCAPE.search(data):
        _walk(value, strings=True)
    return value


def check(value: Any) -> None:
    """Raise ``InvalidJson`` unless ``value`` is JSON the platform accepts."""
    _walk(value, strings=True, types=True)


def _walk(value: Any, *, strings: bool, types: bool = False) -> None:
    """One pass over ``value``: depth always; strings and leaf types when asked."""
    limit = constants.JSON_DEPTH_MAX
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > limit:
                raise _too_deep()
            for key, child in item.items():
                if strings or types:
                    _leaf(key, strings, types, key=True)
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            if depth > limit:
                raise _too_deep()
            stack.extend((child, depth + 1) for child in item)
        elif strings or types:
            _leaf(item, strings, types)


def _leaf(item: Any, strings: bool, types: bool, key: bool = False) -> None:
    if isinstance(item, str):
        if strings and _UNICODE_SURROGATE.search(item):
            raise InvalidJson("a string holds a lone UTF-16 surrogate, which is not Unicode")
        return
    if key:
        raise InvalidJson("an object key is not a string")
    if not types or item is None or isinstance(item, bool | int):
        if types and isinstance(item, int) and abs(item) > sys.float_info.max:
            raise InvalidJson("an integer is too large")
        return
    if isinstance(item, float):
        if not math.isfinite(item):
            raise InvalidJson(f"{item} is not a JSON number")
        return
    raise InvalidJson(f"a {type(item).__name__} is not a JSON value")


def dumps(value: Any) -> str:
    """``value`` as JSON text (orjson; the standard library for what orjson refuses)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)
