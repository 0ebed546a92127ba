"""Reading request parts: JSON bodies, query flags and numbers, with OpenWhisk's errors."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import PayloadEncodingError

from api import mediatypes
from api.errors import APIError, bad_request, malformed_body
from streams import constants, jsoncodec
from streams.messages import (
    BAD_EPOCH,
    CONTENT_TYPE_UNSUPPORTED,
    INVALID_TIMEOUT,
    JSON_EMPTY,
    JSON_OBJECT_EXPECTED,
    LIMIT_OUT_OF_RANGE,
    NOT_AN_INTEGER,
    NOT_AN_OBJECT,
    QUERY_MALFORMED,
    SKIP_OUT_OF_RANGE,
    TOO_BIG,
)

# The words akka-http (and so OpenWhisk) reads as booleans in a query.
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})


async def json_body(
    request: web.Request, limit: int, required: bool = True, json_only: bool = True
) -> Any:
    """The request's JSON body (None when empty and not required); 413 past ``limit``.

    As OpenWhisk's routes read a body (pekko-http's ``entity(as[...])`` with spray-json):
    ``json_only``, a body that is not ``application/json`` (any parameters) is 415 naming
    its type (a body without Content-Type is ``application/octet-stream``); an empty one
    where one is required is 400 with spray-json's end-of-input text.
    """
    given, value = await _read_json(request, limit, required, json_only)
    return value if given else None


class ClientClosed(Exception):
    """The client's body ended before its length (or could not be decoded): the client's
    doing, answered 400 and logged without a traceback (``api.app.errors``)."""


def unsupported_type(content_type: str | None, has_body: bool, required: bool) -> str | None:
    """The type to name in a 415, or None when a JSON body may be read (pure).

    pekko's ``forContentTypes(application/json)``: any parameters; a body without a
    Content-Type is ``application/octet-stream``; a request with neither has nothing to
    check. One leniency: an empty optional body (an invoke's, a fire's) is no arguments
    whatever type it claims (aiohttp's client sends ``application/octet-stream`` with every
    bodiless POST; pekko would answer 415).
    """
    if not has_body and (content_type is None or not required):
        return None
    media = mediatypes.parse(content_type) if content_type else None
    if media is not None and media.type == "application/json":
        return None
    return (media or mediatypes.OCTET_STREAM).header()


async def _read_json(
    request: web.Request, limit: int, required: bool, json_only: bool
) -> tuple[bool, Any]:
    """``(whether there was a body, its value)``: see ``json_body``.

    pekko's order: the type first (``unsupported_type``), then the bytes; an empty body
    is no JSON for spray-json where a value is required.
    """
    if request.content_length is not None and request.content_length > limit:
        raise APIError(
            413, TOO_BIG.format(field="Request", size=request.content_length, limit=limit)
        )
    try:
        raw = await request.read()
    except ConnectionResetError as exc:
        raise ClientClosed("the client closed the connection before its body ended") from exc
    except PayloadEncodingError as exc:
        raise ClientClosed(f"the body could not be read: {exc}") from exc
    if len(raw) > limit:
        raise APIError(413, TOO_BIG.format(field="Request", size=len(raw), limit=limit))
    if json_only:
        refused = unsupported_type(request.headers.get("Content-Type"), bool(raw), required)
        if refused is not None:
            raise APIError(415, CONTENT_TYPE_UNSUPPORTED.format(given=refused))
    if not raw:
        if required:
            raise malformed_body(JSON_EMPTY)
        return False, None
    try:
        return True, jsoncodec.loads(raw)
    except jsoncodec.InvalidJson as exc:
        raise malformed_body(str(exc)) from exc


async def json_object(
    request: web.Request, limit: int, required: bool = True, json_only: bool = True
) -> dict[str, Any]:
    """The JSON body, which must be an object (``{}`` when empty and not required).

    Where a body is required (an entity's PUT) anything but an object is 400. Where it
    is optional (an invoke's or a fire's payload, OpenWhisk's ``entity(as[Option[JsObject]])``)
    only an empty body is no arguments: a JSON ``null`` or any other non-object is 400
    as spray-json's ``JsObject`` reader answers it ("JSON object expected").
    """
    given, body = await _read_json(request, limit, required, json_only)
    if not given:
        return {}
    if not isinstance(body, dict):
        if required:
            raise bad_request(NOT_AN_OBJECT)
        raise malformed_body(JSON_OBJECT_EXPECTED)
    return body


def without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    """An entity's PUT body with its null fields left out: OpenWhisk's ``...Put`` formats
    read a JSON null as an absent field, so an update keeps what was stored."""
    return {key: value for key, value in body.items() if value is not None}


def malformed(name: str, detail: str) -> APIError:
    return bad_request(QUERY_MALFORMED.format(name=name, detail=detail))


def parse_flag(name: str, raw: str | None, default: bool = False) -> bool:
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise malformed(name, f"'{raw}' is not a valid Boolean value")


def flag(request: web.Request, name: str, default: bool = False) -> bool:
    return parse_flag(name, request.query.get(name), default)


# Integers in a query are Java's ``Int`` in OpenWhisk (limit, skip, timeout)...
INT_MAX = 2**31 - 1
# ...and moments are epoch milliseconds up to the end of year 9999.
EPOCH_MAX_MS = 253_402_300_799_999
DECIMAL_RE = re.compile(r"\A-?[0-9]{1,19}\Z")


def decimal(raw: str, low: int, high: int) -> int | None:
    """The integer ``raw`` spells in ASCII digits within ``[low, high]``, else None.

    (Python's ``int`` also reads ``" 1"``, ``"1_000"`` and non-ASCII digits; OpenWhisk does not.)
    """
    if not DECIMAL_RE.match(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def parse_integer(name: str, raw: str | None, default: int, collection: str) -> int:
    if raw is None:
        return default
    value = decimal(raw, -INT_MAX - 1, INT_MAX)
    if value is None:
        raise malformed(name, NOT_AN_INTEGER.format(value=raw, collection=collection))
    return value


def parse_paging(limit_raw: str | None, skip_raw: str | None, collection: str) -> tuple[int, int]:
    """``limit`` (0..200, default 30; 0 means the maximum) and ``skip`` (≥ 0)."""
    limit = parse_integer("limit", limit_raw, constants.LIST_LIMIT_DEFAULT, collection)
    if not 0 <= limit <= constants.LIST_LIMIT_MAX:
        raise malformed(
            "limit",
            LIMIT_OUT_OF_RANGE.format(
                value=limit, max=constants.LIST_LIMIT_MAX, collection=collection
            ),
        )
    skip = parse_integer("skip", skip_raw, 0, collection)
    if skip < 0:
        raise malformed("skip", SKIP_OUT_OF_RANGE.format(value=skip, collection=collection))
    return (limit or constants.LIST_LIMIT_MAX), skip


def paging(request: web.Request, collection: str) -> tuple[int, int]:
    return parse_paging(request.query.get("limit"), request.query.get("skip"), collection)


def blocking_wait_ms(request: web.Request) -> int:
    """How long a blocking invoke waits (``timeout``, 1 ms to 60 s; default 60 s)."""
    raw = request.query.get("timeout")
    if raw is None:
        return constants.BLOCKING_WAIT_MAX_MS
    value = decimal(raw, 1, constants.BLOCKING_WAIT_MAX_MS)
    if value is None:
        raise malformed("timeout", INVALID_TIMEOUT.format(max=constants.BLOCKING_WAIT_MAX_MS))
    return value


def parse_epoch(name: str, raw: str | None) -> int | None:
    """Milliseconds since the epoch (``since``, ``upto``), or None when absent."""
    if raw is None:
        return None
    value = decimal(raw, 0, EPOCH_MAX_MS)
    if value is None:
        raise malformed(name, BAD_EPOCH.format(value=raw))
    return value


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data), content_type="application/json", headers=headers
    )
