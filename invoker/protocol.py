"""What the invoker sends an action proxy, and the size its ``completed`` may have. No I/O here.

``/init`` gets the action's code once per container; ``/run`` gets the
parameters and the activation's context, which the proxies export as the
``__OW_*`` environment OpenWhisk gives every activation.
"""

from __future__ import annotations

import json
from typing import Any

from streams import constants
from streams.completion import error_response
from streams.events import ActivationAccepted, ActivationCompleted, encode
from streams.messages import LOGS_TRUNCATED, RESULT_TOO_LARGE


def init_names(action: dict[str, Any]) -> frozenset[str]:
    """The action's parameters created with ``"init": true`` (OpenWhisk's ``initParameters``)."""
    return frozenset(
        p["key"] for p in action.get("parameters") or [] if isinstance(p, dict) and p.get("init")
    )


def init_args(accepted: ActivationAccepted, action: dict[str, Any]) -> frozenset[str]:
    """The parameters ``/init`` gets as environment: those the API named on the
    acceptance (the action's, its package's and binding's, OpenWhisk's
    ``ActivationMessage.initArgs``), or, for an acceptance written before it
    named them, the action document's own."""
    if accepted.init_args is not None:
        return frozenset(accepted.init_args)
    return init_names(action)


def init_payload(
    accepted: ActivationAccepted,
    action: dict[str, Any],
    api_host: str,
    api_key: str | None,
    deadline_ms: int,
) -> dict[str, Any]:
    """The body of ``POST /init`` for the action document ``action``.

    Its ``env`` is what the proxy exports before it loads the code: the
    parameters created with ``"init": true`` under their own names (each value
    a string: ``env_text``), then the activation's ``__OW_*`` context
    (``__OW_API_KEY`` only when given), as OpenWhisk's ContainerProxy.scala
    ``initializeAndRun`` sends them.
    """
    exec_ = action.get("exec", {})
    names = init_args(accepted, action)
    params = accepted.params if isinstance(accepted.params, dict) else {}
    env: dict[str, Any] = {k: env_text(v) for k, v in params.items() if k in names}
    context = _context(accepted, api_host, api_key, deadline_ms)
    env.update({"__OW_" + k.upper(): v for k, v in context.items()})
    return {
        "value": {
            "name": accepted.action_name,
            "main": exec_.get("main") or "main",
            "code": exec_.get("code") or "",
            "binary": bool(exec_.get("binary", False)),
            "env": env,
        }
    }


def env_text(value: Any) -> str:
    """An ``init`` parameter's value as the environment variable's text, as OpenWhisk's
    ``WhiskAction.containerInitializer`` gives it: a string as it is, ``null`` as ``""``,
    anything else as compact JSON (``[1,"a",{"b":null}]``, ``true``, ``4.5``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def provides_api_key(action: dict[str, Any]) -> bool:
    """Whether the action's activations see ``__OW_API_KEY``.

    OpenWhisk's ``isTruthy(provide-api-key, valueForNonExistent = true)``
    (Parameter.scala): a missing annotation gives the key, as for actions made
    before the API stored ``false`` on every new one; ``false``, ``0``, ``""``
    and ``null`` withhold it.
    """
    for annotation in action.get("annotations") or []:
        if annotation.get("key") == constants.ANNOTATION_PROVIDE_API_KEY:
            return _truthy(annotation.get("value"))
    return True


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value != ""
    return value is not None


def _context(
    accepted: ActivationAccepted, api_host: str, api_key: str | None, deadline_ms: int
) -> dict[str, str]:
    """The activation's context, each key ``__OW_<KEY>`` in the action's environment."""
    context = {
        "activation_id": accepted.activation_id,
        "namespace": accepted.namespace.split("/")[0],
        "action_name": f"/{accepted.action}",
        "action_version": accepted.action_version,
        "deadline": str(deadline_ms),
        "api_host": api_host,
        "transaction_id": accepted.activation_id,
    }
    if api_key:
        context["api_key"] = api_key
    return context


def run_payload(
    accepted: ActivationAccepted,
    api_host: str,
    api_key: str | None,
    deadline_ms: int,
    init: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The body of ``POST /run``: every key but ``value`` becomes ``__OW_<KEY>`` in the action.

    Parameters named in ``init`` went to ``/init`` as environment and are
    not ``main``'s (OpenWhisk's ``ContainerProxy.partitionArguments``).
    """
    params = accepted.params
    if init and isinstance(params, dict):  # an array is passed on whole (partitionArguments)
        params = {k: v for k, v in params.items() if k not in init}
    return {"value": params, **_context(accepted, api_host, api_key, deadline_ms)}


def fit(event: ActivationCompleted, max_bytes: int, stamp: str) -> ActivationCompleted:
    """The event, cut to at most ``max_bytes`` on the wire so the ledger accepts it.

    Results and logs are capped long before this (1 MB, the action's log
    limit), but escaping can grow text: then the last log lines give way to a
    truncation line (stamped ``stamp``), and if that is not enough the result
    becomes a developer error saying how large it was.
    """
    size = len(encode(event))
    if size <= max_bytes:
        return event
    costs = [len(json.dumps(line, ensure_ascii=False).encode()) + 1 for line in event.logs]
    note = f"{stamp} stderr: {LOGS_TRUNCATED.format(limit=max_bytes)}"
    room = max_bytes - (size - sum(costs)) - len(note.encode()) - 8
    kept = 0
    while kept < len(costs) and costs[kept] <= room:
        room -= costs[kept]
        kept += 1
    logs = [*event.logs[:kept], note]
    cut = event.model_copy(update={"logs": logs})
    if len(encode(cut)) <= max_bytes:
        return cut
    size = event.response.size or len(encode(event))
    message = RESULT_TOO_LARGE.format(size=size, limit=constants.RESULT_MAX_BYTES)
    response = error_response(constants.STATUS_DEVELOPER_ERROR, message)
    return event.model_copy(update={"logs": [note], "response": response})
