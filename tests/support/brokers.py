"""A Kafka cluster of three brokers a test starts, kills and restarts itself.

It runs through the project's own ``scripts/kafka.sh`` (``LEDGERWHISK_KAFKA_BROKERS=3``)
with a state folder and ports of its own, beside the session stack's single
broker. Brokers get real signals: ``kill`` is ``kill -9`` of the broker's JVM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streams.ids import now_ms
from tests.support.stack import ROOT
from tests.support.waits import eventually

SCRIPT = ROOT / "scripts" / "kafka.sh"
SCRIPT_TIMEOUT_S = 240.0


@dataclass
class Brokers:
    """``count`` KRaft nodes (broker + controller each) on ports ``first_port + 10 * i``."""

    state: Path
    first_port: int
    count: int = 3

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.first_port + 10 * i}" for i in range(self.count))

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LEDGERWHISK_STATE_DIR": str(self.state),
            "LEDGERWHISK_KAFKA_PORT": str(self.first_port),
            "LEDGERWHISK_KAFKA_BROKERS": str(self.count),
        }

    async def script(self, command: str) -> None:
        """``scripts/kafka.sh command``, without blocking the test's event loop."""
        proc = await asyncio.create_subprocess_exec(
            str(SCRIPT),
            command,
            env=self.env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(SCRIPT_TIMEOUT_S):
            out, _ = await proc.communicate()
        assert proc.returncode == 0, out.decode(errors="replace")

    async def start(self) -> None:
        """Start every broker that is not running; return once each answers."""
        await self.script("start")

    async def stop(self) -> None:
        await self.script("stop")

    def pid(self, broker: int) -> int:
        return int((self.state / "run" / f"kafka-{broker}.pid").read_text().split()[0])

    async def kill(self, broker: int) -> int:
        """``kill -9`` broker ``broker`` (0-based); the moment of the kill (ms), once it is gone."""
        pid = self.pid(broker)
        at = now_ms()
        os.kill(pid, signal.SIGKILL)

        def gone() -> bool:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except FileNotFoundError:
                return True
            return stat.rsplit(")", 1)[1].split()[0] == "Z"

        await eventually(gone, 30, f"broker {broker} (pid {pid}) to exit")
        return at

    async def partitions(self, topic: str) -> list[dict]:
        """``describe_topics`` of ``topic``: each partition's ``leader``, ``replicas``, ``isr``
        (node ids: broker i is node i + 1)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics([topic])
        finally:
            await admin.close()
        return list(described[0]["partitions"])

    async def leader(self, topic: str, partition: int) -> int:
        """The broker (0-based) leading ``partition`` of ``topic``."""
        found = [p for p in await self.partitions(topic) if p["partition"] == partition]
        assert found and found[0]["leader"] >= 1, found
        return int(found[0]["leader"]) - 1

    async def in_sync(self, topic: str) -> bool:
        """Every partition of ``topic`` has all its replicas in sync and a leader."""
        try:
            parts = await self.partitions(topic)
        except KafkaError:  # a cluster still electing answers with errors
            return False
        return bool(parts) and all(
            p["leader"] >= 1 and sorted(p["isr"]) == sorted(p["replicas"]) for p in parts
        )

    def quorum_leader(self) -> int:
        """The broker (0-based) leading the KRaft quorum, by the newest epoch any node wrote
        to its ``quorum-state`` file."""
        best = (-1, -1)
        for i in range(self.count):
            f = (
                self.state
                / "kafka"
                / f"broker{i}"
                / "data"
                / "__cluster_metadata-0"
                / "quorum-state"
            )
            state = json.loads(f.read_text())
            if state.get("leaderId", -1) >= 1:
                best = max(best, (int(state["leaderEpoch"]), int(state["leaderId"])))
        assert best[1] >= 1, "no quorum leader recorded"
        return best[1] - 1
