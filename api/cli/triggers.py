"""``lwsk trigger ...``: create, update, fire, get, delete, list (apache/openwhisk-cli
``commands/trigger.go``)."""

from __future__ import annotations

from typing import Any

import click

from api.cli import feeds
from api.cli import messages as m
from api.cli.client import What
from api.cli.entities import (
    entity_path,
    field_name,
    namespace_path,
    show_list,
    split_name,
    summary_lines,
)
from api.cli.errors import CLIError
from api.cli.options import LwskGroup, json_object, key_values, paging, pairs, params
from api.cli.output import json_text
from api.cli.session import Session, pass_session


@click.group("trigger", cls=LwskGroup)
def group() -> None:
    """work with triggers"""


def trigger_options(f: Any) -> Any:
    f = params()(f)
    return click.argument("name")(f)


@group.command("create")
@trigger_options
@click.option("-f", "--feed", metavar="ACTION", help="the feed action that fires it")
@pass_session
def create(session: Session, feed: str | None, **flags: Any) -> None:
    """create new trigger (with --feed, -p parameters go to the feed, as in wsk)"""
    annotations = pairs(flags["annotation"], "annotation")
    if feed is None:
        put(session, flags, annotations, update=False)
        return
    namespace, rest = split_name(feed)
    annotations["feed"] = f"/{namespace}/{rest}"
    feed_params = pairs(flags["param"], "parameter")
    client, short = session.client, flags["name"]
    what = What("create", "trigger", short)
    body = {"parameters": [], "annotations": key_values(annotations)}
    stored = client.ok("PUT", entity_path("triggers", short), body, what, overwrite=False)
    try:
        feeds.invoke_feed(
            client,
            client.endpoint.auth,
            annotations["feed"],
            "CREATE",
            client.qualified(what),
            feed_params,
        )
    except CLIError:
        # As wsk: a trigger whose feed could not be set up is deleted again.
        client.call("DELETE", entity_path("triggers", short))
        raise
    if not session.json:
        session.out.ok(f"invoked {annotations['feed']} with lifecycleEvent CREATE")
    session.out.ok(f"created trigger {short}", stored)


@group.command("update")
@trigger_options
@pass_session
def update(session: Session, **flags: Any) -> None:
    """update an existing trigger, or create a trigger if it does not exist (with a feed,
    -p parameters go to the feed's UPDATE, as in wsk)"""
    annotations = pairs(flags["annotation"], "annotation")
    client, name = session.client, flags["name"]
    status, found = client.call("GET", entity_path("triggers", name))
    if status not in (200, 404):
        client.fail(status, found, What("get", "trigger", name))
    feed = feeds.feed_of(found) if status == 200 else None
    if feed is None:
        put(session, flags, annotations, update=True)
        return
    # wsk (trigger.go Trigger.Update): a trigger with a feed is not written; its feed is
    # invoked with UPDATE and the -p parameters (annotations are not used), and a feed
    # that refuses fails the command with the invoke's exit code.
    given = pairs(flags["param"], "parameter")
    feeds.invoke_feed(client, client.endpoint.auth, feed, "UPDATE", name, given)
    if not session.json:
        session.out.ok(f"invoked {feed} with lifecycleEvent UPDATE")
    session.out.ok(f"updated trigger {name}", found)


def put(session: Session, flags: dict[str, Any], annotations: dict[str, Any], update: bool) -> None:
    body: dict[str, Any] = {}
    given = pairs(flags["param"], "parameter")
    if given or flags["param_file"] or not update:
        body["parameters"] = key_values(given)
    if annotations or not update:
        body["annotations"] = key_values(annotations)
    verb = "update" if update else "create"
    name = flags["name"]
    stored = session.client.ok(
        "PUT", entity_path("triggers", name), body, What(verb, "trigger", name), overwrite=update
    )
    session.out.ok(f"{verb}d trigger {name}", stored)


