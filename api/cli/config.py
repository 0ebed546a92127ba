"""Where the CLI connects, and with what: ``~/.wskprops`` as ``wsk`` reads it.

Properties (apache/openwhisk-cli ``commands/property.go``): ``APIHOST``,
``AUTH``, ``APIVERSION``, ``CERT``, ``KEY``, in ``KEY=value`` lines of
``$WSK_CONFIG_FILE`` (default ``~/.wskprops``; set but empty, no file at all,
as wsk's ``GetPropertiesFilePath``). A flag wins over the environment, which
wins over the file (``loadProperties``, ``parseConfigFlags``): wsk's
``WHISK_APIHOST``, ``WHISK_AUTH``, ``WHISK_APIVERSION``, then lwsk's older
names ``WSK_APIHOST``, ``WSK_AUTH``. Without any, ``lwsk`` talks to the local
stack with the guest key. Each value remembers where it came from, so an
error can say which key was refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from api.cli.errors import CLIError
from api.cli.messages import PROPS_PATH_EMPTY, PROPS_UNREADABLE, PROPS_UNWRITABLE
from streams.constants import GUEST_KEY

DEFAULT_APIHOST = "http://127.0.0.1:3233"
DEFAULT_APIVERSION = "v1"
KEYS = ("APIHOST", "AUTH", "APIVERSION", "CERT", "KEY", "NAMESPACE")


def props_path() -> Path | None:
    """``$WSK_CONFIG_FILE``, else ``~/.wskprops``; None when ``WSK_CONFIG_FILE`` is set but
    empty: then wsk reads no file and ignores ``~/.wskprops``."""
    given = os.environ.get("WSK_CONFIG_FILE")
    if given is None:
        return Path.home() / ".wskprops"
    return Path(given) if given else None


def read_props(path: Path | None = None) -> dict[str, str]:
    """The properties file's ``KEY=value`` lines (comments and blank lines skipped)."""
    path = path or props_path()
    if path is None:
        return {}
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
    if path is None:
        raise CLIError(PROPS_UNWRITABLE.format(path="''", error=PROPS_PATH_EMPTY))
    try:
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()), encoding="utf-8")
    except OSError as exc:
        raise CLIError(PROPS_UNWRITABLE.format(path=path, error=exc)) from exc
    return path


@dataclass(frozen=True)
class Endpoint:
    """The API host and key to use, each with where it came from (for error messages).

    ``apihost`` is the URL requests go to (``normal_host``); ``given_host`` the value as
    the flag, the environment or the file gave it, which ``property get`` shows."""

    apihost: str
    auth: str
    host_source: str = "the default"
    auth_source: str = "the default guest key"
    apiversion: str = DEFAULT_APIVERSION
    cert: str | None = None
    key: str | None = None
    given_host: str = ""

    @property
    def uuid(self) -> str:
        """The key's uuid part (what may be shown of a key)."""
        return self.auth.partition(":")[0]


# Each property's environment variables, first wins: wsk's own, then lwsk's older names.
ENV_NAMES = {
    "APIHOST": ("WHISK_APIHOST", "WSK_APIHOST"),
    "AUTH": ("WHISK_AUTH", "WSK_AUTH"),
    "APIVERSION": ("WHISK_APIVERSION",),
}


def pick(
    flag: str | None, env: dict[str, str], props: dict[str, str], prop: str, file: str
) -> tuple[str, str] | None:
    """``(value, where it came from)`` of one property: the flag, then the environment
    (``ENV_NAMES``), then the properties file; None when none gives it (empty values count
    as not given, as wsk's ``len(...) > 0``)."""
    if flag:
        return flag, f"--{prop.lower()}"
    for name in ENV_NAMES.get(prop, ()):
        if env.get(name):
            return env[name], f"${name}"
    if props.get(prop):
        return props[prop], f"{file} ({prop})"
    return None


def normal_host(host: str) -> str:
    """The URL an API host names: a bare ``host:port`` is https, for every host, as
    client-go's ``GetURLBase`` (whisk/util.go) makes it; a trailing ``/`` is dropped."""
    if "://" not in host:
        host = f"https://{host}"
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
    if "APIHOST" in props:  # as wsk's loadProperties: the file's host without a trailing /
        props["APIHOST"] = props["APIHOST"].rstrip("/")
    env, file = dict(os.environ), str(props_path() or "")
    host = pick(apihost, env, props, "APIHOST", file) or (DEFAULT_APIHOST, "the default")
    found = pick(auth, env, props, "AUTH", file) or (GUEST_KEY, "the default guest key")
    version = pick(apiversion, env, props, "APIVERSION", file)
    return Endpoint(
        normal_host(host[0]),
        found[0],
        host[1],
        found[1],
        version[0] if version else DEFAULT_APIVERSION,
        cert or props.get("CERT") or None,
        key or props.get("KEY") or None,
        host[0],
    )
