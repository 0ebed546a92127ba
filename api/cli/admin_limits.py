"""``lwsk admin limits set|get|delete``: a namespace's own limits, as ``wskadmin limits``.

They live where wskadmin keeps them: the document ``NAMESPACE/limits`` in the
subjects database (apache/openwhisk ``tools/admin/wskadmin`` ``setLimitsCmd``,
``getLimitsCmd``, ``deleteLimitsCmd``; ``api/userlimits.py``). The API reads it
with the namespace's identity, so a change takes effect once its cache of keys
expires (``api/auth.py`` ``CACHE_TTL_S``, 10 s). Limits belong to the namespace:
they outlive its subjects and are deleted only here.
"""

from __future__ import annotations

from typing import Any

import click

from api.cli import messages as m
from api.cli.admin import group, with_store
from api.cli.errors import CLIError
from api.cli.session import Session, pass_session

JsonDict = dict[str, Any]


def str_to_bool(_ctx: click.Context, _param: click.Parameter, value: str | None) -> bool | None:
    """wskadmin's ``str_to_bool``: yes/true, no/false (any case); a usage error otherwise."""
    if value is None:
        return None
    if value.lower() in ("yes", "true"):
        return True
    if value.lower() in ("no", "false"):
        return False
    raise click.BadParameter(f"{value} is not a valid boolean.")


@group.group("limits")
def limits() -> None:
    """a namespace's own limits (as wskadmin limits)"""


@limits.command("set")
@click.argument("namespace")
@click.argument("more_kinds", nargs=-1, metavar="")
@click.option(
    "--invocationsPerMinute",
    "invocations_per_minute",
    type=click.IntRange(min=0),
    help="invocations per minute allowed",
)
@click.option(
    "--firesPerMinute",
    "fires_per_minute",
    type=click.IntRange(min=0),
    help="trigger fires per minute allowed",
)
@click.option(
    "--concurrentInvocations",
    "concurrent_invocations",
    type=click.IntRange(min=0),
    help="concurrent invocations allowed for this namespace",
)
@click.option(
    "--allowedKinds",
    "allowed_kinds",
    metavar="KIND...",
    help="the runtime kinds allowed in this namespace (as many as follow)",
)
@click.option(
    "--storeActivations",
    "store_activations",
    metavar="true|false",
    callback=str_to_bool,
    help="store activations (kept only: every activation is stored here)",
)
@pass_session
def set_limits(
    session: Session,
    namespace: str,
    more_kinds: tuple[str, ...],
    invocations_per_minute: int | None,
    fires_per_minute: int | None,
    concurrent_invocations: int | None,
    allowed_kinds: str | None,
    store_activations: bool | None,
) -> None:
    """set limits of NAMESPACE (those not given keep their values)

    --allowedKinds takes every word that follows, as wskadmin's: put it last, or
    after NAMESPACE. A kind outside them cannot be given to an action (403);
    "sequence" and "blackbox" are kinds too.
    """
    from api import userlimits
    from api.setup import put_limits

    if more_kinds and allowed_kinds is None:
        raise CLIError(f"unexpected arguments: {' '.join(more_kinds)}", 2)
    given: JsonDict = {
        "invocationsPerMinute": invocations_per_minute,
        "firesPerMinute": fires_per_minute,
        "concurrentInvocations": concurrent_invocations,
        "allowedKinds": None if allowed_kinds is None else [allowed_kinds, *more_kinds],
        "storeActivations": store_activations,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    for kind in sorted(set(changes.get("allowedKinds", [])) - known_kinds()):
        session.out.note(m.LIMIT_KIND_UNKNOWN.format(kind=kind, kinds=", ".join(known_list())))
    if "storeActivations" in changes:
        session.out.note(
            m.LIMIT_NOT_ENFORCED.format(field="storeActivations", why=m.STORE_ACTIVATIONS_WHY)
        )

    async def work(couch: Any, settings: Any, db: str) -> JsonDict:
        await put_limits(couch, settings, namespace, changes)
        doc = await couch.get(db, userlimits.document_id(namespace))
        return shown(doc)

    now = with_store(work)
    if session.json:
        session.out.json(now)
    else:
        session.out.line(m.LIMITS_SET.format(namespace=namespace))


def known_list() -> list[str]:
    """The names of the platform's kinds, its aliases and ``sequence``, sorted."""
    import runtimes
    from streams import constants

    return sorted({*runtimes.kinds(), constants.KIND_SEQUENCE})


def known_kinds() -> set[str]:
    return set(known_list())


def shown(doc: JsonDict | None) -> JsonDict:
    """The limits a document sets, in wskadmin's order (``{}`` for none)."""
    from api import userlimits

    return {k: doc[k] for k in userlimits.FIELDS if doc is not None and doc.get(k) is not None}


@limits.command("get")
@click.argument("namespace")
@pass_session
def get_limits(session: Session, namespace: str) -> None:
    """the limits set for NAMESPACE (none: the system's defaults apply)"""
    from api import userlimits

    async def work(couch: Any, _settings: Any, db: str) -> JsonDict | None:
        doc = await couch.get(db, userlimits.document_id(namespace))
        return None if doc is None else dict(doc)

    doc = with_store(work)
    if session.json:
        session.out.json(shown(doc))
    elif doc is None:
        session.out.line(m.LIMITS_NONE)
    else:
        # As wskadmin prints them ("%s = %s" of Python values: True, ['a', 'b']).
        for key, value in shown(doc).items():
            session.out.line(f"{key} = {value}")


@limits.command("delete")
@click.argument("namespace")
@pass_session
def delete_limits(session: Session, namespace: str) -> None:
    """delete the limits of NAMESPACE (the system's defaults apply)"""
    from api import userlimits

    async def work(couch: Any, _settings: Any, db: str) -> bool:
        return bool(await couch.delete(db, userlimits.document_id(namespace)))

    if not with_store(work):
        raise CLIError(m.LIMITS_DELETE_MISSING.format(namespace=namespace))
    if session.json:
        session.out.json({"deleted": namespace})
    else:
        session.out.line(m.LIMITS_DELETED)
