"""``lwsk action ...``: create, update, invoke, get, list, delete."""

from __future__ import annotations

import argparse
import base64
from pathlib import Path
from typing import Any

import runtimes
from api.cli.client import Client, CLIError
from api.cli.entities import (
    add_paging,
    add_params,
    annotations_of,
    entity_path,
    key_values,
    params_of,
    qualified,
)
from api.cli.output import emit_json, table

# wsk's ``--native``: the docker skeleton image (runtimes/manifest.json runs it as ``native``).
NATIVE_IMAGE = "openwhisk/dockerskeleton"
BINARY_SUFFIXES = (".zip", ".jar")


def register(groups: Any) -> None:
    group = groups.add_parser("action", help="work with actions")
    commands = group.add_subparsers(dest="command", required=True)
    for verb in ("create", "update"):
        cmd = commands.add_parser(verb, help=f"{verb} an action")
        cmd.add_argument("name")
        cmd.add_argument(
            "artifact",
            nargs="?",
            help="code file (.py, .js, .java, .jar, .go, .rb, .php, or .zip with --kind)",
        )
        cmd.add_argument("--kind")
        cmd.add_argument("--main")
        cmd.add_argument("--docker", help="blackbox image")
        cmd.add_argument(
            "--native",
            action="store_true",
            help="an executable (or a zip holding exec) on OpenWhisk's docker skeleton",
        )
        add_params(cmd)
        cmd.add_argument("-t", "--timeout", type=int, help="milliseconds")
        cmd.add_argument("-m", "--memory", type=int, help="megabytes")
        cmd.add_argument("-l", "--logsize", type=int, help="megabytes")
        cmd.add_argument("-c", "--concurrency", type=int)
        cmd.add_argument("--web", choices=["true", "false", "raw", "yes", "no"])
        cmd.add_argument("--web-secure", help="a secret for require-whisk-auth, or true/false")
        cmd.add_argument(
            "--sequence",
            nargs="?",
            const="",
            metavar="ACTIONS",
            help="a sequence of comma-separated actions (here or as the artifact)",
        )
        cmd.set_defaults(handler=put, overwrite=(verb == "update"))
    invoke_ = commands.add_parser("invoke", help="invoke an action")
    invoke_.add_argument("name")
    add_params(invoke_, annotations=False)
    invoke_.add_argument("-b", "--blocking", action="store_true")
    invoke_.add_argument("-r", "--result", action="store_true")
    invoke_.set_defaults(handler=invoke)
    get_ = commands.add_parser("get", help="show an action")
    get_.add_argument("name")
    get_.add_argument("--code", action="store_true", help="include the code (default)")
    get_.add_argument("--no-code", action="store_true", help="leave the code out")
    get_.set_defaults(handler=get)
    list_ = commands.add_parser("list", help="list actions (of a package: list PACKAGE)")
    list_.add_argument("package", nargs="?")
    add_paging(list_)
    list_.set_defaults(handler=list_actions)
    delete_ = commands.add_parser("delete", help="delete an action")
    delete_.add_argument("name")
    delete_.set_defaults(handler=delete)


def kind_for(path: Path, given: str | None) -> str:
    """The kind ``wsk`` infers from a file: ``.js`` -> ``nodejs:default``, ``.jar`` ->
    ``java:default``, ... (each kind's ``file_extensions`` in runtimes/manifest.json)."""
    if given:
        return given
    for kind in runtimes.canonical_kinds():
        if path.suffix in kind.file_extensions and kind.default:
            return f"{kind.family}:default"
    if path.suffix == ".zip":
        raise CLIError("a .zip action needs --kind (or --native for an executable)")
    raise CLIError(f"cannot infer a kind from '{path.name}'; give --kind")


def components(raw: str) -> list[str]:
    """``a,pkg/b,/ns/c`` -> fully qualified names (``_`` for the caller's namespace)."""
    out = []
    for name in (c.strip() for c in raw.split(",") if c.strip()):
        out.append(name if name.startswith("/") else f"/_/{name}")
    if not out:
        raise CLIError("a sequence needs at least one component")
    return out


