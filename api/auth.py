"""Basic authentication against the ``subjects`` database, with a short-lived cache."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

from aiohttp import web

from api.errors import AUTH_INVALID, AUTH_REQUIRED, NOT_AUTHORIZED, APIError
from projections.couch import Couch
from projections.views import SUBJECTS_DDOC
from streams import constants
from streams.settings import Settings

CACHE_TTL_S = 10.0


@dataclass(frozen=True)
class Identity:
    """Who is calling: the subject, its namespace, and its key."""

    subject: str
    namespace: str
    uuid: str
    key: str

    @property
    def auth(self) -> str:
        return f"{self.uuid}:{self.key}"


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``(uuid, key)`` from an ``Authorization: Basic ...`` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    uuid, sep, key = decoded.partition(":")
    return (uuid, key) if sep else None


class Authenticator:
    """Looks callers up by ``[uuid, key]`` in the subjects view."""

    def __init__(self, couch: Couch, settings: Settings):
        self._couch = couch
        self._db = settings.database(constants.DB_SUBJECTS)
        self._cache: dict[tuple[str, str], tuple[Identity | None, float]] = {}

    async def identify(self, request: web.Request) -> Identity:
        credentials = parse_basic(request.headers.get("Authorization"))
        if credentials is None:
            raise APIError(
                401, AUTH_REQUIRED if "Authorization" not in request.headers else AUTH_INVALID
            )
        now = time.monotonic()
        cached = self._cache.get(credentials)
        if cached is not None and cached[1] > now:
            identity = cached[0]
        else:
            identity = await self._lookup(*credentials)
            self._cache[credentials] = (identity, now + CACHE_TTL_S)
        if identity is None:
            raise APIError(401, AUTH_INVALID)
        return identity

    async def _lookup(self, uuid: str, key: str) -> Identity | None:
        rows = await self._couch.view(
            self._db, SUBJECTS_DDOC, "identities", key=[uuid, key], limit=1
        )
        if not rows:
            return None
        value = rows[0]["value"]
        return Identity(value["subject"], value["namespace"], uuid, key)

    def forget(self) -> None:
        self._cache.clear()


def resolve_namespace(identity: Identity, namespace: str) -> str:
    """The namespace a path names (``_`` is the caller's own); 403 for someone else's."""
    if namespace == constants.DEFAULT_NAMESPACE_ALIAS or namespace == identity.namespace:
        return identity.namespace
    raise APIError(403, NOT_AUTHORIZED)
