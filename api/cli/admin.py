"""``lwsk admin user create|get|whois|list|delete|block|unblock``: subjects and keys, in
CouchDB directly.

Like ``wskadmin user`` (apache/openwhisk ``tools/admin/wskadmin``), these talk to
the store, not the API: they read the ``LEDGERWHISK_*`` settings (CouchDB URL and
prefix) of the stack they manage. They change a subject record by wskadmin's
rules (``api/subjects.py``): ``create`` never replaces a key unless ``--revoke``
says so, and never edits a blocked subject. Their texts and exit codes are
wskadmin's, printed as every ``lwsk`` error is (``error: ...`` on stderr). A
changed key is refused or accepted by the API once its cache of keys expires
(``api/auth.py`` ``CACHE_TTL_S``, 10 s).
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

T = TypeVar("T")
JsonDict = dict[str, Any]


@click.group("admin", cls=LwskGroup)
def group() -> None:
    """administer the platform (talks to its services directly; LEDGERWHISK_* settings)"""


@group.group("user")
def user() -> None:
    """subjects and their keys (as wskadmin user)"""


def with_store(work: Callable[[Any, Any, str], Awaitable[T]]) -> T:
    """Run ``work(couch, settings, subjects database)``; store failures and wskadmin's
    refusals (``SubjectRefused``) as one-line errors with its exit code."""
    # Imported here: the store's client is heavy, and only these commands need it.
    from api.subjects import SubjectRefused
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
    except SubjectRefused as exc:
        raise CLIError(exc.message, exc.exit_code) from exc


def refused_as_error(check: Callable[[], T]) -> T:
    """``check()``, a refusal of ``api/subjects.py`` as a one-line error."""
    from api.subjects import SubjectRefused

    try:
        return check()
    except SubjectRefused as exc:
        raise CLIError(exc.message, exc.exit_code) from exc


async def all_subjects(couch: Any, db: str) -> list[JsonDict]:
    """Every document of the subjects database (subject records and limits documents)."""
    return [doc async for doc in couch.all_docs(db)]


@user.command("create", omit=("auth",))
@click.argument("name")
@click.option("-u", "--auth", "key", metavar="KEY", help="use this uuid:key instead of a new one")
@click.option(
    "-ns",
    "--namespace",
    metavar="NAMESPACE",
    help="add a key for NAMESPACE to the subject (its own namespace without this)",
)
@click.option(
    "-r", "--revoke", is_flag=True, help="replace the namespace's existing key with a new one"
)
@click.option("--admin", is_flag=True, help="may read the platform's state (/api/v1/admin/...)")
@pass_session
def create_user(
    session: Session,
    name: str,
    key: str | None,
    namespace: str | None,
    revoke: bool,
    admin: bool,
) -> None:
    """create a subject NAME, or add a namespace's key to it; prints the uuid:key

    As wskadmin: an existing namespace keeps its key ("Namespace already
    exists", exit 1) unless --revoke replaces it; a blocked subject is not
    changed (exit 1); a --auth key must be a UUID and a key of 64 characters or
    more, and NAME 5 characters or more (exit 2).
    """
    from api import subjects

    subject = refused_as_error(lambda: subjects.check_subject(name))
    space = refused_as_error(lambda: subjects.check_namespace(namespace, subject))
    uid, secret = refused_as_error(lambda: subjects.check_key(key or subjects.new_key()))

    async def work(couch: Any, settings: Any, db: str) -> str:
        current = await couch.get(db, subject)
        doc = subjects.with_key(current, subject, space, (uid, secret), revoke)
        if admin:
            doc["admin"] = True
        await couch.put(db, doc)
        return str(settings.guest_namespace)

    guest = with_store(work)
    auth = f"{uid}:{secret}"
    if revoke and space == guest:
        session.out.note(m.GUEST_KEY_RESTORED.format(namespace=space))
    if session.json:
        session.out.json({"subject": subject, "namespace": space, "auth": auth, "admin": admin})
    else:
        session.out.line(auth)


@user.command("get")
@click.argument("subject")
@click.option("-ns", "--namespace", metavar="NAMESPACE", help="its key for NAMESPACE")
@click.option("-a", "--all", "every", is_flag=True, help="each namespace and its key")
@pass_session
def get_user(session: Session, subject: str, namespace: str | None, every: bool) -> None:
    """print a subject's key for its namespace (or NAMESPACE, or every one)"""
    from api import subjects

    async def work(couch: Any, _settings: Any, db: str) -> JsonDict:
        doc = await couch.get(db, subject)
        if doc is None:
            raise CLIError(m.SUBJECT_MISSING.format(subject=subject))
        return dict(doc)

    doc = with_store(work)
    if every:
        keys = [
            {"namespace": ns.get("name"), "auth": f"{ns.get('uuid')}:{ns.get('key')}"}
            for ns in doc.get("namespaces") or []
        ]
        if session.json:
            session.out.json(keys)
            return
        for k in keys:
            session.out.line(f"{k['namespace']}\t{k['auth']}")
        return
    space = namespace if namespace is not None else subject
    auth = refused_as_error(lambda: subjects.key_of(doc, space))
    if session.json:
        session.out.json({"subject": subject, "namespace": space, "auth": auth})
    else:
        session.out.line(auth)


@user.command("whois")
@click.argument("authkey")
@pass_session
def whois_user(session: Session, authkey: str) -> None:
    """the subject and namespace a uuid:key gives (not a blocked subject's)"""
    from api import subjects

    async def work(couch: Any, _settings: Any, db: str) -> JsonDict | None:
        return subjects.whois(await all_subjects(couch, db), authkey)

    found = with_store(work)
    if session.json:
        session.out.json(found and {"subject": found["subject"], "namespace": found["namespace"]})
    elif found is None:
        session.out.line(m.WHOIS_UNKNOWN)
    else:
        session.out.line(f"subject: {found['subject']}")
        session.out.line(f"namespace: {found['namespace']}")


@user.command("list", omit=("key",))  # its -k/--key is wskadmin's "only the keys"
@click.argument("namespace", required=False)
@click.option("-k", "--key", "keys_only", is_flag=True, help="only the keys")
@click.option(
    "-p",
    "--pick",
    metavar="N",
    type=int,
    default=1,
    show_default=True,
    help="show no more than N keys of NAMESPACE",
)
@click.option("-a", "--all", "every", is_flag=True, help="show every key of NAMESPACE")
@pass_session
def list_users(
    session: Session, namespace: str | None, keys_only: bool, pick: int, every: bool
) -> None:
    """list the keys of NAMESPACE, as wskadmin (of every namespace, in a table, without one)

    With NAMESPACE, as wskadmin prints them: "uuid:key<TAB>subject" lines of
    subjects that are not blocked, the first N (--pick, 1) or all (--all).
    --json lists every key, with its "blocked" flag.
    """
    from api import subjects

    if pick < 1:
        raise CLIError(m.PICK_AT_LEAST_ONE, 2)

    async def work(couch: Any, _settings: Any, db: str) -> list[JsonDict]:
        return await all_subjects(couch, db)

    rows = subjects.identities(with_store(work), namespace)
    out = session.out
    if session.json:
        out.json(rows)
        return
    if namespace is not None:
        usable = [r for r in rows if not r["blocked"]]
        if not usable:
            out.line(m.NAMESPACE_NO_KEYS.format(namespace=namespace))
        for r in usable if every else usable[:pick]:
            out.line(r["auth"] if keys_only else f"{r['auth']}\t{r['subject']}")
        return
    if keys_only:
        for r in rows:
            out.line(r["auth"])
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


@user.command("delete")
@click.argument("subject")
@click.option("-ns", "--namespace", metavar="NAMESPACE", help="delete the key for NAMESPACE only")
@pass_session
def delete_user(session: Session, subject: str, namespace: str | None) -> None:
    """delete a subject and its keys (or its key for one namespace); limits are kept"""
    from api import subjects

    async def work(couch: Any, _settings: Any, db: str) -> None:
        doc = await couch.get(db, subject)
        if doc is None:
            raise CLIError(m.SUBJECT_MISSING.format(subject=subject))
        if namespace is None:
            await couch.delete(db, subject)
        else:
            await couch.put(db, subjects.without_namespace(doc, namespace))

    with_store(work)
    if session.json:
        session.out.json({"deleted": subject, **({"namespace": namespace} if namespace else {})})
    else:
        session.out.line(m.SUBJECT_DELETED if namespace is None else m.NAMESPACE_DELETED)


def _set_blocked(session: Session, names: tuple[str, ...], blocked: bool) -> int:
    """Block or unblock each subject; as wskadmin, the missing ones are reported and the
    exit code is how many failed."""
    verb = "block" if blocked else "unblock"

    async def work(couch: Any, _settings: Any, db: str) -> tuple[list[str], list[str]]:
        done, failed = [], []
        for name in (n.strip() for n in names):
            if not name:
                continue
            doc = await couch.get(db, name)
            if doc is None:
                failed.append(name)
                continue
            if doc.get("blocked") is not blocked:
                await couch.put(db, {**doc, "blocked": blocked})
            done.append(name)
        return done, failed

    done, failed = with_store(work)
    for name in failed:
        session.out.note(f"error: {m.BLOCK_FAILED.format(verb=verb, subject=name)}")
    if session.json:
        session.out.json({f"{verb}ed": done, "failed": failed})
    else:
        for name in done:
            session.out.line(f'"{name}" {verb}ed successfully')
    return min(len(failed), 255)


@user.command("block")
@click.argument("subjects", nargs=-1, required=True)
@pass_session
def block(session: Session, subjects: tuple[str, ...]) -> int:
    """block subjects: their keys are refused"""
    return _set_blocked(session, subjects, True)


@user.command("unblock")
@click.argument("subjects", nargs=-1, required=True)
@pass_session
def unblock(session: Session, subjects: tuple[str, ...]) -> int:
    """unblock subjects"""
    return _set_blocked(session, subjects, False)
