"""``lwsk namespace list|get|limits`` and ``lwsk list`` (apache/openwhisk-cli
``commands/namespace.go``, ``commands/wsk.go``)."""

from __future__ import annotations

import click

from api.cli import messages as m
from api.cli.entities import show_list
from api.cli.errors import CLIError
from api.cli.options import LwskGroup
from api.cli.session import Session, pass_session

# What ``namespace get`` lists, in wsk's order: (collection, header, kind).
COLLECTIONS = (
    ("packages", "packages", "package"),
    ("actions", "actions", "action"),
    ("triggers", "triggers", "trigger"),
    ("rules", "rules", "rule"),
)
# The API's page limit: ``namespace get`` shows up to this many of each.
PAGE_MAX = 200


@click.group("namespace", cls=LwskGroup)
def group() -> None:
    """work with namespaces"""


@group.command("list")
@pass_session
def list_namespaces(session: Session) -> None:
    """list available namespaces"""
    answer = session.client.ok("GET", "namespaces")
    session.out.table(["namespaces"], [[name] for name in answer], answer)


def entities(session: Session, namespace: str | None, name_sort: bool) -> None:
    """Every package, action, trigger and rule of the key's namespace."""
    if namespace not in (None, "/_", "_"):
        raise CLIError(m.NAMESPACE_GET_OWN)  # wsk's CheckArgs: exit 1
    client, out = session.client, session.out
    found = {
        collection: client.ok("GET", f"namespaces/_/{collection}", limit=PAGE_MAX)
        for collection, _, _ in COLLECTIONS
    }
    if session.json:
        out.json(found)
        return
    out.line(f"Entities in namespace: {client.namespace()}")
    for collection, header, kind in COLLECTIONS:
        show_list(out, header, found[collection], kind, name_sort)


@group.command("get")
@click.argument("namespace", required=False)
@click.option("-n", "--name-sort", is_flag=True, help="sort each list by name")
@pass_session
def get(session: Session, namespace: str | None, name_sort: bool) -> None:
    """get triggers, actions, and rules in the registry for namespace"""
    entities(session, namespace, name_sort)


@click.command("list", cls=LwskGroup.command_class)
@click.argument("namespace", required=False)
@click.option("-n", "--name-sort", is_flag=True, help="sort each list by name")
@pass_session
def list_all(session: Session, namespace: str | None, name_sort: bool) -> None:
    """list entities in the current namespace (wsk's runs ``namespace get``: ``/_`` too)"""
    entities(session, namespace, name_sort)


@group.command("limits")
@click.argument("namespace", required=False, default="_")
@pass_session
def limits(session: Session, namespace: str) -> None:
    """show a namespace's limits"""
    session.out.json(session.client.ok("GET", f"namespaces/{namespace.strip('/')}/limits"))
