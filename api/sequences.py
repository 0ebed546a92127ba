"""Sequences: a small orchestrator in the API process, with the ledger as the truth.

Why here: the API already appends to the ledger, tails it for completions and
holds the entity store; the controller's job stays placement. Each component
is an ordinary activation (accepted -> scheduled -> started -> completed by
the controller and an invoker) whose ``cause`` is the sequence's activation
id. The sequence's own activation gets an ``accepted`` event (kind
``sequence``, which the controller does not schedule) and a ``completed`` one
written here, listing the component ids in ``logs``.

The ``accepted`` event carries a deadline covering every component's timeout;
should this API process die mid-chain, the controller completes the sequence
with an error at that deadline, so nothing is left hanging.

Semantics as OpenWhisk's: the output of one component is the input of the
next; a result with an ``error`` field (or a failure) stops the chain; the
sequence's response is the last component's; its duration is the sum of the
components' durations; at most ``SEQUENCE_MAX_ACTIONS`` atomic actions run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from api.accept import Arguments, Invocations, Runnable, Submitted, limits_of
from api.auth import Identity
from api.entities import EntityStore
from api.errors import APIError, bad_request
from api.lookup import Target, action_target
from api.names import EntityRef, fully_qualified, parse
from streams import completion, constants
from streams.completion import error_response
from streams.events import ActivationAccepted, ActivationCompleted, Cause, Response
from streams.ids import now_ms
from streams.messages import (
    SEQUENCE_COMPONENT_NOT_FOUND,
    SEQUENCE_COMPONENT_TIMEOUT,
    SEQUENCE_CYCLIC,
    SEQUENCE_FAILED,
    SEQUENCE_NO_COMPONENT,
    SEQUENCE_TOO_LONG,
)
from streams.tasks import TaskSet

log = logging.getLogger("ledgerwhisk.api.sequences")
JsonDict = dict[str, Any]
CAUSED_BY = {"key": "causedBy", "value": "sequence"}


# -- the plan: components resolved before the first one runs ------------------
@dataclass(frozen=True)
class Step:
    """One component: an action to run, a nested sequence, or a name that did not resolve."""

    name: str
    target: Target | None = None
    inner: Plan | None = None


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]

    def budget_ms(self, grace_ms: int) -> int:
        """Time the whole chain may take: every component's timeout plus a grace each."""
        total = grace_ms
        for step in self.steps:
            if step.inner is not None:
                total += step.inner.budget_ms(grace_ms)
            elif step.target is not None:
                total += limits_of(step.target.doc).timeout_ms + grace_ms
        return total


# -- the accounting: what the chain has produced so far (pure) ----------------
@dataclass(frozen=True)
class Accounting:
    """The state of a running sequence, as OpenWhisk's ``SequenceAccounting``."""

    response: Response
    logs: tuple[str, ...] = ()
    duration_ms: int = 0
    atomic: int = 0
    max_memory_mb: int | None = None
    stopped: bool = False

    @classmethod
    def start(cls, payload: Arguments, atomic: int = 0) -> Accounting:
        return cls(Response(status_code=constants.STATUS_SUCCESS, result=payload), atomic=atomic)

    def next_input(self) -> Arguments:
        """The next component's arguments: the previous result, an object or an array
        (OpenWhisk's ``invokeNextAction``: anything else gives just the action's defaults)."""
        result = self.response.result
        if isinstance(result, list):
            return list(result)
        return dict(result) if isinstance(result, dict) else {}

    def after(self, completed: ActivationCompleted, atomic: int) -> Accounting:
        """The accounting once a component completed; an ``error`` field stops the chain."""
        memory = _memory(completed.annotations)
        result = completed.response.result
        failed = isinstance(result, dict) and "error" in result
        return replace(
            self,
            response=completed.response,
            logs=(*self.logs, completed.activation_id),
            duration_ms=self.duration_ms + completed.duration_ms,
            atomic=atomic,
            max_memory_mb=max(filter(None, (self.max_memory_mb, memory)), default=None),
            stopped=failed or completed.response.status_code != constants.STATUS_SUCCESS,
        )

    def fail(self, status_code: int, message: str, activation_id: str | None = None) -> Accounting:
        logs = (*self.logs, activation_id) if activation_id else self.logs
        return replace(self, response=error_response(status_code, message), logs=logs, stopped=True)

    def completed(
        self, accepted: ActivationAccepted, *, topmost: bool, end_ms: int, source: str
    ) -> ActivationCompleted:
        """The sequence's own ``completed`` event once the chain stopped."""
        return completion.of_sequence(
            accepted,
            self.response,
            component_ids=self.logs,
            duration_ms=self.duration_ms,
            max_memory_mb=self.max_memory_mb,
            topmost=topmost,
            end_ms=end_ms,
            source=source,
        )


