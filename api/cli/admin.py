"""``lwsk admin user create|list|delete|block|unblock``: subjects and keys, in CouchDB directly.

Like ``wskadmin user`` (apache/openwhisk ``tools/admin``), these talk to the
store, not the API: they read the ``LEDGERWHISK_*`` settings (CouchDB URL and
prefix) of the stack they manage. A blocked subject's key is refused by the
API once its cache of keys expires (``api/auth.py`` ``CACHE_TTL_S``, 10 s).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from api.cli import messages as m
from api.cli.errors import CLIError
from api.cli.options import LwskGroup
from api.cli.session import Session, pass_session
from api.names import is_name

T = TypeVar("T")
JsonDict = dict[str, Any]


@click.group("admin", cls=LwskGroup)
def group() -> None:
    """administer the platform (talks to its services directly; LEDGERWHISK_* settings)"""


@group.group("user")
def user() -> None:
    """subjects and their keys (as wskadmin user)"""


def with_store(work: Callable[[Any, Any, str], Awaitable[T]]) -> T:
    """Run ``work(couch, settings, subjects database)``; store failures as one-line errors."""
    # Imported here: the store's client is heavy, and only these commands need it.
    from store.couch import Couch, StoreError
    from streams import constants
    from streams.settings import Settings

    async def run() -> T:
        settings = Settings()
        couch = Couch(settings)
        try:
            return await work(couch, settings, settings.database(constants.DB_SUBJECTS))
        finally:
            await couch.close()

    try:
        return asyncio.run(run())
    except StoreError as exc:
        raise CLIError(str(exc)) from exc


@user.command("create", omit=("auth",))
@click.argument("name")
@click.option("-u", "--auth", "key", metavar="KEY", help="use this uuid:key instead of a new one")
@click.option("--admin", is_flag=True, help="may read the platform's state (/api/v1/admin/...)")
@pass_session
def create_user(session: Session, name: str, key: str | None, admin: bool) -> None:
    """create a subject and its namespace NAME; prints its uuid:key"""
    from api.setup import new_key, put_subject

    if not is_name(name):
        raise CLIError(m.SUBJECT_NAME_ILLEGAL.format(name=name), 2)
    key = key or new_key()
    if ":" not in key:
        raise CLIError(m.KEY_MALFORMED, 2)

    async def work(couch: Any, settings: Any, _db: str) -> None:
        await put_subject(couch, settings, name, key, admin=admin)

    with_store(work)
    if session.json:
        session.out.json({"subject": name, "namespace": name, "auth": key, "admin": admin})
    else:
        session.out.line(key)


def subject_rows(docs: list[JsonDict], namespace: str | None) -> list[JsonDict]:
    """One entry per (subject, namespace) key, optionally of one namespace only."""
    rows = []
    for doc in docs:
        for ns in doc.get("namespaces") or []:
            if namespace is None or ns.get("name") == namespace:
                rows.append(
                    {
                        "subject": doc.get("subject", doc["_id"]),
                        "namespace": ns.get("name"),
                        "auth": f"{ns.get('uuid')}:{ns.get('key')}",
                        "blocked": doc.get("blocked") is True,
                        "admin": doc.get("admin") is True,
                    }
                )
    return rows


@user.command("list", omit=("key",))  # its -k/--key is wskadmin's "only the keys"
@click.argument("namespace", required=False)
@click.option("-k", "--key", "keys_only", is_flag=True, help="only the keys")
@pass_session
def list_users(session: Session, namespace: str | None, keys_only: bool) -> None:
    """list the keys of NAMESPACE (of every namespace without one)"""

    async def work(couch: Any, _settings: Any, db: str) -> list[JsonDict]:
        return [doc async for doc in couch.all_docs(db)]

    rows = subject_rows(with_store(work), namespace)
    if namespace is not None and not rows:
        raise CLIError(m.NAMESPACE_NO_KEYS.format(namespace=namespace))
    out = session.out
    if keys_only and not session.json:
        for row in rows:
            out.line(row["auth"])
        return
    table = [
        [
            r["auth"],
            r["subject"],
            r["namespace"],
            "blocked" if r["blocked"] else "admin" if r["admin"] else "",
        ]
        for r in rows
    ]
    out.table(["key", "subject", "namespace", ""], table, rows)


async def _update(
    couch: Any, db: str, subject: str, change: Callable[[JsonDict], JsonDict | None]
) -> None:
    doc = await couch.get(db, subject)
    if doc is None:
        raise CLIError(m.SUBJECT_MISSING.format(subject=subject))
    changed = change(doc)
    if changed is None:
        await couch.delete(db, subject)
    else:
        await couch.put(db, changed)


@user.command("delete")
@click.argument("subject")
@pass_session
def delete_user(session: Session, subject: str) -> None:
    """delete a subject and its keys"""

    async def work(couch: Any, _settings: Any, db: str) -> None:
        await _update(couch, db, subject, lambda _doc: None)

    with_store(work)
    session.out.ok(m.SUBJECT_DELETED.format(subject=subject), {"deleted": subject})


def _set_blocked(session: Session, subjects: tuple[str, ...], blocked: bool) -> None:
    async def work(couch: Any, _settings: Any, db: str) -> None:
        for subject in subjects:
            await _update(couch, db, subject, lambda doc: {**doc, "blocked": blocked})

    with_store(work)
    word = "blocked" if blocked else "unblocked"
    if session.json:
        session.out.json({word: list(subjects)})
        return
    for subject in subjects:
        session.out.line(f'"{subject}" {word} successfully')


@user.command("block")
@click.argument("subjects", nargs=-1, required=True)
@pass_session
def block(session: Session, subjects: tuple[str, ...]) -> None:
    """block subjects: their keys are refused"""
    _set_blocked(session, subjects, True)


@user.command("unblock")
@click.argument("subjects", nargs=-1, required=True)
@pass_session
def unblock(session: Session, subjects: tuple[str, ...]) -> None:
    """unblock subjects"""
    _set_blocked(session, subjects, False)
