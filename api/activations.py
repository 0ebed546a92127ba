"""Activation handlers: list (filters as OpenWhisk's), get, logs, result — from the projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from api.auth import Identity, namespace_for
from api.context import Context, ctx
from api.errors import bad_request, not_found
from api.listing import JAVA_INTEGER_RE, java_integer
from api.names import activation_filter_name
from api.requests import json_response, malformed, parse_flag, parse_paging
from projections import record
from store.views import ACTIVATIONS_DDOC
from streams import constants
from streams.ids import is_activation_id
from streams.messages import (
    ACTIVATION_ID_ILLEGAL,
    ACTIVATION_ID_LENGTH,
    BAD_EPOCH,
    BAD_NAME_FILTER,
    DOCS_WITH_COUNT,
)

JsonDict = dict[str, Any]
COLLECTION = "activations"
ACTIVATION_ID_CHARS = 32
# Java's Long: what ``Instant.ofEpochMilli(value.toLong)`` takes.
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def parse_instant(name: str, raw: str | None) -> int | None:
    """``since``/``upto``: epoch milliseconds as OpenWhisk reads them, or None when absent.

    Any Java ``Long`` (a sign, then digits: ``-5``, ``+5``), as
    ``Instant.ofEpochMilli(value.toLong)`` in Activations.scala
    ``stringToInstantDeserializer``; raises 400 ``The query parameter '...'
    was malformed`` with ``BAD_EPOCH`` otherwise.
    """
    if raw is None:
        return None
    digits = raw if raw[:1] in "+-" else "+" + raw
    value = int(digits) if JAVA_INTEGER_RE.match(digits) else None
    if value is None or not LONG_MIN <= value <= LONG_MAX:
        raise malformed(name, BAD_EPOCH.format(value=raw))
    return value


def check_activation_id(activation_id: str) -> None:
    """400 unless ``activation_id`` is 32 lower-case hex characters, in OpenWhisk's words.

    The length first (``Activation id length is 31 but must be 32.``, counted
    in UTF-16 units as Java's ``String.length``), then the characters (``The
    activation id is not valid.``): ActivationId.scala ``parse``,
    ErrorResponse.scala ``activationIdLengthError``.
    """
    length = len(activation_id.encode("utf-16-le")) // 2
    if length != ACTIVATION_ID_CHARS:
        raise bad_request(ACTIVATION_ID_LENGTH.format(length=length, expected=ACTIVATION_ID_CHARS))
    if not is_activation_id(activation_id):
        raise bad_request(ACTIVATION_ID_ILLEGAL)


@dataclass(frozen=True)
class ListQuery:
    """A parsed ``GET .../activations`` query."""

    limit: int
    skip: int
    docs: bool
    count: bool
    name: str | None
    since: int | None
    upto: int | None

    @classmethod
    def parse(cls, query: Any) -> ListQuery:
        """Every parameter checked with OpenWhisk's messages (pure); raises 400 ``APIError``."""
        limit, skip = parse_paging(
            java_integer(query.get("limit")), java_integer(query.get("skip")), COLLECTION
        )
        docs = parse_flag("docs", query.get("docs"))
        count = parse_flag("count", query.get("count"))
        if docs and count:
            raise bad_request(DOCS_WITH_COUNT)
        name = query.get("name")
        if name is not None and name.strip():
            filtered = activation_filter_name(name)
            if filtered is None:
                raise malformed("name", BAD_NAME_FILTER.format(value=name))
            name = filtered
        else:
            name = None
        since = parse_instant("since", query.get("since"))
        upto = parse_instant("upto", query.get("upto"))
        return cls(limit, skip, docs, count, name, since, upto)

    @property
    def empty(self) -> bool:
        """``since`` after ``upto``: nothing can match (CouchDB refuses such a key range)."""
        return self.since is not None and self.upto is not None and self.since > self.upto

    def view(self, namespace: str) -> tuple[str, list[Any], list[Any]]:
        """The view and its key range, oldest first (``[..., since]`` to ``[..., upto]``)."""
        prefix = [namespace, self.name] if self.name else [namespace]
        low = [*prefix, self.since] if self.since is not None else prefix
        high = [*prefix, self.upto] if self.upto is not None else [*prefix, {}]
        return ("byName" if self.name else "byNamespace"), low, high


async def activation_path(request: web.Request) -> tuple[Context, Identity, str, str]:
    """The caller, the namespace and the activation id a path names (400 for a bad id)."""
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_for(identity, request)
    activation_id = request.match_info["activation_id"]
    check_activation_id(activation_id)
    return c, identity, namespace, activation_id


async def _load(request: web.Request) -> JsonDict:
    c, _, namespace, activation_id = await activation_path(request)
    doc = await c.couch.get(c.settings.database(constants.DB_ACTIVATIONS), activation_id)
    if doc is None or not record.is_completed(doc):
        raise not_found()
    if doc.get("namespace", "").split("/")[0] != namespace:
        raise not_found()
    return record.public_view(doc)


async def get_activation(request: web.Request) -> web.Response:
    return json_response(await _load(request))


async def get_logs(request: web.Request) -> web.Response:
    return json_response({"logs": (await _load(request)).get("logs", [])})


async def get_result(request: web.Request) -> web.Response:
    return json_response((await _load(request)).get("response", {}))


async def list_activations(request: web.Request) -> web.Response:
    """``GET .../activations``: records newest first, or ``{"activations": N}`` with ``count``.

    ``since`` after ``upto`` answers ``[]`` (count 0) without asking CouchDB.
    """
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_for(identity, request)
    query = ListQuery.parse(request.query)
    db = c.settings.database(constants.DB_ACTIVATIONS)
    view, low, high = query.view(namespace)
    if query.empty:
        return json_response({COLLECTION: 0} if query.count else [])
    if query.count:
        total = await c.couch.view_count(db, ACTIVATIONS_DDOC, view, startkey=low, endkey=high)
        return json_response({COLLECTION: max(0, total - query.skip)})
    rows = await c.couch.view(
        db,
        ACTIVATIONS_DDOC,
        view,
        startkey=high,
        endkey=low,
        descending=True,
        include_docs=True,
        reduce=False,
        limit=query.limit,
        skip=query.skip,
    )
    docs = [r["doc"] for r in rows if r.get("doc")]
    shape = record.public_view if query.docs else record.summary
    return json_response([shape(d) for d in docs])
