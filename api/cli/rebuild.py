"""``lwsk admin rebuild`` (first named ``admin replay``) and ``lwsk admin database drop``.

``rebuild --into DB`` rebuilds the activation projection from the log into a
fresh database (``projections/rebuild.py``), with a progress bar (rich) through
every phase: reading the log, building the view indexes, waiting for the live
projection, comparing. ``--verify`` compares with the live projection only
what the rebuild's cut covers (``projections/cut.py``, ``projections/compare.py``)
and says how many records it left out and why. A rebuild that fails or is
interrupted drops the database it created; one that finds differences keeps it
for inspection and offers to drop it. Like every ``admin`` command it talks to
Kafka and CouchDB directly, configured by the ``LEDGERWHISK_*`` settings.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from api.cli import messages as m
from api.cli.admin import group
from api.cli.errors import CLIError, UsageError
from api.cli.output import Output
from api.cli.session import Session, pass_session
from streams.ids import iso_ms

# Building the view indexes of a large rebuilt database takes a while.
ADMIN_TIMEOUT_S = 3600.0
# How long --verify waits for the live projection to apply everything before the cut.
WRITER_WAIT_S = 60.0


def progress_bar() -> Progress:
    """Progress on stderr; off a terminal it prints its final state once, at the end."""
    tty = sys.stderr.isatty()
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr, width=None if tty else 120, markup=False),
    )


@group.command("rebuild")
@click.option("--into", required=True, metavar="DB", help="a fresh CouchDB database name")
@click.option("--until", metavar="TIME", help="the state as of TIME (ISO, epoch ms, 10m)")
@click.option("--verify", is_flag=True, help="compare with the live projection, field by field")
@pass_session
def rebuild_cmd(session: Session, into: str, until: str | None, verify: bool) -> int:
    """rebuild the activation projection from the log (also: replay)"""
    from streams import constants
    from streams.positions import parse_time
    from streams.settings import Settings

    settings = Settings()
    live = settings.database(constants.DB_ACTIVATIONS)
    until_ms = None
    if until:
        until_ms = parse_time(until, int(time.time() * 1000))
        if until_ms is None:
            raise UsageError(m.TIME_ILLEGAL.format(flag="--until", value=until))
        if verify:
            raise UsageError(m.VERIFY_WITH_UNTIL)
    if verify and into == live:
        raise UsageError(m.VERIFY_ITSELF.format(into=into))
    return asyncio.run(Rebuild(settings, session.out, into, live).run(until_ms, verify))


group.alias("replay", "rebuild")


class Rebuild:
    """One ``admin rebuild`` run: the rebuild, then the indexes or the comparison."""

    def __init__(self, settings: Any, out: Output, into: str, live: str):
        self.settings, self.out, self.into, self.live = settings, out, into, live

    async def run(self, until_ms: int | None, verify: bool) -> int:
        from projections.rebuild import RebuildError
        from store.couch import Couch, StoreError
        from streams.errors import LedgerUnavailable

        couch = Couch(self.settings, timeout_s=ADMIN_TIMEOUT_S)
        try:
            return await self._run(couch, until_ms, verify)
        except RebuildError as exc:
            raise CLIError(str(exc)) from exc
        except (StoreError, LedgerUnavailable) as exc:
            raise CLIError(await self._failed(couch, str(exc))) from exc
        finally:
            await couch.close()

    async def _failed(self, couch: Any, error: str) -> str:
        try:
            gone = await couch.doc_count(self.into) is None
        except Exception:  # CouchDB itself may be what failed
            return error
        return f"{error} ({m.REBUILD_DROPPED.format(into=self.into)})" if gone else error

    async def _run(self, couch: Any, until_ms: int | None, verify: bool) -> int:
        from projections.rebuild import index_views, rebuild

        out = self.out
        with progress_bar() as bar:
            reading = bar.add_task("reading the log", total=None, rate="")

            def on_progress(p: Any) -> None:
                rate = f"{p.read / p.elapsed_s:,.0f} events/s" if p.elapsed_s > 0 else ""
                bar.update(reading, total=p.total, completed=p.read, rate=rate)

            done = await rebuild(self.settings, couch, self.into, until_ms, on_progress)
            if not verify:  # a rebuild to compare with needs no indexes
                indexing = bar.add_task("building the view indexes", total=None, rate="")

                def on_view(name: str, n: int, total: int) -> None:
                    bar.update(indexing, total=total, completed=n, rate=name)

                index_s = await index_views(couch, self.into, on_view)
        out.ok(
            f"rebuilt {done.records:,} activation records from {done.read:,} events "
            f"into {self.into} in {done.seconds:.1f} s ({done.events_per_s:,.0f} events/s)",
            None if not out.as_json else self._summary(done),
        )
        if done.unreadable:
            out.note(m.UNREADABLE_SKIPPED.format(count=done.unreadable))
        if done.after_until:
            out.note(m.AFTER_UNTIL.format(count=done.after_until))
        if not verify:
            if not out.as_json:
                out.line(f"ok: indexed the views of {self.into} in {index_s:.1f} s")
            return 0
        return await self._verify(couch, done)

    @staticmethod
    def _summary(done: Any) -> dict[str, Any]:
        return {
            "database": done.database,
            "records": done.records,
            "events": done.read,
            "seconds": round(done.seconds, 3),
            "unreadable": done.unreadable,
            "afterUntil": done.after_until,
            "cut": {str(p): o for p, o in done.stop.items()},
        }

    async def _verify(self, couch: Any, done: Any) -> int:
        from projections.compare import verify
        from projections.cut import touched_since, wait_for_writer

        out, settings = self.out, self.settings
        with progress_bar() as bar:
            waiting = bar.add_task(
                "waiting for the live projection to reach the cut", total=None, rate=""
            )
            behind = await wait_for_writer(settings, done.stop, WRITER_WAIT_S)
            bar.update(waiting, total=1, completed=1)
            touched, end = await touched_since(settings, done.stop)
            # Both databases' ids are compared (their union), and the live one grows
            # while the stack is in use: the total is a floor, raised as records come.
            counts = [await couch.doc_count(db) for db in (self.live, self.into)]
            seen = {"total": max(n or 0 for n in counts), "n": 0}
            comparing = bar.add_task("comparing records", total=seen["total"], rate="")

            def on_record(n: int) -> None:
                seen.update(n=n, total=max(n, seen["total"]))
                bar.update(comparing, completed=n, total=seen["total"])

            verified = await verify(
                couch, self.live, self.into, done.horizon_ms, touched, on_record
            )
            # The end: what was compared is the whole.
            bar.update(comparing, completed=seen["n"], total=seen["n"])
            later, _ = await touched_since(settings, end)
            verified = verified.without(later)
        if behind is not None:
            out.note(m.WRITER_BEHIND.format(seconds=WRITER_WAIT_S, at=behind, cut=done.stop))
        left_out = m.NOT_COMPARED.format(
            count=verified.not_compared,
            after=verified.after_cut,
            open=verified.open_at_cut,
            expired=verified.expired,
            horizon=iso_ms(done.horizon_ms or 0),
        )
        if out.as_json:
            out.json(
                {
                    "identical": not verified.differences,
                    "compared": verified.compared,
                    "notCompared": {
                        "afterCut": verified.after_cut,
                        "openAtCut": verified.open_at_cut,
                        "expired": verified.expired,
                    },
                    "differences": [vars(d) for d in verified.differences],
                }
            )
        elif not verified.differences:
            out.line(
                f"ok: {self.into} is identical to {self.live} "
                f"({verified.compared:,} records compared{left_out})"
            )
        else:
            ids = {d.activation_id for d in verified.differences}
            out.line(
                f"error: {len(ids)} of {verified.compared:,} records differ from {self.live}"
                f"{left_out}:"
            )
            for difference in verified.differences:
                out.line(f"  {difference}")
        if not verified.differences:
            return 0
        await self._offer_drop(couch)
        return 1

    async def _offer_drop(self, couch: Any) -> None:
        """A run that found differences keeps its database; at a terminal, offer to drop it."""
        if sys.stdin.isatty() and sys.stderr.isatty() and not self.out.as_json:
            if click.confirm(m.DROP_PROMPT.format(into=self.into), default=False, err=True):
                await couch.drop(self.into)
                self.out.note(f"ok: dropped {self.into}")
                return
        self.out.note(m.KEPT_FOR_INSPECTION.format(into=self.into))


@group.group("database")
def database() -> None:
    """CouchDB databases of the stack"""


@database.command("drop")
@click.argument("name")
@click.option("--force", is_flag=True, help="also the live activation projection")
@pass_session
def drop(session: Session, name: str, force: bool) -> None:
    """drop a database a rebuild made (or, with --force, the live activation projection)"""
    from store.couch import Couch, StoreError
    from streams import constants
    from streams.settings import Settings

    settings = Settings()
    if name in (settings.database(constants.DB_WHISKS), settings.database(constants.DB_SUBJECTS)):
        raise UsageError(m.DROP_REFUSED.format(name=name))
    if name == settings.database(constants.DB_ACTIVATIONS) and not force:
        raise UsageError(m.DROP_LIVE.format(name=name))

    async def run() -> bool:
        couch = Couch(settings)
        try:
            if await couch.doc_count(name) is None:
                return False
            await couch.drop(name)
            return True
        finally:
            await couch.close()

    try:
        dropped = asyncio.run(run())
    except StoreError as exc:
        raise CLIError(str(exc)) from exc
    if not dropped:
        raise CLIError(m.DATABASE_MISSING.format(name=name))
    session.out.ok(f"dropped database {name}", {"dropped": name})
