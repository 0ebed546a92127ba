"""The feed protocol as ``wsk`` drives it, for ``lwsk trigger create --feed``, ``get``,
``update`` and ``delete``.

Independent of the command-line parser: each function takes anything with
``call(method, path, body, query) -> (status, answer)`` (``api/cli/client.py``
``Client``) and the caller's key, so another front end can call them as they are.

``wsk`` (openwhisk-cli ``commands/trigger.go``): ``trigger create T --feed F
-p k v`` creates ``T`` annotated ``feed: F`` (the parameters go to the feed,
not the trigger), then invokes ``F`` blocking with ``lifecycleEvent: CREATE``,
``triggerName: /ns/T``, ``authKey`` and the parameters; if that fails, it
deletes ``T`` again (``api/cli/triggers.py`` ``create``). ``trigger delete T``
invokes the feed with ``DELETE`` first when ``T`` has one, then deletes ``T``.
``trigger get T`` of a trigger with a feed invokes it with ``READ`` and shows
that activation instead of ``T``; ``trigger update T -p k v`` invokes it with
``UPDATE`` and the parameters instead of writing them on ``T``.
"""

from __future__ import annotations

from typing import Any, Protocol

from api.cli.errors import EXIT_GENERAL, CLIError, http_exit


class Caller(Protocol):
    def call(
        self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> tuple[int, Any]: ...


def feed_of(trigger: Any) -> str | None:
    """The feed action a trigger document names in its ``feed`` annotation, if any."""
    annotations = trigger.get("annotations") if isinstance(trigger, dict) else None
    for a in annotations or []:
        if a.get("key") == "feed" and isinstance(a.get("value"), str):
            return str(a["value"])
    return None


def feed_action_path(feed: str) -> str:
    """``/whisk.system/alarms/alarm`` → ``namespaces/whisk.system/actions/alarms/alarm``."""
    parts = feed.strip("/").split("/")
    if len(parts) < 2:
        raise CLIError(
            f"'{feed}' is not a fully qualified feed action name (/namespace/package/action)"
        )
    return f"namespaces/{parts[0]}/actions/{'/'.join(parts[1:])}"


def call_feed(
    client: Caller, auth_key: str, feed: str, event: str, trigger: str, params: dict[str, Any]
) -> tuple[int, Any]:
    """Invoke the feed action blocking for one lifecycle event on ``trigger`` (``name`` or
    ``/ns/name``), as wsk's ``feedParameters`` builds the call: ``(status, answer)``, the
    answer the activation (200, 502) or the API's error body. ``CLIError`` only when the
    API cannot be reached."""
    name = trigger if trigger.startswith("/") else f"/_/{trigger}"
    body = {**params, "lifecycleEvent": event, "triggerName": name, "authKey": auth_key}
    return client.call("POST", feed_action_path(feed), body, {"blocking": True})


def is_activation(answer: Any) -> bool:
    return isinstance(answer, dict) and "activationId" in answer and "response" in answer


def invoke_feed(
    client: Caller, auth_key: str, feed: str, event: str, trigger: str, params: dict[str, Any]
) -> Any:
    """Invoke the feed action for one lifecycle event on ``trigger`` (``name`` or
    ``/ns/name``); its result, or ``CLIError`` with the feed's own error text and wsk's
    exit code (the invoke's HTTP status less 256: 246 for a feed that refused)."""
    status, answer = call_feed(client, auth_key, feed, event, trigger, params)
    response = answer.get("response") if isinstance(answer, dict) else None
    if status == 200 and isinstance(response, dict) and response.get("success"):
        return response.get("result")
    raise refusal(feed, event, status, answer)


def refusal(feed: str, event: str, status: int, answer: Any) -> CLIError:
    """The one-line error of a feed invoke that did not succeed, with wsk's exit code
    (trigger.go ``createFeed``/``configureFeed`` keep the invoke's error: the HTTP status
    less 256, 148 for a feed that does not exist, 246 for one that refused)."""
    response = answer.get("response") if isinstance(answer, dict) else None
    result = response.get("result") if isinstance(response, dict) else None
    error = result.get("error") if isinstance(result, dict) else None
    if error is None and isinstance(answer, dict):
        error = answer.get("error")
    return CLIError(
        f"the feed {feed} refused {event}: {error or answer} (HTTP {status})",
        http_exit(status) if status >= 400 else EXIT_GENERAL,
    )


def delete_feed_of(client: Caller, auth_key: str, trigger: str) -> str | None:
    """Before ``wsk trigger delete TRIGGER``: invoke its feed with DELETE when it has one.
    Returns a warning to show when the feed refused (the trigger is deleted anyway)."""
    status, doc = client.call("GET", f"namespaces/_/triggers/{trigger}")
    feed = feed_of(doc) if status == 200 else None
    if feed is None:
        return None
    try:
        invoke_feed(client, auth_key, feed, "DELETE", trigger, {})
    except CLIError as exc:
        return str(exc)
    return None
