"""The entity store: actions, packages, triggers and rules in ``whisks``, with a read cache.

Also the document shapes (OpenWhisk's, plus our ``entityType``) and what
the API shows of them, in full and in lists.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from api.errors import APIError
from api.names import EntityRef
from store.couch import Conflict, Couch
from store.views import WHISKS_DDOC
from streams import constants
from streams.ids import now_ms
from streams.messages import CONFLICT, CONFORMANCE
from streams.settings import Settings

JsonDict = dict[str, Any]
CACHE_MAX = 10_000
# Fields of a stored entity that clients never see.
HIDDEN = frozenset({"_id", "_rev", "entityType"})
ACTION, PACKAGE, TRIGGER, RULE = "action", "package", "trigger", "rule"
# The collection names OpenWhisk counts in (``?count=true`` answers ``{"actions": n}``).
COLLECTIONS = {ACTION: "actions", PACKAGE: "packages", TRIGGER: "triggers", RULE: "rules"}


def doc_id(namespace: str, name: str) -> str:
    """``guest/hello`` or ``guest/pkg/hello``: OpenWhisk's document ids."""
    return f"{namespace}/{name}"


def default_limits() -> dict[str, int]:
    return {
        "timeout": constants.TIMEOUT_DEFAULT_MS,
        "memory": constants.MEMORY_DEFAULT_MB,
        "logs": constants.LOGS_DEFAULT_MB,
        "concurrency": constants.CONCURRENCY_DEFAULT,
    }


def _base(ref: EntityRef, entity_type: str, version: str, publish: bool) -> JsonDict:
    return {
        "_id": ref.doc_id,
        "entityType": entity_type,
        "namespace": ref.path,
        "name": ref.name,
        "version": version,
        "publish": publish,
    }


def action_doc(
    ref: EntityRef,
    *,
    exec_: JsonDict,
    parameters: list[JsonDict],
    annotations: list[JsonDict],
    limits: dict[str, int],
    version: str,
    publish: bool,
) -> JsonDict:
    """An action document; the ``exec`` annotation names its kind, as OpenWhisk adds it."""
    return {
        **_base(ref, ACTION, version, publish),
        "exec": exec_,
        "parameters": parameters,
        "annotations": with_annotation(annotations, "exec", exec_["kind"]),
        "limits": limits,
    }


def package_doc(
    ref: EntityRef,
    *,
    binding: JsonDict,
    parameters: list[JsonDict],
    annotations: list[JsonDict],
    version: str,
    publish: bool,
) -> JsonDict:
    """A package document; a binding also carries a ``binding`` annotation (OpenWhisk's)."""
    shown = [a for a in annotations if a.get("key") != "binding"]
    if binding:
        shown.append({"key": "binding", "value": binding})
    return {
        **_base(ref, PACKAGE, version, publish),
        "binding": binding,
        "parameters": parameters,
        "annotations": shown,
    }


def with_annotation(annotations: list[JsonDict], key: str, value: Any) -> list[JsonDict]:
    """``annotations`` with ``key`` set to ``value`` (replacing any earlier value)."""
    return [*(a for a in annotations if a.get("key") != key), {"key": key, "value": value}]


def annotation(doc: JsonDict, key: str, default: Any = None) -> Any:
    for a in doc.get("annotations") or []:
        if a.get("key") == key:
            return a.get("value")
    return default


def public(doc: JsonDict, with_code: bool = True) -> JsonDict:
    """What the API shows of an entity document."""
    shown = {k: v for k, v in doc.items() if k not in HIDDEN}
    if not with_code and "exec" in shown:
        shown["exec"] = {k: v for k, v in shown["exec"].items() if k != "code"}
    return shown


