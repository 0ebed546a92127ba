"""Web actions: ``/api/v1/web/{namespace}/{package}/{action}.{ext}``, as OpenWhisk serves them.

An action annotated ``web-export: true`` answers plain HTTP: the request
becomes its arguments (``__ow_method``, ``__ow_headers``, ``__ow_path``, the
query and body fields — or ``__ow_query`` and ``__ow_body`` for ``raw-http``
actions) and its result becomes the response by the extension: ``.json``,
``.html``, ``.svg``, ``.text``, or ``.http`` (``statusCode``, ``headers``,
``body``; base64 bodies for binary types). It runs as the namespace's owner.
``require-whisk-auth`` asks for a secret header or valid credentials.

The decisions are pure functions; ``handle`` performs them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus

from aiohttp import web
from multidict import CIMultiDict

from api import lookup, mediatypes
from api.auth import Identity
from api.context import ctx
from api.entities import annotation
from api.errors import APIError, bad_request, error_response, not_found, unavailable
from api.mediatypes import Media
from api.names import DEFAULT_PACKAGE, EntityRef, is_name
from store.couch import StoreUnavailable
from streams import constants, jsoncodec
from streams.errors import LedgerUnavailable
from streams.messages import (
    AUTH_INVALID,
    HTTP_CONTENT_TYPE_ERROR,
    HTTP_UNKNOWN_CONTENT_TYPE,
    INTERNAL,
    INVALID_MEDIA,
    MALFORMED_JSON,
    PARAMETERS_NOT_ALLOWED,
    PROPERTY_NOT_FOUND,
    RESPONSE_NOT_READY,
    SERVER_ERROR,
    TOO_BIG,
    WEB_METHOD_NOT_ALLOWED,
)

JsonDict = dict[str, Any]
EXTENSIONS = (".http", ".json", ".html", ".svg", ".text")
DEFAULT_EXTENSION = ".http"
RESERVED = frozenset(
    {"__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_query", "__ow_body"}
)
REQUIRE_AUTH_HEADER = "x-require-whisk-auth"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH",
    "Access-Control-Allow-Headers": (
        "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent"
    ),
}
# WebActions.scala ``allowedOperations``: any other method is pekko's 405.
METHODS = ("GET", "DELETE", "POST", "PUT", "HEAD", "OPTIONS", "PATCH")
# Request headers the HTTP layer keeps to itself (pekko-http's parser never lists
# them in ``request.headers``; OpenWhisk adds back only the entity's content type).
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "content-type"})
# What pekko-http leaves unencoded when it writes a path segment (``pchar-base``)
# and a query's key or value (``strict-query-char-np``; a space is written ``+``).
PATH_SAFE = "!$&'()*+,;=@:"
QUERY_SAFE = "!$'()*,@:/?"


class _NoBody:
    """The request had no entity (pekko's ``HttpEntity.Empty``)."""


NO_BODY: Any = _NoBody()


# -- the request side ----------------------------------------------------------
def split_extension(segment: str) -> tuple[str, str]:
    """``hello.json`` -> ``("hello", ".json")``; no known extension means ``.http``."""
    for ext in EXTENSIONS:
        if segment.endswith(ext) and len(segment) > len(ext):
            return segment[: -len(ext)], ext
    return segment, DEFAULT_EXTENSION


def entity_media(content_type: str | None, raw: bytes) -> Media | None:
    """The request entity's media type as pekko-http gives it: None for no entity
    (no ``Content-Type`` and no body); ``application/octet-stream`` for a body
    without a ``Content-Type`` or with one that does not parse."""
    if content_type is None:
        return mediatypes.OCTET_STREAM if raw else None
    return mediatypes.parse(content_type) or mediatypes.OCTET_STREAM


def request_body(media: Media | None, raw: bytes, raw_http: bool) -> Any:
    """The body as the action sees it (WebActions.scala ``extractEntityAndProcessRequest``):
    JSON (``null`` too), form fields, text, base64 for a binary type and for
    ``application/json`` sent to a ``raw-http`` action; ``NO_BODY`` for none, and
    for an empty JSON body."""
    if media is None:
        return NO_BODY
    if media.json_family and not raw_http:
        if not raw:
            return NO_BODY
        try:
            return jsoncodec.loads(raw)
        except jsoncodec.InvalidJson as exc:
            raise bad_request(MALFORMED_JSON.format(detail=str(exc))) from exc
    if media.type == "application/x-www-form-urlencoded" and not raw_http:
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    if media.binary or media.type == "application/json":
        return base64.b64encode(raw).decode()
    return raw.decode("utf-8", "replace")


def request_headers(headers: Any, media: Media | None) -> dict[str, str]:
    """``__ow_headers``: the request's headers by lower-case name, without the
    framing ones, and the entity's content type as pekko-http writes it."""
    out = {k.lower(): v for k, v in headers.items() if k.lower() not in FRAMING_HEADERS}
    if media is not None:
        out["content-type"] = media.header()
    return out


def unmatched_path(raw_path: str, consumed: int) -> str:
    """``__ow_path``: the path after the action's segment (``consumed`` segments
    after the leading ``/``), each segment re-encoded as pekko-http writes it
    (an encoded ``/`` stays ``%2F``); a trailing ``/`` stays."""
    segments = raw_path.split("/")[1 + consumed :]
    if not segments:
        return ""
    return "/" + "/".join(quote(unquote(segment), safe=PATH_SAFE) for segment in segments)


def query_text(raw_query: str) -> str:
    """``__ow_query``: the query re-encoded as pekko-http writes it (``Uri.Query``'s
    ``toString``), so it parses back to exactly what the client sent."""
    if not raw_query:
        return ""
    parts = []
    for pair in raw_query.split("&"):
        key, eq, value = pair.partition("=")
        text = quote_plus(unquote_plus(key), safe=QUERY_SAFE)
        if eq:
            text += "=" + quote_plus(unquote_plus(value), safe=QUERY_SAFE)
        parts.append(text)
    return "&".join(parts)


@dataclass(frozen=True)
class WebRequest:
    """What the action learns about the HTTP request."""

    method: str
    headers: dict[str, str]
    path: str
    query_string: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = NO_BODY


def action_args(req: WebRequest, user: Identity | None, raw_http: bool) -> JsonDict:
    """The arguments of a web action invocation (OpenWhisk's ``toActionArgument``)."""
    args: JsonDict = {
        "__ow_method": req.method.lower(),
        "__ow_headers": req.headers,
        "__ow_path": req.path,
    }
    if user is not None:
        args["__ow_user"] = user.namespace
    if raw_http:
        args["__ow_query"] = req.query_string
        args["__ow_body"] = "" if req.body is NO_BODY else req.body
        return args
    args.update(req.query)
    if isinstance(req.body, dict):
        args.update(req.body)
    elif req.body is not NO_BODY:
        args["__ow_body"] = req.body
    return args


def overrides_allowed(req: WebRequest, immutable: frozenset[str]) -> bool:
    """Query and body fields may not set reserved or final parameters."""
    keys = set(req.query)
    if isinstance(req.body, dict):
        keys |= set(req.body)
    return not (keys & (RESERVED | immutable))


def authorized(doc: JsonDict, headers: dict[str, str], user: Identity | None) -> bool:
    """OpenWhisk's ``require-whisk-auth``: a secret header value, or valid credentials."""
    required = annotation(doc, "require-whisk-auth")
    if required is None or required is False:
        return True
    if required is True:
        return user is not None
    if isinstance(required, str | int | float) and not isinstance(required, bool):
        # A number is compared as its text (``case JsNumber(auth) => auth.toString``).
        return headers.get(REQUIRE_AUTH_HEADER) == str(required)
    return False


# -- the response side ---------------------------------------------------------
@dataclass(frozen=True)
class WebAnswer:
    """An HTTP response to send."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return str(value)


def _field(result: Any, name: str, missing: Any = None) -> Any:
    if isinstance(result, dict):
        return result.get("body", result.get(name, missing))
    return result


def answer_json(result: Any) -> WebAnswer:
    if isinstance(result, dict | list):
        return WebAnswer(200, json.dumps(result).encode(), "application/json")
    raise bad_request(INVALID_MEDIA.format(media="application/json"))


def answer_html(result: Any) -> WebAnswer:
    html = _field(result, "html")
    if isinstance(html, str):
        return WebAnswer(200, html.encode(), "text/html; charset=UTF-8")
    raise bad_request(INVALID_MEDIA.format(media="text/html"))


def answer_svg(result: Any) -> WebAnswer:
    svg = _field(result, "svg")
    if isinstance(svg, str):
        return WebAnswer(200, svg.encode(), "image/svg+xml")
    raise bad_request(INVALID_MEDIA.format(media="image/svg+xml"))


def answer_text(result: Any) -> WebAnswer:
    missing = object()
    text = _field(result, "text", missing)
    if text is missing:
        raise APIError(404, PROPERTY_NOT_FOUND)
    return WebAnswer(200, (_text(text) or "").encode(), "text/plain; charset=UTF-8")


# Headers the HTTP server itself writes: an action's own would frame the answer
# wrongly (a Content-Length or Transfer-Encoding not matching the body splits the
# connection's stream) or speak for the connection. OpenWhisk's HTTP layer (akka-http's
# response renderer) drops them as "illegal RawHeader"s; so do we.
SERVER_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "upgrade",
        "te",
        "trailer",
        "date",
        "server",
    }
)
# RFC 9110 5.6.2: a header name is a token.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# RFC 9110 5.5: no CR, LF, NUL or other control but HTAB in a value.
HEADER_VALUE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _headers(raw: Any) -> list[tuple[str, str]]:
    """An action's ``headers`` as pairs to send; raises ``ValueError`` for a name or
    value HTTP cannot carry (the answer becomes OpenWhisk's 400)."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise ValueError("headers must be an object")
    out: list[tuple[str, str]] = []
    for key, value in raw.items():
        if not HEADER_NAME.fullmatch(key):
            raise ValueError("invalid header name")
        if key.lower() in SERVER_HEADERS:
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool):
                text = "true" if v else "false"
            elif isinstance(v, str | int | float):
                text = str(v)
            else:
                raise ValueError("invalid header")
            if HEADER_VALUE_BAD.search(text):
                raise ValueError("invalid header value")
            out.append((key, text))
    return out


def _status_code(raw: Any) -> int | None:
    """``statusCode`` as OpenWhisk reads it (WebActions.scala ``resultAsHttp``): a
    number that is an exact integer, or a string Java's ``toInt`` parses; raises
    ``ValueError`` otherwise."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError("statusCode is a boolean")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError("statusCode is not an integer")
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"[+-]?[0-9]+", raw):
        return int(raw)
    raise ValueError("statusCode is not an integer")


def answer_http(result: Any) -> WebAnswer:
    """``statusCode``, ``headers``, ``body``: OpenWhisk's ``resultAsHttp``."""
    invalid = bad_request(INVALID_MEDIA.format(media="message/http"))
    if not isinstance(result, dict):
        raise invalid
    try:
        headers = _headers(result.get("headers"))
        code = _status_code(result.get("statusCode"))
    except (ValueError, TypeError) as exc:
        raise invalid from exc
    if code is not None and not 100 <= code <= 599:
        raise invalid
    content_types = [v for k, v in headers if k.lower() == "content-type"]
    others = [(k, v) for k, v in headers if k.lower() != "content-type"]
    body = result.get("body")
    if body is None or body == "":
        return WebAnswer(code or 204, b"", None, others)
    declared = content_types[0] if content_types else None
    if not isinstance(body, str):
        media = _media_of(declared, "application/json")
        if not media.json_family:
            raise bad_request(HTTP_CONTENT_TYPE_ERROR)
        return WebAnswer(code or 200, json.dumps(body).encode(), media.header(), others)
    # ``interpretHttpResponse``: text goes out in UTF-8 and says so; a binary
    # type's body (and base64 under a JSON type, for old actions) is decoded.
    media = _media_of(declared, "text/html")
    if media.binary or (media.json_family and _is_binary_code(body)):
        try:
            data = base64.b64decode(body.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_request(HTTP_CONTENT_TYPE_ERROR) from exc
        return WebAnswer(code or 200, data, media.header("UTF-8"), others)
    return WebAnswer(code or 200, body.encode(), media.header("UTF-8"), others)


def _media_of(declared: str | None, default: str) -> Media:
    """The action's ``Content-Type`` (or ``default``); 400 when it does not parse
    (``findContentTypeInHeader``)."""
    media = mediatypes.parse(declared if declared is not None else default)
    if media is None:
        raise bad_request(HTTP_UNKNOWN_CONTENT_TYPE)
    return media


BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _is_binary_code(text: str) -> bool:
    """OpenWhisk's ``Exec.isBinaryCode``: non-empty base64 whose length is a multiple of 4."""
    t = text.strip()
    return len(t) > 0 and len(t) % 4 == 0 and BASE64.fullmatch(t) is not None


TRANSCODERS = {
    ".json": answer_json,
    ".html": answer_html,
    ".svg": answer_svg,
    ".text": answer_text,
    ".http": answer_http,
}


def answer_for(extension: str, status_code: int, result: Any) -> WebAnswer:
    """The response for a completed activation: success, or the ``error`` of an app error.

    A successful array result is a 500 in plain text, whatever the extension:
    OpenWhisk's ``WebActions.completeRequest`` reads the result as an object
    (``WhiskActivation.resultAsJson``), and its HTTP server answers the
    failure so.
    """
    if status_code == constants.STATUS_SUCCESS and isinstance(result, list):
        return WebAnswer(500, SERVER_ERROR.encode(), "text/plain; charset=UTF-8")
    if status_code == constants.STATUS_SUCCESS:
        projected = result
    elif status_code == constants.STATUS_APPLICATION_ERROR:
        if not isinstance(result, dict) or "error" not in result:
            raise APIError(404, PROPERTY_NOT_FOUND)
        projected = result["error"]
    else:
        raise bad_request(INTERNAL)
    return TRANSCODERS[extension](projected)


# -- the handler -----------------------------------------------------------------
async def handle(request: web.Request) -> web.StreamResponse:
    if request.method not in METHODS:
        raise APIError(405, WEB_METHOD_NOT_ALLOWED)
    c = ctx(request)
    namespace = request.match_info["namespace"]
    package = request.match_info["package"]
    segment = request.match_info["rest"].partition("/")[0]
    name, extension = split_extension(segment)
    if not (is_name(namespace) and is_name(name) and is_name(package)):
        raise not_found()
    owner = await c.auth.owner_of(namespace)
    if owner is None:
        raise not_found()
    ref = EntityRef(namespace, name, None if package == DEFAULT_PACKAGE else package)
    try:
        target = await lookup.action_target(c.entities, owner, ref)
    except APIError as exc:
        raise not_found() from exc
    if annotation(target.doc, "web-export") is not True:
        raise not_found()
    cors = annotation(target.doc, "web-custom-options") is not True
    if cors and request.method == "OPTIONS":
        return web.Response(status=200, headers=cors_headers(request))
    raw = await request.read()
    if len(raw) > constants.PAYLOAD_MAX_BYTES:
        raise APIError(
            413, TOO_BIG.format(field="Request", size=len(raw), limit=constants.PAYLOAD_MAX_BYTES)
        )
    # From here every answer, errors too, carries the CORS headers the action
    # delegates (WebActions.scala ``respondWithHeaders(defaultCorsResponse(...))``).
    try:
        response = await _serve(request, owner, target, extension, raw)
    except APIError as exc:
        response = error_response(exc.status, exc.message)
    except (StoreUnavailable, LedgerUnavailable) as exc:
        response = unavailable(exc)
    return _with_cors(response, request, cors)


async def _serve(
    request: web.Request, owner: Identity, target: lookup.Target, extension: str, raw: bytes
) -> web.Response:
    """Run the web action for ``request`` and answer with its result."""
    c = ctx(request)
    user = await c.auth.identify_optional(request)
    media = entity_media(request.headers.get("Content-Type"), raw)
    headers = request_headers(request.headers, media)
    if request.method != "OPTIONS" and not authorized(target.doc, headers, user):
        return error_response(401, AUTH_INVALID)
    raw_http = annotation(target.doc, "raw-http") is True
    web_request = WebRequest(
        method=request.method,
        headers=headers,
        # namespace, package and the action's segment follow /api/v1/web
        path=unmatched_path(request.rel_url.raw_path, 6),
        query_string=query_text(request.rel_url.raw_query_string),
        query={k: v for k, v in request.query.items()},
        body=request_body(media, raw, raw_http),
    )
    if not raw_http and not overrides_allowed(web_request, target.immutable):
        raise bad_request(PARAMETERS_NOT_ALLOWED)
    submitted = await c.invocations.start(
        owner, target, action_args(web_request, user, raw_http), blocking=True
    )
    completed = await c.invocations.wait(submitted, constants.BLOCKING_WAIT_MAX_MS)
    # Every answer about the activation names it (``respondWithActivationIdHeader``).
    id_header = {"x-openwhisk-activation-id": submitted.activation_id}
    if completed is None:
        response = error_response(202, RESPONSE_NOT_READY)
        response.headers.update(id_header)
        return response
    try:
        answer = answer_for(extension, completed.response.status_code, completed.response.result)
    except APIError as exc:
        response = error_response(exc.status, exc.message)
        response.headers.update(id_header)
        return response
    out = web.Response(status=answer.status, body=answer.body, headers=CIMultiDict(answer.headers))
    if answer.content_type:
        out.headers["Content-Type"] = answer.content_type
    out.headers.update(id_header)
    return out


def cors_headers(request: web.Request) -> dict[str, str]:
    headers = dict(CORS)
    asked = request.headers.get("Access-Control-Request-Headers")
    if asked:
        headers["Access-Control-Allow-Headers"] = asked
    return headers


def _with_cors(response: web.Response, request: web.Request, cors: bool) -> web.Response:
    if cors:
        for key, value in cors_headers(request).items():
            response.headers.setdefault(key, value)
    return response
