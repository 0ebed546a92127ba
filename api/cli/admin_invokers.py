"""``lwsk admin invokers``: every invoker with its state, process, memory, work and containers.

Like the other admin commands it reads the stack directly (the invoker-health
topic, through the ``LEDGERWHISK_*`` settings), so it needs no key; over the
API, ``GET /api/v1/admin/invokers`` answers administrators only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from api.cli.admin import group
from api.cli.errors import CLIError
from api.cli.session import Session, pass_session

READ_TIMEOUT_S = 10.0
HEADERS = [
    "id",
    "state",
    "pid",
    "host",
    "memory",
    "used",
    "free",
    "in flight",
    "queued",
    "containers",
    "heard",
]


def row(invoker: dict[str, Any]) -> list[str]:
    """One table row from one entry of ``GET /admin/invokers``."""
    return [
        str(invoker["id"]),
        invoker["state"],
        str(invoker["pid"]),
        invoker["host"],
        f"{invoker['memoryMB']} MB",
        f"{invoker['usedMB']} MB",
        f"{invoker['freeMB']} MB",
        str(invoker["inFlight"]),
        str(invoker["queued"]),
        # By state, zeros left out: "stem_cell=2,warm=1" (or "-").
        ",".join(f"{state}={n}" for state, n in invoker["containers"].items() if n) or "-",
        f"{invoker['lastHeardMs'] / 1000:.1f} s ago",
    ]


async def _read(timeout_s: float) -> list[dict[str, Any]]:
    # Imported here: only this command needs the Kafka client.
    from api.invokers import rows
    from streams.heartbeats import HealthTail
    from streams.ids import now_ms
    from streams.registry import HeartbeatRegistry
    from streams.settings import Settings

    settings = Settings()
    registry = HeartbeatRegistry(offline_after_ms=int(settings.invoker_offline_after_s * 1000))
    tail = HealthTail(settings, registry)
    tail.start()
    try:
        await asyncio.wait_for(tail.caught_up.wait(), timeout_s)
    except TimeoutError as exc:
        raise CLIError(
            f"the invoker-health topic at {settings.kafka_bootstrap} did not answer within "
            f"{timeout_s:.0f} s: is the stack up (`make up`)?"
        ) from exc
    finally:
        await tail.stop()
    return rows(registry, now_ms())


@group.command("invokers")
@pass_session
def list_invokers(session: Session) -> None:
    """list the invokers and their health"""
    answer = asyncio.run(_read(READ_TIMEOUT_S))
    session.out.table(HEADERS, [row(i) for i in answer], answer)
