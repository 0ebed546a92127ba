"""``lwsk activation events|tail|poll|rerun``: the ledger, from a shell.

``events`` shows one activation's timeline from the log; ``tail`` and
``poll`` follow the event stream (Server-Sent Events over httpx, resumed with
``Last-Event-ID`` after a dropped connection; the past comes in time order);
``rerun ID`` (first named ``replay``) runs an activation again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import click

from api.cli import messages as m
from api.cli.activations import group
from api.cli.client import What, segment
from api.cli.errors import EXIT_NETWORK, EXIT_TIMED_OUT, CLIError, http_exit
from api.cli.output import json_text
from api.cli.session import Session, pass_session
from streams import constants
from streams.ids import iso_ms

START_NAMES = {"cold": "cold", "warm": "warm", "prewarm": "stem cell"}
STATES = ("accepted", "scheduled", "started", "completed")
# The server sends a heartbeat this often; three missed ones mean the connection is dead.
HEARTBEAT_S = 10.0
RECONNECT_S = 2.0
SINCE_UNITS = {"since_seconds": 1, "since_minutes": 60, "since_hours": 3600, "since_days": 86400}
JsonDict = dict[str, Any]


# -- one activation's timeline ------------------------------------------------
def _detail(view: JsonDict) -> str:
    fields = view["fields"]
    if view["type"] == "activation.accepted":
        # Placed by the API: the acceptance is the first attempt's schedule too.
        placed = f", placed {fields['decision']}" if fields.get("decision") else ""
        return f"{fields['action']} ({fields['kind']}){placed}"
    if view["type"] == "activation.scheduled":
        return f"{fields['decision']} after {fields['wait_ms']} ms"
    if view["type"] == "activation.started":
        return str(fields["container"])
    if view["type"] == "activation.completed":
        code = fields["response"]["status_code"]
        return f"{constants.STATUS_NAMES.get(code, code)}, {fields['duration_ms']} ms"
    return ""


def timeline_rows(views: list[JsonDict]) -> list[tuple[str, ...]]:
    """Rows of ``activation events``: state, time, since previous, invoker, container, detail."""
    rows: list[tuple[str, ...]] = []
    previous: int | None = None
    for view in views:
        fields = view["fields"]
        at = int(view["at_ms"])
        delta = "" if previous is None else f"+{at - previous} ms"
        invoker = fields.get("invoker")
        start = START_NAMES.get(fields.get("start") or "", "")
        rows.append(
            (
                view["type"].split(".", 1)[-1],
                iso_ms(at),
                delta,
                "" if invoker is None else str(invoker),
                start,
                _detail(view),
            )
        )
        previous = at
    return rows


@group.command("events")
@click.argument("activation_id")
@pass_session
def show_events(session: Session, activation_id: str) -> None:
    """an activation's timeline, read from the ledger"""
    views = session.client.ok(
        "GET",
        f"namespaces/_/activations/{segment(activation_id)}/events",
        what=What("get the events of", "activation", activation_id),
    )
    headers = ["state", "time", "since previous", "invoker", "container", "detail"]
    session.out.table(headers, timeline_rows(views), views)


# -- the event stream ---------------------------------------------------------
def follow(session: Session, query: JsonDict, deadline: float | None = None) -> Iterator[JsonDict]:
    """Event views from ``GET .../events``; reconnects with ``Last-Event-ID`` when dropped.

    With ``deadline`` (a ``time.monotonic()`` moment) it ends then: the
    server's heartbeats wake it at least every ``HEARTBEAT_S``.
    """
    heartbeat = HEARTBEAT_S
    if deadline is not None:
        heartbeat = max(0.5, min(HEARTBEAT_S, deadline - time.monotonic()))
    query = {**query, "heartbeat": heartbeat}
    last_id: str | None = None
    client = session.client
    while True:
        try:
            for message in client.events("namespaces/_/events", query, last_id, 3 * heartbeat):
                last_id = message.id or last_id
                if message.event == "error":
                    raise CLIError(json.loads(message.data).get("error", message.data))
                if deadline is not None and time.monotonic() >= deadline:
                    return
                if message.data:
                    yield json.loads(message.data)
        except CLIError as exc:
            if exc.exit_code != EXIT_NETWORK or last_id is None:
                raise
        if deadline is not None and time.monotonic() >= deadline:
            return
        session.out.note(m.STREAM_RESUMING.format(cursor=last_id))
        time.sleep(RECONNECT_S)


def _path_name(fields: JsonDict) -> str:
    for a in fields.get("annotations", []):
        if a.get("key") == "path":
            return str(a["value"]).split("/", 1)[-1]
    return ""


