"""API errors: OpenWhisk's error body ``{"error", "code"}`` and every message text."""

from __future__ import annotations

import json
import os

from aiohttp import web

# OpenWhisk's texts, so clients that match on them keep working.
RESOURCE_DOES_NOT_EXIST = "The requested resource does not exist."
NOT_AUTHORIZED = "The supplied authentication is not authorized to access this resource."
AUTH_INVALID = "The supplied authentication is invalid."
AUTH_REQUIRED = "The resource requires authentication, which was not supplied with the request."
ENTITY_EXISTS = "resource already exists"
CONFLICT = "Concurrent modification to resource detected."
MALFORMED_JSON = "The request content was malformed:\n{detail}"
NAME_ILLEGAL = "The name of the entity contains illegal characters."
NAME_TOO_LONG = "Name longer than allowed: {size} > {limit}."
NAMESPACE_ILLEGAL = "The namespace contains illegal characters."
EXEC_MISSING = "exec undefined"
KIND_UNKNOWN = "kind '{kind}' not in Set({kinds})"
TOO_BIG = "{field} larger than allowed: {size} > {limit} bytes."
ACTIVATION_ID_ILLEGAL = "The activation id is not valid."
SYSTEM_OVERLOADED = "System is overloaded, try again later."
NO_INVOKERS = "No invokers available."
SERVICE_DOWN = "{component} is unavailable: {cause}"
METHOD_NOT_ALLOWED = "The request method is not supported for this resource."
TOO_MANY_REQUESTS = "Too many requests in the last minute (count: {count}, allowed: {allowed})."
TOO_MANY_CONCURRENT = "Too many concurrent requests in flight (count: {count}, allowed: {allowed})."
LIMIT_OUT_OF_RANGE = "The value '{value}' is not in the range of 0 to {max} for {collection}."
SKIP_OUT_OF_RANGE = "The value '{value}' is not greater than or equal to 0 for {collection}."
NOT_AN_INTEGER = "The value '{value}' is not an integer for {collection}."
BAD_EPOCH = "Parameter is not a valid value for epoch seconds: {value}"
LIMIT_RANGE = "{name} {value} exceeds allowed threshold of {limit}"
LIMIT_BELOW = "{name} {value} below allowed threshold of {limit}"
PARAMETERS_NOT_ALLOWED = (
    "Request defines parameters that are not allowed (e.g., reserved properties)."
)
INVALID_TIMEOUT = "Timeout must be number of milliseconds up to {max}."
RESPONSE_NOT_READY = "Response not yet ready."
INTERNAL = "There was an error processing your request."
# Event history, event streams and replay (api/events.py, api/rerun.py).
EVENT_TYPES_ILLEGAL = "Unknown event type: use accepted, scheduled, started or completed."
SINCE_ILLEGAL = (
    "'since' must be a time (ISO 8601, epoch milliseconds, or relative such as 10m) "
    "or offsets (such as 0:12,1:40, earliest or now)."
)
LAST_EVENT_ID_ILLEGAL = "Last-Event-ID must be a cursor such as 0:12,1:40."
HEARTBEAT_ILLEGAL = "'heartbeat' must be a number of seconds from {low} to {high}."
REPLAY_VERSION_ILLEGAL = "'action_version' must be 'original' or 'current'."
ORIGINAL_VERSION_GONE = (
    "The original version of the action (revision {rev}) is no longer stored; "
    "replay with action_version=current."
)


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


def not_found() -> APIError:
    return APIError(404, RESOURCE_DOES_NOT_EXIST)


def bad_request(message: str) -> APIError:
    return APIError(400, message)
