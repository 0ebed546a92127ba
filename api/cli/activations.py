"""``lwsk activation ...``: get, list, logs, result."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.client import Client, CLIError
from api.cli.output import emit_json, table


def register(groups: Any) -> None:
    group = groups.add_parser("activation", help="work with activations")
    commands = group.add_subparsers(dest="command", required=True)
    get_ = commands.add_parser("get", help="show an activation record")
    get_.add_argument("id", nargs="?")
    get_.add_argument("--last", action="store_true", help="the most recent activation")
    get_.set_defaults(handler=get)
    for name, fn in (("logs", logs), ("result", result)):
        cmd = commands.add_parser(name, help=f"show an activation's {name}")
        cmd.add_argument("id", nargs="?")
        cmd.add_argument("--last", action="store_true")
        cmd.set_defaults(handler=fn)
    list_ = commands.add_parser("list", help="list activations")
    list_.add_argument("name", nargs="?")
    list_.add_argument("--limit", type=int, default=30)
    list_.add_argument("--skip", type=int, default=0)
    list_.set_defaults(handler=list_activations)


def _id(args: argparse.Namespace, client: Client) -> str:
    if args.id:
        return str(args.id)
    if args.last:
        latest = client.ok("GET", "namespaces/_/activations", limit=1)
        if latest:
            return str(latest[0]["activationId"])
        raise CLIError("there are no activations yet")
    raise CLIError("give an activation id or --last")


def get(args: argparse.Namespace, client: Client) -> int:
    emit_json(client.ok("GET", f"namespaces/_/activations/{_id(args, client)}"))
    return 0


def logs(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", f"namespaces/_/activations/{_id(args, client)}/logs")
    for line in answer.get("logs", []):
        print(line)
    return 0


def result(args: argparse.Namespace, client: Client) -> int:
    emit_json(client.ok("GET", f"namespaces/_/activations/{_id(args, client)}/result"))
    return 0


def list_activations(args: argparse.Namespace, client: Client) -> int:
    query: dict[str, Any] = {"limit": args.limit, "skip": args.skip}
    if args.name:
        query["name"] = args.name
    answer = client.ok("GET", "namespaces/_/activations", **query)
    if args.json:
        emit_json(answer)
        return 0
    table(
        ["activation id", "name", "status", "duration"],
        [
            (
                a["activationId"],
                a["name"],
                a.get("response", {}).get("status", ""),
                f"{a.get('duration', 0)}ms",
            )
            for a in answer
        ],
    )
    return 0
