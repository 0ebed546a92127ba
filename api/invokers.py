"""``GET /api/v1/admin/invokers``: the invokers as this API instance hears them.

Each API instance reads the invoker-health topic into its own registry (the
same code and states as the controller: ``streams.registry``), so the answer
needs no controller and no extra table. Only administrators may read it (the
system namespace's subject, or one created with ``lwsk admin user create
--admin``): it shows the platform's machines, pids and hosts.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.context import ctx
from api.requests import json_response
from streams.ids import now_ms
from streams.registry import InvokerRegistry

PATH = "/api/v1/admin/invokers"


def rows(registry: InvokerRegistry, now: int) -> list[dict[str, Any]]:
    """One row per invoker ever heard (within the health topic's recent past)."""
    out = []
    for record in registry.all():
        h = record.health
        if h is None:
            continue
        out.append(
            {
                "id": h.invoker,
                "state": registry.state(h.invoker, now),
                "pid": h.pid,
                "host": h.host,
                "memoryMB": h.user_memory_mb,
                "usedMB": h.user_memory_mb - h.free_memory_mb,
                "freeMB": h.free_memory_mb,
                "inFlight": h.in_flight,
                "queued": h.queued,
                "containers": dict(sorted(h.containers.items())),
                "incarnation": h.incarnation,
                "ledgerFrom": {str(p): o for p, o in sorted(h.ledger_from.items())},
                "lastHeardMs": max(0, now - record.seen_ms),
            }
        )
    return out


async def list_invokers(request: web.Request) -> web.Response:
    c = ctx(request)
    await c.auth.identify_admin(request)
    return json_response(rows(c.invocations.placer.registry, now_ms()))
