"""The aiohttp application: routes, error translation, and start-up/shut-down."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from api import (
    actions,
    activations,
    feeds,
    info,
    invokers,
    ledgerview,
    namespaces,
    openapi,
    packages,
    rerun,
    rules,
    triggers,
)
from api import web as web_actions
from api.accept import Invocations
from api.auth import Authenticator
from api.context import CONTEXT, Context, ctx
from api.dashboard import dashboard_routes
from api.entities import EntityStore
from api.errors import APIError, error_response, unavailable
from api.ledger import Ledger
from api.placer import Placer
from api.requests import ClientClosed, json_response
from api.sequences import Sequences
from store.couch import Couch, StoreUnavailable
from streams import constants, gctune
from streams.errors import LedgerUnavailable
from streams.heartbeats import HealthTail
from streams.messages import (
    INTERNAL,
    METHOD_NOT_ALLOWED,
    REQUEST_UNREADABLE,
    RESOURCE_DOES_NOT_EXIST,
)
from streams.registry import HeartbeatRegistry
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NS = "/api/v1/namespaces/{namespace}"


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
    except (StoreUnavailable, LedgerUnavailable) as exc:
        return unavailable(exc)
    except web.HTTPException:
        raise
    except ClientClosed as exc:
        # pekko: a truncated entity stream is the client's abort; nothing was done.
        log.info("%s %s: %s", request.method, request.path, exc)
        return error_response(400, REQUEST_UNREADABLE.format(detail=exc))
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, INTERNAL)


# OpenWhisk's REST API sends these with every answer under /api/v1 and answers any
# OPTIONS there with 200 (RestAPIs.scala ``routes``: ``sendCorsHeaders``, ``options {
# complete(OK) }``; CorsSettings.scala ``RestAPIs``), so browser clients can call it.
# Web actions send their own (api/web.py ``CORS``, or the action's answer).
REST_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent"
    ),
    "Access-Control-Allow-Methods": "GET, DELETE, POST, PUT, HEAD",
}
API_PREFIX = "/api/v1"
WEB_PREFIX = "/api/v1/web/"


def is_rest_api(path: str) -> bool:
    return (path == API_PREFIX or path.startswith(API_PREFIX + "/")) and not path.startswith(
        WEB_PREFIX
    )


@web.middleware
async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A browser's preflight (``OPTIONS``, no credentials) anywhere in the REST API: 200."""
    if request.method == "OPTIONS" and is_rest_api(request.path):
        return web.Response(text="OK")
    return await handler(request)


async def cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every REST API answer carries OpenWhisk's CORS headers (event streams too)."""
    if is_rest_api(request.path):
        for name, value in REST_CORS.items():
            response.headers.setdefault(name, value)


async def root_info(request: web.Request) -> web.Response:
    return json_response(info.root_info(ctx(request).settings))


async def api_info(request: web.Request) -> web.Response:
    return json_response(info.api_info())


# -- routes, one group per concept ----------------------------------------------
def namespace_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", root_info)
    router.add_get("/api/v1", api_info)
    router.add_get("/api/v1/", api_info)
    router.add_get("/api/v1/api-docs", openapi.serve)
    router.add_get("/api/v1/namespaces", namespaces.list_namespaces)
    router.add_get("/api/v1/namespaces/", namespaces.list_namespaces)
    router.add_get(NS + "/limits", namespaces.get_limits)


def action_routes(router: web.UrlDispatcher) -> None:
    router.add_get(NS + "/actions", actions.list_actions)
    router.add_get(NS + "/actions/", actions.list_actions)
    router.add_get(NS + "/actions/{package}/", actions.list_package_actions)
    for path in (NS + "/actions/{name}", NS + "/actions/{package}/{name}"):
        router.add_put(path, actions.put_action)
        router.add_get(path, actions.get_action)
        router.add_delete(path, actions.delete_action)
        router.add_post(path, actions.invoke_action)


def package_routes(router: web.UrlDispatcher) -> None:
    router.add_get(NS + "/packages", packages.list_packages)
    router.add_get(NS + "/packages/", packages.list_packages)
    router.add_put(NS + "/packages/{name}", packages.put_package)
    router.add_get(NS + "/packages/{name}", packages.get_package)
    router.add_delete(NS + "/packages/{name}", packages.delete_package)


