"""The command tree's pieces (click): ``wsk``'s global flags on every command, aliases,
and the options many commands share (``-p KEY VALUE``, paging).

``wsk``'s global flags (apache/openwhisk-cli ``commands/wsk.go``: ``-i``,
``-v``, ``-d``, ``--cert``, ``--key``, ``-u``, ``--apihost``,
``--apiversion``) are cobra persistent flags, valid anywhere on the line: here
every group and command carries them (hidden below the top), and each stores
its value in the run's ``Session``. ``-p KEY VALUE`` takes the next two words
as they are, so ``-p msg -hello`` works as in ``wsk``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from api.cli import messages as m
from api.cli.errors import EXIT_USAGE, CLIError
from api.cli.session import Session

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
F = Callable[..., Any]

# name: (declarations, is a flag, metavar, help)
GLOBALS: dict[str, tuple[tuple[str, ...], bool, str | None, str]] = {
    "json": (("--json",), True, None, "print JSON instead of text"),
    "verbose": (("-v", "--verbose"), True, None, "show each HTTP exchange (on stderr)"),
    "debug": (("-d", "--debug"), True, None, "debug output (on stderr); tracebacks of failures"),
    "insecure": (("-i", "--insecure"), True, None, "bypass certificate checking"),
    "apihost": (("--apihost",), False, "HOST", "whisk API HOST"),
    "auth": (("-u", "--auth"), False, "KEY", "authorization KEY (uuid:key)"),
    "apiversion": (("--apiversion",), False, "VERSION", "whisk API VERSION"),
    "cert": (("--cert",), False, "FILE", "client certificate"),
    "key": (("--key",), False, "FILE", "client key"),
}


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value not in (None, False) and param.name is not None:
        setattr(ctx.ensure_object(Session), param.name, value)


def global_params(omit: Iterable[str] = (), hidden: bool = True) -> list[click.Parameter]:
    out: list[click.Parameter] = []
    for name, (decls, flag, metavar, help_) in GLOBALS.items():
        if name in omit:
            continue
        out.append(
            click.Option(
                [*decls, name],
                is_flag=flag,
                metavar=metavar,
                help=help_,
                hidden=hidden,
                expose_value=False,
                callback=_store,
            )
        )
    return out


# Where a command keeps the order its options were given in (``LwskCommand.make_parser``).
ORDER_META = "lwsk.option_order"


class LwskCommand(click.Command):
    """A command with the global flags; ``omit`` names those it defines otherwise.

    It records the order its options were given in (one name per occurrence, in
    ``ctx.meta[ORDER_META]``), as ``-p``/``-P`` apply in command-line order."""

    def __init__(self, *args: Any, omit: Iterable[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT)
        super().__init__(*args, **kwargs)
        self.params.extend(global_params(omit))

    def make_parser(self, ctx: click.Context) -> Any:
        parser = super().make_parser(ctx)
        parse = parser.parse_args

        def recording(args: list[str]) -> Any:
            opts, rest, order = parse(args)
            ctx.meta[ORDER_META] = [p.name for p in order]
            return opts, rest, order

        parser.parse_args = recording  # type: ignore[method-assign]
        return parser


class LwskGroup(click.Group):
    """A group of commands with the global flags, and aliases (``replay`` for ``rerun``)."""

    command_class = LwskCommand
    group_class = type  # subgroups are LwskGroups too

    def __init__(self, *args: Any, show_globals: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT)
        super().__init__(*args, **kwargs)
        self.params.extend(global_params(hidden=not show_globals))
        self.aliases: dict[str, str] = {}

    def alias(self, alias: str, name: str) -> None:
        self.aliases[alias] = name

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))


# -- -p KEY VALUE, -P FILE, -a KEY VALUE, -A FILE -------------------------------------
def parse_value(raw: str) -> Any:
    """``wsk`` reads a parameter's value as JSON when it parses, else as a string."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def read_text(path: str, what: str) -> str:
    """A file's text; one-line errors for a missing, unreadable or non-UTF-8 file."""
    file = Path(path)
    if not file.exists():
        raise CLIError(m.FILE_MISSING.format(path=path), EXIT_USAGE)
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CLIError(m.FILE_NOT_UTF8.format(what=what, path=path, at=exc.start)) from exc
    except OSError as exc:
        raise CLIError(m.FILE_UNREADABLE.format(path=path, error=exc)) from exc


