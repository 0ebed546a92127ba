"""``lwsk property set|get``: the ``~/.wskprops`` file."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.client import Client
from api.cli.config import props_path, read_props, write_props


def register(groups: Any) -> None:
    group = groups.add_parser("property", help="CLI properties (~/.wskprops)")
    commands = group.add_subparsers(dest="command", required=True)
    set_ = commands.add_parser("set", help="set APIHOST and/or AUTH")
    set_.add_argument("--apihost", dest="set_apihost")
    set_.add_argument("--auth", dest="set_auth")
    set_.set_defaults(handler=set_props)
    get = commands.add_parser("get", help="show the properties")
    get.set_defaults(handler=get_props)


def set_props(args: argparse.Namespace, client: Client) -> int:
    props = read_props()
    if args.set_apihost:
        props["APIHOST"] = args.set_apihost
    if args.set_auth:
        props["AUTH"] = args.set_auth
    write_props(props)
    print(f"ok: wrote {props_path()}")
    return 0


def get_props(args: argparse.Namespace, client: Client) -> int:
    print(f"whisk API host\t{client.target.apihost}")
    print(f"whisk auth\t{client.target.auth}")
    return 0
