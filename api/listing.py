"""Listing entities the OpenWhisk way: ``limit``, ``skip``, ``count``, brief entries."""

from __future__ import annotations

import re

from aiohttp import web

from api.context import Context
from api.entities import COLLECTIONS, brief
from api.requests import flag, json_response, parse_paging

# An integer as Java's Integer.parseInt / Long.parseLong read it (Scala's
# ``toInt``/``toLong``): an optional sign, then decimal digits.
JAVA_INTEGER_RE = re.compile(r"\A[+-][0-9]+\Z")


def java_integer(raw: str | None) -> str | None:
    """``raw`` without the ``+`` Java's ``parseInt`` accepts before digits (``+5`` -> ``5``).

    OpenWhisk reads ``limit`` and ``skip`` with ``value.toInt``
    (RestAPIs.scala ``stringToListLimit``, ``stringToListSkip``), which takes
    ``+5`` as 5; ``api.requests.parse_paging`` takes ASCII digits with an
    optional ``-`` only. Anything else is returned as it is, to be refused
    with its own text.
    """
    if raw is not None and raw.startswith("+") and JAVA_INTEGER_RE.match(raw):
        return raw[1:]
    return raw


def list_paging(request: web.Request, collection: str) -> tuple[int, int]:
    """``(limit, skip)`` of a list request, as OpenWhisk reads them (``java_integer``).

    Raises the 400 of ``api.requests.parse_paging`` (OpenWhisk's texts).
    """
    query = request.query
    return parse_paging(
        java_integer(query.get("limit")), java_integer(query.get("skip")), collection
    )


async def list_entities(
    c: Context, request: web.Request, path: str, entity_type: str
) -> web.Response:
    """A list (or ``?count=true``) of one entity type under a namespace or package path."""
    collection = COLLECTIONS[entity_type]
    limit, skip = list_paging(request, collection)
    if flag(request, "count"):
        return json_response({collection: await c.entities.count(path, entity_type, skip)})
    docs = await c.entities.list_docs(path, entity_type, limit, skip)
    return json_response([brief(d) for d in docs])
