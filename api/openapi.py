"""``/api/v1/api-docs``: an OpenAPI 3 description of Ledgerwhisk's API, built from one table.

It describes OpenWhisk's API v1 as Ledgerwhisk serves it, and marks what is
ours with ``x-ledgerwhisk`` (``?count=true`` on every list, the activation id
header, the per-namespace limits document, the ledger view of activations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from aiohttp import web

from api.requests import json_response

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Op:
    """One operation: method, path (under ``/api/v1``), summary, tag, query parameters."""

    method: str
    path: str
    summary: str
    tag: str
    query: tuple[str, ...] = ()
    body: str | None = None
    responses: tuple[int, ...] = (200, 401)
    extra: JsonDict = field(default_factory=dict)


QUERY: dict[str, JsonDict] = {
    "limit": {"type": "integer", "minimum": 0, "maximum": 200, "default": 30},
    "skip": {"type": "integer", "minimum": 0, "default": 0},
    "count": {"type": "boolean"},
    "overwrite": {"type": "boolean"},
    "blocking": {"type": "boolean"},
    "result": {"type": "boolean"},
    "timeout": {"type": "integer", "minimum": 1, "maximum": 60000},
    "code": {"type": "boolean", "default": True},
    "force": {"type": "boolean"},
    "docs": {"type": "boolean"},
    "name": {"type": "string"},
    "since": {
        "description": "milliseconds since the epoch; /events also takes an ISO time, "
        "a relative time such as 10m, offsets such as 0:12,1:40, earliest or now"
    },
    "upto": {"type": "integer", "description": "milliseconds since the epoch"},
    "action_version": {"type": "string", "enum": ["original", "current"], "default": "original"},
    "action": {"type": "string", "description": "only this action's events"},
    "activation": {"type": "string", "description": "only this activation's events"},
    "types": {"type": "string", "description": "comma-separated: accepted,scheduled,..."},
    "heartbeat": {"type": "integer", "description": "seconds between heartbeat comments"},
}
LIST = ("limit", "skip", "count")
NS = "/namespaces/{namespace}"
ACTION_PATHS = (NS + "/actions/{actionName}", NS + "/actions/{packageName}/{actionName}")

OPS: tuple[Op, ...] = (
    Op("get", "/namespaces", "The caller's namespaces", "Namespaces"),
    Op("get", NS + "/limits", "The namespace's limits and throttles", "Limits"),
    Op("get", NS + "/actions", "List actions", "Actions", LIST),
    Op("get", NS + "/actions/{packageName}/", "List the actions of a package", "Actions", LIST),
    *(
        op
        for path in ACTION_PATHS
        for op in (
            Op("get", path, "Get an action", "Actions", ("code",), responses=(200, 401, 403, 404)),
            Op(
                "put",
                path,
                "Create or update an action",
                "Actions",
                ("overwrite",),
                "ActionPut",
                (200, 400, 401, 403, 409, 413),
            ),
            Op("delete", path, "Delete an action", "Actions", responses=(200, 401, 403, 404)),
            Op(
                "post",
                path,
                "Invoke an action",
                "Actions",
                ("blocking", "result", "timeout"),
                "Payload",
                (200, 202, 400, 401, 403, 404, 413, 429, 500, 502, 503),
            ),
        )
    ),
    Op(
        "get",
        NS + "/packages",
        "List packages (another namespace: its public ones)",
        "Packages",
        LIST,
    ),
    Op(
        "get",
        NS + "/packages/{packageName}",
        "Get a package",
        "Packages",
        responses=(200, 401, 403, 404),
    ),
    Op(
        "put",
        NS + "/packages/{packageName}",
        "Create or update a package or binding",
        "Packages",
        ("overwrite",),
        "PackagePut",
        (200, 400, 401, 403, 409),
    ),
    Op(
        "delete",
        NS + "/packages/{packageName}",
        "Delete a package",
        "Packages",
        ("force",),
        responses=(200, 401, 404, 409),
    ),
    Op("get", NS + "/triggers", "List triggers", "Triggers", LIST),
    Op(
        "get",
        NS + "/triggers/{triggerName}",
        "Get a trigger",
        "Triggers",
        responses=(200, 401, 404),
    ),
    Op(
        "put",
        NS + "/triggers/{triggerName}",
        "Create or update a trigger",
        "Triggers",
        ("overwrite",),
        "TriggerPut",
        (200, 400, 401, 409),
    ),
    Op("delete", NS + "/triggers/{triggerName}", "Delete a trigger", "Triggers"),
    Op(
        "post",
        NS + "/triggers/{triggerName}",
        "Fire a trigger",
        "Triggers",
        body="Payload",
        responses=(202, 204, 401, 404, 429),
    ),
    Op("get", NS + "/rules", "List rules (with their status)", "Rules", LIST),
    Op("get", NS + "/rules/{ruleName}", "Get a rule", "Rules", responses=(200, 401, 404)),
    Op(
        "put",
        NS + "/rules/{ruleName}",
        "Create or update a rule",
        "Rules",
        ("overwrite",),
        "RulePut",
        (200, 400, 401, 403, 409),
    ),
    Op("delete", NS + "/rules/{ruleName}", "Delete a rule", "Rules"),
    Op(
        "post",
        NS + "/rules/{ruleName}",
        "Enable or disable a rule",
        "Rules",
        body="RuleStatus",
        responses=(200, 400, 401, 404),
    ),
    Op(
        "get",
        NS + "/activations",
        "List activations",
        "Activations",
        ("limit", "skip", "count", "docs", "name", "since", "upto"),
        responses=(200, 400, 401, 403),
    ),
    Op("get", NS + "/activations/{activationId}", "Get an activation", "Activations"),
    Op("get", NS + "/activations/{activationId}/logs", "An activation's logs", "Activations"),
    Op("get", NS + "/activations/{activationId}/result", "An activation's result", "Activations"),
    Op(
        "get",
        NS + "/activations/{activationId}/events",
        "Every ledger event of an activation, read from the log (Ledgerwhisk)",
        "Ledger",
    ),
    Op(
        "post",
        NS + "/activations/{activationId}/rerun",
        "Run an activation again with its recorded parameters (Ledgerwhisk)",
        "Ledger",
        ("action_version", "blocking", "result", "timeout"),
        responses=(200, 202, 400, 401, 404, 409, 429, 502),
    ),
    Op(
        "post",
        NS + "/activations/{activationId}/replay",
        "The first name of .../rerun, kept for the clients that use it (Ledgerwhisk)",
        "Ledger",
        ("action_version", "blocking", "result", "timeout"),
        responses=(200, 202, 400, 401, 404, 409, 429, 502),
    ),
    Op(
        "get",
        NS + "/events",
        "Live ledger events as Server-Sent Events, with history from `since` (Ledgerwhisk)",
        "Ledger",
        ("action", "activation", "types", "since", "heartbeat"),
        responses=(200, 400, 401, 403),
    ),
    *(
        Op(
            method,
            "/web/{namespace}/{packageName}/{actionName}.{extension}",
            "Call a web action (extension: http, json, html, svg, text)",
            "Web actions",
            responses=(200, 202, 204, 400, 401, 404, 413, 429),
        )
        for method in ("get", "post", "put", "delete", "patch", "options")
    ),
    Op(
        "get",
        "/admin/invokers",
        "The invokers as this API instance hears them: state, pid, host, memory, "
        "in flight (Ledgerwhisk)",
        "Admin",
    ),
    Op(
        "post",
        "/feeds",
        "One lifecycle event of a feed (CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE), "
        "as the catalog's feed actions send it (Ledgerwhisk)",
        "Feeds",
        body="FeedEvent",
        responses=(200, 400, 401, 403, 404, 409),
    ),
    Op("get", "/api-docs", "This description", "Meta"),
)

KEY_VALUES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["key", "value"],
        "properties": {"key": {"type": "string"}, "value": {}, "init": {"type": "boolean"}},
    },
}
SCHEMAS: JsonDict = {
    "ErrorMessage": {
        "type": "object",
        "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
    },
    "Payload": {"type": "object", "additionalProperties": True},
    "FeedEvent": {
        "type": "object",
        "required": ["feed", "lifecycleEvent", "triggerName"],
        "properties": {
            "feed": {"type": "string", "example": "/whisk.system/alarms/alarm"},
            "lifecycleEvent": {
                "type": "string",
                "enum": ["CREATE", "READ", "UPDATE", "DELETE", "PAUSE", "UNPAUSE"],
            },
            "triggerName": {"type": "string", "example": "/_/tick"},
            "cause": {"type": "string", "description": "the feed action's activation id"},
        },
        "additionalProperties": True,
    },
    "KeyValues": KEY_VALUES,
    "ActionPut": {
        "type": "object",
        "properties": {
            "exec": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "example": "python:3.11"},
                    "code": {"type": "string"},
                    "main": {"type": "string"},
                    "binary": {"type": "boolean"},
                    "image": {"type": "string"},
                    "components": {"type": "array", "items": {"type": "string"}},
                },
            },
            "parameters": {"$ref": "#/components/schemas/KeyValues"},
            "annotations": {"$ref": "#/components/schemas/KeyValues"},
            "limits": {
                "type": "object",
                "properties": {
                    "timeout": {"type": "integer", "minimum": 100, "maximum": 300000},
                    "memory": {"type": "integer", "minimum": 128, "maximum": 512},
                    "logs": {"type": "integer", "minimum": 0, "maximum": 10},
                    "concurrency": {"type": "integer", "minimum": 1, "maximum": 500},
                },
            },
            "version": {"type": "string"},
            "publish": {"type": "boolean"},
        },
    },
    "PackagePut": {
        "type": "object",
        "properties": {
            "binding": {
                "type": "object",
                "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}},
            },
            "parameters": {"$ref": "#/components/schemas/KeyValues"},
            "annotations": {"$ref": "#/components/schemas/KeyValues"},
            "publish": {"type": "boolean"},
        },
    },
    "TriggerPut": {
        "type": "object",
        "properties": {
            "parameters": {"$ref": "#/components/schemas/KeyValues"},
            "annotations": {"$ref": "#/components/schemas/KeyValues"},
        },
    },
    "RulePut": {
        "type": "object",
        "properties": {
            # "/ns/name", "ns/pkg/name", or the {"path", "name"} the API answers.
            "trigger": {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/PathName"}]},
            "action": {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/PathName"}]},
        },
    },
    "PathName": {
        "type": "object",
        "properties": {"path": {"type": "string"}, "name": {"type": "string"}},
        "required": ["path", "name"],
    },
    "RuleStatus": {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["active", "inactive"]}},
    },
}
DESCRIPTIONS = {
    200: "OK",
    202: "Accepted: the activation id",
    204: "No content (a trigger with no active rule)",
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Request entity too large",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal error",
    502: "The action failed",
    503: "Service unavailable",
}
ADDITIONS = {
    "count": "Ledgerwhisk answers ?count=true on every list, as on activations.",
    "header": "Invocations answer the x-openwhisk-activation-id header.",
    "ledger": "Every activation is an event-sourced ledger entry; records are projections.",
}


def path_params(path: str) -> list[JsonDict]:
    names = [part[1:-1] for part in path.replace(".", "/").split("/") if part.startswith("{")]
    return [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names
    ]


def operation(op: Op) -> JsonDict:
    params = path_params(op.path) + [
        {"name": q, "in": "query", "required": False, "schema": QUERY[q]} for q in op.query
    ]
    out: JsonDict = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{op.method}{op.path}".replace("/", "_").replace("{", "").replace("}", ""),
        "parameters": params,
        "responses": {
            str(code): (
                {"description": DESCRIPTIONS[code]}
                if code in (200, 202, 204)
                else {
                    "description": DESCRIPTIONS[code],
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorMessage"}
                        }
                    },
                }
            )
            for code in op.responses
        },
    }
    if op.body:
        out["requestBody"] = {
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.body}"}}}
        }
    if "count" in op.query:
        out["x-ledgerwhisk"] = ADDITIONS["count"]
    if op.method == "post" and op.tag == "Actions":
        out["x-ledgerwhisk"] = ADDITIONS["header"]
    return out


@lru_cache(maxsize=1)
def document() -> JsonDict:
    """The OpenAPI document (pure, built once)."""
    paths: dict[str, JsonDict] = {}
    for op in OPS:
        paths.setdefault(op.path, {})[op.method] = operation(op)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Ledgerwhisk REST API",
            "version": "1.0.0",
            "description": (
                "OpenWhisk's API v1, served by Ledgerwhisk. " + " ".join(ADDITIONS.values())
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"basicAuth": []}],
        "tags": [{"name": t} for t in dict.fromkeys(op.tag for op in OPS)],
        "paths": paths,
        "components": {
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
            "schemas": SCHEMAS,
        },
    }


async def serve(request: web.Request) -> web.Response:
    return json_response(document())
