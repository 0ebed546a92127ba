"""``lwsk rule ...``: create, update, enable, disable, status, get, delete, list
(apache/openwhisk-cli ``commands/rule.go``)."""

from __future__ import annotations

import click

from api.cli.client import What
from api.cli.entities import entity_path, field_name, namespace_path, show_list
from api.cli.names import fully_qualified
from api.cli.options import LwskGroup, paging
from api.cli.session import Session, pass_session
from api.cli.triggers import show_entity


@click.group("rule", cls=LwskGroup)
def group() -> None:
    """work with rules"""


def _put(session: Session, name: str, trigger: str, action: str, update: bool) -> None:
    body = {"trigger": fully_qualified(trigger), "action": fully_qualified(action)}
    verb = "update" if update else "create"
    stored = session.client.ok(
        "PUT", entity_path("rules", name), body, What(verb, "rule", name), overwrite=update
    )
    session.out.ok(f"{verb}d rule {name}", stored)


@group.command("create")
@click.argument("name")
@click.argument("trigger")
@click.argument("action")
@pass_session
def create(session: Session, name: str, trigger: str, action: str) -> None:
    """create new rule: NAME TRIGGER ACTION"""
    _put(session, name, trigger, action, update=False)


@group.command("update")
@click.argument("name")
@click.argument("trigger")
@click.argument("action")
@pass_session
def update(session: Session, name: str, trigger: str, action: str) -> None:
    """update an existing rule, or create a rule if it does not exist"""
    _put(session, name, trigger, action, update=True)


def set_status(session: Session, name: str, status: str, verb: str) -> None:
    answer = session.client.ok(
        "POST", entity_path("rules", name), {"status": status}, What(verb, "rule", name)
    )
    session.out.ok(f"{verb}d rule {name}", answer)


@group.command("enable")
@click.argument("name")
@pass_session
def enable(session: Session, name: str) -> None:
    """enable rule"""
    set_status(session, name, "active", "enable")


@group.command("disable")
@click.argument("name")
@pass_session
def disable(session: Session, name: str) -> None:
    """disable rule"""
    set_status(session, name, "inactive", "disable")


@group.command("status")
@click.argument("name")
@pass_session
def status(session: Session, name: str) -> None:
    """get rule status"""
    rule = session.client.ok(
        "GET", entity_path("rules", name), what=What("get the status of", "rule", name)
    )
    session.out.ok(f"rule {name} is {rule.get('status')}", {"status": rule.get("status")})


@group.command("get")
@click.argument("name")
@click.argument("field", required=False)
@click.option("-s", "--summary", is_flag=True, help="summarize the rule")
@pass_session
def get(session: Session, name: str, field: str | None, summary: bool) -> None:
    """get rule [FIELD]"""
    key = field_name("rule", field) if field else None
    found = session.client.ok("GET", entity_path("rules", name), what=What("get", "rule", name))
    show_entity(session, "rule", name, found, key, summary)


@group.command("delete")
@click.argument("name")
@click.option("--disable", "disable_first", is_flag=True, help="disable it first")
@pass_session
def delete(session: Session, name: str, disable_first: bool) -> None:
    """delete rule"""
    if disable_first:
        session.client.ok(
            "POST",
            entity_path("rules", name),
            {"status": "inactive"},
            What("disable", "rule", name),
        )
    gone = session.client.ok(
        "DELETE", entity_path("rules", name), what=What("delete", "rule", name)
    )
    session.out.ok(f"deleted rule {name}", gone)


@group.command("list")
@click.argument("namespace", required=False)
@paging("rules")
@pass_session
def list_rules(
    session: Session, namespace: str | None, limit: int, skip: int, name_sort: bool
) -> None:
    """list all rules [of NAMESPACE]"""
    answer = session.client.ok("GET", f"{namespace_path(namespace)}/rules", limit=limit, skip=skip)
    show_list(session.out, "rules", answer, "rule", name_sort)
