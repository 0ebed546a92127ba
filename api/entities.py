"""The entity store: actions (and later packages, triggers, rules) in ``whisks``, cached."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from projections.couch import Conflict, Couch
from projections.views import WHISKS_DDOC
from streams import constants
from streams.ids import now_ms
from streams.settings import Settings

JsonDict = dict[str, Any]
CACHE_MAX = 10_000
# Fields of a stored entity that clients never see.
HIDDEN = frozenset({"_id", "_rev", "entityType", "package"})


def doc_id(namespace: str, name: str) -> str:
    """``guest/hello`` or ``guest/pkg/hello``: OpenWhisk's document ids."""
    return f"{namespace}/{name}"


def public(doc: JsonDict, with_code: bool = True) -> JsonDict:
    """What the API shows of an entity document."""
    shown = {k: v for k, v in doc.items() if k not in HIDDEN}
    if not with_code and "exec" in shown:
        shown["exec"] = {k: v for k, v in shown["exec"].items() if k != "code"}
    return shown


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

    def _remember(self, entity_id: str, doc: JsonDict) -> None:
        self._cache[entity_id] = doc
        self._cache.move_to_end(entity_id)
        while len(self._cache) > CACHE_MAX:
            self._cache.popitem(last=False)

    def invalidate(self, entity_id: str) -> None:
        self._cache.pop(entity_id, None)

    async def put(self, doc: JsonDict, previous: JsonDict | None) -> JsonDict:
        """Write ``doc`` (an update of ``previous`` when given); returns the stored doc."""
        stored = {**doc, "updated": now_ms()}
        if previous is not None:
            stored["_rev"] = previous["_rev"]
        self.invalidate(doc["_id"])
        try:
            stored["_rev"] = await self._couch.put(self.db, stored)
        except Conflict:
            raise
        self._remember(doc["_id"], stored)
        return stored

    async def delete(self, entity_id: str) -> bool:
        self.invalidate(entity_id)
        return await self._couch.delete(self.db, entity_id)

    async def list(self, namespace: str, entity_type: str, limit: int, skip: int) -> list[JsonDict]:
        """Entities of one type in a namespace, most recently updated first."""
        rows = await self._couch.view(
            self.db,
            WHISKS_DDOC,
            "byNamespace",
            startkey=[namespace, entity_type, {}],
            endkey=[namespace, entity_type],
            descending=True,
            include_docs=True,
            limit=limit,
            skip=skip,
        )
        return [r["doc"] for r in rows if r.get("doc")]
