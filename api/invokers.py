"""``GET /api/v1/admin/invokers``: the invokers as this API instance hears them.

Each API instance reads the invoker-health topic into its own registry (the
same code and states as the controller: ``streams.registry``), so the answer
needs no controller and no extra table. Only administrators may read it (the
system namespace's subject, or one created with ``lwsk admin user create
--admin``): it shows the platform's machines, pids and hosts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from api.context import ctx
from api.requests import json_response
from streams.heartbeats import HealthTail
from streams.ids import now_ms
from streams.registry import HeartbeatRegistry, InvokerRegistry
from streams.settings import Settings

PATH = "/api/v1/admin/invokers"
TAIL = web.AppKey("invoker_health_tail", HealthTail)


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
                "incarnation": h.incarnation,
                "dispatchFrom": h.dispatch_from,
                "lastHeardMs": max(0, now - record.seen_ms),
            }
        )
    return out


async def list_invokers(request: web.Request) -> web.Response:
    await ctx(request).auth.identify_admin(request)
    tail = request.app[TAIL]
    return json_response(rows(tail.registry, now_ms()))


def install(app: web.Application, settings: Settings) -> None:
    """Add the route, and the health reader that lives as long as the app."""
    app.router.add_get(PATH, list_invokers)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        registry = HeartbeatRegistry(offline_after_ms=int(settings.invoker_offline_after_s * 1000))
        tail = HealthTail(settings, registry)
        tail.start()
        app[TAIL] = tail
        yield
        await tail.stop()

    app.cleanup_ctx.append(lifecycle)
