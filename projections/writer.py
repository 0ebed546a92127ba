"""The projection writer: a group reader applying ledger completions to CouchDB in bulk."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import faust

from projections import record
from store.couch import Conflict, Couch, StoreError, StoreUnavailable
from streams import constants, deadletters, gctune, worker
from streams.app import make_app
from streams.events import COMPLETED, HEADER_TYPE, LedgerEvent, Unreadable, header, read
from streams.groupreader import Fetch, Fetching, GroupReader, Records
from streams.retry import until_done
from streams.settings import Settings
from streams.tasks import TaskSet

log = logging.getLogger("ledgerwhisk.projection")

# Kafka holds a fetch up to this long for more records: a record appears in
# the projection up to this much later (blocking invokes do not wait on it),
# and under load each fetch, decode pass and CouchDB write takes many records.
FETCHING = Fetching(max_wait_ms=50, min_bytes=256 * 1024, max_records=500)
CONFLICT_ROUNDS = 5


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


async def project(couch: Couch, db: str, events: list[LedgerEvent]) -> int:
    """Apply a batch of events to the ``activations`` database; returns records changed.

    Records are written as new, without a read first: each is almost always
    written once (from its completion). CouchDB refuses a record that exists
    (a completion read again after a restart): only those are read, merged
    and written again.
    """
    by_id: dict[str, list[LedgerEvent]] = defaultdict(list)
    for event in events:
        by_id[event.activation_id].append(event)
    current: dict[str, dict[str, Any] | None] = dict.fromkeys(by_id)
    pending = dict(by_id)
    changed = 0
    for _round in range(CONFLICT_ROUNDS):
        writes = writes_for(pending, current)
        statuses = await couch.bulk_write(db, writes)
        conflicts: list[str] = []
        failed = []
        for status in statuses:
            doc_id = status.get("id", "")
            if status.get("ok"):
                changed += 1
            elif status.get("error") == "conflict":
                conflicts.append(doc_id)
            else:
                failed.append(status)
        if failed:
            raise StoreUnavailable(f"CouchDB refused writes to {db}: {failed[:3]}")
        if not conflicts:
            return changed
        # Someone else wrote these (or they existed already): read, merge, write again.
        found = await couch.get_many(db, conflicts)
        current = {doc_id: found.get(doc_id) for doc_id in conflicts}
        pending = {doc_id: by_id[doc_id] for doc_id in conflicts}
    raise Conflict(f"records in {db} kept changing: {sorted(pending)[:5]}")


async def project_until_stored(couch: Couch, db: str, events: list[LedgerEvent]) -> None:
    """Apply a batch, retrying while CouchDB is unavailable: a batch is never skipped.

    The offsets of these events are committed only after this returns, so a
    writer stopped while CouchDB is down resumes with the same batch.
    """
    await until_done(
        lambda: project(couch, db, events),
        what=f"projection of {len(events)} events",
        retry_on=StoreError,
        log=log,
    )


def readable(records: Records) -> list[LedgerEvent]:
    """The completions among ledger records, decoded; records that do not decode
    are counted and left out (the controller, which owns each partition, ends their
    activations).

    A record is projected from its ``completed`` event alone (it carries what the
    record needs of the acceptance: ``projections.record``), so the other events
    are not even decoded: their ``type`` header says what they are.
    """
    events: list[LedgerEvent] = []
    for r in records:
        kind = header(r.headers, HEADER_TYPE)
        if kind is not None and kind != COMPLETED:
            continue
        event = read(r.value, r.key, r.headers)
        if isinstance(event, Unreadable):
            where = f"{r.topic}:{r.partition}:{r.offset}"
            deadletters.seen("projection", event, where)
            continue
        if event.type == COMPLETED:
            events.append(event)
    return events


async def write_batch(couch: Couch, db: str, batch: Records) -> None:
    """Project one batch; never raises, never leaves its readable events out.

    A fault of ours on the batch as a whole (not CouchDB being away: that is
    retried) is met by writing its activations one at a time, so only the
    activation whose events cannot be projected is left out, and logged.
    """
    events = readable(batch)
    try:
        await project_until_stored(couch, db, events)
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
            await project_until_stored(couch, db, own)
        except Exception:
            log.exception(
                "activation %s could not be projected; its events are left out", activation_id
            )


def create_app(settings: Settings) -> faust.App:
    """The projection app: a group reader over the ledger, writing in bulk."""
    app = make_app("projection", settings)
    couch = Couch(settings)
    db = settings.database(constants.DB_ACTIVATIONS)

    async def handle(batches: Fetch) -> None:
        # One _bulk_docs per fetch, over every partition it read: CouchDB's cost
        # is mostly per request (make bench: couchdb's CPU per activation).
        await write_batch(couch, db, [r for records in batches.values() for r in records])

    reader = GroupReader(
        settings, "projection", settings.topic(constants.TOPIC_EVENTS), handle, fetching=FETCHING
    )
    tasks = TaskSet(log, "the projection reader")

    @app.task
    async def start() -> None:
        gctune.settle()
        tasks.spawn(reader.run())

    @app.on_before_shutdown.connect
    async def close_couch(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await tasks.cancel()
        await couch.close()

    return app


if __name__ == "__main__":
    worker.run(create_app)
