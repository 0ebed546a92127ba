"""``lwsk rule ...``: create, update, enable, disable, get, delete, list."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.client import Client
from api.cli.entities import add_paging, entity_path, show_list
from api.cli.output import emit_json


def register(groups: Any) -> None:
    group = groups.add_parser("rule", help="work with rules")
    commands = group.add_subparsers(dest="command", required=True)
    for verb in ("create", "update"):
        cmd = commands.add_parser(verb, help=f"{verb} a rule: NAME TRIGGER ACTION")
        cmd.add_argument("name")
        cmd.add_argument("trigger")
        cmd.add_argument("action")
        cmd.set_defaults(handler=put, overwrite=(verb == "update"))
    for verb, fn in (("enable", enable), ("disable", disable), ("get", get), ("delete", delete)):
        cmd = commands.add_parser(verb, help=f"{verb} a rule")
        cmd.add_argument("name")
        cmd.set_defaults(handler=fn)
    list_ = commands.add_parser("list", help="list rules")
    add_paging(list_)
    list_.set_defaults(handler=list_rules)


def fully_qualified(name: str) -> str:
    return name if name.startswith("/") else f"/_/{name}"


def put(args: argparse.Namespace, client: Client) -> int:
    body = {"trigger": fully_qualified(args.trigger), "action": fully_qualified(args.action)}
    answer = client.ok("PUT", entity_path("rules", args.name), body, overwrite=args.overwrite)
    if args.json:
        emit_json(answer)
    else:
        print(f"ok: {'updated' if args.overwrite else 'created'} rule {args.name}")
    return 0


def _status(args: argparse.Namespace, client: Client, status: str, word: str) -> int:
    client.ok("POST", entity_path("rules", args.name), {"status": status})
    print(f"ok: {word} rule {args.name}")
    return 0


def enable(args: argparse.Namespace, client: Client) -> int:
    return _status(args, client, "active", "enabled")


def disable(args: argparse.Namespace, client: Client) -> int:
    return _status(args, client, "inactive", "disabled")


def get(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", entity_path("rules", args.name))
    if not args.json:
        print(f"ok: got rule {args.name}")
    emit_json(answer)
    return 0


def delete(args: argparse.Namespace, client: Client) -> int:
    client.ok("DELETE", entity_path("rules", args.name))
    print(f"ok: deleted rule {args.name}")
    return 0


def list_rules(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", "namespaces/_/rules", limit=args.limit, skip=args.skip)
    return show_list(args, answer, ["publish", "status"])
