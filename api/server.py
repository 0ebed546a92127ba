"""Serving the API: aiohttp's HTTP server, answering even what it cannot parse as OpenWhisk does.

aiohttp answers a request it cannot parse (a request line over its limit, a
header over its limit, too many headers, a malformed method or length) with a
plain-text page before any handler or middleware sees it. Clients of OpenWhisk
read ``{"error", "code"}`` bodies, so the connection handler here answers those
too: 414 for a request URI over ``URI_MAX_BYTES``, 431 for a header over
``HEADER_MAX_BYTES`` or more than ``HEADERS_MAX`` headers, 400 for the rest.

aiohttp builds its handlers from ``aiohttp.web_server.RequestHandler`` and
offers no option for the class, so ``install`` replaces that name with the
subclass below in this process only (checked by
``tests/integration/test_api_bad_input.py``; aiohttp is pinned).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web, web_protocol, web_server
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from api.errors import error_response
from streams.messages import (
    HEADER_TOO_LARGE,
    HEADERS_TOO_MANY,
    INTERNAL,
    REQUEST_UNREADABLE,
    URI_TOO_LONG,
)

log = logging.getLogger("ledgerwhisk.api")

# The request line (method, URI, version) may be this long; the two limits
# differ so that the error tells which one was passed.
URI_MAX_BYTES = 8190
HEADER_MAX_BYTES = 16384
HEADERS_MAX = 128


def handler_args() -> dict[str, Any]:
    """The limits ``web.run_app(**handler_args())`` gives every connection."""
    return {
        "max_line_size": URI_MAX_BYTES,
        "max_field_size": HEADER_MAX_BYTES,
        "max_headers": HEADERS_MAX,
    }


def unparsed(status: int, exc: BaseException | None) -> web.Response:
    """OpenWhisk's error body for a request aiohttp could not parse (or that failed unrouted)."""
    if isinstance(exc, LineTooLong):
        limit = str(exc.args[1]) if len(exc.args) > 1 else ""
        if limit == str(URI_MAX_BYTES):
            return error_response(414, URI_TOO_LONG.format(limit=URI_MAX_BYTES))
        return error_response(431, HEADER_TOO_LARGE.format(limit=HEADER_MAX_BYTES))
    if isinstance(exc, BadHttpMessage):
        text = exc.message if isinstance(exc.message, str) else str(exc)
        if "Too many headers" in text:
            return error_response(431, HEADERS_TOO_MANY.format(limit=HEADERS_MAX))
        return error_response(400, REQUEST_UNREADABLE.format(detail=text.splitlines()[0]))
    if status == 500:
        return error_response(500, INTERNAL)
    return error_response(status, REQUEST_UNREADABLE.format(detail=f"HTTP {status}"))


class _Handler(web_protocol.RequestHandler):
    """aiohttp's connection handler with OpenWhisk's error bodies."""

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if isinstance(exc, BadHttpMessage) and status < 500:
            # The client's fault (LineTooLong is one too): one line, no traceback,
            # so that nobody without a key can fill the log with stacks.
            log.warning(
                "refused an unreadable request from %s: %s",
                request.remote,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            if request.writer.output_size > 0:
                raise ConnectionError("a response was sent already; the connection is broken")
        else:
            # aiohttp's own logs it, and refuses when a response was sent already.
            super().handle_error(request, status, exc, message)
        response = unparsed(status, exc)
        response.force_close()
        return response


def install() -> None:
    """Make this process's aiohttp servers use ``_Handler`` (call before serving)."""
    web_server.RequestHandler = _Handler  # type: ignore[misc]