def _memory(annotations: list[JsonDict]) -> int | None:
    for a in annotations:
        if a.get("key") == "limits" and isinstance(a.get("value"), dict):
            memory = a["value"].get("memory")
            return memory if isinstance(memory, int) else None
    return None


# -- checks when a sequence is created ----------------------------------------
def component_refs(exec_: JsonDict, namespace: str) -> list[EntityRef]:
    """The components of a sequence's ``exec``, fully qualified (``_`` resolved)."""
    refs = []
    for raw in exec_.get("components", []):
        ref = fully_qualified(raw, namespace)
        if ref is None:
            raise bad_request(SEQUENCE_COMPONENT_NOT_FOUND)
        refs.append(ref)
    return refs


async def check_components(
    store: EntityStore, identity: Identity, sequence: EntityRef, refs: list[EntityRef]
) -> None:
    """OpenWhisk's checks (Actions.scala ``checkSequenceActionLimits``): at least one
    component, at most 50 actions, each existing and readable, no cycle."""
    if not refs:
        raise bad_request(SEQUENCE_NO_COMPONENT)
    if len(refs) > constants.SEQUENCE_MAX_ACTIONS:
        raise bad_request(SEQUENCE_TOO_LONG)
    count = await _count_atomic(store, identity, sequence, refs, depth=0)
    if count > constants.SEQUENCE_MAX_ACTIONS:
        raise bad_request(SEQUENCE_TOO_LONG)


async def _count_atomic(
    store: EntityStore, identity: Identity, sequence: EntityRef, refs: list[EntityRef], depth: int
) -> int:
    total = 0
    for ref in refs:
        try:
            target = await action_target(store, identity, ref)
        except APIError as exc:
            if exc.status == 404:
                raise bad_request(SEQUENCE_COMPONENT_NOT_FOUND) from exc
            raise
        if target.ref.doc_id == sequence.doc_id:
            raise bad_request(SEQUENCE_CYCLIC)
        if target.kind == constants.KIND_SEQUENCE:
            inner = component_refs(target.doc["exec"], target.ref.namespace)
            total += await _count_atomic(store, identity, sequence, inner, depth + 1)
        else:
            total += 1
        if total > constants.SEQUENCE_MAX_ACTIONS:
            return total
    return total


