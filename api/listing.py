"""Listing entities the OpenWhisk way: ``limit``, ``skip``, ``count``, brief entries."""

from __future__ import annotations

from aiohttp import web

from api.context import Context
from api.entities import COLLECTIONS, brief
from api.requests import flag, json_response, paging


async def list_entities(
    c: Context, request: web.Request, path: str, entity_type: str
) -> web.Response:
    """A list (or ``?count=true``) of one entity type under a namespace or package path."""
    collection = COLLECTIONS[entity_type]
    limit, skip = paging(request, collection)
    if flag(request, "count"):
        return json_response({collection: await c.entities.count(path, entity_type, skip)})
    docs = await c.entities.list_docs(path, entity_type, limit, skip)
    return json_response([brief(d) for d in docs])