def tail_line(view: JsonDict, names: dict[str, str]) -> str:
    """One line per event: time, action, activation id, state, detail."""
    fields = view["fields"]
    aid = view["activationId"]
    if view["type"] == "activation.accepted":
        names[aid] = fields["action_name"]
    name = names.get(aid) or _path_name(fields) or "?"
    state = view["type"].split(".", 1)[-1]
    detail = _detail(view)
    if view["type"] == "activation.started":
        detail = (
            f"invoker {fields['invoker']}, {START_NAMES[fields['start']]} {fields['container']}"
        )
    elif fields.get("invoker") is not None and view["type"] in (
        "activation.scheduled",
        "activation.accepted",
    ):
        detail = f"invoker {fields['invoker']}, {detail}"
    return f"{iso_ms(int(view['at_ms']))}  {name}  {aid}  {state:<9}  {detail}".rstrip()


def poll_lines(view: JsonDict) -> list[str]:
    """A completed activation as ``poll`` prints it: header, logs, result."""
    fields = view["fields"]
    response = fields["response"]
    status = constants.STATUS_NAMES.get(response["status_code"], str(response["status_code"]))
    header = (
        f"Activation: '{_path_name(fields) or '?'}' ({view['activationId']})"
        f"  {status}, {fields['duration_ms']} ms"
    )
    logs = [f"  {line}" for line in fields.get("logs", [])]
    return [header, *logs, json_text(response.get("result"))]


def stream_options(f: Any) -> Any:
    f = click.option("--limit", type=int, help="stop after this many")(f)
    f = click.option("--id", "activation", metavar="ID", help="only this activation")(f)
    f = click.option(
        "--since",
        metavar="TIME",
        help="start in the past: 10m, 2h, an ISO time, epoch ms, offsets, earliest",
    )(f)
    return click.argument("action", required=False)(f)


@group.command("tail")
@stream_options
@click.option("--type", "types", multiple=True, type=click.Choice(STATES), help="only these states")
@pass_session
def tail(
    session: Session,
    action: str | None,
    since: str | None,
    activation: str | None,
    limit: int | None,
    types: tuple[str, ...],
) -> None:
    """print ledger events as they happen (the past first, in time order, with --since)"""
    query = {"action": action, "activation": activation, "since": since}
    query["types"] = ",".join(types) or None
    names: dict[str, str] = {}
    for count, view in enumerate(follow(session, query), 1):
        session.out.line(json.dumps(view) if session.json else tail_line(view, names))
        if limit and count >= limit:
            break


@group.command("poll")
@stream_options
@click.option("-e", "--exit", "exit_s", type=int, metavar="SECONDS", help="stop after SECONDS")
@click.option("--since-seconds", type=int, default=0, help="start SECONDS ago")
@click.option("--since-minutes", type=int, default=0, help="start MINUTES ago")
@click.option("--since-hours", type=int, default=0, help="start HOURS ago")
@click.option("--since-days", type=int, default=0, help="start DAYS ago")
@pass_session
def poll(
    session: Session,
    action: str | None,
    since: str | None,
    activation: str | None,
    limit: int | None,
    exit_s: int | None,
    **ago: int,
) -> None:
    """print each activation as it completes, with its logs and result"""
    seconds = sum(ago[k] * unit for k, unit in SINCE_UNITS.items())
    if seconds and since is None:
        since = f"{seconds}s"
    query = {"action": action, "activation": activation, "since": since, "types": "completed"}
    deadline = time.monotonic() + exit_s if exit_s else None
    for count, view in enumerate(follow(session, query, deadline), 1):
        session.out.line(json.dumps(view) if session.json else "\n".join(poll_lines(view)))
        if limit and count >= limit:
            break


# -- re-running one activation ------------------------------------------------
@group.command("rerun")
@click.argument("activation_id")
@click.option(
    "--action-version",
    type=click.Choice(("original", "current")),
    default="original",
    help="run the recorded revision of the code, or the action as it is now",
)
@click.option("-b", "--blocking", is_flag=True, help="wait for the result")
@click.option("-r", "--result", is_flag=True, help="wait, and show only the result")
@pass_session
def rerun(
    session: Session, activation_id: str, action_version: str, blocking: bool, result: bool
) -> int:
    """run an activation again with its recorded parameters (also: replay)"""
    blocking = blocking or result
    client, out = session.client, session.out
    status, answer = client.call(
        "POST",
        f"namespaces/_/activations/{segment(activation_id)}/rerun",
        None,
        {"action_version": action_version, "blocking": blocking, "result": result},
    )
    if status == 202 and isinstance(answer, dict):
        again = answer.get("activationId", "")
        if not blocking:
            out.ok(f"re-ran {activation_id} as {again}", answer)
            return 0
        if session.json:
            out.json(answer)
        out.note(m.RERUN_NOT_FINISHED.format(original=activation_id, id=again))
        return EXIT_TIMED_OUT
    if status in (200, 502) and isinstance(answer, dict | list):
        again = answer.get("activationId") if isinstance(answer, dict) else None
        header = not result and again is not None and not session.json
        line = f"ok: re-ran {activation_id} as {again}"
        if status == 200:
            if header:
                out.line(line)
            out.json(answer)
            return 0
        if header:
            out.note(line)
        if session.json:
            out.json(answer)
        else:
            out.note(json_text(answer))
        return http_exit(502)
    client.fail(status, answer, What("re-run", "activation", activation_id))


group.alias("replay", "rerun")
