"""Where the CLI connects: ``~/.wskprops`` (``APIHOST``, ``AUTH``), as ``wsk`` reads it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from streams.constants import GUEST_KEY

DEFAULT_APIHOST = "http://127.0.0.1:3233"


def props_path() -> Path:
    return Path(os.environ.get("WSK_CONFIG_FILE", Path.home() / ".wskprops"))


def read_props(path: Path | None = None) -> dict[str, str]:
    path = path or props_path()
    props: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not key.strip().startswith("#"):
                props[key.strip()] = value.strip()
    return props


def write_props(props: dict[str, str], path: Path | None = None) -> None:
    path = path or props_path()
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))


@dataclass(frozen=True)
class Endpoint:
    apihost: str
    auth: str


def target(apihost: str | None = None, auth: str | None = None) -> Endpoint:
    """Flags first, then the environment, then ``~/.wskprops``, then the local defaults."""
    props = read_props()
    host = apihost or os.environ.get("WSK_APIHOST") or props.get("APIHOST") or DEFAULT_APIHOST
    if "://" not in host:
        scheme = "http" if host.startswith(("127.", "localhost")) else "https"
        host = f"{scheme}://{host}"
    key = auth or os.environ.get("WSK_AUTH") or props.get("AUTH") or GUEST_KEY
    return Endpoint(host.rstrip("/"), key)
