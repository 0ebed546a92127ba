"""The ``lwsk`` entry point: global flags, command groups, one-line errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from api.cli import (
    actions,
    activations,
    admin,
    admin_invokers,
    ledger,
    namespaces,
    packages,
    properties,
    rules,
    triggers,
)
from api.cli.client import Client, CLIError
from api.cli.config import target

# Each group module has ``register(subparsers)``; its handlers take (args, client).
# Several modules add commands to one group (activation, admin): each asks
# api/cli/groups.py for it, so their order here does not matter.
GROUPS = [
    actions,
    activations,
    triggers,
    rules,
    packages,
    namespaces,
    properties,
    admin,
    admin_invokers,
    ledger,
]

Handler = Callable[[argparse.Namespace, Client], int | None]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="lwsk", description="Ledgerwhisk command line")
    top.add_argument("--apihost", help="API host (default: ~/.wskprops APIHOST)")
    top.add_argument("-u", "--auth", help="uuid:key (default: ~/.wskprops AUTH)")
    top.add_argument("--json", action="store_true", help="print JSON instead of tables")
    groups = top.add_subparsers(dest="group", required=True, metavar="COMMAND")
    for module in GROUPS:
        module.register(groups)
    return top


def main(argv: list[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # Like wsk's global flags, --json may come anywhere on the line.
    as_json = "--json" in words
    args = parser().parse_args([w for w in words if w != "--json"])
    args.json = as_json
    handler: Handler = args.handler
    try:
        return handler(args, Client(target(args.apihost, args.auth))) or 0
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