def json_object(text: str, what: str) -> dict[str, Any]:
    # A general error in wsk (getJSONFromStrings: "Invalid parameter argument ...", exit 1).
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise CLIError(m.NOT_JSON.format(what=what, error=exc)) from exc
    if not isinstance(loaded, dict):
        raise CLIError(m.NOT_AN_OBJECT.format(what=what))
    return loaded


# One -p KEY VALUE pair, or the path of one -P file, in command-line order.
Given = tuple[str, str] | str


def in_order(
    order: Iterable[str | None],
    names: tuple[str, str],
    pairs: Iterable[tuple[str, str]],
    files: Iterable[str],
) -> list[Given]:
    """``-p`` pairs and ``-P`` files merged in the order they were given: ``order`` names the
    option of each occurrence, ``names`` the pair option's and the file option's names,
    ``pairs`` and ``files`` hold each option's values in turn."""
    pair_name, file_name = names
    pending_pairs, pending_files = iter(pairs), iter(files)
    out: list[Given] = []
    for name in order:
        if name == pair_name:
            key, value = next(pending_pairs)
            out.append((key, value))
        elif name == file_name:
            out.append(next(pending_files))
    out.extend((key, value) for key, value in pending_pairs)
    out.extend(pending_files)
    return out


def pairs(given: Iterable[Given], what: str) -> dict[str, Any]:
    """``-p KEY VALUE`` pairs and ``-P FILE`` objects applied in command-line order, later
    ones winning, as wsk's ``parseArgs`` and ``getJSONFromStrings`` merge them."""
    out: dict[str, Any] = {}
    for item in given:
        if isinstance(item, str):
            out.update(json_object(read_text(item, f"{what} file"), f"the {what} file {item}"))
        else:
            key, value = item
            out[key] = parse_value(value)
    return out


def key_values(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def params(annotations: bool = True) -> Callable[[F], F]:
    """``-p/--param KEY VALUE``, ``-P/--param-file FILE`` (and the annotation pair), each
    as often as wanted. The command gets ``param`` (and ``annotation``) as the pairs and
    files in command-line order (``Given``), ``param_file`` (``annotation_file``) as the
    files alone."""

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def ordered(*args: Any, **kwargs: Any) -> Any:
            order = click.get_current_context().meta.get(ORDER_META, [])
            for pair, file in (("param", "param_file"), ("annotation", "annotation_file")):
                if pair in kwargs:
                    kwargs[pair] = in_order(order, (pair, file), kwargs[pair], kwargs[file])
            return f(*args, **kwargs)

        g: F = ordered
        if annotations:
            g = click.option(
                "-A",
                "--annotation-file",
                metavar="FILE",
                multiple=True,
                help="annotations in a JSON file",
            )(g)
            g = click.option(
                "-a",
                "--annotation",
                nargs=2,
                multiple=True,
                metavar="KEY VALUE",
                help="an annotation (VALUE is JSON if it parses)",
            )(g)
        g = click.option(
            "-P", "--param-file", metavar="FILE", multiple=True, help="parameters in a JSON file"
        )(g)
        return click.option(
            "-p",
            "--param",
            nargs=2,
            multiple=True,
            metavar="KEY VALUE",
            help="a parameter (VALUE is JSON if it parses)",
        )(g)

    return decorate


def paging(what: str, limit: int = 30) -> Callable[[F], F]:
    """``-l/--limit``, ``-s/--skip``, ``-n/--name-sort`` of wsk's list commands."""

    def decorate(f: F) -> F:
        f = click.option("-n", "--name-sort", is_flag=True, help="sort by name (within the page)")(
            f
        )
        f = click.option("-s", "--skip", type=int, default=0, help=f"skip the first SKIP {what}")(f)
        return click.option("-l", "--limit", type=int, default=limit, help=f"at most LIMIT {what}")(
            f
        )

    return decorate
