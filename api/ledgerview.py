"""Event handlers: one activation's history, and the live event stream (SSE), from the ledger."""

from __future__ import annotations

from aiohttp import web

from api.activations import activation_path
from api.auth import Identity, namespace_for
from api.context import CONTEXT, Context, ctx
from api.errors import bad_request, not_found
from api.requests import json_response
from api.stream import HEADERS, Session, event_view
from api.tail import Filter, Selector, event_types
from streams.history import LoggedEvent, read_activation
from streams.ids import is_activation_id, now_ms
from streams.messages import (
    ACTIVATION_ID_ILLEGAL,
    EVENT_TYPES_ILLEGAL,
    HEARTBEAT_ILLEGAL,
    LAST_EVENT_ID_ILLEGAL,
    SINCE_ILLEGAL,
)
from streams.positions import FromCursor, Since, decode_cursor, parse_since

HEARTBEAT_MIN_S = 0.5
HEARTBEAT_MAX_S = 300.0


async def logged_activation(request: web.Request) -> tuple[Context, Identity, list[LoggedEvent]]:
    """The caller, and the events of the activation the path names; 404 unless it is theirs."""
    c, identity, namespace, activation_id = await activation_path(request)
    logged = await read_activation(c.settings, activation_id)
    # Someone else's id is indistinguishable from an unknown one.
    if not logged or any(e.event.namespace.split("/")[0] != namespace for e in logged):
        raise not_found()
    return c, identity, logged


async def activation_events(request: web.Request) -> web.Response:
    """``GET .../activations/{id}/events``: every event of one activation, in log order."""
    _, _, logged = await logged_activation(request)
    return json_response(
        [event_view(e.event, e.partition, e.offset, e.timestamp_ms) for e in logged]
    )


def _listed(request: web.Request, *names: str) -> list[str]:
    """Values of a query parameter given repeatedly and/or comma-separated."""
    out: list[str] = []
    for name in names:
        for value in request.query.getall(name, []):
            out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def action_spec(name: str, namespace: str) -> str:
    """An ``action`` filter as ``api.tail.Filter`` holds it (pure).

    ``hello``, ``pkg/hello`` and ``binding/hello`` stay as they are (the
    activation list's ``name`` filter); a full path (``/ns/pkg/hello``,
    ``/_/hello``) becomes ``ns/pkg/hello``; a trailing ``/`` is dropped.
    """
    path = name.strip().rstrip("/")
    if not path.startswith("/"):
        return path
    path = path.strip("/")
    return namespace + path[1:] if path.startswith("_/") else path


def stream_filter(request: web.Request, namespace: str) -> Filter:
    types = event_types(_listed(request, "types", "type"))
    if types is None:
        raise bad_request(EVENT_TYPES_ILLEGAL)
    ids = _listed(request, "activation", "activationId")
    if not all(is_activation_id(i) for i in ids):
        raise bad_request(ACTIVATION_ID_ILLEGAL)
    return Filter(
        namespace=namespace,
        actions=frozenset(action_spec(a, namespace) for a in _listed(request, "action", "name")),
        activation_ids=frozenset(ids),
        types=types,
    )


def stream_start(request: web.Request) -> Since:
    """Where the stream starts: ``Last-Event-ID`` (a reconnection) wins over ``since``."""
    last_id = request.headers.get("Last-Event-ID") or request.query.get("lastEventId")
    if last_id:
        cursor = decode_cursor(last_id)
        if cursor is None:
            raise bad_request(LAST_EVENT_ID_ILLEGAL)
        return FromCursor(cursor)
    since = parse_since(request.query.get("since"), now_ms())
    if since is None:
        raise bad_request(SINCE_ILLEGAL)
    return since


def heartbeat_of(request: web.Request, default_s: float) -> float:
    raw = request.query.get("heartbeat")
    if raw is None:
        return default_s
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not HEARTBEAT_MIN_S <= value <= HEARTBEAT_MAX_S:
        raise bad_request(HEARTBEAT_ILLEGAL.format(low=HEARTBEAT_MIN_S, high=HEARTBEAT_MAX_S))
    return value


async def stream_events(request: web.Request) -> web.StreamResponse:
    """``GET .../events``: the subject's events as Server-Sent Events (see api/stream.py)."""
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_for(identity, request)
    selector = Selector(stream_filter(request, namespace))
    since = stream_start(request)
    heartbeat_s = heartbeat_of(request, c.settings.events_heartbeat_s)
    response = web.StreamResponse(headers=HEADERS)
    await response.prepare(request)
    await Session(response, c.ledger.hub, c.settings, selector, heartbeat_s).run(since)
    return response


async def close_streams(app: web.Application) -> None:
    """On shutdown: end every open stream, so the server need not wait for them."""
    if CONTEXT in app:
        app[CONTEXT].ledger.hub.close()
