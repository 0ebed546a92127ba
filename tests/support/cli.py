"""``lwsk`` as a user runs it: the installed command, in a subprocess, with its own ~/.wskprops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from streams.settings import Settings
from tests.support.stack import API, PREFIX, ROOT

LWSK = str(Path(sys.executable).with_name("lwsk"))


class Lwsk:
    """Runs ``lwsk`` with its own ~/.wskprops."""

    def __init__(self, home: Path, stack: Settings):
        self.env = {
            **os.environ,
            "HOME": str(home),
            "WSK_CONFIG_FILE": str(home / ".wskprops"),
            "LEDGERWHISK_COUCHDB_URL": stack.couchdb_url,
            "LEDGERWHISK_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
            "LEDGERWHISK_PREFIX": PREFIX,
        }
        self.env.pop("WSK_AUTH", None)
        self.env.pop("WSK_APIHOST", None)
        self.cwd = home

    def run(
        self, *args: str, ok: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [LWSK, *args],
            env=self.env,
            cwd=cwd or ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run("--json", *args).stdout)

    def shell(self, line: str) -> subprocess.CompletedProcess[str]:
        """A shell line where ``lwsk`` stands for the installed command (for pipes)."""
        return subprocess.run(
            ["bash", "-c", line.replace("lwsk ", f"{LWSK} ")],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )


def new_user(stack: Settings, home: Path) -> Lwsk:
    """``lwsk`` for a fresh subject of its own, set up with ``property set`` as a user does."""
    cli = Lwsk(home, stack)
    name = "c" + os.urandom(4).hex()
    key = cli.run("admin", "user", "create", name).stdout.strip()
    assert len(key.split(":")[1]) == 64
    cli.run("property", "set", "--apihost", API, "--auth", key)
    props = (home / ".wskprops").read_text()
    assert f"APIHOST={API}" in props and f"AUTH={key}" in props
    cli.namespace = name  # type: ignore[attr-defined]
    return cli
