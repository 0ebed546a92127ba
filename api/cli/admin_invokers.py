"""``lwsk admin invokers``: every invoker with its state, process, memory and work."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.client import Client
from api.cli.groups import subcommands
from api.cli.output import emit_json, table

HEADERS = ["id", "state", "pid", "host", "memory", "used", "free", "in flight", "heard"]


def register(groups: Any) -> None:
    commands = subcommands(groups, "admin", "administer the platform")
    invokers = commands.add_parser("invokers", help="list the invokers and their health")
    invokers.set_defaults(handler=list_invokers)


def row(invoker: dict[str, Any]) -> list[str]:
    """One table row from one entry of ``GET /admin/invokers``."""
    return [
        str(invoker["id"]),
        invoker["state"],
        str(invoker["pid"]),
        invoker["host"],
        f"{invoker['memoryMB']} MB",
        f"{invoker['usedMB']} MB",
        f"{invoker['freeMB']} MB",
        str(invoker["inFlight"]),
        f"{invoker['lastHeardMs'] / 1000:.1f} s ago",
    ]


def list_invokers(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", "admin/invokers")
    if args.json:
        emit_json(answer)
        return 0
    table(HEADERS, [row(i) for i in answer])
    return 0
