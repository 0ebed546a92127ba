"""A Docker engine of the test's own: a second dockerd on this machine, for one invoker.

Its socket, data root, exec root and pid file live under the folder it is
given (in ``.state/test``); it has no bridge and touches no iptables (the
action containers have no network: the invoker reaches them inside their
network namespace). It starts empty, so a test loads the runtime images it
needs from the machine's engine (``docker save | docker load``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import docker

from streams.ids import now_ms
from tests.support.waits import eventually

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
DOCKER = shutil.which("docker") or "/usr/bin/docker"


@dataclass
class Engine:
    """A dockerd under ``root``: ``root/docker.sock``, ``root/data``, ``root/exec``."""

    root: Path
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # When dockerd was asked to stop and when it had exited (ms).
    stop_ms: tuple[int, int] | None = None

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        """``DOCKER_HOST`` / ``LEDGERWHISK_DOCKER_HOST`` of this engine."""
        return f"unix://{self.socket}"

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.host)

    async def start(self) -> None:
        """Start dockerd; return once it answers a ping."""
        self._launch()

        def answers() -> bool:
            assert self.popen is not None and self.popen.poll() is None, self.tail()
            try:
                with contextlib.closing(self.client()) as c:
                    return bool(c.ping())
            except docker.errors.DockerException:
                return False

        await eventually(answers, 120, f"dockerd on {self.socket}", 0.2)

    def _launch(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = (self.root / "dockerd.log").open("ab")
        self.popen = subprocess.Popen(
            [
                DOCKERD,
                f"--host={self.host}",
                f"--data-root={self.root / 'data'}",
                f"--exec-root={self.root / 'exec'}",
                f"--pidfile={self.root / 'docker.pid'}",
                "--bridge=none",
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    async def load(self, image: str) -> None:
        """Copy ``image`` from the machine's engine into this one."""
        script = f"{DOCKER} save {image} | {DOCKER} -H {self.host} load"
        proc = await asyncio.create_subprocess_shell(
            f"set -o pipefail; {script}",
            executable="/bin/bash",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(600):
            out, _ = await proc.communicate()
        assert proc.returncode == 0, out.decode(errors="replace")

    def containers(self, label: str) -> list[str]:
        with contextlib.closing(self.client()) as c:
            return [x.name for x in c.containers.list(all=True, filters={"label": label})]

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM, as an operator's ``systemctl stop docker``; its containers stop with it."""
        if self.popen is None or self.popen.poll() is not None:
            return
        asked = now_ms()
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=30)
        self.stop_ms = (asked, now_ms())

    def remove_containers(self, label: str) -> None:
        with contextlib.closing(self.client()) as c:
            for x in c.containers.list(all=True, filters={"label": label}):
                with contextlib.suppress(docker.errors.APIError):
                    x.remove(force=True)

    def tail(self) -> str:
        f = self.root / "dockerd.log"
        return "\n".join(f.read_text(errors="replace").splitlines()[-30:]) if f.exists() else ""
