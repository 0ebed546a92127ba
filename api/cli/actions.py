"""``lwsk action ...``: create, update, invoke, get, list, delete."""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any

import runtimes
from api.cli.client import Client, CLIError
from api.cli.output import emit_json, table


def register(groups: Any) -> None:
    group = groups.add_parser("action", help="work with actions")
    commands = group.add_subparsers(dest="command", required=True)
    for verb in ("create", "update"):
        cmd = commands.add_parser(verb, help=f"{verb} an action")
        cmd.add_argument("name")
        cmd.add_argument("artifact", nargs="?", help="code file (.py, .js, .zip)")
        cmd.add_argument("--kind")
        cmd.add_argument("--main")
        cmd.add_argument("--docker", help="blackbox image")
        cmd.add_argument(
            "-p", "--param", nargs=2, action="append", default=[], metavar=("KEY", "VALUE")
        )
        cmd.add_argument("-P", "--param-file")
        cmd.add_argument(
            "-a", "--annotation", nargs=2, action="append", default=[], metavar=("KEY", "VALUE")
        )
        cmd.add_argument("-t", "--timeout", type=int, help="milliseconds")
        cmd.add_argument("-m", "--memory", type=int, help="megabytes")
        cmd.add_argument("-l", "--logsize", type=int, help="megabytes")
        cmd.add_argument("-c", "--concurrency", type=int)
        cmd.add_argument("--web", choices=["true", "false", "raw"])
        cmd.add_argument("--sequence", help="comma-separated action names")
        cmd.set_defaults(handler=put, overwrite=(verb == "update"))
    invoke_ = commands.add_parser("invoke", help="invoke an action")
    invoke_.add_argument("name")
    invoke_.add_argument(
        "-p", "--param", nargs=2, action="append", default=[], metavar=("KEY", "VALUE")
    )
    invoke_.add_argument("-P", "--param-file")
    invoke_.add_argument("-b", "--blocking", action="store_true")
    invoke_.add_argument("-r", "--result", action="store_true")
    invoke_.set_defaults(handler=invoke)
    get_ = commands.add_parser("get", help="show an action")
    get_.add_argument("name")
    get_.set_defaults(handler=get)
    list_ = commands.add_parser("list", help="list actions")
    list_.add_argument("--limit", type=int, default=30)
    list_.add_argument("--skip", type=int, default=0)
    list_.set_defaults(handler=list_actions)
    delete_ = commands.add_parser("delete", help="delete an action")
    delete_.add_argument("name")
    delete_.set_defaults(handler=delete)


def parse_value(raw: str) -> Any:
    """``wsk`` reads parameter values as JSON when they parse, else as strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def params_of(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if getattr(args, "param_file", None):
        loaded = json.loads(Path(args.param_file).read_text())
        if not isinstance(loaded, dict):
            raise CLIError(f"{args.param_file} must hold a JSON object")
        params.update(loaded)
    for key, value in args.param:
        params[key] = parse_value(value)
    return params


def kind_for(path: Path, given: str | None) -> str:
    """The kind ``wsk`` infers from a file: ``.js`` → nodejs, ``.py`` → python."""
    if given:
        return given
    for kind in runtimes.canonical_kinds():
        if path.suffix in kind.file_extensions and kind.default:
            return f"{kind.name.split(':')[0]}:default"
    raise CLIError(f"cannot infer a kind from '{path.name}'; give --kind")


def entity_path(name: str) -> str:
    return f"namespaces/_/actions/{name.strip('/')}"


def put(args: argparse.Namespace, client: Client) -> int:
    body: dict[str, Any] = {}
    if args.sequence:
        body["exec"] = {
            "kind": "sequence",
            "components": [c if c.startswith("/") else f"/_/{c}" for c in args.sequence.split(",")],
        }
    elif args.docker:
        exec_: dict[str, Any] = {"kind": "blackbox", "image": args.docker}
        if args.artifact:
            exec_["code"] = Path(args.artifact).read_text()
        body["exec"] = exec_
    elif args.artifact:
        path = Path(args.artifact)
        if not path.exists():
            raise CLIError(f"file '{path}' does not exist")
        binary = path.suffix == ".zip"
        if binary and not args.kind:
            raise CLIError("a .zip action needs --kind")
        code = base64.b64encode(path.read_bytes()).decode() if binary else path.read_text()
        body["exec"] = {"kind": kind_for(path, args.kind), "code": code, "binary": binary}
        if args.main:
            body["exec"]["main"] = args.main
    elif not args.overwrite:
        raise CLIError("an action needs a code file, --docker or --sequence")
    params = params_of(args)
    if params:
        body["parameters"] = [{"key": k, "value": v} for k, v in params.items()]
    annotations = [{"key": k, "value": parse_value(v)} for k, v in args.annotation]
    if args.web:
        annotations += [{"key": "web-export", "value": True}]
        if args.web == "raw":
            annotations += [{"key": "raw-http", "value": True}]
    if annotations:
        body["annotations"] = annotations
    limits = {
        k: v
        for k, v in (
            ("timeout", args.timeout),
            ("memory", args.memory),
            ("logs", args.logsize),
            ("concurrency", args.concurrency),
        )
        if v is not None
    }
    if limits:
        body["limits"] = limits
    if args.overwrite and "exec" not in body:
        current = client.ok("GET", entity_path(args.name))
        body["exec"] = current["exec"]
    answer = client.ok("PUT", entity_path(args.name), body, overwrite=args.overwrite)
    if args.json:
        emit_json(answer)
    else:
        print(f"ok: {'updated' if args.overwrite else 'created'} action {args.name}")
    return 0


def invoke(args: argparse.Namespace, client: Client) -> int:
    blocking = args.blocking or args.result
    status, answer = client.call(
        "POST",
        entity_path(args.name),
        params_of(args),
        {"blocking": blocking, "result": args.result},
    )
    if status == 202:
        print(f"ok: invoked /_/{args.name} with id {answer['activationId']}")
        return 0
    if status not in (200, 502) or not isinstance(answer, dict):
        message = answer.get("error") if isinstance(answer, dict) else answer
        raise CLIError(f"{message} (HTTP {status})")
    if args.result:
        emit_json(answer)
    else:
        if not args.json:
            print(f"ok: invoked /_/{args.name} with id {answer['activationId']}")
        emit_json(answer)
    return 0 if status == 200 else 1


def get(args: argparse.Namespace, client: Client) -> int:
    emit_json(client.ok("GET", entity_path(args.name)))
    return 0


def list_actions(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", "namespaces/_/actions", limit=args.limit, skip=args.skip)
    if args.json:
        emit_json(answer)
        return 0
    rows = [(f"/{a['namespace']}/{a['name']}", a["version"], a["exec"]["kind"]) for a in answer]
    table(["action", "version", "kind"], rows)
    return 0


def delete(args: argparse.Namespace, client: Client) -> int:
    client.ok("DELETE", entity_path(args.name))
    print(f"ok: deleted action {args.name}")
    return 0
