"""Start an action of any kind: an atomic action through the invokers, a sequence here."""

from __future__ import annotations

from typing import Any

from api.auth import Identity
from api.context import Context
from api.invocations import Submitted
from api.lookup import Target
from streams import constants
from streams.events import Cause


async def start(
    c: Context,
    identity: Identity,
    target: Target,
    payload: dict[str, Any],
    *,
    blocking: bool,
    cause: Cause | None = None,
    throttle: bool = True,
) -> Submitted:
    """Accept one activation of ``target``; throttled as one invocation, whatever its kind."""
    if target.kind == constants.KIND_SEQUENCE:
        if throttle:
            c.invocations.check_invoke(identity)
        return await c.sequences.start(identity, target, payload, blocking=blocking, cause=cause)
    return await c.invocations.submit(
        identity, target, payload, blocking=blocking, cause=cause, throttle=throttle
    )
