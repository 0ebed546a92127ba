"""The aiohttp application: routes, error translation, and start-up/shut-down."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from api import actions, activations, invokers
from api.auth import Authenticator
from api.context import CONTEXT, Context, ctx
from api.entities import EntityStore
from api.errors import (
    INTERNAL,
    METHOD_NOT_ALLOWED,
    RESOURCE_DOES_NOT_EXIST,
    SERVICE_DOWN,
    APIError,
    error_response,
)
from api.ledger import Ledger
from api.requests import json_response
from projections.couch import Couch, StoreUnavailable
from streams.errors import LedgerUnavailable
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as OpenWhisk's error body; nothing raw reaches the client."""
    try:
        return await handler(request)
    except APIError as exc:
        return error_response(exc.status, exc.message)
    except web.HTTPMethodNotAllowed:
        return error_response(405, METHOD_NOT_ALLOWED)
    except web.HTTPNotFound:
        return error_response(404, RESOURCE_DOES_NOT_EXIST)
    except web.HTTPRequestEntityTooLarge as exc:
        return error_response(413, exc.text or "Request entity too large.")
    except StoreUnavailable as exc:
        log.warning("CouchDB unavailable: %s", exc)
        return error_response(503, SERVICE_DOWN.format(component="CouchDB", cause=exc))
    except LedgerUnavailable as exc:
        log.warning("Kafka unavailable: %s", exc)
        return error_response(503, SERVICE_DOWN.format(component="Kafka", cause=exc))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, INTERNAL)


async def list_namespaces(request: web.Request) -> web.Response:
    identity = await ctx(request).auth.identify(request)
    return json_response([identity.namespace])


async def api_info(request: web.Request) -> web.Response:
    return json_response({"description": "Ledgerwhisk", "api_paths": ["/api/v1"]})


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[errors], client_max_size=64 * 1024 * 1024)
    base = "/api/v1/namespaces/{namespace}"
    action = base + "/actions/{name}"
    package_action = base + "/actions/{package}/{name}"
    activation = base + "/activations/{activation_id}"
    app.router.add_get("/api/v1", api_info)
    app.router.add_get("/api/v1/namespaces", list_namespaces)
    app.router.add_get(base + "/actions", actions.list_actions)
    for path in (action, package_action):
        app.router.add_put(path, actions.put_action)
        app.router.add_get(path, actions.get_action)
        app.router.add_delete(path, actions.delete_action)
        app.router.add_post(path, actions.invoke_action)
    app.router.add_get(base + "/activations", activations.list_activations)
    app.router.add_get(activation, activations.get_activation)
    app.router.add_get(activation + "/logs", activations.get_logs)
    app.router.add_get(activation + "/result", activations.get_result)
    invokers.install(app, settings)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        couch = Couch(settings)
        ledger = Ledger(settings)
        await ledger.start()
        app[CONTEXT] = Context(
            settings=settings,
            couch=couch,
            auth=Authenticator(couch, settings),
            entities=EntityStore(couch, settings),
            ledger=ledger,
        )
        yield
        await ledger.stop()
        await couch.close()

    app.cleanup_ctx.append(lifecycle)
    return app
