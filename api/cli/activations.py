"""``lwsk activation list|get|logs|result`` (apache/openwhisk-cli ``commands/activation.go``;
``poll``, ``tail``, ``events`` and ``rerun`` are in ledger.py)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import click

from api.cli import messages as m
from api.cli.client import Client, What, segment
from api.cli.entities import annotation, field_name
from api.cli.errors import CLIError
from api.cli.names import parse_name, refused
from api.cli.options import LwskGroup
from api.cli.session import Session, pass_session
from streams import constants
from streams.positions import parse_time

JsonDict = dict[str, Any]
# apache/openwhisk-client-go whisk/activation.go StatusCodes.
STATUS_WORDS = ("success", "application error", "developer error", "internal error")
LIST_HEADERS = ("Datetime", "Activation ID", "Kind", "Start", "Duration", "Status", "Entity")
# wsk's texts for a command line its argument checks refuse (apache/openwhisk-cli
# commands/util.go CheckArgs, commands/qualified_name.go NewQualifiedNameError).
ARGS_INVALID = "Invalid argument(s). {required}"
# Entity column parts as wsk truncates them (whisk/activation.go ToSummaryRowString).
NAMESPACE_COLUMN, NAME_COLUMN, VERSION_COLUMN = 20, 30, 20


@click.group("activation", cls=LwskGroup)
def group() -> None:
    """work with activations"""


def go_duration(ms: int) -> str:
    """Milliseconds as Go prints a ``time.Duration``, as wsk's list does: 0s, 23ms, 1.5s, 1m1s,
    1h0m0s (Go's ``Duration.String``)."""
    if ms == 0:
        return "0s"
    if abs(ms) < 1000:
        return f"{ms}ms"
    sign = "-" if ms < 0 else ""
    seconds, rest_ms = divmod(abs(ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    fraction = f".{rest_ms:03d}".rstrip("0").rstrip(".") if rest_ms else ""
    tail = f"{seconds}{fraction}s"
    if hours:
        return f"{sign}{hours}h{minutes}m{tail}"
    return f"{sign}{minutes}m{tail}" if minutes else f"{sign}{tail}"


def truncated(text: str, most: int) -> str:
    """wsk's ``TruncateStr``: past ``most`` characters, ``...`` in the middle."""
    if len(text) <= most:
        return text
    half = most // 2
    upper = len(text) - half + 3
    return text[: half + most % 2] + "..." + text[upper:]


def status_word(activation: JsonDict) -> str:
    """A listed record's ``statusCode`` in words; a whole record (``docs=true``) names its
    status only in ``response.status``, as OpenWhisk's API shows it."""
    code = activation.get("statusCode")
    if code is None:
        status = str((activation.get("response") or {}).get("status"))
        code = {name: c for c, name in constants.STATUS_NAMES.items()}.get(status, 0)
    return STATUS_WORDS[code] if isinstance(code, int) and 0 <= code < 4 else STATUS_WORDS[0]


def entity_of(activation: JsonDict) -> str:
    """``namespace/name:version`` as wsk's list shows it (the record's fields, each truncated;
    no package: wsk does not read the ``path`` annotation)."""
    namespace = truncated(str(activation.get("namespace", "")), NAMESPACE_COLUMN)
    name = truncated(str(activation.get("name", "")), NAME_COLUMN)
    return f"{namespace}/{name}:{truncated(str(activation.get('version', '')), VERSION_COLUMN)}"


def list_row(activation: JsonDict) -> list[str]:
    """One row of ``wsk activation list`` (apache/openwhisk-client-go ``whisk/activation.go``
    ``ToSummaryRowString``): local start time, id, kind, cold or warm, duration, status, entity.

    The duration is ``end - start`` (a sequence's ``duration`` is the sum of its
    components'), 0 when the record's ``duration`` is 0 or absent (a trigger's).
    """
    start = int(activation.get("start") or 0)
    end = int(activation.get("end") or start)
    duration = end - start if activation.get("duration") else 0
    return [
        datetime.fromtimestamp(start / 1000).strftime("%Y-%m-%d %H:%M:%S"),
        str(activation.get("activationId", "")),
        str(annotation(activation, "kind") or "unknown"),
        "cold" if annotation(activation, "initTime") is not None else "warm",
        go_duration(duration),
        status_word(activation),
        entity_of(activation),
    ]


def list_name_filter(given: str) -> str | None:
    """The ``name`` filter of ``activation list [NAMESPACE or NAME]`` (None: every activation).

    As wsk's ``NewQualifiedName`` (commands/qualified_name.go): ``ns/pkg/x``
    gets a leading slash (``addLeadSlash``), ``/ns`` names a namespace and no
    entity, ``/ns/x`` and ``/ns/pkg/x`` the entity after the namespace, and
    anything else is the entity itself. The namespace is dropped: wsk's
    client lists under ``_`` whatever it names (openwhisk-client-go
    whisk/activation.go ``List``). Raises ``click.UsageError`` (exit 1) for
    an empty part, ``.``, or more than three parts.
    """
    return parse_name(given).entity_name or None


def time_ms(value: str | None, flag: str) -> int | None:
    """``--since``/``--upto``: epoch ms, an ISO time or a relative time (``10m``)."""
    if value is None:
        return None
    at = parse_time(value, int(time.time() * 1000))
    if at is None:
        raise refused(m.TIME_ILLEGAL.format(flag=flag, value=value))
    return at


@group.command("list")
@click.argument("name", required=False, metavar="[NAMESPACE or NAME]")
@click.option("-l", "--limit", type=int, default=30, help="at most LIMIT activations (max 200)")
@click.option("-s", "--skip", type=int, default=0, help="skip the first SKIP activations")
@click.option("--since", metavar="TIME", help="only since TIME: epoch ms, ISO time, or 10m, 2h")
@click.option("--upto", metavar="TIME", help="only up to TIME (the same forms)")
@click.option("-f", "--full", is_flag=True, help="whole records")
@pass_session
def list_activations(
    session: Session,
    name: str | None,
    limit: int,
    skip: int,
    since: str | None,
    upto: str | None,
    full: bool,
) -> None:
    """list activations [NAMESPACE or NAME: of this action only]"""
    query: JsonDict = {
        "limit": limit,
        "skip": skip,
        "name": list_name_filter(name) if name is not None else None,
        "since": time_ms(since, "--since"),
        "upto": time_ms(upto, "--upto"),
        "docs": True if full else None,
    }
    answer = session.client.ok("GET", "namespaces/_/activations", what=None, **query)
    out = session.out
    if full and not session.json:
        out.line("activations")
        for activation in answer:
            out.json(activation)
        return
    out.table(LIST_HEADERS, [list_row(a) for a in answer], answer)


def activation_id(client: Client, given: str | None, last: bool) -> str:
    """The id given, or with ``--last`` the most recent activation's (wsk ``lastFlag``)."""
    if last:
        latest = client.ok("GET", "namespaces/_/activations", limit=1)
        if not latest:
            raise CLIError(m.NO_ACTIVATIONS)
        return str(latest[0]["activationId"])
    if not given:
        raise refused(ARGS_INVALID.format(required=m.ACTIVATION_ID_NEEDED))
    return given


def record(client: Client, aid: str, part: str = "") -> Any:
    return client.ok(
        "GET", f"namespaces/_/activations/{segment(aid)}{part}", what=What("get", "activation", aid)
    )


@group.command("get")
@click.argument("id_", metavar="(ACTIVATION_ID | --last)", required=False)
@click.argument("field", required=False)
@click.option("-l", "--last", is_flag=True, help="the most recent activation")
@click.option("-s", "--summary", is_flag=True, help="its result, with a line about it")
@click.option("-g", "--logs", "logs_only", is_flag=True, help="only its logs, stripped")
@pass_session
def get(
    session: Session,
    id_: str | None,
    field: str | None,
    last: bool,
    summary: bool,
    logs_only: bool,
) -> None:
    """get activation [FIELD]"""
    if last and id_ and not field:
        id_, field = None, id_  # `get --last FIELD`
    key = field_name("activation", field) if field else None
    client, out = session.client, session.out
    aid = activation_id(client, id_, last)
    found = record(client, aid)
    if session.json:
        out.json(found.get(key) if key else found)
    elif summary:
        status = (found.get("response") or {}).get("status", "")
        out.line(
            f"activation result for '/{found.get('namespace')}/{found.get('name')}' "
            f"({status} at {go_time(int(found.get('end') or 0))})"
        )
        out.json((found.get("response") or {}).get("result"))
    elif logs_only:
        for line in found.get("logs") or []:
            out.line(strip(line))
    elif key is not None:
        out.shown(f"got activation {aid}, displaying field {key}", found.get(key))
    else:
        out.shown(f"got activation {aid}", found)


def go_time(at_ms: int) -> str:
    """A moment as wsk's ``get -s`` prints it: Go's ``time.Unix(end/1000, 0)`` in the local
    zone, ``2026-12-01 07:41:08 +0000 UTC`` (commands/activation.go)."""
    local = datetime.fromtimestamp(at_ms // 1000).astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S %z} {local.tzname() or ''}".rstrip()


def strip(line: str) -> str:
    """``2024-...Z stdout: text`` -> ``text`` (wsk ``stripTimestamp``)."""
    parts = line.split(" ", 2)
    return parts[2] if len(parts) == 3 and parts[1] in ("stdout:", "stderr:") else line


@group.command("logs")
@click.argument("id_", metavar="(ACTIVATION_ID | --last)", required=False)
@click.option("-l", "--last", is_flag=True, help="the most recent activation")
@click.option("-r", "--strip", "stripped", is_flag=True, help="only the messages")
@pass_session
def logs(session: Session, id_: str | None, last: bool, stripped: bool) -> None:
    """get the logs of an activation"""
    client = session.client
    answer = record(client, activation_id(client, id_, last), "/logs")
    if session.json:
        session.out.json(answer)
        return
    for line in answer.get("logs", []):
        session.out.line(strip(line) if stripped else line)


@group.command("result")
@click.argument("id_", metavar="(ACTIVATION_ID | --last)", required=False)
@click.option("-l", "--last", is_flag=True, help="the most recent activation")
@pass_session
def result(session: Session, id_: str | None, last: bool) -> None:
    """get the result of an activation"""
    client = session.client
    answer = record(client, activation_id(client, id_, last), "/result")
    if isinstance(answer, dict) and not session.json:
        answer = answer.get("result")  # wsk prints the result itself
    session.out.json(answer)
