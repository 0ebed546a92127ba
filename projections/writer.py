"""The projection writer: a Faust agent applying ledger events to CouchDB in batches."""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from typing import Any

import faust
from faust.types import StreamT

from projections import record
from projections.couch import Couch, StoreError
from streams import constants
from streams.app import make_app
from streams.events import LedgerEvent, decode_event
from streams.settings import Settings, get_settings

log = logging.getLogger("ledgerwhisk.projection")

BATCH_MAX = 500
BATCH_WITHIN_S = 0.02
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0


async def project(couch: Couch, db: str, events: list[LedgerEvent]) -> int:
    """Apply a batch of events to the ``activations`` database; returns records changed."""
    by_id: dict[str, list[LedgerEvent]] = defaultdict(list)
    for event in events:
        by_id[event.activation_id].append(event)
    changed = 0

    def change_for(evs: list[LedgerEvent]) -> Any:
        def change(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal changed
            after = record.apply_all(doc, evs)
            if after is not None:
                changed += 1
            return after

        return change

    await couch.upsert_many(db, {aid: change_for(evs) for aid, evs in by_id.items()})
    return changed


async def project_until_stored(couch: Couch, db: str, events: list[LedgerEvent]) -> None:
    """Apply a batch, retrying while CouchDB is unavailable: a batch is never skipped.

    The offsets of these events are committed only after this returns, so a
    writer stopped while CouchDB is down resumes with the same batch.
    """
    delay = RETRY_FIRST_S
    while True:
        try:
            await project(couch, db, events)
            return
        except StoreError as exc:
            log.warning(
                "projection of %d events failed (%s); retrying in %.1f s", len(events), exc, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)


def build(settings: Settings) -> faust.App:
    """The projection app: one agent over the ledger, writing in bulk."""
    app = make_app("projection", settings)
    events_topic = app.topic(settings.topic(constants.TOPIC_EVENTS), value_type=bytes)
    couch = Couch(settings)
    db = settings.database(constants.DB_ACTIVATIONS)

    @app.agent(events_topic)
    async def projection(stream: StreamT[Any]) -> None:
        async for batch in stream.take(BATCH_MAX, within=BATCH_WITHIN_S):
            events = [decode_event(raw) for raw in batch]
            await project_until_stored(couch, db, events)

    @app.on_before_shutdown.connect
    async def close_couch(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await couch.close()

    return app


def main() -> None:
    """Run the projection writer in the foreground."""
    settings = get_settings()
    app = build(settings)
    worker = faust.Worker(app, loglevel=os.environ.get("LEDGERWHISK_LOG_LEVEL", "INFO"))
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
