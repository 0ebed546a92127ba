"""Runtime kinds: the manifest of images, aliases and stem cells (images are built by build.sh)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Another manifest (runtime images of your own) may be named by the environment.
MANIFEST = Path(
    os.environ.get("LEDGERWHISK_RUNTIMES_MANIFEST") or Path(__file__).with_name("manifest.json")
)


@dataclass(frozen=True)
class StemCellSpec:
    count: int
    memory_mb: int


@dataclass(frozen=True)
class Kind:
    """One runtime kind as the manifest describes it."""

    name: str
    image: str | None
    aliases: tuple[str, ...]
    default: bool
    file_extensions: tuple[str, ...]
    stem_cells: tuple[StemCellSpec, ...]
    supports_concurrency: bool


@lru_cache(maxsize=1)
def kinds() -> dict[str, Kind]:
    """Every kind by its name and by each alias."""
    data = json.loads(MANIFEST.read_text())
    table: dict[str, Kind] = {}
    for name, spec in data["kinds"].items():
        kind = Kind(
            name=name,
            image=spec.get("image"),
            aliases=tuple(spec.get("aliases", [])),
            default=bool(spec.get("default", False)),
            file_extensions=tuple(spec.get("file_extensions", [])),
            stem_cells=tuple(
                StemCellSpec(int(s["count"]), int(s["memory_mb"]))
                for s in spec.get("stem_cells", [])
            ),
            supports_concurrency=bool(spec.get("supports_concurrency", False)),
        )
        table[name] = kind
        for alias in kind.aliases:
            table[alias] = kind
    return table


def resolve(kind: str) -> Kind | None:
    """The kind for a name or alias (``python:default`` → ``python:3.11``), or None."""
    return kinds().get(kind)


def canonical_kinds() -> list[Kind]:
    """Each kind once."""
    seen: dict[str, Kind] = {}
    for k in kinds().values():
        seen.setdefault(k.name, k)
    return list(seen.values())