def exec_of(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.sequence is not None:
        listed = args.sequence or args.artifact
        if not listed:
            raise CLIError("--sequence needs the comma-separated component actions")
        return {"kind": "sequence", "components": components(listed)}
    if args.docker or args.native:
        # As wsk: --native is the blackbox kind on OpenWhisk's docker skeleton.
        exec_: dict[str, Any] = {"kind": "blackbox", "image": args.docker or NATIVE_IMAGE}
        if args.artifact:
            exec_.update(code_of(Path(args.artifact)))
        if args.main:
            exec_["main"] = args.main
        return exec_
    if not args.artifact:
        return None
    path = Path(args.artifact)
    out = {"kind": kind_for(path, args.kind), **code_of(path)}
    if args.main:
        out["main"] = args.main
    elif path.suffix == ".jar":
        raise CLIError("Java actions require --main to name the main class (com.example.Hello)")
    return out


def code_of(path: Path) -> dict[str, Any]:
    """``code`` and ``binary`` of a file: a zip or jar goes base64-encoded, as wsk sends it."""
    if not path.is_file():
        raise CLIError(f"file '{path}' does not exist")
    if path.suffix in BINARY_SUFFIXES:
        return {"code": base64.b64encode(path.read_bytes()).decode(), "binary": True}
    return {"code": path.read_text(), "binary": False}


def web_annotations(web: str | None, secure: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if web is not None:
        on = web in ("true", "yes", "raw")
        out["web-export"] = on
        out["raw-http"] = web == "raw"
        out["final"] = on
    if secure is not None:
        lowered = secure.lower()
        out["require-whisk-auth"] = (
            True if lowered == "true" else False if lowered == "false" else secure
        )
    return out


def put(args: argparse.Namespace, client: Client) -> int:
    body: dict[str, Any] = {}
    exec_ = exec_of(args)
    if exec_ is None and not args.overwrite:
        raise CLIError("an action needs a code file, --docker or --sequence")
    if exec_ is not None:
        body["exec"] = exec_
    params = params_of(args)
    if params or args.param_file:
        body["parameters"] = key_values(params)
    annotations = {**annotations_of(args), **web_annotations(args.web, args.web_secure)}
    if annotations:
        body["annotations"] = key_values(annotations)
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
    answer = client.ok("PUT", entity_path("actions", args.name), body, overwrite=args.overwrite)
    if args.json:
        emit_json(answer)
    else:
        print(f"ok: {'updated' if args.overwrite else 'created'} action {args.name}")
    return 0


def invoke(args: argparse.Namespace, client: Client) -> int:
    blocking = args.blocking or args.result
    status, answer = client.call(
        "POST",
        entity_path("actions", args.name),
        params_of(args),
        {"blocking": blocking, "result": args.result},
    )
    if status == 202:
        activation_id = answer["activationId"] if isinstance(answer, dict) else "?"
        if args.json:
            emit_json(answer)
        else:
            print(f"ok: invoked /_/{args.name} with id {activation_id}")
        return 0
    if status not in (200, 502) or not isinstance(answer, dict | list):
        client.fail(status, answer)
    if args.result:
        emit_json(answer)
    else:
        if not args.json and isinstance(answer, dict):
            print(f"ok: invoked /_/{args.name} with id {answer['activationId']}")
        emit_json(answer)
    return 0 if status == 200 else 1


def get(args: argparse.Namespace, client: Client) -> int:
    query = {"code": False} if args.no_code else {}
    answer = client.ok("GET", entity_path("actions", args.name), **query)
    if not args.json:
        print(f"ok: got action {args.name}")
    emit_json(answer)
    return 0


def list_actions(args: argparse.Namespace, client: Client) -> int:
    path = "namespaces/_/actions"
    if args.package:
        path = entity_path("actions", args.package) + "/"
    answer = client.ok("GET", path, limit=args.limit, skip=args.skip)
    if args.json:
        emit_json(answer)
        return 0
    rows = []
    for a in answer:
        kind = next((x["value"] for x in a.get("annotations", []) if x["key"] == "exec"), "")
        rows.append((qualified(a), "shared" if a.get("publish") else "private", kind))
    table(["actions", "", "kind"], rows)
    return 0


def delete(args: argparse.Namespace, client: Client) -> int:
    client.ok("DELETE", entity_path("actions", args.name))
    print(f"ok: deleted action {args.name}")
    return 0
