"""What the feed tests share: the stack's feed service process, feed actions, ledger counts.

The feed service of the session stack is killed and started again through the
stack's own script (``scripts/stack.sh up`` starts what is not running and
waits for its ready line), so a restart is the same one an operator does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from feeds.store import FeedStore
from store.couch import Couch
from streams.events import ActivationAccepted
from streams.history import LedgerReader
from streams.settings import Settings
from tests.support.client import Client
from tests.support.stack import ROOT, TEST_ENV
from tests.support.waits import eventually

STATE = Path(TEST_ENV["LEDGERWHISK_STATE_DIR"])
PIDFILE = STATE / "run" / "feeds.pid"
LOG = STATE / "logs" / "feeds.log"
MODULE = b"feeds.service"
ALARM = "/whisk.system/alarms/alarm"
INTERVAL = "/whisk.system/alarms/interval"
ONCE = "/whisk.system/alarms/once"
KAFKA_FEED = "/whisk.system/messaging/kafkaFeed"

# The rule's action: what it was given, so a test can read each fire's payload back.
ECHO = "def main(args):\n    return {'got': args}\n"


def service_pid() -> int | None:
    """The running feed service's pid (None when it is not running)."""
    try:
        pid = int(PIDFILE.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if MODULE in cmdline else None


async def kill_service(sig: signal.Signals = signal.SIGKILL) -> None:
    """Send ``sig`` to the stack's feed service and wait until it is gone."""
    pid = service_pid()
    assert pid is not None, "the feed service is not running"
    os.kill(pid, sig)
    await eventually(lambda: service_pid() is None, 30, "the feed service to stop")


async def start_service() -> None:
    """Start what is not running (the feed service) with the stack's script."""
    env = {**os.environ, **TEST_ENV}
    await asyncio.to_thread(
        subprocess.run,
        [str(ROOT / "scripts" / "stack.sh"), "up"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert service_pid() is not None


async def invoke_feed(
    client: Client, action: str, event: str, trigger: str, **params: Any
) -> tuple[int, Any]:
    """Invoke a feed action blocking, as the npm client's ``feeds.*`` do: (status, result).
    ``trigger`` is a name in the client's namespace, or ``/namespace/name``."""
    namespace, _, rest = action.lstrip("/").partition("/")
    api = client.url("").split("/namespaces/")[0]
    name = trigger if trigger.startswith("/") else f"/_/{trigger}"
    body = {
        "lifecycleEvent": event,
        "triggerName": name,
        "authKey": client.key,
        **params,
    }
    async with client.session.post(
        f"{api}/namespaces/{namespace}/actions/{rest}",
        json=body,
        params={"blocking": "true"},
        headers={"Authorization": client.auth},
    ) as resp:
        answer = await resp.json(content_type=None)
        return resp.status, answer.get("response", {}).get("result", answer)


async def with_rule(client: Client, trigger: str, action: str, feed_name: str) -> None:
    """A trigger annotated with ``feed_name``, an echo action and a rule between them."""
    status, body = await client.put_action(action, ECHO)
    assert status == 200, body
    status, body = await client.request(
        "PUT",
        f"triggers/{trigger}",
        json={"annotations": [{"key": "feed", "value": feed_name}]},
    )
    assert status == 200, body
    status, body = await client.request(
        "PUT", f"rules/{trigger}-rule", json={"trigger": f"/_/{trigger}", "action": f"/_/{action}"}
    )
    assert status == 200, body


async def accepted_events(stack: Settings, namespace: str) -> list[ActivationAccepted]:
    """The namespace's ``accepted`` events in the whole ledger, in log order per partition
    (records no reader can decode, which other tests leave there, are skipped)."""
    out: list[ActivationAccepted] = []
    async with LedgerReader(stack) as reader:
        start, stop = await reader.bounds()
        async for batch in reader.read(start, stop):
            for record in batch:
                logged = record.decoded()
                if logged is None:
                    continue
                event = logged.event
                if isinstance(event, ActivationAccepted) and event.namespace == namespace:
                    out.append(event)
    return out


async def fires(stack: Settings, namespace: str, trigger: str) -> list[ActivationAccepted]:
    """The trigger's activations in the ledger (``accepted`` events), in log order per id:
    one entry per activation id (a fire tried again has the id of its first try)."""
    seen: dict[str, ActivationAccepted] = {}
    for event in await accepted_events(stack, namespace):
        if event.action == f"{namespace}/{trigger}" and event.activation_id not in seen:
            seen[event.activation_id] = event
    return list(seen.values())


async def runs(stack: Settings, namespace: str, action: str) -> list[ActivationAccepted]:
    """The rule's action's activations in the ledger."""
    return [
        e for e in await accepted_events(stack, namespace) if e.action == f"{namespace}/{action}"
    ]


async def registration_state(
    stack: Settings, namespace: str, trigger: str
) -> dict[str, Any] | None:
    """The feed service's state of the trigger's registration (None when there is none)."""
    couch = Couch(stack)
    try:
        store = FeedStore(couch, stack)
        doc = await store.registration(f"{namespace}/{trigger}")
        return None if doc is None else await store.state(doc["uuid"])
    finally:
        await couch.close()
