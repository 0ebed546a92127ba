"""One activation's conversation with its container: /init once, /run, limits, logs.

Every way user code can fail ends here as data (an ``Execution``): a time-out,
a crash, the OOM killer, a bad or oversize result. Whether the container may
serve again is part of the answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from invoker import outcome, protocol
from invoker.containers import Container, Docker
from invoker.entry import Entry
from invoker.logs import now_stamp
from invoker.proxy import ProxyTimeout, ProxyUnreachable
from streams import constants
from streams.completion import error_response
from streams.events import ActivationAccepted, Response
from streams.ids import now_ms
from streams.messages import (
    ABNORMAL_INIT,
    ABNORMAL_RUN,
    INIT_TIMEOUT,
    LOG_WARNING_DEVELOPER_ERROR,
    LOGS_NOT_COLLECTED,
    MEMORY_EXCEEDED,
    TIMEOUT,
)

# How long to wait for the end-of-activation sentinels once the proxy answered.
SENTINEL_WAIT_S = 2.0
# After a crash the container may take a moment to be reported as exited.
EXIT_WAIT_S = 2.0
# Logs of a container that was killed or timed out: whatever already arrived.
DEAD_LOG_WAIT_S = 0.05
MB = 1024 * 1024


@dataclass(frozen=True)
class Execution:
    """What running one activation in one container produced."""

    result: Response
    start_ms: int
    end_ms: int
    init_ms: int | None
    timed_out: bool
    logs: list[str]
    keep: bool  # the container may serve another activation


class _Failed(Exception):
    """The proxy could not give an answer; ``result`` says why."""

    def __init__(self, result: Response, timed_out: bool = False, init_ms: int | None = None):
        super().__init__(result.result)
        self.result = result
        self.timed_out = timed_out
        self.init_ms = init_ms  # set when the failure happened during a paid /init


async def execute(
    entry: Entry,
    container: Container,
    accepted: ActivationAccepted,
    action: dict[str, Any],
    api_host: str,
    api_key: str | None,
    docker: Docker,
) -> Execution:
    """Initialise the container if it has not been, run the activation, collect its logs."""
    collect = entry.concurrency == 1
    if collect:
        container.logs.begin(accepted.limits.logs_mb * MB)
    timeout_ms = accepted.limits.timeout_ms
    start = now_ms()
    began = time.monotonic()
    init_ms: int | None = None
    timed_out = False
    try:
        deadline_ms = start + timeout_ms
        init_body = protocol.init_payload(accepted, action, api_host, api_key, deadline_ms)
        init_ms, failure = await _initialize(entry, container, accepted, init_body, docker)
        if failure is not None:
            result = failure
        else:
            # /init and /run share the action's time limit.
            left_s = timeout_ms / 1000 - (time.monotonic() - began)
            run_body = protocol.run_payload(
                accepted, api_host, api_key, deadline_ms, protocol.init_args(accepted, action)
            )
            result = await _run(container, accepted, run_body, left_s, docker)
    except _Failed as failed:
        result, timed_out = failed.result, failed.timed_out
        init_ms = failed.init_ms if failed.init_ms is not None else init_ms
    end = now_ms()
    keep = outcome.keeps_container(result) and not timed_out
    if collect:
        logs = await container.logs.finish(SENTINEL_WAIT_S if keep else DEAD_LOG_WAIT_S)
        if result.status_code == constants.STATUS_DEVELOPER_ERROR:
            # As OpenWhisk, after a truncation notice: the output may have stopped short.
            logs.append(f"{now_stamp()} stderr: {LOG_WARNING_DEVELOPER_ERROR}")
    else:
        logs = [f"{now_stamp()} stderr: {LOGS_NOT_COLLECTED}"]
    return Execution(result, start, end, init_ms, timed_out, logs, keep)


async def _initialize(
    entry: Entry,
    container: Container,
    accepted: ActivationAccepted,
    body: dict[str, Any],
    docker: Docker,
) -> tuple[int | None, Response | None]:
    """``(init time, None)`` when this activation paid for /init, ``(None, failure)`` if it failed.

    Activations sharing a container wait for the one /init; only the one that
    sent it reports ``initTime``.
    """
    if entry.initialized:
        return None, None
    async with entry.init_lock:
        if entry.initialized:
            return None, None
        if entry.init_failure is not None:
            return None, entry.init_failure
        timeout_ms = accepted.limits.timeout_ms
        t0 = time.monotonic()
        try:
            answer = await container.client.post("/init", body, timeout_ms / 1000)
        except ProxyTimeout:
            entry.init_failure = error_response(
                constants.STATUS_DEVELOPER_ERROR, INIT_TIMEOUT.format(ms=timeout_ms)
            )
            raise _Failed(entry.init_failure, True, _since(t0)) from None
        except ProxyUnreachable:
            spent = _since(t0)
            entry.init_failure = await _crashed(container, docker, ABNORMAL_INIT)
            raise _Failed(entry.init_failure, False, spent) from None
        init_ms = _since(t0)
        failure = outcome.of_init(answer)
        if failure is None:
            entry.initialized = True
        else:
            entry.init_failure = failure
        return init_ms, failure


def _since(t0: float) -> int:
    return int((time.monotonic() - t0) * 1000)


async def _run(
    container: Container,
    accepted: ActivationAccepted,
    payload: dict[str, Any],
    left_s: float,
    docker: Docker,
) -> Response:
    timeout_ms = accepted.limits.timeout_ms
    try:
        answer = await container.client.post(
            "/run", payload, max(0.001, left_s), constants.RESULT_MAX_BYTES
        )
    except ProxyTimeout:
        raise _Failed(
            error_response(constants.STATUS_DEVELOPER_ERROR, TIMEOUT.format(ms=timeout_ms)),
            timed_out=True,
        ) from None
    except ProxyUnreachable:
        raise _Failed(await _crashed(container, docker, ABNORMAL_RUN)) from None
    return outcome.of_run(answer)


async def _crashed(container: Container, docker: Docker, otherwise: str) -> Response:
    """The developer error for a proxy that stopped answering: out of memory, or a crash."""
    state = await docker.exit_state(container, EXIT_WAIT_S)
    message = MEMORY_EXCEEDED if state.oom_killed else otherwise
    return error_response(constants.STATUS_DEVELOPER_ERROR, message)
