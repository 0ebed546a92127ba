"""``/dashboard``: a live view of one namespace, served by the API (routes and assets)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from api.context import ctx
from api.invokers import rows
from api.requests import json_response
from streams.ids import now_ms

PATH = "/dashboard"
ASSETS = Path(__file__).parent
# What a subject may see of the invokers (no pid, host or log positions: those
# are the administrators', at /api/v1/admin/invokers).
INVOKER_FIELDS = (
    "id",
    "state",
    "memoryMB",
    "usedMB",
    "freeMB",
    "inFlight",
    "queued",
    "containers",
    "lastHeardMs",
)
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


async def page(_request: web.Request) -> web.FileResponse:
    """The page itself: it asks for the key and reads the API with it (nothing is served
    here that a key would protect)."""
    return web.FileResponse(ASSETS / "index.html", headers={"Cache-Control": "no-cache"})


async def asset(request: web.Request) -> web.FileResponse:
    """One of the page's files: ``dashboard.js``, ``dashboard.css``, ``vendor/uPlot...``."""
    name = request.match_info["name"]
    path = (ASSETS / name).resolve()
    if ASSETS.resolve() not in path.parents or path.suffix not in CONTENT_TYPES:
        raise web.HTTPNotFound()
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": CONTENT_TYPES[path.suffix]})


async def invokers(request: web.Request) -> web.Response:
    """The invokers as any subject may see them: state, memory and activations in flight."""
    c = ctx(request)
    await c.auth.identify(request)
    return json_response(
        [
            {k: row[k] for k in INVOKER_FIELDS}
            for row in rows(c.invocations.placer.registry, now_ms())
        ]
    )


def dashboard_routes(router: web.UrlDispatcher) -> None:
    router.add_get(PATH, page)
    router.add_get(PATH + "/invokers", invokers)
    router.add_get(PATH + "/static/{name:.+}", asset)
