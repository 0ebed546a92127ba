"""``lwsk action ...``: create, update, invoke, get, list, delete (apache/openwhisk-cli
``commands/action.go``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from api.cli import messages as m
from api.cli.actioncode import (
    ExecFlags,
    action_url,
    check_flags,
    exec_of,
    saved_code,
    wsk_action,
    wsk_action_field,
)
from api.cli.actioncode import web_annotations as web_of
from api.cli.client import What
from api.cli.entities import (
    entity_path,
    field_name,
    namespace_path,
    show_list,
    summary_lines,
)
from api.cli.errors import EXIT_TIMED_OUT, EXIT_USAGE, CLIError, http_exit
from api.cli.names import parse_name
from api.cli.options import Given, LwskGroup, key_values, paging, pairs, params
from api.cli.output import json_text
from api.cli.session import Session, pass_session

JsonDict = dict[str, Any]


@click.group("action", cls=LwskGroup)
def group() -> None:
    """work with actions"""


def action_options(f: Any) -> Any:
    decorators: list[Any] = [
        click.argument("name"),
        click.argument("artifact", required=False),
        click.option("--kind", metavar="KIND", help="the runtime, e.g. python:3.11"),
        click.option("--main", metavar="NAME", help="the entry point"),
        click.option("--docker", metavar="IMAGE", help="a blackbox image to run"),
        click.option("--native", is_flag=True, help="an executable on the docker skeleton"),
        click.option(
            "--sequence",
            is_flag=True,
            help="ARTIFACT is a sequence of comma-separated actions",
        ),
        click.option("--copy", is_flag=True, help="ARTIFACT names an action to copy"),
        click.option("-t", "--timeout", type=int, metavar="MS", help="time limit"),
        click.option("-m", "--memory", type=int, metavar="MB", help="memory limit"),
        click.option("-l", "--logsize", type=int, metavar="MB", help="log size limit"),
        click.option("-c", "--concurrency", type=int, help="activations per container"),
        params(),
        click.option("--web", metavar="yes|true|raw|no|false", help="a web action?"),
        click.option("--web-secure", metavar="SECRET", help="true, false or a secret"),
    ]
    for decorate in reversed(decorators):
        f = decorate(f)
    return f


@group.command("create")
@action_options
@pass_session
def create(session: Session, **flags: Any) -> None:
    """create a new action"""
    put(session, flags, update=False)


@group.command("update")
@action_options
@click.option(
    "--del-annotation",
    metavar="KEY",
    multiple=True,
    help="an annotation to delete from the action (again for more)",
)
@pass_session
def update(session: Session, **flags: Any) -> None:
    """update an existing action, or create an action if it does not exist"""
    put(session, flags, update=True)


def put(session: Session, f: dict[str, Any], update: bool) -> None:
    name = f["name"]
    parsed = parse_name(name)
    exec_flags = ExecFlags(
        None if f["copy"] else f["artifact"],
        f["kind"],
        f["main"],
        f["docker"],
        f["native"],
        f["sequence"],
    )
    if not f["copy"]:
        check_flags(exec_flags, f["web"], update)
    elif not f["artifact"]:
        raise CLIError(m.COPY_NEEDS_SOURCE, 2)
    client = session.client
    path = entity_path("actions", name)
    existing = None
    if update and f["web_secure"] is not None:
        status, found = client.call("GET", path, query={"code": False})
        existing = found if status == 200 and isinstance(found, dict) else None
    body: JsonDict = {}
    params_given = pairs(f["param"], "parameter")
    annotations = pairs(f["annotation"], "annotation")
    if f["copy"]:
        source = client.ok(
            "GET", entity_path("actions", f["artifact"]), what=What("get", "action", f["artifact"])
        )
        body["exec"] = source["exec"]
        params_given = {
            **{p["key"]: p["value"] for p in source.get("parameters", [])},
            **params_given,
        }
        annotations = {
            **{a["key"]: a["value"] for a in source.get("annotations", [])},
            **annotations,
        }
    else:
        exec_ = exec_of(exec_flags)
        if exec_ is not None:
            body["exec"] = exec_
    if params_given or f["param_file"]:
        body["parameters"] = key_values(params_given)
    web = web_of(f["web"], f["web_secure"], existing, annotations)
    annotations.update(web.set)
    deleted = [*f.get("del_annotation", ()), *web.delete]
    for key in deleted:
        annotations.pop(key, None)
    if annotations:
        body["annotations"] = key_values(annotations)
    if deleted:
        body["delAnnotations"] = list(dict.fromkeys(deleted))
    limits = {
        key: f[flag]
        for key, flag in (
            ("timeout", "timeout"),
            ("memory", "memory"),
            ("logs", "logsize"),
            ("concurrency", "concurrency"),
        )
        if f[flag] is not None
    }
    if limits:
        body["limits"] = limits
    verb = "update" if update else "create"
    stored = client.ok("PUT", path, body, What(verb, "action", name), overwrite=update)
    # As wsk: the name without its namespace (action.go printActionCreated: GetEntityName).
    session.out.ok(f"{verb}d action {parsed.entity_name}", stored)
    if f["web"] is not None and f["web"].lower() in ("true", "yes", "raw") and not session.json:
        endpoint = client.endpoint
        session.out.line(action_url(endpoint.apihost, endpoint.apiversion, stored, parsed.package))


@group.command("invoke")
@click.argument("name")
@params(annotations=False)
@click.option("-b", "--blocking", is_flag=True, help="wait for the result")
@click.option("-r", "--result", is_flag=True, help="wait, and show only the result")
@click.option(
    "--wait",
    type=click.IntRange(1, 60),
    metavar="SECONDS",
    help="wait at most SECONDS for a blocking result (the API's default and most: 60)",
)
@pass_session
def invoke(
    session: Session,
    name: str,
    param: list[Given],
    param_file: tuple[str, ...],
    blocking: bool,
    result: bool,
    wait: int | None,
) -> int:
    """invoke action"""
    del param_file  # its files are in ``param``, in command-line order
    blocking = blocking or result
    client = session.client
    what = What("invoke", "action", name)
    shown = parse_name(name).full  # wsk: /NAMESPACE/ENTITY_NAME, as given
    payload = pairs(param, "parameter")
    query = {"blocking": blocking, "result": result, "timeout": wait * 1000 if wait else None}
    status, answer = client.call("POST", entity_path("actions", name), payload, query)
    out = session.out
    if status == 202 and isinstance(answer, dict):
        activation_id = answer.get("activationId", "")
        if not blocking:
            out.ok(f"invoked {shown} with id {activation_id}", answer)
            return 0
        # The API stopped waiting (apache/openwhisk-cli printBlockingTimeoutMsg): not a success.
        if session.json:
            out.json(answer, sort_keys=True)
        out.note(m.NOT_FINISHED.format(name=shown, id=activation_id))
        return EXIT_TIMED_OUT
    if status == 200:
        # An array result comes bare, even without --result (OpenWhisk's Actions.doInvoke).
        # As wsk prints what it decoded into an interface{}: every object's keys sorted.
        if not result and not session.json and isinstance(answer, dict):
            out.line(f"ok: invoked {shown} with id {answer.get('activationId')}")
        out.json(answer, sort_keys=True)
        return 0
    if status == 502 and isinstance(answer, dict | list):
        # An application or developer error: wsk shows it on stderr and fails.
        if session.json:
            out.json(answer, sort_keys=True)
        else:
            if not result and isinstance(answer, dict):
                out.note(f"ok: invoked {shown} with id {answer.get('activationId')}")
            out.note(json_text(answer, sort_keys=True))
        return http_exit(502)
    if isinstance(answer, dict) and "activationId" in answer and "response" in answer:
        error = (answer["response"].get("result") or {}).get("error", answer["response"])
        raise CLIError(
            m.WHISK_ERROR.format(
                name=client.qualified(what), error=error, id=answer["activationId"]
            ),
            http_exit(status),
        )
    client.fail(status, answer, what)


@group.command("get")
@click.argument("name")
@click.argument("field", required=False)
@click.option("-s", "--summary", is_flag=True, help="summarize the action")
@click.option("-r", "--url", is_flag=True, help="show the action's URL")
@click.option("--save", is_flag=True, help="save its code to a file named after it")
@click.option("--save-as", metavar="FILE", help="save its code to FILE")
@click.option("--code/--no-code", default=False, help="show its code too")
@pass_session
def get(
    session: Session,
    name: str,
    field: str | None,
    summary: bool,
    url: bool,
    save: bool,
    save_as: str | None,
    code: bool,
) -> None:
    """get action [FIELD | --summary | --url | --save | --save-as FILE]"""
    key = field_name("action", field) if field and not (url or summary) else None
    fetch_code = code or save or save_as is not None
    client, out = session.client, session.out
    parsed = parse_name(name)
    action = client.ok(
        "GET", entity_path("actions", name), what=What("get", "action", name), code=fetch_code
    )
    if url:
        endpoint = client.endpoint
        link = action_url(endpoint.apihost, endpoint.apiversion, action, parsed.package)
        if session.json:
            out.json({"url": link})
        else:
            # As wsk's printActionGetWithURL: the entity alone (GetEntity), no package.
            out.line(f"ok: got action {parsed.entity}")
            out.line(link)
    elif summary:
        if session.json:
            out.json(action)
        else:
            for line in summary_lines("action", action):
                out.line(line)
    elif save or save_as is not None:
        file, data = saved_code(action, save_as)
        # Usage errors in wsk (action.go fileExistsError, util.go writeFile).
        if os.path.exists(file):
            raise CLIError(m.FILE_EXISTS.format(file=file), EXIT_USAGE)
        try:
            Path(file).write_bytes(data)
        except OSError as exc:
            raise CLIError(m.FILE_UNWRITABLE.format(file=file, error=exc), EXIT_USAGE) from exc
        out.ok(f"saved action code to {Path(file).resolve()}", {"saved": str(Path(file).resolve())})
    elif key is not None:
        shown = wsk_action_field(action, key)
        out.shown(f"got action {parsed.entity_name}, displaying field {key}", shown)
    else:
        out.shown(f"got action {parsed.entity_name}", wsk_action(action))


@group.command("list")
@click.argument("where", metavar="[NAMESPACE | PACKAGE]", required=False)
@paging("actions")
@pass_session
def list_actions(
    session: Session, where: str | None, limit: int, skip: int, name_sort: bool
) -> None:
    """list all actions in a namespace or actions contained in a package"""
    if where is None or (where.startswith("/") and "/" not in where.strip("/")):
        path = f"{namespace_path(where)}/actions"
    else:
        path = entity_path("actions", where) + "/"
    what = What("list the actions of", "package", where) if where else None
    answer = session.client.ok("GET", path, what=what, limit=limit, skip=skip)
    show_list(session.out, "actions", answer, "action", name_sort)


@group.command("delete")
@click.argument("name")
@pass_session
def delete(session: Session, name: str) -> None:
    """delete action"""
    gone = session.client.ok(
        "DELETE", entity_path("actions", name), what=What("delete", "action", name)
    )
    session.out.ok(f"deleted action {parse_name(name).entity_name}", gone)
