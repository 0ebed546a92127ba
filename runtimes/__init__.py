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
# The unprivileged user the action proxies run as (ACTION_UID in build.sh).
ACTION_UID = 1000
# Where a build cache is mounted in a container of a kind with ``build_cache``.
BUILD_CACHE_MOUNT = "/cache"


@dataclass(frozen=True)
class StemCellSpec:
    count: int
    memory_mb: int


@dataclass(frozen=True)
class Kind:
    """One runtime kind as the manifest describes it.

    ``zip_main_file``: the file a zipped action must hold at its root.
    ``build_cache``: the kind compiles at /init, and its containers get a host
    directory at ``/cache`` that keeps builds for later cold starts.
    ``tmp_exec``: its /tmp must allow executing files (a compiled Go binary, a
    native ``exec``). ``blackbox_images``: blackbox actions naming one of
    these images (any tag) run in this kind's image instead, as OpenWhisk's
    ``wsk action create --native`` names ``openwhisk/dockerskeleton``.
    ``background_build``: ``make run`` builds its image after the stack is up.
    ``deprecated``: listed as such in the API's root info (OpenWhisk's
    runtimes.json flag).
    """

    name: str
    image: str | None
    aliases: tuple[str, ...]
    default: bool
    file_extensions: tuple[str, ...]
    stem_cells: tuple[StemCellSpec, ...]
    supports_concurrency: bool
    zip_main_file: str | None = None
    build_cache: bool = False
    tmp_exec: bool = False
    blackbox_images: tuple[str, ...] = ()
    background_build: bool = False
    deprecated: bool = False

    @property
    def family(self) -> str:
        """``java`` for ``java:17``: the runtime family, as OpenWhisk groups kinds."""
        return self.name.split(":")[0]


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
            zip_main_file=spec.get("zip_main_file"),
            build_cache=bool(spec.get("build_cache", False)),
            tmp_exec=bool(spec.get("tmp_exec", False)),
            blackbox_images=tuple(spec.get("blackbox_images", [])),
            background_build=bool(spec.get("background_build", False)),
            deprecated=bool(spec.get("deprecated", False)),
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


def for_blackbox_image(image: str) -> Kind | None:
    """The kind whose image stands in for a blackbox ``image`` (``openwhisk/dockerskeleton:1.3``
    → ``native``), or None for an image of the user's own."""
    name = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    for kind in canonical_kinds():
        if name in kind.blackbox_images:
            return kind
    return None


def being_built(kind: str, cache_dir: str) -> bool:
    """Whether a ``runtimes/build.sh`` still running has ``kind`` to build.

    Each build lists the kinds it has yet to build in
    ``<cache_dir>/building/<its pid>``; a file whose process is gone is stale.
    """
    folder = Path(cache_dir) / "building"
    try:
        entries = list(folder.iterdir())
    except OSError:
        return False
    for entry in entries:
        if not entry.name.isdigit() or not os.path.exists(f"/proc/{entry.name}"):
            continue
        try:
            listed = entry.read_text().split()
        except OSError:
            continue
        if kind in listed:
            return True
    return False
