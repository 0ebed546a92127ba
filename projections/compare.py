"""Compare two activation projections field by field (a live one and a rebuilt one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from projections.record import LEDGER_FIELD
from store.couch import Couch, JsonDict
from streams.events import ACCEPTED
from streams.ids import accepted_at_ms

PAGE = 1_000
# Fields every store adds on its own: not part of a record's content.
STORE_FIELDS = frozenset({"_rev"})


def comparable(activation_id: str, rebuilt: JsonDict | None, horizon_ms: int | None) -> bool:
    """Whether the log still holds the whole history of an activation, so records must agree.

    One partition holds all of an activation's events in order, and retention
    deletes the oldest: a rebuilt record with its ``accepted`` part lost
    nothing. A record the rebuild lacks entirely is comparable when its id says
    it was accepted after the horizon.
    """
    if horizon_ms is None:
        return True
    if rebuilt is not None:
        return ACCEPTED in rebuilt.get(LEDGER_FIELD, {}).get("parts", {})
    at = accepted_at_ms(activation_id)
    return at is None or at >= horizon_ms


@dataclass(frozen=True)
class Difference:
    """One field of one record that differs between two projections."""

    activation_id: str
    field: str
    live: Any
    rebuilt: Any

    def __str__(self) -> str:
        return f"{self.activation_id} {self.field}: live={self.live!r} rebuilt={self.rebuilt!r}"


MISSING = "<missing>"


def _flat(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths of a document's leaves (objects are walked; lists are leaves)."""
    if not isinstance(doc, dict) or (prefix and not doc):
        return {prefix: doc}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if not prefix and key in STORE_FIELDS:
            continue
        out.update(_flat(value, f"{prefix}.{key}" if prefix else key))
    return out


def record_differences(
    activation_id: str, live: JsonDict | None, rebuilt: JsonDict | None
) -> list[Difference]:
    """Field-by-field differences between the live and the rebuilt record of one activation."""
    if live is None or rebuilt is None:
        return [
            Difference(
                activation_id,
                "(record)",
                MISSING if live is None else "present",
                MISSING if rebuilt is None else "present",
            )
        ]
    a, b = _flat(live), _flat(rebuilt)
    return [
        Difference(activation_id, key, a.get(key, MISSING), b.get(key, MISSING))
        for key in sorted(set(a) | set(b))
        if a.get(key, MISSING) != b.get(key, MISSING)
    ]


async def _combined(
    left: AsyncIterator[JsonDict], right: AsyncIterator[JsonDict]
) -> AsyncIterator[tuple[str, JsonDict | None, JsonDict | None]]:
    """Join two id-ordered document streams on ``_id`` (memory: one page each)."""
    a = await anext(left, None)
    b = await anext(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a["_id"] < b["_id"]):
            assert a is not None
            yield a["_id"], a, None
            a = await anext(left, None)
        elif a is None or b["_id"] < a["_id"]:
            yield b["_id"], None, b
            b = await anext(right, None)
        else:
            yield a["_id"], a, b
            a, b = await anext(left, None), await anext(right, None)


@dataclass(frozen=True)
class Verified:
    compared: int
    differences: list[Difference]
    # Records not compared: retention removed part of their history from the log.
    expired: int = 0


async def verify(
    couch: Couch, live_db: str, rebuilt_db: str, horizon_ms: int | None = None
) -> Verified:
    """Compare the records of two projections field by field (``_rev`` aside).

    With a ``horizon_ms`` (see ``horizon``), records whose history the log no
    longer holds whole are counted apart instead of compared.
    """
    compared = expired = 0
    found: list[Difference] = []
    pairs = _combined(couch.all_docs(live_db, PAGE), couch.all_docs(rebuilt_db, PAGE))
    async for activation_id, live, rebuilt in pairs:
        if not comparable(activation_id, rebuilt, horizon_ms):
            expired += 1
            continue
        compared += 1
        found.extend(record_differences(activation_id, live, rebuilt))
    return Verified(compared, found, expired)
