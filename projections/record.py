"""How ledger events become an activation record: an idempotent, order-tolerant merge.

A record keeps, under ``ledger.parts``, one *part* per state (accepted,
scheduled, started, completed): the fields that state's event contributes. The
visible OpenWhisk fields are then rendered from the parts by precedence
``completed > started > scheduled > accepted``. Applying an event only ever
replaces a part by a *preferred* one (see ``_preferred``), so applying the same
events in any order, any number of times, yields the same record.

A ``completed`` event with a ``head`` (every one the platform writes now)
carries what the record needs of the acceptance: its part alone renders the
whole record, so the projection writes each record once, from that one event
(``record_of``). Older completions without a head are merged with the parts
of the activation's other events, as before.
"""

from __future__ import annotations

from typing import Any

from streams import constants
from streams.events import (
    ACCEPTED,
    COMPLETED,
    SCHEDULED,
    STARTED,
    STATE_RANK,
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    LedgerEvent,
)

JsonDict = dict[str, Any]
LEDGER_FIELD = "ledger"
# Fields of a stored record that are ours, not OpenWhisk's.
PRIVATE_FIELDS = frozenset({"_id", "_rev", LEDGER_FIELD})
# Stored beside ``response`` for the list's summaries; never shown in a whole record.
STATUS_FIELD = "statusCode"
# What a listed record shows without ``docs=true`` (and the rest, see ``summary``).
SUMMARY_FIELDS = (
    "namespace",
    "name",
    "version",
    "publish",
    "annotations",
    "activationId",
    "start",
    "cause",
)


def part_of(event: LedgerEvent) -> JsonDict:
    """The fields one event contributes to its activation's record."""
    base: JsonDict = {
        "seq": event.seq,
        "at_ms": event.at_ms,
        "source": event.source,
        "namespace": event.namespace,
    }
    if isinstance(event, ActivationAccepted):
        base.update(
            action=event.action,
            action_name=event.action_name,
            version=event.action_version,
            kind=event.kind,
            subject=event.subject,
            limits=event.limits.model_dump(),
            cause=event.cause.activation_id if event.cause else None,
        )
        if event.annotations:
            # Annotations the API adds at acceptance (e.g. ``replayOf``).
            base["annotations"] = list(event.annotations)
    elif isinstance(event, ActivationScheduled):
        base.update(invoker=event.invoker, decision=event.decision, wait_ms=event.wait_ms)
    elif isinstance(event, ActivationStarted):
        base.update(
            invoker=event.invoker,
            container=event.container,
            start=event.start,
            wait_ms=event.wait_ms,
        )
    elif isinstance(event, ActivationCompleted):
        base.update(
            response=event.response.model_dump(),
            logs=list(event.logs),
            start_ms=event.start_ms,
            end_ms=event.end_ms,
            duration_ms=event.duration_ms,
            annotations=list(event.annotations),
        )
        if event.head is not None:
            base["head"] = event.head.model_dump()
    return base


def standalone(event: LedgerEvent) -> bool:
    """Whether ``event`` alone renders its activation's whole record (a completion with a head)."""
    return isinstance(event, ActivationCompleted) and event.head is not None


def _preferred(new: JsonDict, old: JsonDict | None) -> bool:
    """Whether ``new`` should replace ``old`` as the part of one state.

    The later attempt (higher seq) wins; between two parts of the same seq
    (e.g. the controller declared an activation lost while its invoker was
    completing it) the earlier fact wins, then the source name decides.
    """
    if old is None:
        return True
    if new["seq"] != old["seq"]:
        return bool(new["seq"] > old["seq"])
    return bool((new["at_ms"], new["source"]) < (old["at_ms"], old["source"]))


def _merge(parts: dict[str, JsonDict], event: LedgerEvent) -> bool:
    """Put ``event``'s part into ``parts`` if it is preferred; True when that changed them."""
    new = part_of(event)
    old = parts.get(event.type)
    if old == new or not _preferred(new, old):
        return False
    parts[event.type] = new
    return True


def _parts_of(record: JsonDict | None) -> dict[str, JsonDict]:
    return dict((record or {}).get(LEDGER_FIELD, {}).get("parts", {}))


def apply_all(record: JsonDict | None, events: list[LedgerEvent]) -> JsonDict | None:
    """The record after all ``events``, or None when none of them changes it.

    The same as applying them one by one (the merge is per part), rendered once.
    """
    parts = _parts_of(record)
    changed = False
    for event in events:
        changed = _merge(parts, event) or changed
    return render(events[-1].activation_id, parts) if changed else None


def state_of(parts: dict[str, JsonDict]) -> str:
    """The furthest state the parts reach."""
    return max(parts, key=lambda t: STATE_RANK[t])


