"""The projection writer: a Faust agent applying ledger events to CouchDB in batches."""

from __future__ import annotations

import logging
from collections import OrderedDict, defaultdict
from typing import Any

import faust

from projections import record
from store.couch import Conflict, Couch, StoreError, StoreUnavailable
from streams import constants, deadletters, gctune, worker
from streams.app import make_app
from streams.events import LedgerEvent, Unreadable, read
from streams.retry import until_done
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.projection")

BATCH_MAX = 500
# Events wait at most this long to be written with others (a record appears
# in the projection up to this much later; blocking invokes do not wait on it).
BATCH_WITHIN_S = 0.05
# Records still in progress whose revision the writer remembers.
KNOWN_MAX = 5_000
CONFLICT_ROUNDS = 5


class Known:
    """The records this writer last wrote, for activations not yet completed.

    The writer is the only one writing activation records, so the revision it
    wrote last is almost always the current one: a batch is then one
    ``_bulk_docs`` request, with no read before it. A record it does not know
    is written as new; CouchDB refuses that write (conflict) when the record
    exists after all, and only then is it read and merged. Completed records
    are forgotten at once: they rarely change again, and they are the large ones.
    """

    def __init__(self, limit: int = KNOWN_MAX):
        self.limit = limit
        self._docs: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, activation_id: str) -> dict[str, Any] | None:
        return self._docs.get(activation_id)

    def remember(self, doc: dict[str, Any]) -> None:
        if record.is_completed(doc):
            self._docs.pop(doc["_id"], None)
            return
        self._docs[doc["_id"]] = doc
        self._docs.move_to_end(doc["_id"])
        while len(self._docs) > self.limit:
            self._docs.popitem(last=False)

    def forget(self, activation_id: str) -> None:
        self._docs.pop(activation_id, None)

    def __len__(self) -> int:
        return len(self._docs)


def writes_for(
    by_id: dict[str, list[LedgerEvent]], current: dict[str, dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """The documents to write: each record after its events (unchanged ones left out).

    ``current`` holds each record as last known (with its ``_rev``), None for
    one believed new.
    """
    writes: list[dict[str, Any]] = []
    for activation_id, events in by_id.items():
        before = current.get(activation_id)
        after = record.apply_all(before, events)
        if after is None:
            continue
        doc = {**after, "_id": activation_id}
        if before is not None:
            doc["_rev"] = before["_rev"]
        writes.append(doc)
    return writes


async def project(
    couch: Couch, db: str, events: list[LedgerEvent], known: Known | None = None
) -> int:
    """Apply a batch of events to the ``activations`` database; returns records changed."""
    known = known if known is not None else Known()
    by_id: dict[str, list[LedgerEvent]] = defaultdict(list)
    for event in events:
        by_id[event.activation_id].append(event)
    current: dict[str, dict[str, Any] | None] = {aid: known.get(aid) for aid in by_id}
    pending = dict(by_id)
    changed = 0
    for _round in range(CONFLICT_ROUNDS):
        writes = writes_for(pending, current)
        statuses = await couch.bulk_write(db, writes)
        by_doc = {doc["_id"]: doc for doc in writes}
        conflicts: list[str] = []
        failed = []
        for status in statuses:
            doc_id = status.get("id", "")
            if status.get("ok"):
                stored = {**by_doc[doc_id], "_rev": status["rev"]}
                known.remember(stored)
                changed += 1
            elif status.get("error") == "conflict":
                conflicts.append(doc_id)
            else:
                failed.append(status)
        if failed:
            for doc_id in by_doc:
                known.forget(doc_id)
            raise StoreUnavailable(f"CouchDB refused writes to {db}: {failed[:3]}")
        if not conflicts:
            return changed
        # Someone else wrote these (or they existed already): read, merge, write again.
        found = await couch.get_many(db, conflicts)
        current = {doc_id: found.get(doc_id) for doc_id in conflicts}
        pending = {doc_id: by_id[doc_id] for doc_id in conflicts}
    raise Conflict(f"records in {db} kept changing: {sorted(pending)[:5]}")


async def project_until_stored(
    couch: Couch, db: str, events: list[LedgerEvent], known: Known | None = None
) -> None:
    """Apply a batch, retrying while CouchDB is unavailable: a batch is never skipped.

    The offsets of these events are committed only after this returns, so a
    writer stopped while CouchDB is down resumes with the same batch.
    """
    await until_done(
        lambda: project(couch, db, events, known),
        what=f"projection of {len(events)} events",
        retry_on=StoreError,
        log=log,
    )


def readable(batch: list[Any]) -> list[LedgerEvent]:
    """The events of a batch of Faust events; records that do not decode are counted and left out.

    (The controller, which owns each partition, ends their activations.)
    """
    events: list[LedgerEvent] = []
    for item in batch:
        message = item.message
        event = read(item.value, message.key, message.headers)
        if isinstance(event, Unreadable):
            where = f"{message.topic}:{message.partition}:{message.offset}"
            deadletters.seen("projection", event, where)
            continue
        events.append(event)
    return events


async def write_batch(couch: Couch, db: str, batch: list[Any], known: Known) -> None:
    """Project one batch; never raises, never leaves its readable events out.

    A fault of ours on the batch as a whole (not CouchDB being away: that is
    retried) is met by writing its activations one at a time, so only the
    activation whose events cannot be projected is left out, and logged.
    """
    events = readable(batch)
    try:
        await project_until_stored(couch, db, events, known)
        return
    except Exception:
        log.exception(
            "projection of a batch of %d events failed; one activation at a time", len(events)
        )
    by_id: dict[str, list[LedgerEvent]] = defaultdict(list)
    for event in events:
        by_id[event.activation_id].append(event)
    for activation_id, own in by_id.items():
        try:
            await project_until_stored(couch, db, own, known)
        except Exception:
            log.exception(
                "activation %s could not be projected; its events are left out", activation_id
            )


def create_app(settings: Settings) -> faust.App:
    """The projection app: one agent over the ledger, writing in bulk."""
    app = make_app("projection", settings)
    events_topic = app.topic(settings.topic(constants.TOPIC_EVENTS), value_type=bytes)
    couch = Couch(settings)
    db = settings.database(constants.DB_ACTIVATIONS)
    known = Known()

    @app.agent(events_topic)
    async def projection(stream: Any) -> None:  # a faust Stream (take_events)
        async for batch in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            await write_batch(couch, db, batch, known)

    @app.task
    async def settle() -> None:
        gctune.settle()

    @app.on_before_shutdown.connect
    async def close_couch(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await couch.close()

    return app


if __name__ == "__main__":
    worker.run(create_app)
