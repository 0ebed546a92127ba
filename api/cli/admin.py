"""``lwsk admin user create NAME``: a new subject and key, written straight to CouchDB.

Like ``wskadmin``, it talks to the store, not the API: it reads the
``LEDGERWHISK_*`` settings (CouchDB URL and prefix) of the stack it manages.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from api.cli.client import Client, CLIError
from api.cli.groups import subcommands
from api.names import is_name


def register(groups: Any) -> None:
    areas = subcommands(groups, "admin", "administer the platform")
    user = areas.add_parser("user", help="subjects and their keys")
    commands = user.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a subject; prints its uuid:key")
    create.add_argument("name", help="the subject and its namespace")
    create.add_argument("-u", "--auth", dest="key", help="use this uuid:key instead of a new one")
    create.add_argument(
        "--admin", action="store_true", help="may read the platform's state (/api/v1/admin/...)"
    )
    create.set_defaults(handler=create_user, offline=True)


async def _create(name: str, key: str, admin: bool) -> None:
    # Imported here: the store's client is heavy, and only this command needs it.
    from api.setup import put_subject
    from store.couch import Couch
    from streams.settings import Settings

    settings = Settings()
    couch = Couch(settings)
    try:
        await put_subject(couch, settings, name, key, admin=admin)
    finally:
        await couch.close()


def create_user(args: argparse.Namespace, client: Client | None) -> int:
    from api.setup import new_key
    from store.couch import StoreError

    if not is_name(args.name):
        raise CLIError(f"'{args.name}' is not a legal namespace name")
    key = args.key or new_key()
    if ":" not in key:
        raise CLIError("a key is uuid:key")
    try:
        asyncio.run(_create(args.name, key, args.admin))
    except StoreError as exc:
        raise CLIError(str(exc)) from exc
    print(key)
    return 0
