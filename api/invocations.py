"""Starting activations: throttle, build the ``accepted`` event, append it, wait for completion.

Every way an action runs goes through here — a direct invoke, a web action,
a rule fired by a trigger, a sequence's component — so every activation is a
plain ledger activation: accepted, then scheduled/started/completed by the
controller and an invoker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from api.auth import Identity
from api.errors import PARAMETERS_INVALID, TOO_BIG, APIError, bad_request
from api.ledger import Ledger
from api.lookup import Target
from api.throttle import Allowances, Throttles
from projections import record
from streams import constants, jsoncodec
from streams.events import (
    ACCEPTED,
    COMPLETED,
    ActivationAccepted,
    ActivationCompleted,
    Cause,
    Limits,
    encode,
)
from streams.ids import new_activation_id, now_ms
from streams.settings import Settings

JsonDict = dict[str, Any]
# Room Kafka needs around an event's own bytes (the broker's default cap is 1 MB).
LEDGER_EVENT_MAX_BYTES = 1024 * 1024 - 512
# A waiter the ledger never answered is dropped this long after its deadline.
FORGET_AFTER_DEADLINE_S = 60.0


def default_allowances(settings: Settings) -> Allowances:
    return Allowances(
        invocations_per_minute=settings.throttle_invocations_per_minute,
        concurrent=settings.throttle_concurrent,
        fires_per_minute=settings.throttle_fires_per_minute,
    )


def limits_of(doc: JsonDict) -> Limits:
    limits = doc.get("limits") or {}
    return Limits(
        timeout_ms=limits.get("timeout", constants.TIMEOUT_DEFAULT_MS),
        memory_mb=limits.get("memory", constants.MEMORY_DEFAULT_MB),
        logs_mb=limits.get("logs", constants.LOGS_DEFAULT_MB),
        concurrency=limits.get("concurrency", constants.CONCURRENCY_DEFAULT),
    )


def accepted_event(
    *,
    source: str,
    identity: Identity,
    target: Target,
    params: JsonDict,
    blocking: bool,
    at_ms: int,
    activation_id: str,
    grace_ms: int,
    cause: Cause | None = None,
    annotations: Iterable[JsonDict] = (),
    deadline_ms: int | None = None,
) -> ActivationAccepted:
    """The ``accepted`` event for running ``target`` with ``params`` on behalf of ``identity``."""
    doc = target.doc
    limits = limits_of(doc)
    extra = list(annotations)
    if target.binding:
        extra.append({"key": "binding", "value": target.binding})
    return ActivationAccepted(
        activation_id=activation_id,
        seq=1,
        at_ms=at_ms,
        namespace=identity.namespace,
        source=source,
        action=target.ref.doc_id,
        action_name=target.ref.name,
        action_version=doc.get("version", "0.0.1"),
        action_rev=doc.get("_rev", ""),
        kind=doc["exec"]["kind"],
        image=doc["exec"].get("image"),
        main=doc["exec"].get("main"),
        params=params,
        limits=limits,
        subject=identity.subject,
        blocking=blocking,
        deadline_ms=deadline_ms
        if deadline_ms is not None
        else at_ms + limits.timeout_ms + grace_ms,
        reply_to=source,
        cause=cause,
        annotations=extra,
    )


def record_of(accepted: ActivationAccepted, completed: ActivationCompleted) -> JsonDict:
    """The activation record as the projection will store it (its public part)."""
    parts = {ACCEPTED: record.part_of(accepted), COMPLETED: record.part_of(completed)}
    return record.public_view(record.render(accepted.activation_id, parts))


def check_acceptable(accepted: ActivationAccepted) -> None:
    """What every reader of the ledger can read back: JSON parameters, and a size Kafka takes.

    The parameters merge the payload (already read strictly) with the entity's
    stored defaults, which an older version may have stored unchecked: 400 for
    those (``streams.jsoncodec``), 413 past the size of one ledger message.
    """
    try:
        jsoncodec.check(accepted.params)
    except jsoncodec.InvalidJson as exc:
        raise bad_request(PARAMETERS_INVALID.format(detail=exc)) from exc
    size = len(encode(accepted))
    if size > LEDGER_EVENT_MAX_BYTES:
        raise APIError(
            413, TOO_BIG.format(field="Request", size=size, limit=LEDGER_EVENT_MAX_BYTES)
        )


@dataclass(frozen=True)
class Submitted:
    """An activation on the ledger and the future its completion will set."""

    accepted: ActivationAccepted
    completion: asyncio.Future[ActivationCompleted]

    @property
    def activation_id(self) -> str:
        return self.accepted.activation_id


class Invocations:
    """Starts activations for the API process and tracks them until they complete."""

    def __init__(self, settings: Settings, ledger: Ledger, throttles: Throttles | None = None):
        self.settings = settings
        self.ledger = ledger
        self.throttles = throttles or Throttles()
        self.defaults = default_allowances(settings)
        self.grace_ms = int(settings.completion_grace_s * 1000)

    def allowances(self, identity: Identity) -> Allowances:
        return Allowances.of(self.defaults, identity.limits)

    def check_invoke(self, identity: Identity) -> None:
        verdict = self.throttles.check_invoke(
            identity.namespace, self.allowances(identity), now_ms()
        )
        if not verdict.ok:
            raise APIError(429, verdict.message)

    def check_fire(self, identity: Identity) -> None:
        verdict = self.throttles.check_fire(identity.namespace, self.allowances(identity), now_ms())
        if not verdict.ok:
            raise APIError(429, verdict.message)

    async def submit(
        self,
        identity: Identity,
        target: Target,
        payload: JsonDict,
        *,
        blocking: bool,
        cause: Cause | None = None,
        annotations: Iterable[JsonDict] = (),
        throttle: bool = True,
    ) -> Submitted:
        """Append the ``accepted`` event of one activation of ``target``."""
        if throttle:
            self.check_invoke(identity)
        at = now_ms()
        accepted = accepted_event(
            source=self.settings.api_instance,
            identity=identity,
            target=target,
            params={**target.params, **payload},
            blocking=blocking,
            at_ms=at,
            activation_id=new_activation_id(at),
            grace_ms=self.grace_ms,
            cause=cause,
            annotations=annotations,
        )
        completion = self.track(accepted, count=True)
        await self.append(accepted)
        return Submitted(accepted, completion)

    def track(
        self, accepted: ActivationAccepted, count: bool
    ) -> asyncio.Future[ActivationCompleted]:
        """A future for the completion of ``accepted``; counted as in flight when ``count``."""
        activation_id, namespace = accepted.activation_id, accepted.namespace
        completion = self.ledger.expect(activation_id)
        concurrency = self.throttles.concurrency
        if count:
            concurrency.started(namespace, activation_id, accepted.deadline_ms)
            completion.add_done_callback(lambda _: concurrency.finished(namespace, activation_id))
        delay = max(0.0, (accepted.deadline_ms - now_ms()) / 1000) + FORGET_AFTER_DEADLINE_S
        asyncio.get_running_loop().call_later(delay, self._expire, activation_id, completion)
        return completion

    def _expire(self, activation_id: str, completion: asyncio.Future[ActivationCompleted]) -> None:
        if not completion.done():
            self.ledger.forget(activation_id)
            completion.cancel()

    async def append(self, event: Any) -> None:
        """Append one event; a failure forgets the waiter of an ``accepted`` one.

        Every ``accepted`` event the API writes comes through here and is
        checked first (``check_acceptable``): 400 or 413, nothing appended.
        """
        try:
            if event.type == ACCEPTED:
                check_acceptable(event)
            await self.ledger.append(event)
        except BaseException:
            if event.type == ACCEPTED:
                self.ledger.forget(event.activation_id)
                self.throttles.concurrency.finished(event.namespace, event.activation_id)
            raise

    @staticmethod
    async def wait(submitted: Submitted, wait_ms: int) -> ActivationCompleted | None:
        """The completion within ``wait_ms``, or None (the activation goes on)."""
        try:
            return await asyncio.wait_for(asyncio.shield(submitted.completion), wait_ms / 1000)
        except TimeoutError:
            return None
        except asyncio.CancelledError:
            if submitted.completion.cancelled():
                return None  # expired: the ledger never answered
            raise
