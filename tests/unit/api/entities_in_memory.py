"""An entity store in memory, for unit tests of the API's pure-ish checks (no CouchDB)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class EntitiesInMemory:
    """``api.entities.EntityStore.get_typed`` over a dict of documents by id."""

    docs: dict[str, dict[str, Any]]

    async def get_typed(self, entity_id: str, entity_type: str) -> dict[str, Any] | None:
        doc = self.docs.get(entity_id)
        return doc if doc is not None and doc["entityType"] == entity_type else None
