"""``lwsk namespace ...``: list, and the namespace's limits."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.client import Client
from api.cli.output import emit_json


def register(groups: Any) -> None:
    group = groups.add_parser("namespace", help="work with namespaces")
    commands = group.add_subparsers(dest="command", required=True)
    list_ = commands.add_parser("list", help="list the namespaces of your key")
    list_.set_defaults(handler=list_namespaces)
    limits_ = commands.add_parser("limits", help="show a namespace's limits")
    limits_.add_argument("namespace", nargs="?", default="_")
    limits_.set_defaults(handler=limits)


def list_namespaces(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", "namespaces")
    if args.json:
        emit_json(answer)
        return 0
    print("namespaces")
    for name in answer:
        print(name)
    return 0


def limits(args: argparse.Namespace, client: Client) -> int:
    emit_json(client.ok("GET", f"namespaces/{args.namespace.strip('/')}/limits"))
    return 0
