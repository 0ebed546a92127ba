"""Prepare a stack: databases, views, the guest subject, and the Kafka topics (idempotent)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import uuid as uuidlib

from api import catalog
from feeds.store import FeedStore
from store import views
from store.couch import Couch
from streams import constants
from streams.settings import Settings, get_settings
from streams.topics import ensure_topics, ledger_topics

log = logging.getLogger("ledgerwhisk.setup")


async def ensure_databases(couch: Couch, settings: Settings) -> None:
    for name in (constants.DB_SUBJECTS, constants.DB_WHISKS, constants.DB_ACTIVATIONS):
        await couch.ensure(settings.database(name))
    await couch.ensure_design(
        settings.database(constants.DB_SUBJECTS), views.SUBJECTS_DDOC, views.SUBJECTS_VIEWS
    )
    await couch.ensure_design(
        settings.database(constants.DB_WHISKS), views.WHISKS_DDOC, views.WHISKS_VIEWS
    )
    await couch.ensure_design(
        settings.database(constants.DB_ACTIVATIONS),
        views.ACTIVATIONS_DDOC,
        views.ACTIVATIONS_VIEWS,
    )
    await FeedStore(couch, settings).ensure()


async def put_subject(
    couch: Couch,
    settings: Settings,
    namespace: str,
    auth: str,
    limits: dict[str, int] | None = None,
    admin: bool = False,
) -> None:
    """Create or update the subject owning ``namespace`` with the key ``uuid:key``.

    ``limits`` overrides the throttles for this namespace (``invocationsPerMinute``,
    ``concurrentInvocations``, ``firesPerMinute``), as OpenWhisk's per-namespace limits.
    ``admin`` lets it read the platform's own state (``/api/v1/admin/...``).
    """
    uuid, _, key = auth.partition(":")
    db = settings.database(constants.DB_SUBJECTS)
    doc: dict[str, object] = {
        "_id": namespace,
        "subject": namespace,
        "namespaces": [{"name": namespace, "uuid": uuid, "key": key}],
    }
    if limits:
        doc["limits"] = dict(limits)
    if admin:
        doc["admin"] = True
    current = await couch.get(db, namespace)
    if current is not None:
        fields = ("namespaces", "limits", "admin")
        if all(current.get(f) == doc.get(f) for f in fields):
            return
        doc["_rev"] = current["_rev"]
    await couch.put(db, doc)


async def ensure_subject(
    couch: Couch, settings: Settings, namespace: str, admin: bool = False
) -> None:
    """Give ``namespace`` a subject with a fresh key unless it has one already."""
    current = await couch.get(settings.database(constants.DB_SUBJECTS), namespace)
    if current is None:
        await put_subject(couch, settings, namespace, new_key(), admin=admin)
    elif admin and current.get("admin") is not True:
        await couch.put(settings.database(constants.DB_SUBJECTS), {**current, "admin": True})


def new_key() -> str:
    """A fresh ``uuid:key`` pair in OpenWhisk's format (64-character key)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return f"{uuidlib.uuid4()}:{''.join(secrets.choice(alphabet) for _ in range(64))}"


async def prepare(settings: Settings, invokers: int) -> None:
    await ensure_topics(settings, ledger_topics(settings))
    couch = Couch(settings)
    try:
        await ensure_databases(couch, settings)
        await put_subject(couch, settings, settings.guest_namespace, settings.guest_key)
        await ensure_subject(couch, settings, constants.SYSTEM_NAMESPACE, admin=True)
        await catalog.install(couch, settings)
    finally:
        await couch.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invokers", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(prepare(get_settings(), args.invokers))
    print("ledgerwhisk: topics, databases, the guest subject and the catalog are ready")


if __name__ == "__main__":
    main()
