"""An invoker killed with SIGKILL leaves containers behind; its next start removes them.

The invoker runs as the real process (``python -m invoker.agent``), under a
topic prefix of its own so the test stack's controller never hears of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.settings import Settings
from tests.support.invoker import docker_client, owned_containers
from tests.support.stack import PREFIX, ROOT
from tests.support.waits import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

OWN_PREFIX = f"{PREFIX}-k"
OWNER = f"{OWN_PREFIX}-invoker9"
READY = "ready (user memory"


class InvokerProcess:
    """One run of ``python -m invoker.agent`` with its log file."""

    def __init__(self, stack: Settings, log_path: Path):
        self.log_path = log_path
        env = {
            **os.environ,
            "LEDGERWHISK_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
            "LEDGERWHISK_COUCHDB_URL": stack.couchdb_url,
            "LEDGERWHISK_PREFIX": OWN_PREFIX,
            "LEDGERWHISK_INVOKER_ID": "9",
            "LEDGERWHISK_INVOKER_USER_MEMORY_MB": "1024",
            "PYTHONUNBUFFERED": "1",
        }
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "invoker.agent"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def ready(self) -> None:
        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the invoker exited:\n{self.log()[-3000:]}")
            return READY in self.log()

        await eventually(up, 90, "the invoker to be ready")

    def kill(self, sig: int) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
        self.process.wait(timeout=60)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[InvokerProcess]]:
    started: list[InvokerProcess] = []
    try:
        yield started
    finally:
        for run in started:
            run.kill(signal.SIGKILL)
        client = docker_client()
        for container in client.containers.list(
            all=True, filters={"label": f"org.ledgerwhisk.invoker={OWNER}"}
        ):
            container.remove(force=True)


async def test_a_restarted_invoker_removes_what_a_killed_run_left(
    stack: Settings, tmp_path: Path, processes: list[InvokerProcess]
) -> None:
    first = InvokerProcess(stack, tmp_path / "first.log")
    processes.append(first)
    await first.ready()
    # Ready means its stem cells run: python 2, nodejs 1 (runtimes/manifest.json).
    left = await owned_containers(OWNER)
    assert len(left) == 3, first.log()[-2000:]

    first.kill(signal.SIGKILL)  # no shutdown hook runs
    assert await owned_containers(OWNER) == left

    second = InvokerProcess(stack, tmp_path / "second.log")
    processes.append(second)
    await second.ready()
    now = await owned_containers(OWNER)
    assert not set(now.values()) & set(left.values())
    assert len(now) == 3
    assert "removed 3 containers left by a previous run" in second.log()

    # A clean stop removes its containers itself.
    second.kill(signal.SIGTERM)
    await eventually(_none_left, 20.0, "a stopped invoker's containers to go")


async def _none_left() -> bool:
    return not await owned_containers(OWNER)
