"""API errors: OpenWhisk's error body ``{"error", "code"}`` (texts: ``streams.messages``)."""

from __future__ import annotations

import json
import logging
import os

from aiohttp import web

from store.couch import StoreUnavailable
from streams.errors import LedgerUnavailable
from streams.messages import MALFORMED_JSON, RESOURCE_DOES_NOT_EXIST, SERVICE_DOWN

log = logging.getLogger("ledgerwhisk.api")


def transaction_id() -> str:
    """A fresh id for one request, shown as ``code`` in error bodies."""
    return os.urandom(16).hex()


class APIError(Exception):
    """An error answered to the client with OpenWhisk's error body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, code: str | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"error": message, "code": code or transaction_id()}),
        content_type="application/json",
    )


def unavailable(exc: StoreUnavailable | LedgerUnavailable) -> web.Response:
    """503 naming the component a request could not reach (logged once here)."""
    component = "CouchDB" if isinstance(exc, StoreUnavailable) else "Kafka"
    log.warning("%s unavailable: %s", component, exc)
    return error_response(503, SERVICE_DOWN.format(component=component, cause=exc))


def not_found() -> APIError:
    return APIError(404, RESOURCE_DOES_NOT_EXIST)


def bad_request(message: str) -> APIError:
    return APIError(400, message)


def malformed_body(detail: str) -> APIError:
    """400 as OpenWhisk answers a body its JSON formats cannot read (pekko's
    MalformedRequestContentRejection: "The request content was malformed:" and the reason)."""
    return bad_request(MALFORMED_JSON.format(detail=detail))
