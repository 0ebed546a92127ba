"""Compare two activation projections field by field (a live one and a rebuilt one).

Only what both can agree on is compared: a record whose history retention
cut short (``horizon_ms``), a record of an activation the log touched after
the rebuild's cut (``after_cut``, see ``projections.cut``), and a rebuilt
record that was not completed at the cut are counted apart, not compared.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Container
from dataclasses import dataclass, replace
from typing import Any, Literal

from projections.record import LEDGER_FIELD, is_completed
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


Verdict = Literal["compare", "expired", "after_cut", "open_at_cut"]


def verdict(
    activation_id: str,
    rebuilt: JsonDict | None,
    horizon_ms: int | None,
    after_cut: Container[str],
) -> Verdict:
    """Whether a pair of records is compared, or why not (pure).

    ``after_cut``: the log has events of it at or after the rebuild's cut,
    which the live record may hold and the rebuilt one cannot; ``open_at_cut``:
    the rebuilt record was not completed at the cut (the live one may have
    moved on); ``expired``: retention removed part of its history.
    """
    if activation_id in after_cut:
        return "after_cut"
    if not comparable(activation_id, rebuilt, horizon_ms):
        return "expired"
    if rebuilt is not None and not is_completed(rebuilt):
        return "open_at_cut"
    return "compare"


@dataclass(frozen=True)
class Verified:
    """What a comparison found: records compared, their differences, records left out (why)."""

    compared: int
    differences: list[Difference]
    # Records not compared: retention removed part of their history from the log.
    expired: int = 0
    # Records not compared: the log touched them after the rebuild's cut.
    after_cut: int = 0
    # Records not compared: not completed at the rebuild's cut.
    open_at_cut: int = 0

    @property
    def not_compared(self) -> int:
        return self.expired + self.after_cut + self.open_at_cut

    def without(self, touched: Container[str]) -> Verified:
        """Moved apart: the differences of records the log touched after the cut meanwhile."""
        moved = {d.activation_id for d in self.differences if d.activation_id in touched}
        if not moved:
            return self
        return replace(
            self,
            compared=self.compared - len(moved),
            differences=[d for d in self.differences if d.activation_id not in moved],
            after_cut=self.after_cut + len(moved),
        )


async def verify(
    couch: Couch,
    live_db: str,
    rebuilt_db: str,
    horizon_ms: int | None = None,
    after_cut: Container[str] = frozenset(),
    on_record: Callable[[int], None] | None = None,
) -> Verified:
    """Compare the records of two projections field by field (``_rev`` aside).

    Records ``verdict`` leaves out are counted apart instead of compared.
    ``on_record(n)`` is called with the number of records seen so far, every
    ``PAGE`` records and at the end.
    """
    counts = dict.fromkeys(("compare", "expired", "after_cut", "open_at_cut"), 0)
    found: list[Difference] = []
    seen = 0
    pairs = _combined(couch.all_docs(live_db, PAGE), couch.all_docs(rebuilt_db, PAGE))
    async for activation_id, live, rebuilt in pairs:
        seen += 1
        if on_record is not None and seen % PAGE == 0:
            on_record(seen)
        kind = verdict(activation_id, rebuilt, horizon_ms, after_cut)
        counts[kind] += 1
        if kind == "compare":
            found.extend(record_differences(activation_id, live, rebuilt))
    if on_record is not None:
        on_record(seen)
    return Verified(
        counts["compare"], found, counts["expired"], counts["after_cut"], counts["open_at_cut"]
    )
