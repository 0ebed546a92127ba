"""Namespace handlers: the caller's namespaces and their limits."""

from __future__ import annotations

from typing import Any

from aiohttp import web

import runtimes
from api import userlimits
from api.auth import namespace_for
from api.context import ctx
from api.requests import json_response
from api.throttle import Allowances
from streams import constants


def limits_document(allowed: Allowances, kinds: list[str] | None = None) -> dict[str, Any]:
    """``GET .../limits``: OpenWhisk's ``UserLimits`` with every value filled in (pure).

    ``kinds`` is the namespace's ``allowedKinds`` (shown as set, as OpenWhisk's
    ``Limits.scala`` shows them); None shows every kind of the platform.
    """
    return {
        "invocationsPerMinute": allowed.invocations_per_minute,
        "concurrentInvocations": allowed.concurrent,
        "firesPerMinute": allowed.fires_per_minute,
        "allowedKinds": (
            list(kinds) if kinds is not None else sorted(k.name for k in runtimes.canonical_kinds())
        ),
        "minActionMemory": constants.MEMORY_MIN_MB,
        "maxActionMemory": constants.MEMORY_MAX_MB,
        "minActionLogs": constants.LOGS_MIN_MB,
        "maxActionLogs": constants.LOGS_MAX_MB,
        "minActionTimeout": constants.TIMEOUT_MIN_MS,
        "maxActionTimeout": constants.TIMEOUT_MAX_MS,
        "minActionConcurrency": constants.CONCURRENCY_MIN,
        "maxActionConcurrency": constants.CONCURRENCY_MAX,
        "maxParameterSize": f"{constants.PARAMS_MAX_BYTES // (1024 * 1024)} MB",
        "maxPayloadSize": f"{constants.PAYLOAD_MAX_BYTES // (1024 * 1024)} MB",
        "maxActionInstances": allowed.concurrent,
    }


async def list_namespaces(request: web.Request) -> web.Response:
    """The namespace the caller's key belongs to, by its real name (never ``_``)."""
    identity = await ctx(request).auth.identify(request)
    return json_response([identity.namespace])


async def get_limits(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace_for(identity, request)
    allowed = c.invocations.allowances(identity)
    return json_response(limits_document(allowed, userlimits.allowed_kinds(identity.limits)))
