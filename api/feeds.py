"""``POST /api/v1/feeds``: one lifecycle event of a feed, as the catalog's feed actions send it.

The feed actions (``/whisk.system/alarms/alarm``, ``interval``, ``once`` and
``/whisk.system/messaging/kafkaFeed``, installed by ``api/catalog.py``) run
in containers that reach only this API; each forwards its parameters here
with the trigger owner's ``authKey`` as the request's key::

    {"feed": "/whisk.system/alarms/alarm", "lifecycleEvent": "CREATE",
     "triggerName": "/_/t", "cause": "<the feed action's activation id>",
     ...the user's parameters}

Answers: 200 with the feed action's result (OpenWhisk's providers' bodies);
4xx ``{"error", "code"}`` with OpenWhisk's texts, nothing stored. The
registration is written to CouchDB (``feeds/store.py``); the feed service
follows it. As OpenWhisk's providers, the caller must be able to read the
trigger (DELETE also when it is gone already).

A trigger has one registration, tied to the feed action that created it:

- CREATE over an existing registration (one that ended, or whose trigger was
  deleted and made again without the feed's DELETE) replaces it, as both
  providers overwrite theirs (openwhisk-package-alarms ``action/lib/Database.js``
  ``createTrigger`` on 409; openwhisk-package-kafka ``action/lib/Database.js``
  ``ensureTriggerIsUnique`` and ``recordTrigger`` on 409).
- READ, UPDATE, DELETE, PAUSE and UNPAUSE through another feed action answer
  what that feed answers for a trigger it does not know, 404 "could not find
  trigger /ns/t in the database" (each OpenWhisk package has a database of its
  own), and touch nothing.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.auth import Identity
from api.context import Context, ctx
from api.entities import TRIGGER
from api.errors import APIError, bad_request
from api.names import is_name
from api.requests import json_object, json_response
from feeds import alarms, consumer, messaging
from feeds import registration as reg
from feeds.alarms import BadParameters
from feeds.store import FeedStore
from store.couch import Conflict
from streams import constants
from streams.ids import now_ms
from streams.messages import (
    CONFLICT,
    FEED_AUTH_FAILED,
    FEED_NO_TRIGGER,
    FEED_NOT_FOUND,
    FEED_UNKNOWN,
    FEED_UNSUPPORTED_EVENT,
    KAFKA_NO_TRIGGER,
    KAFKA_NOT_AUTHORIZED,
    KAFKA_UPDATE_DISABLED,
)

JsonDict = dict[str, Any]
ALARMS = f"/{constants.SYSTEM_NAMESPACE}/alarms"
MESSAGING = f"/{constants.SYSTEM_NAMESPACE}/messaging"
# Feed action → provider: the alarms' three, and the Kafka feed.
PROVIDERS = {
    f"{ALARMS}/alarm": "alarm",
    f"{ALARMS}/interval": "interval",
    f"{ALARMS}/once": "once",
    f"{MESSAGING}/kafkaFeed": "kafka",
}
KAFKA = "kafka"
# What the feed action sends that is not the user's parameter.
PROTOCOL_KEYS = frozenset({"feed", "lifecycleEvent", "triggerName", "authKey", "cause"})


def trigger_of(name: object, identity: Identity) -> tuple[str, str] | None:
    """``(namespace, name)`` from ``/ns/name`` (``_`` is the caller's), ``ns/name`` or
    ``name``; None when it is not a trigger name."""
    if not isinstance(name, str) or not name:
        return None
    parts = name.strip("/").split("/")
    if len(parts) == 1:
        parts = [constants.DEFAULT_NAMESPACE_ALIAS, parts[0]]
    if len(parts) != 2 or not all(is_name(p) or p == "_" for p in parts) or parts[1] == "_":
        return None
    namespace = identity.namespace if parts[0] == constants.DEFAULT_NAMESPACE_ALIAS else parts[0]
    return namespace, parts[1]


async def handle(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    body = await json_object(request, constants.PARAMS_MAX_BYTES, json_only=False)
    feed = body.get("feed")
    provider = PROVIDERS.get(feed) if isinstance(feed, str) else None
    if provider is None:
        raise bad_request(FEED_UNKNOWN.format(feed=feed, known=", ".join(PROVIDERS)))
    event = body.get("lifecycleEvent")
    if event not in reg.LIFECYCLE_EVENTS:
        raise bad_request(FEED_UNSUPPORTED_EVENT)
    trigger = trigger_of(body.get("triggerName"), identity)
    if trigger is None:
        raise bad_request(KAFKA_NO_TRIGGER if provider == KAFKA else FEED_NO_TRIGGER)
    params = {k: v for k, v in body.items() if k not in PROTOCOL_KEYS}
    store = FeedStore(c.couch, c.settings)
    doc_id = reg.registration_id(*trigger)
    if event == reg.CREATE:
        # As OpenWhisk's providers: the parameters first, then the trigger.
        config = await create_config(c, provider, params)
        await check_trigger(c, identity, trigger, provider, missing_ok=False)
        cause = body.get("cause") if isinstance(body.get("cause"), str) else None
        doc = reg.new_registration(
            str(feed), provider, *trigger, identity.auth, config, cause, now_ms()
        )
        current = await store.registration(doc_id)
        # Both providers overwrite a registration the trigger still has (module docstring).
        await save(store, doc if current is None else reg.replacing(current, doc))
        return json_response({"uuid": doc["uuid"]} if provider == KAFKA else {"status": "success"})
    await check_trigger(c, identity, trigger, provider, missing_ok=event == reg.DELETE)
    current = await store.registration(doc_id)
    if current is None or current.get("feed") != feed:
        raise APIError(404, FEED_NOT_FOUND.format(trigger=f"/{doc_id}"))
    if event == reg.READ:
        state = await store.state(current["uuid"])
        config = (messaging if provider == KAFKA else alarms).read_config(current)
        return json_response({"config": config, "status": reg.status(current, state)})
    if event == reg.DELETE:
        await store.delete_registration(doc_id)
        return json_response({} if provider == KAFKA else {"status": "success"})
    if event == reg.UPDATE:
        state = await store.state(current["uuid"])
        if provider == KAFKA and not reg.status(current, state)["active"]:
            raise bad_request(KAFKA_UPDATE_DISABLED.format(trigger=f"/{doc_id}"))
        config = update_config(c, current, params)
        await save(store, reg.changed(current, now_ms(), config=config, apikey=identity.auth))
        return json_response({} if provider == KAFKA else {"status": "success"})
    await save(store, reg.changed(current, now_ms(), paused=event == reg.PAUSE))
    return json_response({"status": "success"})


async def save(store: FeedStore, doc: JsonDict) -> None:
    try:
        await store.put_registration(doc)
    except Conflict as exc:
        raise APIError(409, CONFLICT) from exc


async def check_trigger(
    c: Context, identity: Identity, trigger: tuple[str, str], provider: str, missing_ok: bool
) -> None:
    """The caller owns the trigger's namespace and the trigger exists (OpenWhisk's
    ``verifyTriggerAuth``: it reads the trigger with the ``authKey``)."""
    namespace, name = trigger
    failed = KAFKA_NOT_AUTHORIZED if provider == KAFKA else FEED_AUTH_FAILED
    if namespace != identity.namespace:
        raise APIError(401 if provider == KAFKA else 403, failed)
    found = await c.entities.get_typed(f"{namespace}/{name}", TRIGGER)
    if found is None and not missing_ok:
        raise APIError(401 if provider == KAFKA else 404, failed)


async def create_config(c: Context, provider: str, params: JsonDict) -> JsonDict:
    try:
        if provider != KAFKA:
            kind = alarms.KIND_OF_ACTION[provider]
            return alarms.create_config(kind, params, now_ms(), c.settings.feeds_min_interval_s)
        config = messaging.create_config(params)
        # "From where the feed was created": the topic's end offsets now.
        config["start_offsets"] = await consumer.end_offsets(config["brokers"], config["topic"])
        return config
    except BadParameters as exc:
        raise bad_request(str(exc)) from exc


def update_config(c: Context, current: JsonDict, params: JsonDict) -> JsonDict:
    try:
        if current["provider"] == KAFKA:
            return messaging.update_config(current["config"], params)
        return alarms.update_config(
            current["config"], params, now_ms(), c.settings.feeds_min_interval_s
        )
    except BadParameters as exc:
        raise bad_request(str(exc)) from exc
