"""``lwsk activation events|tail|poll|rerun`` and ``lwsk admin rebuild``: the ledger, from a shell.

``events`` shows one activation's timeline from the log; ``tail`` and
``poll`` follow the event stream (Server-Sent Events, resumed with
``Last-Event-ID`` after a dropped connection); ``rerun ID`` runs an
activation again; ``admin rebuild`` rebuilds the activation projection from the log
(it talks to Kafka and CouchDB directly, configured like the services by
``LEDGERWHISK_*`` variables).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from api.cli.client import Client, CLIError
from api.cli.groups import subcommands
from api.cli.output import emit_json, table
from streams import constants
from streams.ids import iso_ms

START_NAMES = {"cold": "cold", "warm": "warm", "prewarm": "stem cell"}
STATES = ("accepted", "scheduled", "started", "completed")
# The server sends a heartbeat this often; three missed ones mean the connection is dead.
HEARTBEAT_S = 10
RECONNECT_S = 2.0
ADMIN_TIMEOUT_S = 3600.0


def register(groups: Any) -> None:
    commands = subcommands(groups, "activation", "work with activations")
    events = commands.add_parser("events", help="an activation's timeline, from the ledger")
    events.add_argument("id")
    events.set_defaults(handler=show_events)
    for verb, fn, helptext in (
        ("tail", tail, "print events as they happen"),
        ("poll", poll, "print each completed activation with its result and logs"),
    ):
        cmd = commands.add_parser(verb, help=helptext)
        cmd.add_argument("action", nargs="?", help="only this action's activations")
        cmd.add_argument("--since", help="start in the past: 10m, an ISO time, epoch ms, offsets")
        cmd.add_argument("--id", dest="activation", help="only this activation")
        cmd.add_argument("--limit", type=int, help="stop after this many")
        if verb == "tail":
            cmd.add_argument(
                "--type", action="append", default=[], choices=STATES, help="only these states"
            )
        cmd.set_defaults(handler=fn)
    # "replay" was its first name: kept as an alias.
    rerun_ = commands.add_parser(
        "rerun", aliases=["replay"], help="run an activation again with its parameters"
    )
    rerun_.add_argument("id")
    rerun_.add_argument("--action-version", choices=("original", "current"), default="original")
    rerun_.add_argument("-b", "--blocking", action="store_true")
    rerun_.add_argument("-r", "--result", action="store_true")
    rerun_.set_defaults(handler=rerun)
    admin = subcommands(groups, "admin", "administer the platform (talks to its services)")
    rebuild_ = admin.add_parser(
        "rebuild", aliases=["replay"], help="rebuild the activation projection from the log"
    )
    rebuild_.add_argument("--into", required=True, help="a fresh CouchDB database name")
    rebuild_.add_argument("--until", help="the state as of this time (ISO, epoch ms, 10m)")
    rebuild_.add_argument(
        "--verify", action="store_true", help="compare with the live projection, field by field"
    )
    rebuild_.set_defaults(handler=admin_rebuild)


# -- one activation's timeline ------------------------------------------------


def _detail(view: dict[str, Any]) -> str:
    fields = view["fields"]
    if view["type"] == "activation.accepted":
        # Placed by the API: the acceptance is the first attempt's schedule too.
        placed = f", placed {fields['decision']}" if fields.get("decision") else ""
        return f"{fields['action']} ({fields['kind']}){placed}"
    if view["type"] == "activation.scheduled":
        return f"{fields['decision']} after {fields['wait_ms']} ms"
    if view["type"] == "activation.started":
        return fields["container"]
    if view["type"] == "activation.completed":
        code = fields["response"]["status_code"]
        return f"{constants.STATUS_NAMES.get(code, code)}, {fields['duration_ms']} ms"
    return ""


def timeline_rows(views: list[dict[str, Any]]) -> list[tuple[str, ...]]:
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


def show_events(args: argparse.Namespace, client: Client) -> int:
    views = client.ok("GET", f"namespaces/_/activations/{args.id}/events")
    if args.json:
        emit_json(views)
        return 0
    table(
        ["state", "time", "since previous", "invoker", "container", "detail"], timeline_rows(views)
    )
    return 0


# -- the event stream ---------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One SSE message: its event name, id and data (empty for comments)."""

    event: str
    id: str | None
    data: str
    retry_ms: int | None = None


