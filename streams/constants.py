"""Constants shared by every Ledgerwhisk component: names, limits, defaults."""

from __future__ import annotations

from typing import Final

GUEST_KEY: Final = (
    "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:"
    "123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
)
GUEST_NAMESPACE: Final = "guest"
SYSTEM_NAMESPACE: Final = "whisk.system"
DEFAULT_NAMESPACE_ALIAS: Final = "_"

# Topics (prefixed by Settings.prefix).
TOPIC_EVENTS: Final = "activation-events"
TOPIC_HEALTH: Final = "invoker-health"
TOPIC_DEAD_LETTERS: Final = "dead-letters"
# The API's 429s, one fact each (streams/events.py NamespaceThrottled), for the metrics.
TOPIC_THROTTLES: Final = "throttles"
TOPIC_STATS: Final = "service-stats"

# Databases (prefixed by Settings.prefix).
DB_SUBJECTS: Final = "subjects"
DB_WHISKS: Final = "whisks"
DB_ACTIVATIONS: Final = "activations"
# Feed registrations (written by the API's /api/v1/feeds) and the feed service's
# own state of each (next fire, the fire in flight, why it ended): see feeds/.
DB_FEEDS: Final = "feeds"
DB_FEED_STATE: Final = "feedstate"

# The annotation that grants an action its caller's key as ``__OW_API_KEY``:
# stored ``false`` on every new action that does not set it; an action stored
# without it (made before the rule) keeps the key (OpenWhisk's
# docs/annotations.md, Actions.scala amendAnnotations, ContainerProxy.scala).
ANNOTATION_PROVIDE_API_KEY: Final = "provide-api-key"

# The action protocol.
SENTINEL: Final = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
PROTOCOL_PORT: Final = 8080

# Limits (OpenWhisk's defaults and ranges).
TIMEOUT_MIN_MS: Final = 100
TIMEOUT_MAX_MS: Final = 300_000
TIMEOUT_DEFAULT_MS: Final = 60_000
MEMORY_MIN_MB: Final = 128
MEMORY_MAX_MB: Final = 512
MEMORY_DEFAULT_MB: Final = 256
LOGS_MIN_MB: Final = 0
LOGS_MAX_MB: Final = 10
LOGS_DEFAULT_MB: Final = 10
CONCURRENCY_MIN: Final = 1
CONCURRENCY_MAX: Final = 500
CONCURRENCY_DEFAULT: Final = 1
PAYLOAD_MAX_BYTES: Final = 1024 * 1024
RESULT_MAX_BYTES: Final = 1024 * 1024
PARAMS_MAX_BYTES: Final = 1024 * 1024
# An ``accepted`` event may be this large: a payload and default parameters
# each within their own limit always fit, with room for the event's envelope.
ACCEPTED_MAX_BYTES: Final = PAYLOAD_MAX_BYTES + PARAMS_MAX_BYTES + 64 * 1024
# Levels of objects and arrays any JSON value may nest (request bodies,
# parameters, results). The ledger's readers decode events with pydantic, whose
# parser stops at 200 levels: this leaves room for the events' own envelope.
JSON_DEPTH_MAX: Final = 100
# The largest ledger message: a completed event holds a result (1 MB) and logs
# (up to 10 MB by the action's limit), an accepted one the parameters. Topics,
# producers and consumers are configured for it; the invoker fits every
# completed event under it (see invoker/protocol.py).
LEDGER_MESSAGE_MAX_BYTES: Final = 16 * 1024 * 1024
ENTITY_NAME_MAX: Final = 256
LIST_LIMIT_MAX: Final = 200
LIST_LIMIT_DEFAULT: Final = 30
# Atomic actions one sequence may run, nested sequences included (OpenWhisk: 50).
SEQUENCE_MAX_ACTIONS: Final = 50
# An action's code (exec) may be this large (OpenWhisk: 48 MB).
EXEC_MAX_BYTES: Final = 48 * 1024 * 1024
# A request body the API reads at all (an action's code, base64 and JSON, fits).
REQUEST_MAX_BYTES: Final = 64 * 1024 * 1024
# Kinds whose activations no invoker runs: the API orchestrates them (a
# sequence's components, a trigger's rules) and writes their completion; the
# controller only watches their deadline.
KIND_SEQUENCE: Final = "sequence"
KIND_TRIGGER: Final = "trigger"
ORCHESTRATED_KINDS: Final = frozenset({KIND_SEQUENCE, KIND_TRIGGER})
# How long a blocking invoke waits before answering 202 (OpenWhisk: 60 s).
BLOCKING_WAIT_MAX_MS: Final = 60_000

# Activation status codes (OpenWhisk's ActivationResponse).
STATUS_SUCCESS: Final = 0
STATUS_APPLICATION_ERROR: Final = 1
STATUS_DEVELOPER_ERROR: Final = 2
STATUS_WHISK_ERROR: Final = 3
STATUS_NAMES: Final = {
    STATUS_SUCCESS: "success",
    STATUS_APPLICATION_ERROR: "application error",
    STATUS_DEVELOPER_ERROR: "action developer error",
    STATUS_WHISK_ERROR: "whisk internal error",
}
