"""Every message text the platform shows users about activations, in one place."""

from __future__ import annotations

NO_INVOKERS = "No invokers available."
NO_CAPACITY = "The system is overloaded: no invoker had room for the activation in time."
LOST_ON_INVOKER = (
    "The activation was lost: its invoker stopped answering or it outlived its deadline."
)
NOT_RUN_AGAIN = "The invoker restarted after this activation had started; it was not run again."
TIMEOUT = "The action exceeded its time limits of {ms} milliseconds."
NOT_A_DICT = "The action did not return a dictionary."
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
THROTTLED = "Too many concurrent requests in flight (count: {count}, allowed: {allowed})."