@group.command("fire")
@click.argument("name")
@click.argument("payload", required=False)
@params(annotations=False)
@pass_session
def fire(
    session: Session,
    name: str,
    payload: str | None,
    param: Any,
    param_file: tuple[str, ...],
) -> None:
    """fire trigger event [PAYLOAD: a JSON object; -p pairs are added to it]"""
    del param_file  # its files are in ``param``, in command-line order
    body = json_object(payload, "the payload") if payload is not None else {}
    body.update(pairs(param, "parameter"))
    client = session.client
    shown = name if name.startswith("/") else f"/_/{name}"
    status, answer = client.call("POST", entity_path("triggers", name), body)
    if status == 204:
        session.out.ok(m.FIRED_NO_RULE.format(name=shown), {"activationId": None})
    elif status == 202 and isinstance(answer, dict):
        session.out.ok(f"triggered {shown} with id {answer.get('activationId')}", answer)
    else:
        client.fail(status, answer, What("fire", "trigger", name))


@group.command("get")
@click.argument("name")
@click.argument("field", required=False)
@click.option("-s", "--summary", is_flag=True, help="summarize the trigger")
@pass_session
def get(session: Session, name: str, field: str | None, summary: bool) -> None:
    """get trigger [FIELD] (with a feed: the feed's READ, as in wsk)"""
    key = field_name("trigger", field) if field else None
    found = session.client.ok(
        "GET", entity_path("triggers", name), what=What("get", "trigger", name)
    )
    feed = feeds.feed_of(found)
    if feed is None:
        show_entity(session, "trigger", name, found, key, summary)
    else:
        show_feed_read(session, name, feed)


def show_feed_read(session: Session, name: str, feed: str) -> None:
    """``wsk trigger get`` of a trigger with a feed (trigger.go ``triggerGetCmd``): the
    feed is invoked blocking with READ and its activation is printed as it is (its
    ``response.result`` holds ``config`` and ``status``), instead of the trigger;
    ``--summary`` and FIELD are not applied. A failed READ is shown on stderr and the
    command still exits 0, as wsk ignores ``configureFeed``'s error there."""
    client, out = session.client, session.out
    try:
        status, answer = feeds.call_feed(client, client.endpoint.auth, feed, "READ", name, {})
    except CLIError as exc:
        out.note(f"warning: {exc}")
        return
    if status == 200 and feeds.is_activation(answer):
        out.json(answer)
    elif status == 502 and feeds.is_activation(answer):
        out.note(json_text(answer))  # an application error: wsk prints it on stderr
    else:
        out.note(f"warning: {feeds.refusal(feed, 'READ', status, answer)}")


def show_entity(
    session: Session, kind: str, name: str, found: dict[str, Any], key: str | None, summary: bool
) -> None:
    """``get``'s output for triggers, rules and packages: a summary, a field or the whole."""
    out = session.out
    if summary and not session.json:
        for line in summary_lines(kind, found):
            out.line(line)
    elif key is not None:
        out.shown(f"got {kind} {name}, displaying field {key}", found.get(key))
    else:
        out.shown(f"got {kind} {name}", found)


@group.command("delete")
@click.argument("name")
@pass_session
def delete(session: Session, name: str) -> None:
    """delete trigger (its feed is told first, as wsk does)"""
    warning = feeds.delete_feed_of(session.client, session.client.endpoint.auth, name)
    if warning:
        session.out.note(f"warning: {warning}")
    gone = session.client.ok(
        "DELETE", entity_path("triggers", name), what=What("delete", "trigger", name)
    )
    session.out.ok(f"deleted trigger {name}", gone)


@group.command("list")
@click.argument("namespace", required=False)
@paging("triggers")
@pass_session
def list_triggers(
    session: Session, namespace: str | None, limit: int, skip: int, name_sort: bool
) -> None:
    """list all triggers [of NAMESPACE]"""
    answer = session.client.ok(
        "GET", f"{namespace_path(namespace)}/triggers", limit=limit, skip=skip
    )
    show_list(session.out, "triggers", answer, "trigger", name_sort)
