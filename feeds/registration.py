"""A feed registration and the feed service's state of it: shapes and transitions (pure).

A registration (database ``<prefix>_feeds``, written by the API's
``/api/v1/feeds``, id ``namespace/trigger``) is a dict::

    {"_id": "ns/t", "feed": "/whisk.system/alarms/alarm", "provider": "alarm",
     "namespace": "ns", "trigger": "t", "apikey": "uuid:key",
     "uuid": "<32 hex>", "cause": "<activation id>", "config": {...},
     "paused": false, "generation": 1, "created_ms": ..., "changed_ms": ...}

Every lifecycle event that changes it bumps ``generation``. The service's
state (database ``<prefix>_feedstate``, id the registration's ``uuid``) is::

    {"_id": uuid, "generation": 1, "next_ms": ..., "fired": 3,
     "pending": {"fire_id": ..., ...} | None,
     "ended": {"at_ms": ..., "reason": {"kind": "AUTO", "statusCode": 404,
                                         "message": "..."}} | None}

A state of an older generation is replanned: an UPDATE or UNPAUSE restarts
the schedule and lifts an end, but a fire in flight (``pending``) is resolved
first, whatever the generation.
"""

from __future__ import annotations

from typing import Any

from streams.ids import iso_ms, new_activation_id
from streams.messages import FEED_PAUSED

JsonDict = dict[str, Any]
CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE = (
    "CREATE",
    "READ",
    "UPDATE",
    "DELETE",
    "PAUSE",
    "UNPAUSE",
)
LIFECYCLE_EVENTS = (CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE)


def registration_id(namespace: str, trigger: str) -> str:
    return f"{namespace}/{trigger}"


def new_registration(
    feed: str,
    provider: str,
    namespace: str,
    trigger: str,
    apikey: str,
    config: JsonDict,
    cause: str | None,
    now_ms: int,
) -> JsonDict:
    """A registration created now; its ``uuid`` is time-ordered like an activation id, and
    stands for the creating activation in a fire's ``cause`` when none is known."""
    uuid = new_activation_id(now_ms)
    return {
        "_id": registration_id(namespace, trigger),
        "feed": feed,
        "provider": provider,
        "namespace": namespace,
        "trigger": trigger,
        "apikey": apikey,
        "uuid": uuid,
        "cause": cause or uuid,
        "config": config,
        "paused": False,
        "generation": 1,
        "created_ms": now_ms,
        "changed_ms": now_ms,
    }


def replacing(current: JsonDict, new: JsonDict) -> JsonDict:
    """``new`` (from ``new_registration``) written over ``current``, the trigger's
    registration of any feed, as the providers overwrite on CREATE: a new ``uuid`` (a
    fresh state, and a Kafka feed's fresh consumer group), the next generation."""
    return {**new, "_rev": current["_rev"], "generation": current["generation"] + 1}


def changed(registration: JsonDict, now_ms: int, **fields: Any) -> JsonDict:
    """The registration with ``fields`` replaced, as a new generation."""
    return {
        **registration,
        **fields,
        "generation": registration["generation"] + 1,
        "changed_ms": now_ms,
    }


# -- the service's state --------------------------------------------------------------
def current_state(registration: JsonDict, state: JsonDict | None) -> JsonDict:
    """The state for the registration's generation: a stored one of an older generation (or
    none) becomes a fresh plan, keeping its fire count and its fire in flight."""
    if state is not None and state.get("generation") == registration["generation"]:
        return state
    fresh: JsonDict = {
        "_id": registration["uuid"],
        "generation": registration["generation"],
        "next_ms": None,
        "fired": (state or {}).get("fired", 0),
        "pending": (state or {}).get("pending"),
        "ended": None,
    }
    if state is not None and "_rev" in state:
        fresh["_rev"] = state["_rev"]
    return fresh


def with_pending(state: JsonDict, pending: JsonDict | None) -> JsonDict:
    return {**state, "pending": pending}


def after_fire(state: JsonDict, next_ms: int | None) -> JsonDict:
    """A fire accepted (or refused for good): one more fired, nothing in flight."""
    return {**state, "pending": None, "fired": state["fired"] + 1, "next_ms": next_ms}


def ended(state: JsonDict, now_ms: int, message: str, status_code: int | None = None) -> JsonDict:
    """The registration fires no more, for OpenWhisk's ``reason``."""
    reason: JsonDict = {"kind": "AUTO", "statusCode": status_code, "message": message}
    return {**state, "pending": None, "next_ms": None, "ended": {"at_ms": now_ms, "reason": reason}}


def is_live(registration: JsonDict, state: JsonDict | None) -> bool:
    """Whether the service should run it: not paused, not ended in this generation."""
    if registration.get("paused"):
        return False
    return (
        state is None
        or state.get("generation") != registration["generation"]
        or not state.get("ended")
    )


def status(registration: JsonDict, state: JsonDict | None) -> JsonDict:
    """READ's ``status`` (OpenWhisk's providers): ``active``, ``dateChanged`` (epoch ms),
    ``dateChangedISO`` and ``reason`` when it is not active."""
    changed_ms = registration["changed_ms"]
    reason = None
    live_state = state if state and state.get("generation") == registration["generation"] else None
    if live_state and live_state.get("ended"):
        changed_ms = max(changed_ms, live_state["ended"]["at_ms"])
        reason = live_state["ended"]["reason"]
    elif registration.get("paused"):
        reason = {"kind": "USER", "statusCode": None, "message": FEED_PAUSED}
    out: JsonDict = {
        "active": reason is None,
        "dateChanged": changed_ms,
        "dateChangedISO": iso_ms(changed_ms)[:19] + "Z",
    }
    if reason is not None:
        out["reason"] = reason
    return out
