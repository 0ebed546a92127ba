"""Activation handlers: read records from the projection."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.auth import resolve_namespace
from api.context import ctx
from api.errors import ACTIVATION_ID_ILLEGAL, bad_request, not_found
from api.requests import flag, json_response, paging
from projections import record
from projections.views import ACTIVATIONS_DDOC
from streams import constants
from streams.ids import is_activation_id


async def _load(request: web.Request) -> dict[str, Any]:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = resolve_namespace(identity, request.match_info["namespace"])
    activation_id = request.match_info["activation_id"]
    if not is_activation_id(activation_id):
        raise bad_request(ACTIVATION_ID_ILLEGAL)
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
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = resolve_namespace(identity, request.match_info["namespace"])
    limit, skip = paging(request, "activations")
    rows = await c.couch.view(
        c.settings.database(constants.DB_ACTIVATIONS),
        ACTIVATIONS_DDOC,
        "byNamespace",
        startkey=[namespace, {}],
        endkey=[namespace],
        descending=True,
        include_docs=True,
        limit=limit,
        skip=skip,
    )
    docs = flag(request, "docs")
    out = []
    for row in rows:
        shown = record.public_view(row["doc"])
        if not docs:
            shown.pop("logs", None)
            shown.get("response", {}).pop("result", None)
        out.append(shown)
    return json_response(out)
