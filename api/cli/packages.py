"""``lwsk package ...``: create, update, bind, get, list, delete, refresh (apache/openwhisk-cli
``commands/package.go``)."""

from __future__ import annotations

from typing import Any

import click

from api.cli import messages as m
from api.cli.client import What, segment
from api.cli.entities import entity_path, field_name, namespace_path, show_list, split_name
from api.cli.errors import CLIError, UsageError
from api.cli.options import LwskGroup, key_values, paging, pairs, params
from api.cli.session import Session, pass_session
from api.cli.triggers import show_entity


@click.group("package", cls=LwskGroup)
def group() -> None:
    """work with packages"""


def _body(flags: dict[str, Any], update: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    given = pairs(flags["param"], "parameter")
    annotations = pairs(flags["annotation"], "annotation")
    if given or flags["param_file"] or not update:
        body["parameters"] = key_values(given)
    if annotations:
        body["annotations"] = key_values(annotations)
    shared = flags.get("shared")
    if shared is not None:
        if shared.lower() not in ("yes", "no"):
            raise CLIError(m.SHARED_INVALID.format(value=shared))
        body["publish"] = shared.lower() == "yes"
    return body


def package_options(f: Any) -> Any:
    f = click.option("--shared", metavar="yes|no", help="visible to every namespace?")(f)
    f = params()(f)
    return click.argument("name")(f)


def _put(session: Session, flags: dict[str, Any], update: bool) -> None:
    verb = "update" if update else "create"
    name = flags["name"]
    stored = session.client.ok(
        "PUT",
        entity_path("packages", name),
        _body(flags, update),
        What(verb, "package", name),
        overwrite=update,
    )
    session.out.ok(f"{verb}d package {name}", stored)


@group.command("create")
@package_options
@pass_session
def create(session: Session, **flags: Any) -> None:
    """create a new package"""
    _put(session, flags, update=False)


@group.command("update")
@package_options
@pass_session
def update(session: Session, **flags: Any) -> None:
    """update an existing package, or create a package if it does not exist"""
    _put(session, flags, update=True)


@group.command("bind")
@click.argument("package")
@click.argument("name")
@params()
@click.option("-o", "--overwrite", is_flag=True, help="replace a binding of that name")
@pass_session
def bind(session: Session, package: str, name: str, overwrite: bool, **flags: Any) -> None:
    """bind parameters to a package: PACKAGE BINDING_NAME"""
    namespace, bound = split_name(package)
    if "/" in bound:
        raise UsageError(m.NOT_A_PACKAGE.format(name=package))
    body = _body(flags, update=False)
    body["binding"] = {"namespace": namespace, "name": bound}
    stored = session.client.ok(
        "PUT",
        entity_path("packages", name),
        body,
        What("bind", "package", name),
        overwrite=overwrite,
    )
    session.out.ok(f"created binding {name}", stored)


@group.command("get")
@click.argument("name")
@click.argument("field", required=False)
@click.option("-s", "--summary", is_flag=True, help="summarize the package and its actions")
@pass_session
def get(session: Session, name: str, field: str | None, summary: bool) -> None:
    """get package [FIELD]"""
    key = field_name("package", field) if field else None
    found = session.client.ok(
        "GET", entity_path("packages", name), what=What("get", "package", name)
    )
    show_entity(session, "package", name, found, key, summary)


@group.command("delete")
@click.argument("name")
@click.option("--force", is_flag=True, help="delete its actions too")
@pass_session
def delete(session: Session, name: str, force: bool) -> None:
    """delete package"""
    gone = session.client.ok(
        "DELETE",
        entity_path("packages", name),
        what=What("delete", "package", name),
        force=True if force else None,
    )
    session.out.ok(f"deleted package {name}", gone)


@group.command("list")
@click.argument("namespace", required=False)
@paging("packages")
@pass_session
def list_packages(
    session: Session, namespace: str | None, limit: int, skip: int, name_sort: bool
) -> None:
    """list all packages [of NAMESPACE: its public ones, for another's]"""
    answer = session.client.ok(
        "GET", f"{namespace_path(namespace)}/packages", limit=limit, skip=skip
    )
    show_list(session.out, "packages", answer, "package", name_sort)


@group.command("refresh")
@click.argument("namespace", required=False)
@pass_session
def refresh(session: Session, namespace: str | None) -> None:
    """refresh package bindings: list the bindings whose package is gone

    wsk's refresh re-creates the bindings of a provider's services; Ledgerwhisk
    has no such provider, so nothing is created or updated, and bindings to
    packages that no longer exist are listed, not deleted.
    """
    client, out = session.client, session.out
    where = namespace_path(namespace)
    name = client.namespace() if where == "namespaces/_" else where.split("/", 1)[1]
    stale = []
    for package in client.ok("GET", f"{where}/packages", limit=200):
        bound = package.get("binding") or {}
        if not bound:
            continue
        target = f"namespaces/{segment(bound['namespace'])}/packages/{segment(bound['name'])}"
        status, _ = client.call("GET", target)
        if status in (403, 404):
            stale.append(f"/{package['namespace']}/{package['name']}")
    if session.json:
        out.json({"added": [], "updated": [], "deleted": [], "stale": stale})
        return
    out.line(f"'{name}' refreshed successfully")
    out.line("created bindings:")
    out.line("updated bindings:")
    out.line("deleted bindings:")
    if stale:
        out.line(m.STALE_BINDINGS)
        for binding in stale:
            out.line(binding)
