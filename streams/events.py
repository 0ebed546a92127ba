"""Ledger events: immutable facts about activations and invokers, JSON on the wire.

Every activation event carries ``(activation_id, type, seq)``. ``seq`` counts the
events of one activation in the order their writers produced them (accepted is 1;
each reschedule, start and completion takes the next number), so a reader can
order and de-duplicate events without trusting delivery order.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION = 1

ACCEPTED: Final = "activation.accepted"
SCHEDULED: Final = "activation.scheduled"
STARTED: Final = "activation.started"
COMPLETED: Final = "activation.completed"
HEALTH: Final = "invoker.health"

# Precedence of states when merging: a later state never yields to an earlier one.
STATE_RANK: dict[str, int] = {ACCEPTED: 1, SCHEDULED: 2, STARTED: 3, COMPLETED: 4}


class Fact(BaseModel):
    """Base of every event: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Limits(Fact):
    """An action's limits as they applied to one activation."""

    timeout_ms: int
    memory_mb: int
    logs_mb: int
    concurrency: int = 1


class Cause(Fact):
    """What made an activation happen, when it was not a direct invoke."""

    kind: Literal["trigger", "rule", "sequence", "replay"]
    activation_id: str
    name: str | None = None


class ActivationEvent(Fact):
    """The envelope every activation event shares."""

    v: int = SCHEMA_VERSION
    activation_id: str
    seq: int
    at_ms: int
    namespace: str
    source: str


class ActivationAccepted(ActivationEvent):
    """The API accepted an invocation and appended it to the ledger."""

    type: Literal["activation.accepted"] = ACCEPTED
    action: str  # fully qualified path without the leading slash: "guest/pkg/hello"
    action_name: str  # "hello": the simple name OpenWhisk shows as the record's `name`
    action_version: str
    action_rev: str
    kind: str
    image: str | None = None
    main: str | None = None
    params: dict[str, Any]
    limits: Limits
    subject: str
    blocking: bool
    deadline_ms: int  # by then the activation must be completed, grace included
    reply_to: str
    cause: Cause | None = None
    annotations: list[dict[str, Any]] = Field(default_factory=list)


class ActivationScheduled(ActivationEvent):
    """The controller addressed the activation to one invoker."""

    type: Literal["activation.scheduled"] = SCHEDULED
    invoker: int
    decision: Literal["home", "step", "overflow", "reschedule"]
    wait_ms: int
    attempt: int = 0


class ActivationStarted(ActivationEvent):
    """An invoker claimed the activation; user code may run from now on."""

    type: Literal["activation.started"] = STARTED
    invoker: int
    container: str
    start: Literal["cold", "warm", "prewarm"]
    wait_ms: int


class Response(Fact):
    """What the activation produced (OpenWhisk's ActivationResponse)."""

    status_code: int
    result: dict[str, Any] | None = None
    size: int = 0


class ActivationCompleted(ActivationEvent):
    """The activation ended: success, application, developer or whisk error."""

    type: Literal["activation.completed"] = COMPLETED
    response: Response
    logs: list[str] = Field(default_factory=list)
    start_ms: int
    end_ms: int
    duration_ms: int
    annotations: list[dict[str, Any]] = Field(default_factory=list)
    invoker: int | None = None
    container: str | None = None


class InvokerHealth(Fact):
    """A heartbeat from one invoker."""

    type: Literal["invoker.health"] = HEALTH
    v: int = SCHEMA_VERSION
    invoker: int
    state: Literal["up", "healthy", "unhealthy", "offline"]
    user_memory_mb: int
    free_memory_mb: int
    in_flight: int
    pid: int
    host: str
    at_ms: int
    # Which run of the invoker this is; a new value means it restarted.
    incarnation: str = ""
    # The first offset of its dispatch topic this run will act on (-1 until known):
    # dispatches below it belong to an earlier run and the controller takes them back.
    dispatch_from: int = -1


LedgerEvent = ActivationAccepted | ActivationScheduled | ActivationStarted | ActivationCompleted
AnyActivationEvent = Annotated[LedgerEvent, Field(discriminator="type")]

_EVENT = TypeAdapter(AnyActivationEvent)


class Dispatch(Fact):
    """What an invoker receives: the scheduled event and the acceptance it answers."""

    accepted: ActivationAccepted
    scheduled: ActivationScheduled
    # Sent again by a controller that rebuilt its state and found no copy in the
    # dispatch topic: the invoker must confirm its claim in the ledger before running.
    redelivered: bool = False


def decode_event(
    raw: bytes | str,
) -> ActivationAccepted | ActivationScheduled | ActivationStarted | ActivationCompleted:
    """Parse one ledger event from its JSON bytes."""
    return _EVENT.validate_json(raw)


def encode(fact: Fact) -> bytes:
    """JSON bytes of one event, as written to Kafka."""
    return fact.model_dump_json(exclude_none=False).encode()