def render(activation_id: str, parts: dict[str, JsonDict]) -> JsonDict:
    """The stored record (OpenWhisk's activation shape plus ``ledger``) from its parts."""
    started = parts.get(STARTED)
    completed = parts.get(COMPLETED)
    accepted = parts.get(ACCEPTED) or _accepted_of(completed)
    any_part = accepted or completed or started or parts.get(SCHEDULED) or {}
    annotations = _merged(completed["annotations"] if completed else [], accepted)
    path = accepted.get("action") or _annotation(annotations, "path") or ""
    record: JsonDict = {
        "activationId": activation_id,
        "namespace": any_part.get("namespace", ""),
        "name": accepted.get("action_name") or path.split("/", 1)[-1],
        "version": accepted.get("version", "0.0.1"),
        "subject": accepted.get("subject", any_part.get("namespace", "")),
        "publish": False,
        "annotations": annotations,
        "logs": completed["logs"] if completed else [],
    }
    if accepted.get("cause"):
        record["cause"] = accepted["cause"]
    if completed:
        response = completed["response"]
        code = response["status_code"]
        record.update(
            start=completed["start_ms"],
            end=completed["end_ms"],
            duration=completed["duration_ms"],
            statusCode=code,
            response={
                "status": constants.STATUS_NAMES.get(code, "whisk internal error"),
                "statusCode": code,
                "success": code == constants.STATUS_SUCCESS,
                "result": response.get("result"),
                # Only a response the action answered has a size (as OpenWhisk's).
                **({"size": response["size"]} if response.get("size") is not None else {}),
            },
        )
    else:
        record["start"] = started["at_ms"] if started else any_part.get("at_ms", 0)
        record["end"] = 0
        record["duration"] = 0
    record[LEDGER_FIELD] = {"state": state_of(parts), "parts": parts}
    return record


def _accepted_of(completed: JsonDict | None) -> JsonDict:
    """An accepted part's fields from a completion part's ``head`` (empty without one)."""
    head = (completed or {}).get("head")
    if not head or completed is None:
        return {}
    out: JsonDict = {
        "namespace": completed["namespace"],
        "action": head["action"],
        "action_name": head["action_name"],
        "version": head["action_version"],
        "kind": head["kind"],
        "subject": head["subject"],
        "cause": head["cause"]["activation_id"] if head.get("cause") else None,
    }
    if head.get("annotations"):
        out["annotations"] = list(head["annotations"])
    return out


def kind_of(record: JsonDict) -> str | None:
    """The activation's kind as its acceptance named it (``trigger``, ``sequence``, ...)."""
    parts = _parts_of(record)
    accepted = parts.get(ACCEPTED) or _accepted_of(parts.get(COMPLETED))
    kind = accepted.get("kind")
    return kind if isinstance(kind, str) else None


def public_view(record: JsonDict) -> JsonDict:
    """What the API shows of a stored record: OpenWhisk's ``WhiskActivation.toExtendedJson``.

    The status code is shown only as the response's ``status`` and
    ``success`` (``ActivationResponse.toExtendedJson`` drops it), and a
    trigger's record has no ``end`` nor ``duration`` (OpenWhisk's trigger
    activations end at the epoch, which it leaves out) and its response no
    ``size`` (``ActivationResponse.success(payload)``): clients tell a
    trigger's record by it.
    """
    shown = {k: v for k, v in record.items() if k not in PRIVATE_FIELDS and k != STATUS_FIELD}
    response = shown.get("response")
    trigger = kind_of(record) == constants.KIND_TRIGGER
    if isinstance(response, dict):
        hidden = {STATUS_FIELD, "size"} if trigger else {STATUS_FIELD}
        shown["response"] = {k: v for k, v in response.items() if k not in hidden}
    if trigger:
        shown.pop("end", None)
        shown.pop("duration", None)
    return shown


def blocking_body(shown: JsonDict, result_only: bool) -> Any:
    """What a blocking invocation answers with the public record ``shown``: the record, or
    its result with ``?result=true``. An array result is answered bare either way, as
    OpenWhisk's ``Actions.doInvoke`` does (apache/openwhisk#5500 reports it)."""
    result = shown["response"]["result"]
    return result if result_only or isinstance(result, list) else shown


def summary(record: JsonDict) -> JsonDict:
    """A listed record without ``docs=true``: OpenWhisk's ``WhiskActivation.summaryAsJson``.

    ``{namespace, name, version, publish, annotations, activationId, start,
    cause?}`` and, except for a trigger, ``end``, ``duration`` and ``statusCode``.
    """
    out = {k: record[k] for k in SUMMARY_FIELDS if k in record}
    if kind_of(record) != constants.KIND_TRIGGER:
        out.update({k: record[k] for k in ("end", "duration", STATUS_FIELD) if k in record})
    return out


def is_completed(record: JsonDict) -> bool:
    return bool(record.get(LEDGER_FIELD, {}).get("state") == COMPLETED)


def _merged(annotations: list[JsonDict], accepted: JsonDict) -> list[JsonDict]:
    """The completion's annotations, then those of the acceptance it does not have."""
    keys = {a.get("key") for a in annotations}
    return [*annotations, *(a for a in accepted.get("annotations", []) if a.get("key") not in keys)]


def _annotation(annotations: list[JsonDict], key: str) -> Any:
    for a in annotations:
        if a.get("key") == key:
            return a.get("value")
    return None
