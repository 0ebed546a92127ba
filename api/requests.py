"""Reading request parts: JSON bodies, query flags and numbers, with OpenWhisk's errors."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from api.errors import (
    LIMIT_OUT_OF_RANGE,
    MALFORMED_JSON,
    NOT_AN_INTEGER,
    SKIP_OUT_OF_RANGE,
    TOO_BIG,
    APIError,
    bad_request,
)
from streams import constants


async def json_body(request: web.Request, limit: int, required: bool = True) -> Any:
    """The request's JSON body (None when empty and not required); 413 past ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        raise APIError(
            413, TOO_BIG.format(field="Request", size=request.content_length, limit=limit)
        )
    raw = await request.read()
    if len(raw) > limit:
        raise APIError(413, TOO_BIG.format(field="Request", size=len(raw), limit=limit))
    if not raw.strip():
        if required:
            raise bad_request(MALFORMED_JSON.format(detail="the request body is empty"))
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(MALFORMED_JSON.format(detail=str(exc))) from exc


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() == "true"


def integer(request: web.Request, name: str, default: int, collection: str) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_request(NOT_AN_INTEGER.format(value=raw, collection=collection)) from exc


def paging(request: web.Request, collection: str) -> tuple[int, int]:
    """``limit`` (0..200, default 30; 0 means the maximum) and ``skip`` (≥ 0)."""
    limit = integer(request, "limit", constants.LIST_LIMIT_DEFAULT, collection)
    if not 0 <= limit <= constants.LIST_LIMIT_MAX:
        raise bad_request(
            LIMIT_OUT_OF_RANGE.format(
                value=limit, max=constants.LIST_LIMIT_MAX, collection=collection
            )
        )
    skip = integer(request, "skip", 0, collection)
    if skip < 0:
        raise bad_request(SKIP_OUT_OF_RANGE.format(value=skip, collection=collection))
    return (limit or constants.LIST_LIMIT_MAX), skip


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(data), content_type="application/json")
