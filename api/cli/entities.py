"""What the CLI's entity commands share: names, key/value flags, list tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from api.cli.client import CLIError
from api.cli.output import emit_json, table


def add_params(cmd: argparse.ArgumentParser, annotations: bool = True) -> None:
    cmd.add_argument(
        "-p", "--param", nargs=2, action="append", default=[], metavar=("KEY", "VALUE")
    )
    cmd.add_argument("-P", "--param-file", help="a JSON object of parameters")
    if annotations:
        cmd.add_argument(
            "-a", "--annotation", nargs=2, action="append", default=[], metavar=("KEY", "VALUE")
        )
        cmd.add_argument("-A", "--annotation-file", help="a JSON object of annotations")


def add_paging(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("-l", "--limit", type=int, default=30)
    cmd.add_argument("-s", "--skip", type=int, default=0)


def parse_value(raw: str) -> Any:
    """``wsk`` reads parameter values as JSON when they parse, else as strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _pairs(pairs: list[list[str]], file: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if file:
        try:
            loaded = json.loads(Path(file).read_text())
        except (OSError, ValueError) as exc:
            raise CLIError(f"cannot read {file}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise CLIError(f"{file} must hold a JSON object")
        out.update(loaded)
    for key, value in pairs:
        out[key] = parse_value(value)
    return out


def params_of(args: argparse.Namespace) -> dict[str, Any]:
    return _pairs(args.param, getattr(args, "param_file", None))


def annotations_of(args: argparse.Namespace) -> dict[str, Any]:
    return _pairs(getattr(args, "annotation", []), getattr(args, "annotation_file", None))


def key_values(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def entity_path(collection: str, name: str) -> str:
    """``namespaces/_/actions/hello``; ``/ns/pkg/x`` names another namespace."""
    name = name.strip()
    if name.startswith("/"):
        namespace, _, rest = name.lstrip("/").partition("/")
        if not rest:
            raise CLIError(f"'{name}' names a namespace but no entity")
        return f"namespaces/{namespace}/{collection}/{rest}"
    return f"namespaces/_/{collection}/{name}"


def qualified(entity: dict[str, Any]) -> str:
    return f"/{entity['namespace']}/{entity['name']}"


def show_list(args: argparse.Namespace, answer: list[dict[str, Any]], columns: list[str]) -> int:
    """A list as ``wsk`` prints it (name, then some columns), or JSON with ``--json``."""
    if args.json:
        emit_json(answer)
        return 0
    rows = []
    for entity in answer:
        row = [qualified(entity)]
        for column in columns:
            value = entity.get(column, "")
            if column == "publish":
                value = "shared" if value else "private"
            row.append(value)
        rows.append(row)
    table(["name", *columns], rows)
    return 0