def brief(doc: JsonDict) -> JsonDict:
    """An entity as OpenWhisk lists it (its views' values)."""
    out: JsonDict = {
        "namespace": doc["namespace"],
        "name": doc["name"],
        "version": doc.get("version", "0.0.1"),
        "publish": doc.get("publish", False),
        "annotations": doc.get("annotations", []),
        "updated": doc.get("updated", 0),
    }
    kind = doc.get("entityType")
    if kind == ACTION:
        out["limits"] = doc.get("limits", {})
        out["exec"] = {"binary": bool(doc.get("exec", {}).get("binary", False))}
    elif kind == PACKAGE:
        out["binding"] = doc.get("binding") or False
    elif kind == RULE:
        out["trigger"] = doc.get("trigger")
        out["action"] = doc.get("action")
    return out


class EntityStore:
    """Reads and writes entity documents; remembers recent reads until they change."""

    def __init__(self, couch: Couch, settings: Settings):
        self._couch = couch
        self.db = settings.database(constants.DB_WHISKS)
        self._cache: OrderedDict[str, JsonDict] = OrderedDict()

    async def get(self, entity_id: str) -> JsonDict | None:
        found = self._cache.get(entity_id)
        if found is not None:
            self._cache.move_to_end(entity_id)
            return found
        found = await self._couch.get(self.db, entity_id)
        if found is not None:
            self._remember(entity_id, found)
        return found

    async def get_typed(self, entity_id: str, entity_type: str) -> JsonDict | None:
        """The document when it exists (None when not); 409 when it is of another type."""
        found = await self.get(entity_id)
        if found is not None and found.get("entityType") != entity_type:
            raise APIError(409, CONFORMANCE)
        return found

    def _remember(self, entity_id: str, doc: JsonDict) -> None:
        self._cache[entity_id] = doc
        self._cache.move_to_end(entity_id)
        while len(self._cache) > CACHE_MAX:
            self._cache.popitem(last=False)

    def invalidate(self, entity_id: str) -> None:
        self._cache.pop(entity_id, None)

    async def put(self, doc: JsonDict, previous: JsonDict | None) -> JsonDict:
        """Write ``doc`` (an update of ``previous`` when given); returns the stored doc.

        409 (OpenWhisk's concurrent-modification error) when the document
        changed or appeared meanwhile.
        """
        stored = {k: v for k, v in doc.items() if k != "_rev"}
        stored["updated"] = now_ms()
        if previous is not None:
            stored["_rev"] = previous["_rev"]
        self.invalidate(doc["_id"])
        try:
            stored["_rev"] = await self._couch.put(self.db, stored)
        except Conflict as exc:
            raise APIError(409, CONFLICT) from exc
        self._remember(doc["_id"], stored)
        return stored

    async def delete(self, entity_id: str) -> bool:
        self.invalidate(entity_id)
        return await self._couch.delete(self.db, entity_id)

    async def _docs(
        self, view: str, low: list[Any], high: list[Any], limit: int, skip: int
    ) -> list[JsonDict]:
        """Documents of a view's key range ``[low, high]``, newest first."""
        rows = await self._couch.view(
            self.db,
            WHISKS_DDOC,
            view,
            startkey=high,
            endkey=low,
            descending=True,
            include_docs=True,
            reduce=False,
            limit=limit,
            skip=skip,
        )
        return [r["doc"] for r in rows if r.get("doc")]

    async def list_docs(self, path: str, entity_type: str, limit: int, skip: int) -> list[JsonDict]:
        """Entities of one type under ``path`` (a namespace or ``ns/pkg``), newest first."""
        return await self._docs(
            "byNamespace", [path, entity_type], [path, entity_type, {}], limit, skip
        )

    async def count(self, path: str, entity_type: str, skip: int) -> int:
        total = await self._couch.view_count(
            self.db,
            WHISKS_DDOC,
            "byNamespace",
            startkey=[path, entity_type],
            endkey=[path, entity_type, {}],
        )
        return max(0, total - skip)

    async def list_public_packages(self, namespace: str, limit: int, skip: int) -> list[JsonDict]:
        return await self._docs("publicPackages", [namespace], [namespace, {}], limit, skip)

    async def count_public_packages(self, namespace: str, skip: int) -> int:
        total = await self._couch.view_count(
            self.db, WHISKS_DDOC, "publicPackages", startkey=[namespace], endkey=[namespace, {}]
        )
        return max(0, total - skip)