def parse_sse(lines: Iterable[str]) -> Iterator[Message]:
    """Messages from SSE lines (without line ends); id-only blocks update the id, too."""
    event, event_id = "message", None
    data: list[str] = []
    retry: int | None = None
    seen = False
    for line in lines:
        if line == "":
            if seen:
                yield Message(event, event_id, "\n".join(data), retry)
            event, data, retry, seen = "message", [], None, False
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        seen = True
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            event_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)


def _lines(response: Any) -> Iterator[str]:
    for raw in response:
        yield raw.decode("utf-8").rstrip("\r\n")


def follow(client: Client, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Event views from ``GET .../events``; reconnects with ``Last-Event-ID`` when dropped."""
    target = client.target
    token = base64.b64encode(target.auth.encode()).decode()
    query = {k: v for k, v in {**query, "heartbeat": HEARTBEAT_S}.items() if v is not None}
    url = f"{target.apihost}/api/v1/namespaces/_/events?{urllib.parse.urlencode(query, True)}"
    last_id: str | None = None
    wait_s = RECONNECT_S
    while True:
        headers = {"Authorization": f"Basic {token}", "Accept": "text/event-stream"}
        if last_id:
            headers["Last-Event-ID"] = last_id
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=3 * HEARTBEAT_S) as response:
                for message in parse_sse(_lines(response)):
                    last_id = message.id or last_id
                    wait_s = (message.retry_ms or wait_s * 1000) / 1000
                    if message.event == "error":
                        raise CLIError(json.loads(message.data).get("error", message.data))
                    if message.event == "message" and message.data:
                        yield json.loads(message.data)
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            try:
                body = json.loads(body).get("error", body)
            except ValueError:
                pass
            raise CLIError(f"{body} (HTTP {exc.code})") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if last_id is None:
                raise CLIError(f"cannot reach {target.apihost} ({exc}); is the stack up?") from exc
        print(f"(connection lost; resuming from {last_id})", file=sys.stderr)
        time.sleep(wait_s)


def _stream_query(args: argparse.Namespace, types: list[str]) -> dict[str, Any]:
    return {
        "action": args.action,
        "activation": args.activation,
        "since": args.since,
        "types": ",".join(types) or None,
    }


def tail_line(view: dict[str, Any], names: dict[str, str]) -> str:
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


def _path_name(fields: dict[str, Any]) -> str:
    for a in fields.get("annotations", []):
        if a.get("key") == "path":
            return str(a["value"]).split("/", 1)[-1]
    return ""


def tail(args: argparse.Namespace, client: Client) -> int:
    names: dict[str, str] = {}
    for count, view in enumerate(follow(client, _stream_query(args, args.type)), 1):
        if args.json:
            print(json.dumps(view), flush=True)
        else:
            print(tail_line(view, names), flush=True)
        if args.limit and count >= args.limit:
            break
    return 0


def poll_lines(view: dict[str, Any]) -> list[str]:
    """A completed activation as ``poll`` prints it: header, logs, result."""
    fields = view["fields"]
    response = fields["response"]
    status = constants.STATUS_NAMES.get(response["status_code"], str(response["status_code"]))
    header = (
        f"Activation: '{_path_name(fields) or '?'}' ({view['activationId']})"
        f"  {status}, {fields['duration_ms']} ms"
    )
    logs = [f"  {line}" for line in fields.get("logs", [])]
    return [header, *logs, json.dumps(response.get("result"), indent=2)]


def poll(args: argparse.Namespace, client: Client) -> int:
    query = _stream_query(args, ["completed"])
    for count, view in enumerate(follow(client, query), 1):
        if args.json:
            print(json.dumps(view), flush=True)
        else:
            print("\n".join(poll_lines(view)), flush=True)
        if args.limit and count >= args.limit:
            break
    return 0


# -- re-running one activation ------------------------------------------------


def rerun(args: argparse.Namespace, client: Client) -> int:
    blocking = args.blocking or args.result
    status, answer = client.call(
        "POST",
        f"namespaces/_/activations/{args.id}/rerun",
        None,
        {"action_version": args.action_version, "blocking": blocking, "result": args.result},
    )
    if status == 202:
        print(f"ok: re-ran {args.id} as {answer['activationId']}")
        return 0
    if status not in (200, 502) or not isinstance(answer, dict):
        message = answer.get("error") if isinstance(answer, dict) else answer
        raise CLIError(f"{message} (HTTP {status})")
    if not args.result and not args.json:
        print(f"ok: re-ran {args.id} as {answer['activationId']}")
    emit_json(answer)
    return 0 if status == 200 else 1


# -- rebuilding the projection ------------------------------------------------


def progress_line(read: int, total: int, elapsed_s: float, width: int = 30) -> str:
    """``[#########.....] 12,000/40,000 events  30%  8,123 events/s``."""
    share = min(1.0, read / total) if total else 1.0
    filled = int(share * width)
    rate = read / elapsed_s if elapsed_s > 0 else 0.0
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {read:,}/{total:,} events"
        f"  {share:4.0%}  {rate:,.0f} events/s"
    )


class ProgressBar:
    """Redraws one stderr line at most every ``every_s`` (a line per update when not a tty)."""

    def __init__(self, every_s: float = 0.2):
        self.every_s = every_s if sys.stderr.isatty() else 5.0
        self._shown = 0.0

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        if now - self._shown < self.every_s and p.read < p.total:
            return
        self._shown = now
        line = progress_line(p.read, p.total, p.elapsed_s)
        if sys.stderr.isatty():
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if sys.stderr.isatty():
            sys.stderr.write("\n")


def admin_rebuild(args: argparse.Namespace, client: Client) -> int:
    from streams.positions import parse_time
    from streams.settings import Settings

    settings = Settings()
    live = settings.database(constants.DB_ACTIVATIONS)
    until_ms = None
    if args.until:
        until_ms = parse_time(args.until, int(time.time() * 1000))
        if until_ms is None:
            raise CLIError(f"--until {args.until!r} is not a time (ISO, epoch ms, 10m)")
        if args.verify:
            raise CLIError("--verify compares with the live projection (now): drop --until")
    if args.verify and args.into == live:
        raise CLIError(f"--verify compares {args.into} with itself: rebuild into another name")
    return asyncio.run(_admin_rebuild(settings, args.into, until_ms, args.verify, live))


async def _admin_rebuild(
    settings: Any, into: str, until_ms: int | None, verify: bool, live: str
) -> int:
    from projections.compare import verify as compare
    from projections.rebuild import RebuildError, index_views, rebuild
    from store.couch import Couch, StoreError
    from streams.errors import LedgerUnavailable

    # Building the view indexes of a large rebuilt database takes a while.
    couch = Couch(settings, timeout_s=ADMIN_TIMEOUT_S)
    bar = ProgressBar()
    try:
        done = await rebuild(settings, couch, into, until_ms, bar)
        bar.done()
        print(
            f"ok: rebuilt {done.records:,} activation records from {done.read:,} events "
            f"into {into} in {done.seconds:.1f} s ({done.events_per_s:,.0f} events/s)"
        )
        if not verify:  # a rebuild to compare with needs no indexes
            print(f"ok: indexed the views of {into} in {await index_views(couch, into):.1f} s")
        if done.unreadable:
            print(f"warning: {done.unreadable} unreadable records skipped", file=sys.stderr)
        if done.after_until:
            print(f"note: {done.after_until:,} events appended after --until left out")
        if not verify:
            return 0
        verified = await compare(couch, live, into, done.horizon_ms)
        if verified.expired:
            print(
                f"note: {verified.expired:,} records not compared: retention removed part of "
                f"their history (events before {iso_ms(done.horizon_ms or 0)})"
            )
        if not verified.differences:
            print(f"ok: {into} is identical to {live} ({verified.compared:,} records)")
            return 0
        ids = {d.activation_id for d in verified.differences}
        print(f"error: {len(ids)} of {verified.compared:,} records differ from {live}:")
        for difference in verified.differences:
            print(f"  {difference}")
        return 1
    except (RebuildError, StoreError, LedgerUnavailable) as exc:
        bar.done()
        raise CLIError(str(exc)) from exc
    finally:
        await couch.close()