def trigger_routes(router: web.UrlDispatcher) -> None:
    router.add_get(NS + "/triggers", triggers.list_triggers)
    router.add_get(NS + "/triggers/", triggers.list_triggers)
    router.add_put(NS + "/triggers/{name}", triggers.put_trigger)
    router.add_get(NS + "/triggers/{name}", triggers.get_trigger)
    router.add_delete(NS + "/triggers/{name}", triggers.delete_trigger)
    router.add_post(NS + "/triggers/{name}", triggers.fire_trigger)


def rule_routes(router: web.UrlDispatcher) -> None:
    router.add_get(NS + "/rules", rules.list_rules)
    router.add_get(NS + "/rules/", rules.list_rules)
    router.add_put(NS + "/rules/{name}", rules.put_rule)
    router.add_get(NS + "/rules/{name}", rules.get_rule)
    router.add_delete(NS + "/rules/{name}", rules.delete_rule)
    router.add_post(NS + "/rules/{name}", rules.set_rule_status)


def activation_routes(router: web.UrlDispatcher) -> None:
    activation = NS + "/activations/{activation_id}"
    router.add_get(NS + "/activations", activations.list_activations)
    router.add_get(NS + "/activations/", activations.list_activations)
    router.add_get(activation, activations.get_activation)
    router.add_get(activation + "/", activations.get_activation)
    router.add_get(activation + "/logs", activations.get_logs)
    router.add_get(activation + "/result", activations.get_result)


def ledger_routes(router: web.UrlDispatcher) -> None:
    """The ledger users can see: history, live streams, re-runs (ledgerview.py, rerun.py)."""
    activation = NS + "/activations/{activation_id}"
    router.add_get(activation + "/events", ledgerview.activation_events)
    router.add_post(activation + "/rerun", rerun.rerun_activation)
    router.add_post(activation + "/replay", rerun.rerun_activation)  # its first name
    router.add_get(NS + "/events", ledgerview.stream_events)


def feed_routes(router: web.UrlDispatcher) -> None:
    """The catalog's feed actions perform their lifecycle events here (api/feeds.py)."""
    router.add_post("/api/v1/feeds", feeds.handle)


def web_action_routes(router: web.UrlDispatcher) -> None:
    router.add_route("*", "/api/v1/web/{namespace}/{package}/{rest:.+}", web_actions.handle)


ROUTE_GROUPS = [
    namespace_routes,
    action_routes,
    package_routes,
    trigger_routes,
    rule_routes,
    activation_routes,
    ledger_routes,
    feed_routes,
    web_action_routes,
    dashboard_routes,
]


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[preflight, errors], client_max_size=constants.REQUEST_MAX_BYTES
    )
    app.on_response_prepare.append(cors_headers)
    for group in ROUTE_GROUPS:
        group(app.router)
    app.on_shutdown.append(ledgerview.close_streams)
    app.router.add_get(invokers.PATH, invokers.list_invokers)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        couch = Couch(settings)
        ledger = Ledger(settings)
        await ledger.start()
        # The invokers as heartbeats tell them: where first attempts go, and
        # what /api/v1/admin/invokers shows.
        registry = HeartbeatRegistry(offline_after_ms=int(settings.invoker_offline_after_s * 1000))
        health = HealthTail(settings, registry)
        health.start()
        entities = EntityStore(couch, settings)
        placer = Placer(
            registry,
            share=1 / max(1, settings.api_instances),
            overcommit=max(1.0, settings.api_overcommit),
        )
        invocations = Invocations(settings, ledger, placer)
        invocations.sequences = Sequences(entities, invocations)
        app[CONTEXT] = Context(
            settings=settings,
            couch=couch,
            auth=Authenticator(couch, settings),
            entities=entities,
            ledger=ledger,
            invocations=invocations,
        )
        yield
        await health.stop()
        await ledger.stop()
        await couch.close()

    app.cleanup_ctx.append(lifecycle)
    app.on_startup.append(_settle)
    return app


async def _settle(_app: web.Application) -> None:
    gctune.settle()  # after the start-up above: what it made lives as long as the app
