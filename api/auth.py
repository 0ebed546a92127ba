"""Basic authentication against the ``subjects`` database, with a short-lived cache."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cachetools import TTLCache

from api import userlimits
from api.errors import APIError
from api.names import NAME_RE as NAMESPACE_RE
from store.couch import Couch
from store.views import SUBJECTS_DDOC
from streams import constants
from streams.messages import (
    AUTH_INVALID,
    AUTH_REQUIRED,
    NAMESPACE_ILLEGAL,
    NOT_AUTHORIZED,
    NOT_AUTHORIZED_RESOURCE,
)
from streams.settings import Settings

CACHE_TTL_S = 10.0
# Entries per cache at most: a caller sending ever new keys (or asking for ever new
# namespaces' web actions) evicts the oldest entries instead of growing the API.
CACHE_MAX_ENTRIES = 10_000
UNKNOWN: Any = object()  # not in a cache (None there is a cached miss)


@dataclass(frozen=True)
class Identity:
    """Who is calling: the subject, its namespace, its key and its namespace's own limits.

    ``limits`` holds the namespace's limits as OpenWhisk's ``UserLimits``
    (``{"invocationsPerMinute": 10, "allowedKinds": [...], ...}``, only those set):
    its ``NAMESPACE/limits`` document over its subject record's ``limits`` field
    (``api/userlimits.py``).
    """

    subject: str
    namespace: str
    uuid: str
    key: str
    limits: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # May read the platform's own state (``/api/v1/admin/...``): the system
    # namespace's subject, and subjects created with ``lwsk admin user create --admin``.
    admin: bool = False

    @property
    def auth(self) -> str:
        return f"{self.uuid}:{self.key}"


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``(uuid, key)`` from an ``Authorization: Basic ...`` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, ValueError):
        # Not base64, not ASCII (b64decode's ValueError), or not UTF-8 once decoded
        # (UnicodeDecodeError, a ValueError): no credentials, as OpenWhisk reads it.
        return None
    uuid, sep, key = decoded.partition(":")
    return (uuid, key) if sep else None


class Authenticator:
    """Looks callers up by ``[uuid, key]`` in the subjects view."""

    def __init__(self, couch: Couch, settings: Settings):
        self._couch = couch
        self._db = settings.database(constants.DB_SUBJECTS)
        # None for credentials or a namespace that has no subject: misses are cached too.
        self._cache: TTLCache[tuple[str, str], Identity | None] = TTLCache(
            CACHE_MAX_ENTRIES, CACHE_TTL_S
        )
        self._owners: TTLCache[str, Identity | None] = TTLCache(CACHE_MAX_ENTRIES, CACHE_TTL_S)

    async def identify(self, request: web.Request) -> Identity:
        credentials = parse_basic(request.headers.get("Authorization"))
        if credentials is None:
            raise APIError(
                401, AUTH_REQUIRED if "Authorization" not in request.headers else AUTH_INVALID
            )
        return await self.identify_key(credentials)

    async def identify_admin(self, request: web.Request) -> Identity:
        """The caller, who must be an administrator (403 otherwise)."""
        identity = await self.identify(request)
        if not identity.admin:
            raise APIError(403, NOT_AUTHORIZED)
        return identity

    async def identify_optional(self, request: web.Request) -> Identity | None:
        """The caller when it sent valid credentials, else None (web actions)."""
        credentials = parse_basic(request.headers.get("Authorization"))
        if credentials is None:
            return None
        try:
            return await self.identify_key(credentials)
        except APIError:
            return None

    async def identify_key(self, credentials: tuple[str, str]) -> Identity:
        identity = self._cache.get(credentials, UNKNOWN)
        if identity is UNKNOWN:
            identity = await self._lookup(*credentials)
            self._cache[credentials] = identity
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
        return Identity(
            value["subject"],
            value["namespace"],
            uuid,
            key,
            await self._limits(value["namespace"], value.get("limits")),
            admin=value.get("admin") is True,
        )

    async def _limits(self, namespace: str, subject_limits: Any) -> dict[str, Any]:
        """The namespace's limits: its limits document (wskadmin's ``limits set``) over the
        subject record's own ``limits`` field. Read with the identity, as OpenWhisk's
        ``Identity.get`` does (its view joins the document), and cached with it."""
        document = await self._couch.get(self._db, userlimits.document_id(namespace))
        own = subject_limits if isinstance(subject_limits, dict) else None
        return userlimits.merged(own, document)

    async def owner_of(self, namespace: str) -> Identity | None:
        """The identity owning ``namespace`` (web actions run on its behalf), or None."""
        cached = self._owners.get(namespace, UNKNOWN)
        if cached is not UNKNOWN:
            return cached
        rows = await self._couch.view(
            self._db, SUBJECTS_DDOC, "byNamespace", key=namespace, limit=1
        )
        found = None
        if rows:
            v = rows[0]["value"]
            limits = await self._limits(v["namespace"], v.get("limits"))
            found = Identity(v["subject"], v["namespace"], v["uuid"], v["key"], limits)
        self._owners[namespace] = found
        return found

    def forget(self) -> None:
        self._cache.clear()
        self._owners.clear()


def namespace_named(identity: Identity, namespace: str) -> str:
    """The namespace a path names, ``_`` being the caller's own (no rights checked)."""
    if namespace == constants.DEFAULT_NAMESPACE_ALIAS:
        return identity.namespace
    if not NAMESPACE_RE.match(namespace):
        raise APIError(400, NAMESPACE_ILLEGAL)
    return namespace


def resolve_namespace(identity: Identity, namespace: str, entity: str | None = None) -> str:
    """The namespace a path names (``_`` is the caller's own); 403 for someone else's,
    naming the resource as OpenWhisk's entitlement check does (``namespace`` or
    ``namespace/entity``: Entitlement.scala ``unauthorizedOn``, ``Resource.fqname``)."""
    if namespace == constants.DEFAULT_NAMESPACE_ALIAS or namespace == identity.namespace:
        return identity.namespace
    resource = f"{namespace}/{entity}" if entity else namespace
    raise APIError(403, NOT_AUTHORIZED_RESOURCE.format(resource=resource))


def namespace_for(identity: Identity, request: web.Request) -> str:
    """``resolve_namespace`` of the request's path: its namespace, and the entity it names
    (``package/name``, ``name`` or an activation id) for the 403's text."""
    info = request.match_info
    parts = [info[k] for k in ("package", "name", "activation_id") if info.get(k)]
    return resolve_namespace(identity, info["namespace"], "/".join(parts) or None)
