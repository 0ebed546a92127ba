"""``lwsk version``: the CLI's version, and what the API host says of itself."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import click

from api.cli import messages as m
from api.cli.errors import CLIError
from api.cli.options import LwskCommand
from api.cli.session import Session, pass_session

try:
    VERSION = version("ledgerwhisk")
except PackageNotFoundError:  # running from a tree that was never installed
    VERSION = "unknown"


@click.command("version", cls=LwskCommand)
@pass_session
def show_version(session: Session) -> None:
    """the CLI's version and the API host's"""
    client = session.client
    try:
        status, info = client.call(
            "GET", f"{client.endpoint.apihost}/api/{client.endpoint.apiversion}"
        )
    except CLIError as exc:
        status, info = 0, str(exc)
    api = info if status == 200 and isinstance(info, dict) else None
    if session.json:
        session.out.json({"cli": VERSION, "apihost": client.endpoint.apihost, "api": api})
        return
    session.out.line(f"lwsk {VERSION}")
    if api is None:
        session.out.line(m.API_UNKNOWN.format(host=client.endpoint.apihost, why=info or status))
    else:
        # GET /api/v1 as OpenWhisk's controller answers it (api/info.py).
        session.out.line(
            f"API {client.endpoint.apihost}: {api.get('description', '?')} "
            f"{api.get('api_version', '?')} (build {api.get('build', '?')})"
        )
