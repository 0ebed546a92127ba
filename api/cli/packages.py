"""``lwsk package ...``: create, update, bind, get, list, delete."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.client import Client, CLIError
from api.cli.entities import (
    add_paging,
    add_params,
    annotations_of,
    entity_path,
    key_values,
    params_of,
    show_list,
)
from api.cli.output import emit_json


def register(groups: Any) -> None:
    group = groups.add_parser("package", help="work with packages")
    commands = group.add_subparsers(dest="command", required=True)
    for verb in ("create", "update"):
        cmd = commands.add_parser(verb, help=f"{verb} a package")
        cmd.add_argument("name")
        add_params(cmd)
        cmd.add_argument("--shared", choices=["yes", "no"], help="public to every namespace")
        cmd.set_defaults(handler=put, overwrite=(verb == "update"))
    bind_ = commands.add_parser("bind", help="bind a package: PACKAGE BINDING")
    bind_.add_argument("package", help="the package to bind, e.g. /whisk.system/utils")
    bind_.add_argument("name", help="the binding's name")
    add_params(bind_)
    bind_.set_defaults(handler=bind)
    get_ = commands.add_parser("get", help="show a package")
    get_.add_argument("name")
    get_.add_argument("-s", "--summary", action="store_true")
    get_.set_defaults(handler=get)
    list_ = commands.add_parser("list", help="list packages (of NAMESPACE: its public ones)")
    list_.add_argument("namespace", nargs="?")
    add_paging(list_)
    list_.set_defaults(handler=list_packages)
    delete_ = commands.add_parser("delete", help="delete a package")
    delete_.add_argument("name")
    delete_.add_argument("--force", action="store_true", help="delete its actions too")
    delete_.set_defaults(handler=delete)


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    params, annotations = params_of(args), annotations_of(args)
    if params or not getattr(args, "overwrite", False):
        body["parameters"] = key_values(params)
    if annotations:
        body["annotations"] = key_values(annotations)
    if getattr(args, "shared", None):
        body["publish"] = args.shared == "yes"
    return body


def put(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok(
        "PUT", entity_path("packages", args.name), _body(args), overwrite=args.overwrite
    )
    if args.json:
        emit_json(answer)
    else:
        print(f"ok: {'updated' if args.overwrite else 'created'} package {args.name}")
    return 0


def bind(args: argparse.Namespace, client: Client) -> int:
    target = args.package.strip("/").split("/")
    if len(target) == 1:
        target = ["_", target[0]]
    if len(target) != 2:
        raise CLIError(f"'{args.package}' is not a package name")
    body = _body(args)
    body["binding"] = {"namespace": target[0], "name": target[1]}
    answer = client.ok("PUT", entity_path("packages", args.name), body)
    if args.json:
        emit_json(answer)
    else:
        print(f"ok: created binding {args.name}")
    return 0


def get(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", entity_path("packages", args.name))
    if args.json or not args.summary:
        if not args.json:
            print(f"ok: got package {args.name}")
        emit_json(answer)
        return 0
    print(f"package /{answer['namespace']}/{answer['name']}")
    for action in answer.get("actions", []):
        print(f"   action /{answer['namespace']}/{answer['name']}/{action['name']}")
    return 0


def list_packages(args: argparse.Namespace, client: Client) -> int:
    namespace = (args.namespace or "_").strip("/")
    answer = client.ok("GET", f"namespaces/{namespace}/packages", limit=args.limit, skip=args.skip)
    return show_list(args, answer, ["publish"])


def delete(args: argparse.Namespace, client: Client) -> int:
    query = {"force": True} if args.force else {}
    client.ok("DELETE", entity_path("packages", args.name), **query)
    print(f"ok: deleted package {args.name}")
    return 0
