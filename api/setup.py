"""Prepare a stack: databases, views, the guest subject, and the Kafka topics (idempotent)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from api import catalog, subjects, userlimits
from feeds.store import FeedStore
from store import views
from store.couch import Couch
from streams import constants
from streams.settings import Settings, get_settings
from streams.topics import ensure_topics, ledger_topics

log = logging.getLogger("ledgerwhisk.setup")
JsonDict = dict[str, Any]


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
    """Make ``auth`` (``uuid:key``) the key of the subject ``namespace`` for its own namespace.

    For the stack's own subjects and test fixtures: a missing subject is
    created; an existing one keeps everything else in its record (``blocked``,
    other namespaces, ``admin`` unless ``admin`` is given) and gets ``auth`` for
    its namespace (the operator's command, ``lwsk admin user create``, refuses
    that without ``--revoke``: ``api/subjects.py``). ``limits`` sets the
    namespace's limits document, wskadmin's ``limits set`` (``api/userlimits.py``:
    ``invocationsPerMinute``, ``concurrentInvocations``, ``firesPerMinute``, ...).
    ``admin`` lets it read the platform's own state (``/api/v1/admin/...``).
    Nothing is written when nothing changes.
    """
    uuid, _, key = auth.partition(":")
    db = settings.database(constants.DB_SUBJECTS)
    current = await couch.get(db, namespace)
    doc = subject_with_key(current, namespace, uuid, key)
    if admin:
        doc["admin"] = True
    if doc != current:
        await couch.put(db, doc)
    if limits:
        await put_limits(couch, settings, namespace, limits)


def subject_with_key(current: JsonDict | None, namespace: str, uuid: str, key: str) -> JsonDict:
    """The record of the subject ``namespace`` once its namespace has the key ``uuid:key``,
    blocked or not, every other field kept (pure; ``subjects.with_key`` with ``revoke``,
    without wskadmin's refusal of a blocked subject: the stack's own setup may)."""
    if current is None:
        return subjects.with_key(None, namespace, namespace, (uuid, key))
    unblocked = {k: v for k, v in current.items() if k != "blocked"}
    doc = subjects.with_key(unblocked, namespace, namespace, (uuid, key), revoke=True)
    if "blocked" in current:
        doc["blocked"] = current["blocked"]
    return doc


async def put_limits(
    couch: Couch, settings: Settings, namespace: str, limits: dict[str, Any]
) -> None:
    """Set fields of ``namespace``'s limits document (the others kept), as wskadmin's
    ``limits set`` (``tools/admin/wskadmin`` ``setLimitsCmd``); ``limits`` holds some of
    ``userlimits.FIELDS``."""
    db = settings.database(constants.DB_SUBJECTS)
    doc_id = userlimits.document_id(namespace)
    current = await couch.get(db, doc_id)
    doc = {**(current or {"_id": doc_id}), **limits}
    if doc != current:
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


async def ensure_guest(couch: Couch, settings: Settings) -> None:
    """The guest subject with the configured key (``LEDGERWHISK_GUEST_KEY``), which ``lwsk``
    uses when given none: created when missing; otherwise only its key is set back to
    the configured one if it differs, its ``blocked``, ``admin``, other namespaces and
    limits kept. Run at every start: a second run writes nothing. (OpenWhisk's
    deployment writes its guest the same way, ``ansible/tasks/initdb.yml``.)"""
    namespace = settings.guest_namespace
    current = await couch.get(settings.database(constants.DB_SUBJECTS), namespace)
    uuid, _, key = settings.guest_key.partition(":")
    keys = [ns for ns in (current or {}).get("namespaces") or [] if ns.get("name") == namespace]
    if current is not None and keys and (keys[0].get("uuid"), keys[0].get("key")) != (uuid, key):
        log.warning(
            "the subject %s had another key for its namespace: set back to the configured one",
            namespace,
        )
    await put_subject(couch, settings, namespace, settings.guest_key)


def new_key() -> str:
    """A fresh ``uuid:key`` pair in OpenWhisk's format (64-character key)."""
    return subjects.new_key()


async def prepare(settings: Settings, invokers: int) -> None:
    await ensure_topics(settings, ledger_topics(settings))
    couch = Couch(settings)
    try:
        await ensure_databases(couch, settings)
        await ensure_guest(couch, settings)
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
