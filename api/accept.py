"""How an activation is accepted: one constructor, one check, one appender of ``accepted``.

Every way something runs goes through here — a direct invoke, a web action,
a rule's action, a sequence and each of its components, a trigger fire, a
re-run — so every activation is a plain ledger activation:

1. what runs is a ``Runnable`` (an action's document at one revision, or a
   trigger; one ``limits_of`` for every kind),
2. ``accepted_event`` builds its ``accepted`` event (the only constructor),
3. ``Invocations.accept`` checks it (``check_acceptable``: parameters every
   ledger reader can decode, 400; one ledger message, 413), tracks its
   completion and appends it (the only appender of ``accepted``).

The throttles are decided here too, before anything is appended (see
``api/throttle.py``): a namespace over its invocations per minute or its
activations in flight, its own limits first (``api/userlimits.py``), gets 429.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from api.auth import Identity
from api.errors import APIError, bad_request
from api.ledger import Ledger
from api.lookup import Target
from api.placer import Placer
from api.throttle import Allowances, Throttles, ThrottleVerdict
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
from streams.messages import PARAMETERS_INVALID, TOO_BIG
from streams.placement import Placement
from streams.settings import Settings

if TYPE_CHECKING:
    from api.sequences import Sequences

JsonDict = dict[str, Any]
# An activation's arguments: an object, or the JSON array a sequence's previous
# component returned (OpenWhisk passes it on as it is: SequenceActions.scala).
Arguments = JsonDict | list[Any]
# A waiter the ledger never answered is dropped this long after its deadline.
FORGET_AFTER_DEADLINE_S = 60.0


def limits_of(doc: JsonDict) -> Limits:
    """An entity's limits as an activation carries them (OpenWhisk's defaults where unset)."""
    limits = doc.get("limits") or {}
    return Limits(
        timeout_ms=limits.get("timeout", constants.TIMEOUT_DEFAULT_MS),
        memory_mb=limits.get("memory", constants.MEMORY_DEFAULT_MB),
        logs_mb=limits.get("logs", constants.LOGS_DEFAULT_MB),
        concurrency=limits.get("concurrency", constants.CONCURRENCY_DEFAULT),
    )


@dataclass(frozen=True)
class Runnable:
    """What an activation runs: an entity at one revision, its kind and its limits."""

    action: str  # its document id: "ns/name" or "ns/pkg/name"
    name: str
    version: str
    rev: str
    kind: str
    limits: Limits
    image: str | None = None
    main: str | None = None

    @classmethod
    def of(cls, doc: JsonDict, doc_id: str, name: str) -> Runnable:
        """An action's (or, with no ``exec``, a trigger's) document as it is stored."""
        exec_ = doc.get("exec") or {"kind": constants.KIND_TRIGGER}
        return cls(
            action=doc_id,
            name=name,
            version=doc.get("version", "0.0.1"),
            rev=doc.get("_rev", ""),
            kind=exec_["kind"],
            limits=limits_of(doc),
            image=exec_.get("image"),
            main=exec_.get("main"),
        )

    @classmethod
    def of_target(cls, target: Target) -> Runnable:
        return cls.of(target.doc, target.ref.doc_id, target.ref.name)

    @classmethod
    def of_accepted(cls, accepted: ActivationAccepted) -> Runnable:
        """What an earlier activation ran (its recorded revision, kind and limits)."""
        return cls(
            action=accepted.action,
            name=accepted.action_name,
            version=accepted.action_version,
            rev=accepted.action_rev,
            kind=accepted.kind,
            limits=accepted.limits,
            image=accepted.image,
            main=accepted.main,
        )


def accepted_event(
    runnable: Runnable,
    identity: Identity,
    params: Arguments,
    *,
    source: str,
    blocking: bool,
    grace_ms: int,
    cause: Cause | None = None,
    annotations: Iterable[JsonDict] = (),
    deadline_ms: int | None = None,
    activation_id: str | None = None,
    placement: Placement | None = None,
    init_args: Iterable[str] | None = None,
) -> ActivationAccepted:
    """The ``accepted`` event of one activation of ``runnable`` on behalf of ``identity``.

    ``params``: an object, or the array a sequence's component returned.
    ``init_args``: the parameters ``/init`` gets as environment (the action's,
    its package's and binding's ``"init": true`` ones).

    Its deadline is its timeout plus ``grace_ms`` from now unless given (a
    sequence's covers every component). Its id is new unless given (a feed's
    fire brings its own, so that a fire tried again is recognised: api/triggers.py).
    With a ``placement`` its first attempt runs on that invoker (see ``api/placer.py``).
    """
    at = now_ms()
    return ActivationAccepted(
        activation_id=activation_id or new_activation_id(at),
        seq=1,
        at_ms=at,
        namespace=identity.namespace,
        source=source,
        action=runnable.action,
        action_name=runnable.name,
        action_version=runnable.version,
        action_rev=runnable.rev,
        kind=runnable.kind,
        image=runnable.image,
        main=runnable.main,
        params=params,
        init_args=sorted(init_args) if init_args is not None else None,
        limits=runnable.limits,
        subject=identity.subject,
        blocking=blocking,
        deadline_ms=at + runnable.limits.timeout_ms + grace_ms
        if deadline_ms is None
        else deadline_ms,
        reply_to=source,
        cause=cause,
        annotations=list(annotations),
        invoker=placement.invoker if placement else None,
        decision=placement.decision if placement else None,
    )


def check_acceptable(accepted: ActivationAccepted) -> bytes:
    """The record value of ``accepted``, once it is what every reader of the ledger can read back:
    JSON parameters, and a size Kafka takes.

    The parameters merge the payload (already read strictly) with the entity's
    stored defaults, which an older version may have stored unchecked: 400 for
    those (``streams.jsoncodec``), 413 past the size of one ledger message.
    """
    try:
        jsoncodec.check(accepted.params)
    except jsoncodec.InvalidJson as exc:
        raise bad_request(PARAMETERS_INVALID.format(detail=exc)) from exc
    value = encode(accepted)
    if len(value) > constants.ACCEPTED_MAX_BYTES:
        raise APIError(
            413,
            TOO_BIG.format(field="Request", size=len(value), limit=constants.ACCEPTED_MAX_BYTES),
        )
    return value


def record_of(accepted: ActivationAccepted, completed: ActivationCompleted) -> JsonDict:
    """The activation record as the projection will store it (its public part)."""
    parts = {ACCEPTED: record.part_of(accepted), COMPLETED: record.part_of(completed)}
    return record.public_view(record.render(accepted.activation_id, parts))


def default_allowances(settings: Settings) -> Allowances:
    return Allowances(
        invocations_per_minute=settings.throttle_invocations_per_minute,
        concurrent=settings.throttle_concurrent,
        fires_per_minute=settings.throttle_fires_per_minute,
    )


@dataclass(frozen=True)
class Submitted:
    """An activation on the ledger and the future its completion will set."""

    accepted: ActivationAccepted
    completion: asyncio.Future[ActivationCompleted]
    offset: int = -1  # of the ``accepted`` event in its ledger partition

    @property
    def activation_id(self) -> str:
        return self.accepted.activation_id


class Invocations:
    """Accepts activations for the API process and tracks them until they complete."""

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        placer: Placer,
        throttles: Throttles | None = None,
    ):
        self.settings = settings
        self.ledger = ledger
        self.placer = placer
        self.throttles = throttles or Throttles()
        self.defaults = default_allowances(settings)
        self.grace_ms = int(settings.completion_grace_s * 1000)
        self.source = settings.api_instance
        # Sequences run here too (api/sequences.py); set once both exist.
        self.sequences: Sequences | None = None

    # -- throttles ------------------------------------------------------------
    def allowances(self, identity: Identity) -> Allowances:
        return Allowances.of(self.defaults, identity.limits)

    def check_invoke(self, identity: Identity) -> None:
        verdict = self.throttles.check_invoke(
            identity.namespace, self.allowances(identity), now_ms()
        )
        self._refuse_unless_ok(identity, verdict)

    def check_fire(self, identity: Identity) -> None:
        verdict = self.throttles.check_fire(identity.namespace, self.allowances(identity), now_ms())
        self._refuse_unless_ok(identity, verdict)

    def _refuse_unless_ok(self, identity: Identity, verdict: ThrottleVerdict) -> None:
        """A 429 for a throttle's refusal, noted for the metrics (OpenWhisk's limit events)."""
        if verdict.ok:
            return
        if verdict.limit is not None:
            self.ledger.note_throttled(identity.namespace, verdict.limit)
        raise APIError(429, verdict.message)

    # -- accepting ------------------------------------------------------------
    def event(
        self,
        runnable: Runnable,
        identity: Identity,
        params: Arguments,
        *,
        blocking: bool,
        cause: Cause | None = None,
        annotations: Iterable[JsonDict] = (),
        deadline_ms: int | None = None,
        activation_id: str | None = None,
        placement: Placement | None = None,
        init_args: Iterable[str] | None = None,
    ) -> ActivationAccepted:
        """``accepted_event`` with this instance as its source and its grace."""
        return accepted_event(
            runnable,
            identity,
            params,
            source=self.source,
            blocking=blocking,
            grace_ms=self.grace_ms,
            cause=cause,
            annotations=annotations,
            deadline_ms=deadline_ms,
            activation_id=activation_id,
            placement=placement,
            init_args=init_args,
        )

    async def accept(self, accepted: ActivationAccepted, *, count: bool) -> Submitted:
        """Check, track and append one ``accepted`` event: the only way one is appended.

        ``count``: the activation counts towards its namespace's activations in
        flight (everything but orchestrations: a sequence counts as its
        components, a trigger as its rules' actions).
        """
        value = check_acceptable(accepted)
        completion = self._track(accepted, count)
        try:
            offset = await self.ledger.append(accepted, value)
        except BaseException:
            self.ledger.forget(accepted.activation_id)
            self.throttles.concurrency.finished(accepted.namespace, accepted.activation_id)
            self.placer.release(accepted.activation_id)
            raise
        return Submitted(accepted, completion, offset)

    async def complete(self, completed: ActivationCompleted) -> None:
        """Append the ``completed`` event of an activation this process orchestrates."""
        await self.ledger.append(completed)

    async def submit(
        self,
        identity: Identity,
        target: Target,
        payload: Arguments,
        *,
        blocking: bool,
        cause: Cause | None = None,
        annotations: Iterable[JsonDict] = (),
        throttle: bool = True,
    ) -> Submitted:
        """Accept one activation of the atomic action ``target``."""
        if throttle:
            self.check_invoke(identity)
        extra = list(annotations)
        if target.binding:
            extra.append({"key": "binding", "value": target.binding})
        runnable = Runnable.of_target(target)
        memory_mb = runnable.limits.memory_mb
        placement = (
            self.placer.choose(identity.namespace, runnable.action, memory_mb, now_ms())
            if self.settings.api_places
            else None
        )
        # An array (a sequence component's array result) is the arguments as it
        # is, without the action's defaults (PrimitiveActions.invokeSimpleAction).
        params = payload if isinstance(payload, list) else {**target.params, **payload}
        accepted = self.event(
            runnable,
            identity,
            params,
            blocking=blocking,
            cause=cause,
            annotations=extra,
            placement=placement,
            init_args=target.init_names,
        )
        if placement is not None:
            self.placer.hold(accepted.activation_id, placement.invoker, memory_mb)
        return await self.accept(accepted, count=True)

    async def start(
        self,
        identity: Identity,
        target: Target,
        payload: Arguments,
        *,
        blocking: bool,
        cause: Cause | None = None,
        annotations: Iterable[JsonDict] = (),
        throttle: bool = True,
    ) -> Submitted:
        """Accept one activation of ``target``, whatever its kind; throttled as one invocation.

        ``annotations`` go on its ``accepted`` event (a re-run's ``replayOf``).
        """
        if target.kind != constants.KIND_SEQUENCE:
            return await self.submit(
                identity,
                target,
                payload,
                blocking=blocking,
                cause=cause,
                annotations=annotations,
                throttle=throttle,
            )
        assert self.sequences is not None
        if throttle:
            self.check_invoke(identity)
        return await self.sequences.start(
            identity, target, payload, blocking=blocking, cause=cause, annotations=annotations
        )

    def _track(
        self, accepted: ActivationAccepted, count: bool
    ) -> asyncio.Future[ActivationCompleted]:
        """A future for the completion of ``accepted``; counted as in flight when ``count``."""
        activation_id, namespace = accepted.activation_id, accepted.namespace
        completion = self.ledger.expect(activation_id)
        if accepted.invoker is not None:
            placer = self.placer
            completion.add_done_callback(lambda _: placer.release(activation_id))
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
