"""``lwsk activation list|get|logs|result`` (poll, tail and events are in ledger.py)."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.client import Client, CLIError
from api.cli.entities import add_paging
from api.cli.groups import subcommands
from api.cli.output import emit_json, table
from streams import constants


def register(groups: Any) -> None:
    commands = subcommands(groups, "activation", "work with activations")
    get_ = commands.add_parser("get", help="show an activation record")
    get_.add_argument("id", nargs="?")
    get_.add_argument("-l", "--last", action="store_true", help="the most recent activation")
    get_.set_defaults(handler=get)
    for name, fn in (("logs", logs), ("result", result)):
        cmd = commands.add_parser(name, help=f"show an activation's {name}")
        cmd.add_argument("id", nargs="?")
        cmd.add_argument("-l", "--last", action="store_true")
        if name == "logs":
            cmd.add_argument("-r", "--strip", action="store_true", help="only the messages")
        cmd.set_defaults(handler=fn)
    list_ = commands.add_parser("list", help="list activations")
    list_.add_argument("name", nargs="?", help="only this action (or pkg/action)")
    add_paging(list_)
    list_.add_argument("--since", type=int, help="milliseconds since the epoch")
    list_.add_argument("--upto", type=int, help="milliseconds since the epoch")
    list_.add_argument("-f", "--full", action="store_true", help="whole records")
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
    activation_id = _id(args, client)
    answer = client.ok("GET", f"namespaces/_/activations/{activation_id}")
    if not args.json:
        print(f"ok: got activation {activation_id}")
    emit_json(answer)
    return 0


def strip(line: str) -> str:
    """``2024-...Z stdout: text`` -> ``text``."""
    parts = line.split(" ", 2)
    return parts[2] if len(parts) == 3 and parts[1] in ("stdout:", "stderr:") else line


def logs(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", f"namespaces/_/activations/{_id(args, client)}/logs")
    for line in answer.get("logs", []):
        print(strip(line) if args.strip else line)
    return 0


def result(args: argparse.Namespace, client: Client) -> int:
    emit_json(client.ok("GET", f"namespaces/_/activations/{_id(args, client)}/result"))
    return 0


def status_word(activation: dict[str, Any]) -> str:
    """A summary's ``statusCode`` in words; a whole record names it in ``response.status``."""
    words = {0: "success", 1: "application error", 2: "developer error", 3: "internal error"}
    if "statusCode" in activation:
        return words.get(activation["statusCode"], "")
    status = activation.get("response", {}).get("status")
    codes = {name: code for code, name in constants.STATUS_NAMES.items()}
    return words.get(codes.get(status, -1), "")


def kind_of(activation: dict[str, Any]) -> str:
    return next(
        (a["value"] for a in activation.get("annotations", []) if a.get("key") == "kind"), ""
    )


def list_activations(args: argparse.Namespace, client: Client) -> int:
    query: dict[str, Any] = {"limit": args.limit, "skip": args.skip}
    for key in ("name", "since", "upto"):
        if getattr(args, key) is not None:
            query[key] = getattr(args, key)
    if args.full:
        query["docs"] = True
    answer = client.ok("GET", "namespaces/_/activations", **query)
    if args.json or args.full:
        emit_json(answer)
        return 0
    table(
        ["activation id", "kind", "status", "duration", "entity"],
        [
            (
                a["activationId"],
                kind_of(a),
                status_word(a),
                f"{a.get('duration', 0)}ms",
                f"{a['name']}:{a.get('version', '')}",
            )
            for a in answer
        ],
    )
    return 0
