"""How the CLI prints: ``wsk``'s lines and tables (rich) by default, JSON with ``--json``.

Tables are rich tables without borders, so that they read like ``wsk``'s
columns; nothing a user or the API wrote is read as rich markup. Off a
terminal nothing is wrapped or coloured, so the output can be piped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Off a terminal, a table is as wide as its content needs.
PIPE_WIDTH = 100_000


def console(stream: Any = None) -> Console:
    stream = stream or sys.stdout
    tty = stream.isatty()
    return Console(
        file=stream,
        width=None if tty else PIPE_WIDTH,
        color_system="auto" if tty else None,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=not tty,
    )


# wsk prints JSON indented by 4 spaces (apache/openwhisk-cli commands/util.go printJsonNoColor).
JSON_INDENT = 4


def json_text(data: Any, sort_keys: bool = False) -> str:
    """JSON as wsk prints it; ``sort_keys`` as Go encodes a decoded ``interface{}`` (an
    invoke's answer), every object's keys in order."""
    return json.dumps(data, indent=JSON_INDENT, ensure_ascii=False, sort_keys=sort_keys)


class Output:
    """Where every command prints; ``as_json`` makes each print data instead of text."""

    def __init__(self, as_json: bool = False):
        self.as_json = as_json

    @staticmethod
    def line(text: str = "") -> None:
        print(text, flush=True)

    @staticmethod
    def note(text: str) -> None:
        """A line on stderr (progress, hints): never mixed into what a script reads."""
        print(text, file=sys.stderr, flush=True)

    @staticmethod
    def json(data: Any, sort_keys: bool = False) -> None:
        print(json_text(data, sort_keys), flush=True)

    def ok(self, text: str, data: Any = None) -> None:
        """``ok: ...`` as wsk prints it; with ``--json``, ``data`` (or ``{"ok": text}``)."""
        if self.as_json:
            self.json({"ok": text} if data is None else data)
        else:
            self.line(f"ok: {text}")

    def shown(self, header: str, data: Any) -> None:
        """wsk's ``ok: got ...`` header and a JSON document (just the document with --json)."""
        if not self.as_json:
            self.line(f"ok: {header}")
        self.json(data)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], data: Any) -> None:
        """Rows under headers; with ``--json``, ``data``."""
        if self.as_json:
            self.json(data)
            return
        table = Table(
            box=box.SIMPLE_HEAD if sys.stdout.isatty() else None,
            show_edge=False,
            pad_edge=False,
            header_style="bold" if sys.stdout.isatty() else None,
        )
        for header in headers:
            table.add_column(header, overflow="fold", no_wrap=not sys.stdout.isatty())
        for row in rows:
            table.add_row(*(Text(str(cell)) for cell in row))
        out = console()
        if sys.stdout.isatty():
            out.print(table)
            return
        with out.capture() as captured:
            out.print(table)
        for text in captured.get().splitlines():
            self.line(text.rstrip())
