"""Ledger events: immutable facts about activations and invokers, JSON on the wire.

Every activation event carries ``(activation_id, type, seq)``. ``seq`` counts the
events of one activation in the order their writers produced them (accepted is 1;
each reschedule, start and completion takes the next number), so a reader can
order and de-duplicate events without trusting delivery order.

An activation usually takes three events: ``accepted`` (which names the invoker
its first attempt runs on, when the API could place it), ``started`` and
``completed`` (which repeats what a record needs of the acceptance, so the
record is one event's work). ``scheduled`` appears only when the controller
places an activation: one the API left for it, or a retry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from streams.ids import is_activation_id

SCHEMA_VERSION = 1

ACCEPTED: Final = "activation.accepted"
SCHEDULED: Final = "activation.scheduled"
STARTED: Final = "activation.started"
COMPLETED: Final = "activation.completed"
HEALTH: Final = "invoker.health"
THROTTLED: Final = "namespace.throttled"
STATS: Final = "service.stats"

# Precedence of states when merging: a later state never yields to an earlier one.
STATE_RANK: dict[str, int] = {ACCEPTED: 1, SCHEDULED: 2, STARTED: 3, COMPLETED: 4}
SEQ_PER_ATTEMPT: Final = 10


def seq_for(event_type: str, attempt: int = 0) -> int:
    """The ``seq`` of an event: ``10 * attempt + rank`` (accepted 1 ... completed 4).

    Every writer computes it alike, so the same fact written twice carries the
    same seq and de-duplicates, and a reschedule (attempt 1) sorts after
    everything of attempt 0.
    """
    if event_type == ACCEPTED:
        return 1
    return SEQ_PER_ATTEMPT * attempt + STATE_RANK[event_type]


def attempt_of(seq: int) -> int:
    """The attempt an event belongs to, from its seq."""
    return seq // SEQ_PER_ATTEMPT


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
    """What made an activation happen, when it was not a direct invoke.

    A feed's fire (``kind`` "feed") names the feed action in ``name`` and, in
    ``activation_id``, the activation of that action that created the feed.
    """

    kind: Literal["trigger", "rule", "sequence", "replay", "feed"]
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


Decision = Literal["home", "step", "overflow", "reschedule"]


class ActivationAccepted(ActivationEvent):
    """The API accepted an invocation and appended it to the ledger.

    ``invoker`` and ``decision``: where its first attempt runs when the API
    placed it (the event is then that attempt's ``scheduled`` fact too, and
    its dispatch: the invoker reads it from the ledger); None for one the
    controller must place.
    """

    type: Literal["activation.accepted"] = ACCEPTED
    action: str  # fully qualified path without the leading slash: "guest/pkg/hello"
    action_name: str  # "hello": the simple name OpenWhisk shows as the record's `name`
    action_version: str
    action_rev: str
    kind: str
    image: str | None = None
    main: str | None = None
    # The action's arguments: an object, or the JSON array a sequence's
    # previous component returned (OpenWhisk passes it on as it is).
    params: dict[str, Any] | list[Any]
    # The parameters to give ``/init`` as environment, not ``main``: those
    # created with ``"init": true`` on the action, its package or binding
    # (OpenWhisk's ``ActivationMessage.initArgs``). None: the invoker reads
    # them from the action document (events written before this field).
    init_args: list[str] | None = None
    limits: Limits
    subject: str
    blocking: bool
    deadline_ms: int  # by then the activation must be completed, grace included
    reply_to: str
    cause: Cause | None = None
    annotations: list[dict[str, Any]] = Field(default_factory=list)
    invoker: int | None = None
    decision: Decision | None = None

    def head(self) -> Head:
        """What an activation record needs of this acceptance."""
        return Head(
            action=self.action,
            action_name=self.action_name,
            action_version=self.action_version,
            kind=self.kind,
            subject=self.subject,
            cause=self.cause,
            annotations=self.annotations,
        )


class ActivationScheduled(ActivationEvent):
    """The controller addressed the activation to one invoker.

    It carries the acceptance it answers (``accepted``), so the invoker it
    names has all it needs from this one record: it is the dispatch.
    """

    type: Literal["activation.scheduled"] = SCHEDULED
    invoker: int
    decision: Decision
    wait_ms: int
    attempt: int = 0
    accepted: ActivationAccepted | None = None


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
    # An object, or a JSON array: OpenWhisk accepts an array result since
    # 2022 (ActivationResult.scala ``processRunResponseContent``).
    result: dict[str, Any] | list[Any] | None = None
    # The bytes the action answered with; None when the platform built the
    # response (a time-out, a crash, a whisk error, a trigger's payload),
    # which OpenWhisk's records show without a size.
    size: int | None = None


class Head(Fact):
    """What an activation record needs of its acceptance (``ActivationAccepted.head``)."""

    action: str
    action_name: str
    action_version: str
    kind: str
    subject: str
    cause: Cause | None = None
    annotations: list[dict[str, Any]] = Field(default_factory=list)


class ActivationCompleted(ActivationEvent):
    """The activation ended: success, application, developer or whisk error.

    ``head`` repeats what its record needs of the acceptance (None only when
    that is not known: an activation whose own records could not be read).
    """

    type: Literal["activation.completed"] = COMPLETED
    response: Response
    logs: list[str] = Field(default_factory=list)
    start_ms: int
    end_ms: int
    duration_ms: int
    annotations: list[dict[str, Any]] = Field(default_factory=list)
    invoker: int | None = None
    container: str | None = None
    head: Head | None = None


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
    # Per ledger partition, the first offset this run acts on (empty until known):
    # work placed on it below those belongs to an earlier run; the controller
    # takes it back.
    ledger_from: dict[int, int] = Field(default_factory=dict)
    # Its own faults (whisk errors of its making) within the unhealthy window, and the
    # last one's message: why it is unhealthy, for the controller's log.
    recent_faults: int = 0
    last_fault: str = ""
    # Its pool's containers by state (``ContainerState``), and the activations
    # waiting in it for room: for the metrics exporter and the dashboard.
    containers: dict[str, int] = Field(default_factory=dict)
    queued: int = 0


ThrottleLimit = Literal["concurrent", "timed"]


class NamespaceThrottled(Fact):
    """The API answered 429 to a namespace (``timed``: over a per-minute rate, invocations
    or trigger fires; ``concurrent``: over its activations in flight).

    Appended to the ``throttles`` topic, not the ledger: no activation exists.
    It is OpenWhisk's ``ConcurrentRateLimit``/``TimedRateLimit`` user event
    (``core/monitoring/user-events`` ``PrometheusRecorder.scala``).
    """

    type: Literal["namespace.throttled"] = THROTTLED
    v: int = SCHEMA_VERSION
    # Bounded as a namespace's name is (OpenWhisk's EntityName: 256 characters): the
    # exporter turns each into a metrics series kept for good.
    namespace: str = Field(min_length=1, max_length=256)
    limit: ThrottleLimit
    at_ms: int = Field(ge=0)
    source: str


class ServiceStats(Fact):
    """A process's own figures, sent every ``stats_interval_s`` to the ``service-stats``
    topic for the metrics exporter (streams/producestats.py).

    ``produce_counts`` counts this run's acknowledged Kafka writes per bucket of
    ``PRODUCE_BUCKETS_S`` (not cumulative; the last one is above the largest
    bound) and ``produce_sum_s`` their total seconds; both only grow within one
    ``incarnation``. ``queued``: activations this process holds waiting for
    room (the controller's queue), or None when it holds none by design.
    """

    type: Literal["service.stats"] = STATS
    v: int = SCHEMA_VERSION
    service: str
    instance: str
    incarnation: str
    at_ms: int
    produce_counts: list[int]
    produce_sum_s: float
    queued: int | None = None


FactT = TypeVar("FactT", bound=Fact)


def read_fact(model: type[FactT], value: bytes | None) -> FactT | None:
    """The ``model`` fact a record of a side topic holds (``throttles``, ``service-stats``),
    or None when it holds none (never raises)."""
    if value is None:
        return None
    try:
        return model.model_validate_json(value)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None


LedgerEvent = ActivationAccepted | ActivationScheduled | ActivationStarted | ActivationCompleted
AnyActivationEvent = Annotated[LedgerEvent, Field(discriminator="type")]

_EVENT = TypeAdapter(AnyActivationEvent)


def decode_event(
    raw: bytes | str,
) -> ActivationAccepted | ActivationScheduled | ActivationStarted | ActivationCompleted:
    """Parse one ledger event from its JSON bytes (``pydantic.ValidationError`` if it is not one).

    Readers of the log use ``read``, which never raises.
    """
    return _EVENT.validate_json(raw)


def encode(fact: Fact) -> bytes:
    """JSON bytes of one event, as written to Kafka."""
    return fact.model_dump_json(exclude_none=False).encode()


# Kafka headers every ledger record carries beside its JSON value: a reader
# can tell an event's type and namespace without decoding it, and can still
# tell them when the value does not decode.
HEADER_TYPE: Final = "type"
HEADER_NAMESPACE: Final = "namespace"
# An event that places an activation on an invoker (an ``accepted`` placed by
# the API, a ``scheduled``) names it in this header: invokers read only those.
HEADER_INVOKER: Final = "invoker"

Headers = Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None


def headers_of(event: LedgerEvent) -> list[tuple[str, bytes]]:
    """The headers of the record holding ``event``: ``type``, ``namespace``, and the
    ``invoker`` it places the activation on, if it does."""
    out = [(HEADER_TYPE, event.type.encode()), (HEADER_NAMESPACE, event.namespace.encode())]
    invoker = event.invoker if isinstance(event, ActivationAccepted | ActivationScheduled) else None
    if invoker is not None:
        out.append((HEADER_INVOKER, str(invoker).encode()))
    return out


def header(headers: Headers, name: str) -> str | None:
    """One header's value as text, or None when it is absent or not UTF-8."""
    if not headers:
        return None
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key == name and value is not None:
            try:
                return bytes(value).decode()
            except UnicodeDecodeError:
                return None
    return None


@dataclass(frozen=True)
class Unreadable:
    """A record that does not decode: what its key and headers still tell.

    ``activation_id`` is the record's key when that is an activation id, and
    ``namespace`` and ``type`` come from its headers (None when absent, as in
    a record written by an older version or a corrupt write).
    """

    activation_id: str | None
    namespace: str | None
    type: str | None
    error: str

    @property
    def identified(self) -> bool:
        """Whether the activation it belongs to, and its owner, are known."""
        return self.activation_id is not None and self.namespace is not None


def unreadable(key: bytes | None, headers: Headers, error: BaseException | str) -> Unreadable:
    """What can be told of a record whose value could not be decoded."""
    activation_id = None
    if key is not None:
        try:
            text = key.decode()
        except UnicodeDecodeError:
            text = ""
        activation_id = text if is_activation_id(text) else None
    message = str(error)
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        message = f"{first['msg']} at {'.'.join(map(str, first['loc'])) or 'the top'}"
    return Unreadable(
        activation_id, header(headers, HEADER_NAMESPACE), header(headers, HEADER_TYPE), message
    )


def read(
    value: bytes | None, key: bytes | None = None, headers: Headers = None
) -> LedgerEvent | Unreadable:
    """The ledger event a record holds, or an ``Unreadable`` saying what is known of it.

    Never raises: every reader of the log goes through here, so a record no
    reader can decode (a corrupt write, an older schema) is data, not a crash.
    """
    if value is None:
        return unreadable(key, headers, "the record has no value")
    try:
        return _EVENT.validate_json(value)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:  # ValidationError is one
        return unreadable(key, headers, exc)