# -- the runner ------------------------------------------------------------------
class Sequences:
    """Runs sequences for one API process; keeps its chains' tasks until they finish."""

    def __init__(self, store: EntityStore, invocations: Invocations):
        self.store = store
        self.invocations = invocations
        self.grace_ms = invocations.grace_ms
        self.tasks = TaskSet(log, "a sequence's chain")

    async def plan(self, identity: Identity, target: Target, depth: int = 0) -> Plan:
        steps = []
        for raw in target.doc["exec"].get("components", []):
            ref = parse(raw, target.ref.namespace)
            found = None
            if ref is not None:
                try:
                    found = await action_target(self.store, identity, ref)
                except APIError:
                    found = None
            if found is None:
                steps.append(Step(str(raw)))
            elif found.kind == constants.KIND_SEQUENCE and depth < constants.SEQUENCE_MAX_ACTIONS:
                inner = await self.plan(identity, found, depth + 1)
                steps.append(Step(str(raw), found, inner))
            else:
                steps.append(Step(str(raw), found))
        return Plan(tuple(steps))

    async def start(
        self,
        identity: Identity,
        target: Target,
        payload: Arguments,
        *,
        blocking: bool,
        cause: Cause | None = None,
        annotations: Iterable[JsonDict] = (),
    ) -> Submitted:
        """Accept a topmost sequence and run its chain in the background.

        ``annotations`` go on its ``accepted`` event (a re-run's ``replayOf``).
        """
        plan = await self.plan(identity, target)
        accepted = self._accepted(
            identity, target, payload, plan, blocking, cause, nested=False, extra=annotations
        )
        submitted = await self.invocations.accept(accepted, count=False)
        self.tasks.spawn(self._run(identity, accepted, plan, payload, topmost=True))
        return submitted

    def _accepted(
        self,
        identity: Identity,
        target: Target,
        payload: Arguments,
        plan: Plan,
        blocking: bool,
        cause: Cause | None,
        nested: bool,
        extra: Iterable[JsonDict] = (),
    ) -> ActivationAccepted:
        annotations = [CAUSED_BY] if nested else []
        annotations.extend(extra)
        if target.binding:
            annotations.append({"key": "binding", "value": target.binding})
        return self.invocations.event(
            Runnable.of_target(target),
            identity,
            payload,
            blocking=blocking,
            cause=cause,
            annotations=annotations,
            deadline_ms=now_ms() + plan.budget_ms(self.grace_ms),
        )

    async def _run(
        self,
        identity: Identity,
        accepted: ActivationAccepted,
        plan: Plan,
        payload: Arguments,
        topmost: bool,
    ) -> None:
        try:
            accounting = await self._chain(identity, accepted, plan, Accounting.start(payload))
        except Exception:
            log.exception("sequence %s failed", accepted.activation_id)
            accounting = Accounting.start(payload).fail(
                constants.STATUS_WHISK_ERROR, SEQUENCE_FAILED
            )
        completed = accounting.completed(
            accepted, topmost=topmost, end_ms=now_ms(), source=self.invocations.source
        )
        # If this append fails, the controller completes the sequence at its deadline.
        await asyncio.shield(self.invocations.complete(completed))

    async def _chain(
        self,
        identity: Identity,
        accepted: ActivationAccepted,
        plan: Plan,
        accounting: Accounting,
    ) -> Accounting:
        cause = Cause(
            kind="sequence", activation_id=accepted.activation_id, name=accepted.action_name
        )
        for step in plan.steps:
            if accounting.atomic >= constants.SEQUENCE_MAX_ACTIONS:
                return accounting.fail(constants.STATUS_APPLICATION_ERROR, SEQUENCE_TOO_LONG)
            if step.target is None:
                return accounting.fail(
                    constants.STATUS_APPLICATION_ERROR, SEQUENCE_COMPONENT_NOT_FOUND
                )
            if step.inner is not None:
                completed, atomic = await self._nested(identity, step, cause, accounting)
            else:
                submitted = await self.invocations.submit(
                    identity,
                    step.target,
                    accounting.next_input(),
                    blocking=True,
                    cause=cause,
                    annotations=[CAUSED_BY],
                    throttle=False,
                )
                wait_ms = max(0, submitted.accepted.deadline_ms - now_ms()) + self.grace_ms
                found = await self.invocations.wait(submitted, wait_ms)
                if found is None:
                    return accounting.fail(
                        constants.STATUS_WHISK_ERROR,
                        SEQUENCE_COMPONENT_TIMEOUT.format(id=submitted.activation_id),
                        submitted.activation_id,
                    )
                completed, atomic = found, accounting.atomic + 1
            accounting = accounting.after(completed, atomic)
            if accounting.stopped:
                return accounting
        return accounting

    async def _nested(
        self, identity: Identity, step: Step, cause: Cause, outer: Accounting
    ) -> tuple[ActivationCompleted, int]:
        """Run a sequence inside a sequence: its own accepted/completed, its own components."""
        assert step.target is not None and step.inner is not None
        payload = outer.next_input()
        accepted = self._accepted(
            identity, step.target, payload, step.inner, True, cause, nested=True
        )
        await self.invocations.accept(accepted, count=False)
        inner = await self._chain(
            identity, accepted, step.inner, Accounting.start(payload, outer.atomic)
        )
        completed = inner.completed(
            accepted, topmost=False, end_ms=now_ms(), source=self.invocations.source
        )
        await self.invocations.complete(completed)
        return completed, inner.atomic
