"""``lwsk trigger ...``: create, update, fire, get, delete, list."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.cli import feeds
from api.cli.client import Client
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
    group = groups.add_parser("trigger", help="work with triggers")
    commands = group.add_subparsers(dest="command", required=True)
    for verb in ("create", "update"):
        cmd = commands.add_parser(verb, help=f"{verb} a trigger")
        cmd.add_argument("name")
        add_params(cmd)
        if verb == "create":
            cmd.add_argument(
                "-f", "--feed", help="the feed action, e.g. /whisk.system/alarms/alarm"
            )
        cmd.set_defaults(handler=put, overwrite=(verb == "update"))
    fire_ = commands.add_parser("fire", help="fire a trigger")
    fire_.add_argument("name")
    add_params(fire_, annotations=False)
    fire_.set_defaults(handler=fire)
    get_ = commands.add_parser("get", help="show a trigger")
    get_.add_argument("name")
    get_.set_defaults(handler=get)
    delete_ = commands.add_parser("delete", help="delete a trigger")
    delete_.add_argument("name")
    delete_.set_defaults(handler=delete)
    list_ = commands.add_parser("list", help="list triggers")
    add_paging(list_)
    list_.set_defaults(handler=list_triggers)


def put(args: argparse.Namespace, client: Client) -> int:
    body: dict[str, Any] = {}
    params, annotations = params_of(args), annotations_of(args)
    if getattr(args, "feed", None):
        created = feeds.create_trigger_with_feed(
            client, client.target.auth, args.name, args.feed, params, annotations
        )
        if args.json:
            emit_json(created)
        else:
            print(f"ok: invoked {args.feed} with lifecycleEvent CREATE")
            print(f"ok: created trigger {args.name}")
        return 0
    if params or not args.overwrite:
        body["parameters"] = key_values(params)
    if annotations or not args.overwrite:
        body["annotations"] = key_values(annotations)
    answer = client.ok("PUT", entity_path("triggers", args.name), body, overwrite=args.overwrite)
    if args.json:
        emit_json(answer)
    else:
        print(f"ok: {'updated' if args.overwrite else 'created'} trigger {args.name}")
    return 0


def fire(args: argparse.Namespace, client: Client) -> int:
    status, answer = client.call("POST", entity_path("triggers", args.name), params_of(args))
    if status == 204:
        print(f"ok: triggered /_/{args.name}; it has no active rule, so nothing ran")
        return 0
    if status != 202:
        client.fail(status, answer)
    if args.json:
        emit_json(answer)
    else:
        print(f"ok: triggered /_/{args.name} with id {answer['activationId']}")
    return 0


def get(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", entity_path("triggers", args.name))
    if not args.json:
        print(f"ok: got trigger {args.name}")
    emit_json(answer)
    return 0


def delete(args: argparse.Namespace, client: Client) -> int:
    warning = feeds.delete_feed_of(client, client.target.auth, args.name)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    client.ok("DELETE", entity_path("triggers", args.name))
    print(f"ok: deleted trigger {args.name}")
    return 0


def list_triggers(args: argparse.Namespace, client: Client) -> int:
    answer = client.ok("GET", "namespaces/_/triggers", limit=args.limit, skip=args.skip)
    return show_list(args, answer, ["publish"])
