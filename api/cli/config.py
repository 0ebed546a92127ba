"""Where the CLI connects, and with what: ``~/.wskprops`` as ``wsk`` reads it.

Properties (apache/openwhisk-cli ``commands/property.go``): ``APIHOST``,
``AUTH``, ``APIVERSION``, ``CERT``, ``KEY``, in ``KEY=value`` lines of
``$WSK_CONFIG_FILE`` (default ``~/.wskprops``). A flag wins over the
environment (``WSK_APIHOST``, ``WSK_AUTH``), which wins over the file; without
any, ``lwsk`` talks to the local stack with the guest key. Each value
remembers where it came from, so an error can say which key was refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from api.cli.errors import CLIError
from api.cli.messages import PROPS_UNREADABLE, PROPS_UNWRITABLE
from streams.constants import GUEST_KEY

DEFAULT_APIHOST = "http://127.0.0.1:3233"
DEFAULT_APIVERSION = "v1"
KEYS = ("APIHOST", "AUTH", "APIVERSION", "CERT", "KEY", "NAMESPACE")


def props_path() -> Path:
    return Path(os.environ.get("WSK_CONFIG_FILE") or Path.home() / ".wskprops")


def read_props(path: Path | None = None) -> dict[str, str]:
    """The properties file's ``KEY=value`` lines (comments and blank lines skipped)."""
    path = path or props_path()
    props: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(PROPS_UNREADABLE.format(path=path, error=exc)) from exc
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.strip().startswith("#"):
            props[key.strip()] = value.strip()
    return props


def write_props(props: dict[str, str], path: Path | None = None) -> Path:
    path = path or props_path()
    try:
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()), encoding="utf-8")
    except OSError as exc:
        raise CLIError(PROPS_UNWRITABLE.format(path=path, error=exc)) from exc
    return path


@dataclass(frozen=True)
class Endpoint:
    """The API host and key to use, each with where it came from (for error messages)."""

    apihost: str
    auth: str
    host_source: str = "the default"
    auth_source: str = "the default guest key"
    apiversion: str = DEFAULT_APIVERSION
    cert: str | None = None
    key: str | None = None

    @property
    def uuid(self) -> str:
        """The key's uuid part (what may be shown of a key)."""
        return self.auth.partition(":")[0]


def _pick(flag: str | None, env: str, props: dict[str, str], prop: str) -> tuple[str, str] | None:
    if flag:
        return flag, f"--{prop.lower()}"
    if os.environ.get(env):
        return os.environ[env], f"${env}"
    if props.get(prop):
        return props[prop], f"{props_path()} ({prop})"
    return None


def normal_host(host: str) -> str:
    """``127.0.0.1:3233`` -> ``http://127.0.0.1:3233``; other bare hosts get https, as wsk."""
    if "://" not in host:
        scheme = "http" if host.startswith(("127.", "localhost", "[::1]")) else "https"
        host = f"{scheme}://{host}"
    return host.rstrip("/")


def target(
    apihost: str | None = None,
    auth: str | None = None,
    apiversion: str | None = None,
    cert: str | None = None,
    key: str | None = None,
) -> Endpoint:
    """Flags first, then the environment, then ``~/.wskprops``, then the local defaults."""
    props = read_props()
    host = _pick(apihost, "WSK_APIHOST", props, "APIHOST") or (DEFAULT_APIHOST, "the default")
    found = _pick(auth, "WSK_AUTH", props, "AUTH") or (GUEST_KEY, "the default guest key")
    return Endpoint(
        normal_host(host[0]),
        found[0],
        host[1],
        found[1],
        apiversion or props.get("APIVERSION") or DEFAULT_APIVERSION,
        cert or props.get("CERT") or None,
        key or props.get("KEY") or None,
    )
