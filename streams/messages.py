"""Every message text the platform shows users about activations, in one place."""

from __future__ import annotations

NO_INVOKERS = "No invokers available."
NO_CAPACITY = "The system is overloaded: no invoker had room for the activation in time."
LOST_ON_INVOKER = (
    "The activation was lost: its invoker stopped answering or it outlived its deadline."
)
ORCHESTRATION_LOST = (
    "The activation did not complete in time: the API instance running it stopped answering."
)
NOT_RUN_AGAIN = "The invoker restarted after this activation had started; it was not run again."
TIMEOUT = "The action exceeded its time limits of {ms} milliseconds."
NOT_A_DICT = "The action did not return a dictionary."
NOT_JSON = "The action did not produce a valid JSON response: {reason}"
RESULT_TOO_LARGE = (
    "The action produced a response that exceeded the allowed length: {size} > {limit} bytes."
)
MEMORY_EXCEEDED = "The action exhausted its memory and was aborted."
INIT_FAILED = "The action failed during initialization: {error}"
CONTAINER_FAILED = "Failed to start a container for the action: {error}"
ACTION_MISSING = "The action could not be loaded: {error}"
LOGS_TRUNCATED = (
    "Logs were truncated because the total bytes size exceeds the limit of {limit} bytes."
)
INIT_TIMEOUT = "The action exceeded its time limits of {ms} milliseconds during initialization."
ABNORMAL_INIT = "The action did not initialize and exited unexpectedly."
ABNORMAL_RUN = "The action did not produce a valid response and exited unexpectedly."
IMAGE_MISSING = (
    "The image {image} of this blackbox action is not on the invoker's host; "
    "build or load it there first."
)
IMAGE_UNUSABLE = "The image {image} of this blackbox action cannot run the action: {why}."
KIND_UNSUPPORTED = "The invoker has no runtime for the kind {kind}."
TOO_MUCH_MEMORY = "The action asks for {memory} MB of memory; this invoker has {budget} MB in all."
LOGS_NOT_COLLECTED = (
    "Logs are not collected for activations that share a container "
    "(limits.concurrency > 1): their output cannot be told apart."
)
RUNTIME_MISSING = (
    "The runtime image {image} is not on the invoker's host; build it with runtimes/build.sh."
)
RUNTIME_BEING_BUILT = (
    "The runtime image {image} of the kind {kind} is being built on the invoker's host; "
    "try again in a few minutes (progress: .state/logs/runtimes-build.log)."
)
THROTTLED = "Too many concurrent requests in flight (count: {count}, allowed: {allowed})."
UNREADABLE_RECORD = (
    "The ledger holds a record of this activation that cannot be read "
    "({type}: {error}); the activation ends here."
)
