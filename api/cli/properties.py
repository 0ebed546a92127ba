"""``lwsk property set|unset|get``: the ``~/.wskprops`` file (apache/openwhisk-cli
``commands/property.go``)."""

from __future__ import annotations

import click

from api.cli import messages as m
from api.cli.config import DEFAULT_APIVERSION, props_path, read_props, write_props
from api.cli.errors import CLIError, UsageError
from api.cli.options import LwskGroup
from api.cli.session import Session, pass_session
from api.cli.version import VERSION

# The flags each command defines itself instead of taking the global ones.
OWN = ("apihost", "auth", "cert", "key", "apiversion")
# property -> (the file's key, wsk's label)
LABELS = {
    "apihost": ("APIHOST", "whisk API host"),
    "auth": ("AUTH", "whisk auth"),
    "namespace": ("NAMESPACE", "whisk namespace"),
    "cert": ("CERT", "client cert"),
    "key": ("KEY", "Client key"),
    "apiversion": ("APIVERSION", "whisk API version"),
    "cliversion": ("", "whisk CLI version"),
    "apibuild": ("", "whisk API build"),
    "apibuildno": ("", "whisk API build number"),
}
# The properties wsk prints with one tab before the value (property.go: "%s\t%s\n").
ONE_TAB = ("apiversion", "cliversion", "apibuildno")
# The order wsk prints them in: with --all (or no flag), and when named one by one.
ALL_ORDER = tuple(LABELS)
NAMED_ORDER = (
    "apihost",
    "auth",
    "namespace",
    "cert",
    "key",
    "cliversion",
    "apiversion",
    "apibuild",
    "apibuildno",
)
# property set's order and texts (property.go propertySetCmd).
SET_ORDER = ("cert", "key", "auth", "apihost", "apiversion")
SET_TEXTS = {
    "cert": "client cert set. Run 'lwsk property get --cert' to see the new value.",
    "key": "client key set. Run 'lwsk property get --key' to see the new value.",
    "auth": "whisk auth set. Run 'lwsk property get --auth' to see the new value.",
    "apihost": "whisk API host set to {value}",
    "apiversion": "whisk API version set to {value}",
}
# What wsk shows when the API's version info cannot be read.
UNKNOWN = "Unknown"


@click.group("property", cls=LwskGroup)
def group() -> None:
    """work with whisk properties"""


@group.command("set", omit=OWN)
@click.option("--apihost", metavar="HOST", help="whisk API HOST")
@click.option("-u", "--auth", metavar="KEY", help="authorization KEY")
@click.option("--cert", metavar="FILE", help="client cert")
@click.option("--key", metavar="FILE", help="client key")
@click.option("--apiversion", metavar="VERSION", help="whisk API VERSION")
@pass_session
def set_props(session: Session, **given: str | None) -> None:
    """set property"""
    values = {name: value for name, value in given.items() if value}
    if not values:
        raise UsageError(m.PROPERTY_NONE.format(flags=", ".join(f"--{n}" for n in OWN)))
    props = read_props()
    said = []
    for name in SET_ORDER:
        if name in values:
            # As wsk: stored and echoed as given (a bare host:port is read as https).
            props[LABELS[name][0]] = values[name]
            said.append(SET_TEXTS[name].format(value=values[name]))
    path = write_props(props)
    for text in said:
        session.out.ok(text, {"file": str(path), "set": sorted(values)} if session.json else None)
        if session.json:
            break


@group.command("unset", omit=OWN)
@click.option("--apihost", is_flag=True, help="whisk API host")
@click.option("--auth", is_flag=True, help="authorization key")
@click.option("--cert", is_flag=True, help="client cert")
@click.option("--key", is_flag=True, help="client key")
@click.option("--apiversion", is_flag=True, help="whisk API version")
@pass_session
def unset_props(session: Session, **flags: bool) -> None:
    """unset property"""
    names = [name for name, on in flags.items() if on]
    if not names:
        raise UsageError(m.PROPERTY_NONE.format(flags=", ".join(f"--{n}" for n in OWN)))
    props = read_props()
    for name in names:
        props.pop(LABELS[name][0], None)
    path = write_props(props)
    if session.json:
        session.out.json({"file": str(path), "unset": names})
        return
    for name in names:
        tail = (
            f"; the default value of {DEFAULT_APIVERSION} will be used"
            if name == "apiversion"
            else ""
        )
        session.out.ok(f"{LABELS[name][1]} unset{tail}.")


@group.command("get", omit=OWN)
@click.option("--apihost", is_flag=True, help="whisk API host")
@click.option("--auth", is_flag=True, help="authorization key")
@click.option("--namespace", is_flag=True, help="the key's namespace (asks the API)")
@click.option("--cert", is_flag=True, help="client cert")
@click.option("--key", is_flag=True, help="client key")
@click.option("--apiversion", is_flag=True, help="whisk API version")
@click.option("--cliversion", is_flag=True, help="the CLI's version")
@click.option("--apibuild", is_flag=True, help="whisk API build version (asks the API)")
@click.option("--apibuildno", is_flag=True, help="whisk API build number (asks the API)")
@click.option("--all", "all_", is_flag=True, help="all properties")
@click.option("-o", "--output", type=click.Choice(("std", "raw")), default="std", help="std|raw")
@pass_session
def get_props(session: Session, all_: bool, output: str, **flags: bool) -> None:
    """get property"""
    wanted = [name for name in NAMED_ORDER if flags.get(name)]
    if all_ or not wanted:
        if output == "raw":
            raise CLIError(m.RAW_NEEDS_ONE)
        wanted = list(ALL_ORDER)
    endpoint = session.endpoint
    values = {
        "apihost": endpoint.given_host,
        "auth": endpoint.auth,
        "cert": endpoint.cert or "",
        "key": endpoint.key or "",
        "apiversion": endpoint.apiversion,
        "cliversion": VERSION,
    }
    if "namespace" in wanted:
        values["namespace"] = session.client.namespace(default="_")
    unreachable: CLIError | None = None
    if "apibuild" in wanted or "apibuildno" in wanted:
        build, unreachable = api_build(session)
        values.update(build)
    shown = {name: values[name] for name in wanted}
    if session.json:
        session.out.json({**shown, "file": str(props_path() or "")})
    else:
        for name, value in shown.items():
            session.out.line(value if output == "raw" else property_line(name, value))
    if unreachable is not None:
        # As wsk (property.go): the properties are shown, then the failure, with its code.
        raise CLIError(m.API_BUILD_UNKNOWN.format(error=unreachable), unreachable.exit_code)


def property_line(name: str, value: str) -> str:
    """``whisk API host\t\tHOST`` as wsk prints a property: one tab before the value of
    ``ONE_TAB``'s, two before the others' (property.go ``printProperty`` and ``--all``)."""
    tabs = "\t" if name in ONE_TAB else "\t\t"
    return f"{LABELS[name][1]}{tabs}{value}"


def api_build(session: Session) -> tuple[dict[str, str], CLIError | None]:
    """``apibuild`` and ``apibuildno`` from ``GET /api/v1`` (``build``, ``buildno``), as wsk
    reads them; ``Unknown`` when the API does not say, with the error when it could not
    be asked."""
    failure = None
    try:
        status, info = session.client.call("GET", "")
    except CLIError as exc:
        status, info, failure = 0, None, exc
    if status != 200 or not isinstance(info, dict):
        info = {}
    build = {
        "apibuild": str(info.get("build") or UNKNOWN),
        "apibuildno": str(info.get("buildno") or UNKNOWN),
    }
    return build, failure
