"""The alarms feeds on the real stack: cron, once, interval, pause, DELETE, restarts.

Every fire is read back from the ledger (the trigger's ``accepted`` events and
its rule's action's); nothing sleeps: each wait is on a condition, and "no more
fires" is shown against a second alarm that keeps firing meanwhile.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator

import aiohttp
import pytest

from streams.ids import now_ms
from streams.settings import Settings
from tests.support.client import Client, new_client
from tests.support.feeds import (
    ALARM,
    INTERVAL,
    ONCE,
    fires,
    invoke_feed,
    kill_service,
    registration_state,
    runs,
    start_service,
    with_rule,
)
from tests.support.stack import API, ROOT
from tests.support.waits import eventually

pytestmark = pytest.mark.integration
DEADLINE_S = 60.0


@pytest.fixture
async def clock(stack: Settings) -> AsyncIterator[object]:
    """An alarm firing every second in a namespace of its own: ``await tick(n)`` returns once
    it fired ``n`` more times, which shows time passed without sleeping."""
    async with aiohttp.ClientSession() as session:
        me = await new_client(stack, session)
        await with_rule(me, "clock", "tock", ALARM)
        status, result = await invoke_feed(me, ALARM, "CREATE", "clock", cron="* * * * * *")
        assert status == 200, result

        async def tick(n: int = 3) -> None:
            start = len(await fires(stack, me.namespace, "clock"))

            async def ticked() -> bool:
                return len(await fires(stack, me.namespace, "clock")) >= start + n

            await eventually(ticked, DEADLINE_S, f"the clock to tick {n} times", 0.5)

        yield tick
        await invoke_feed(me, ALARM, "DELETE", "clock")


async def count_fires(stack: Settings, client: Client, trigger: str) -> int:
    return len(await fires(stack, client.namespace, trigger))


async def test_a_six_field_cron_fires_a_rules_action_until_deleted(
    stack: Settings, client: Client, clock: object
) -> None:
    await with_rule(client, "everysecond", "echo", ALARM)
    status, result = await invoke_feed(
        client, ALARM, "CREATE", "everysecond", cron="* * * * * *", trigger_payload={"n": 1}
    )
    assert (status, result) == (200, {"status": "success"})

    async def twice() -> bool:
        return len(await runs(stack, client.namespace, "echo")) >= 2

    await eventually(twice, DEADLINE_S, "two runs of the rule's action", 0.5)
    ran = await runs(stack, client.namespace, "echo")
    # The payload, with the fire's request headers as OpenWhisk gives a rule's action.
    assert all({k: v for k, v in r.params.items() if k != "__ow_headers"} == {"n": 1} for r in ran)
    assert all("__ow_headers" in r.params for r in ran)
    triggered = await fires(stack, client.namespace, "everysecond")
    creating = triggered[0].cause
    assert creating is not None and creating.kind == "feed" and creating.name == ALARM

    status, result = await invoke_feed(client, ALARM, "DELETE", "everysecond")
    assert (status, result) == (200, {"status": "success"})

    async def forgotten() -> bool:
        return await registration_state(stack, client.namespace, "everysecond") is None

    await eventually(forgotten, DEADLINE_S, "the registration to be gone")
    await clock(2)  # type: ignore[operator]
    after_delete = await count_fires(stack, client, "everysecond")
    await clock(3)  # type: ignore[operator]
    assert await count_fires(stack, client, "everysecond") == after_delete


async def test_once_fires_exactly_once_and_delete_after_fire_deletes_the_trigger(
    stack: Settings, client: Client, clock: object
) -> None:
    await with_rule(client, "soon", "echo", ONCE)
    status, result = await invoke_feed(
        client, ONCE, "CREATE", "soon", date=now_ms() + 2_000, deleteAfterFire="true"
    )
    assert (status, result) == (200, {"status": "success"})

    async def gone() -> bool:
        code, _ = await client.request("GET", "triggers/soon")
        return code == 404

    await eventually(gone, DEADLINE_S, "the trigger to be deleted after its fire", 0.5)
    await clock(2)  # type: ignore[operator]
    assert await count_fires(stack, client, "soon") == 1
    assert len(await runs(stack, client.namespace, "echo")) == 1


async def test_once_ends_after_its_fire_and_read_says_why(stack: Settings, client: Client) -> None:
    await with_rule(client, "once", "echo", ONCE)
    date = now_ms() + 1_500
    status, result = await invoke_feed(client, ONCE, "CREATE", "once", date=date)
    assert status == 200, result

    async def ended() -> dict | None:
        code, answer = await invoke_feed(client, ONCE, "READ", "once")
        assert code == 200, answer
        return answer if not answer["status"]["active"] else None

    answer = await eventually(ended, DEADLINE_S, "the once alarm to end", 0.5)
    assert answer["config"] == {
        "name": "once",
        "namespace": client.namespace,
        "payload": {},
        "strict": False,
        "date": date,
        "deleteAfterFire": "false",
    }
    assert answer["status"]["reason"]["message"] == "Automatically disabled after firing once"
    assert await count_fires(stack, client, "once") == 1


async def test_an_interval_paused_fires_no_more_until_unpaused(
    stack: Settings, client: Client, clock: object
) -> None:
    await with_rule(client, "beat", "echo", INTERVAL)
    status, result = await invoke_feed(client, INTERVAL, "CREATE", "beat", minutes=0.02)
    assert status == 200, result

    async def fired() -> bool:
        return await count_fires(stack, client, "beat") >= 1

    await eventually(fired, DEADLINE_S, "the interval to fire", 0.5)
    status, result = await invoke_feed(client, INTERVAL, "PAUSE", "beat")
    assert (status, result) == (200, {"status": "success"})
    status, read = await invoke_feed(client, INTERVAL, "READ", "beat")
    assert status == 200 and read["status"]["active"] is False
    assert read["config"]["minutes"] == 0.02
    await clock(2)  # type: ignore[operator]  # a fire in flight at PAUSE settles meanwhile
    paused = await count_fires(stack, client, "beat")
    await clock(3)  # type: ignore[operator]
    assert await count_fires(stack, client, "beat") == paused

    status, result = await invoke_feed(client, INTERVAL, "UNPAUSE", "beat")
    assert (status, result) == (200, {"status": "success"})

    async def again() -> bool:
        return await count_fires(stack, client, "beat") > paused

    await eventually(again, DEADLINE_S, "the interval to fire again", 0.5)
    status, read = await invoke_feed(client, INTERVAL, "READ", "beat")
    assert read["status"]["active"] is True
    status, _ = await invoke_feed(client, INTERVAL, "DELETE", "beat")
    assert status == 200


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        (ALARM, {"cron": "not a cron"}, "cron pattern 'not a cron' is not valid"),
        (ALARM, {}, "alarms trigger feed is missing the cron parameter"),
        (ALARM, {"cron": "* * * * *", "timezone": "Moon/Base"}, "Invalid timezone."),
        (INTERVAL, {"minutes": 0.001}, "the minutes parameter must be at least"),
        (ONCE, {"date": "yesterday"}, "date parameter 'yesterday' is not a valid Date"),
    ],
)
async def test_bad_parameters_answer_openwhisks_error_and_register_nothing(
    stack: Settings, client: Client, action: str, params: dict, message: str
) -> None:
    await with_rule(client, "bad", "echo", action)
    status, result = await invoke_feed(client, action, "CREATE", "bad", **params)
    assert status == 502
    assert set(result) == {"error"} and result["error"].startswith(message)
    code, read = await invoke_feed(client, action, "READ", "bad")
    assert code == 502 and "could not find the trigger" in read["error"]


async def test_someone_elses_trigger_is_refused(stack: Settings, client: Client) -> None:
    await with_rule(client, "mine", "echo", ALARM)
    async with aiohttp.ClientSession() as session:
        other = await new_client(stack, session)
        status, result = await invoke_feed(
            other, ALARM, "CREATE", f"/{client.namespace}/mine", cron="* * * * *"
        )
    assert status == 502 and result == {"error": "Trigger authentication request failed."}


async def test_a_deleted_trigger_ends_its_registration(stack: Settings, client: Client) -> None:
    await with_rule(client, "doomed", "echo", ALARM)
    status, _ = await invoke_feed(client, ALARM, "CREATE", "doomed", cron="* * * * * *")
    assert status == 200
    code, _ = await client.request("DELETE", "triggers/doomed")
    assert code == 200

    async def ended() -> dict | None:
        state = await registration_state(stack, client.namespace, "doomed")
        return state if state and state.get("ended") else None

    state = await eventually(ended, DEADLINE_S, "the registration to end", 0.5)
    assert state["ended"]["reason"]["statusCode"] == 404


async def test_registrations_survive_a_restart_and_a_missed_fire_fires_once_on_return(
    stack: Settings, client: Client
) -> None:
    """A ``kill -9`` of the feed service, then ``stack.sh up``: the registrations are in
    CouchDB, so the cron goes on, and the once alarm due while it was down fires once."""
    await with_rule(client, "steady", "echo", ALARM)
    await with_rule(client, "missed", "echo2", ONCE)
    status, _ = await invoke_feed(client, ALARM, "CREATE", "steady", cron="* * * * * *")
    assert status == 200
    due = now_ms() + 3_000
    status, _ = await invoke_feed(client, ONCE, "CREATE", "missed", date=due)
    assert status == 200

    async def steady_fired() -> bool:
        return await count_fires(stack, client, "steady") >= 1

    await eventually(steady_fired, DEADLINE_S, "the cron to fire", 0.5)
    await kill_service(signal.SIGKILL)
    before = await count_fires(stack, client, "steady")
    await eventually(lambda: now_ms() > due + 500, DEADLINE_S, "the once date to pass")
    assert await count_fires(stack, client, "missed") == 0
    await start_service()

    async def both() -> bool:
        return (
            await count_fires(stack, client, "steady") > before
            and await count_fires(stack, client, "missed") >= 1
        )

    await eventually(both, DEADLINE_S, "fires after the restart", 0.5)
    assert await count_fires(stack, client, "missed") == 1
    await invoke_feed(client, ALARM, "DELETE", "steady")


async def test_lwsk_trigger_create_with_a_feed_and_delete(stack: Settings, client: Client) -> None:
    status, body = await client.put_action("echo", "def main(a):\n    return a\n")
    assert status == 200, body

    def lwsk(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "lwsk"), "--apihost", API, "-u", client.key, *words],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(ROOT / ".state" / "test")},
        )

    made = lwsk("trigger", "create", "cli", "--feed", ALARM, "-p", "cron", "*/2 * * * * *")
    assert made.returncode == 0, made.stderr
    code, trigger = await client.request("GET", "triggers/cli")
    assert code == 200 and {"key": "feed", "value": ALARM} in trigger["annotations"]
    assert trigger["parameters"] == []
    status, read = await invoke_feed(client, ALARM, "READ", "cli")
    assert status == 200 and read["config"]["cron"] == "*/2 * * * * *"

    refused = lwsk("trigger", "create", "cli2", "--feed", ALARM, "-p", "cron", "bad")
    # The feed's failed invoke (502) is the exit code, as wsk's createFeed keeps it.
    assert refused.returncode == 246 and "cron pattern 'bad' is not valid" in refused.stderr
    code, _ = await client.request("GET", "triggers/cli2")
    assert code == 404  # the trigger made before the feed refused is deleted again

    deleted = lwsk("trigger", "delete", "cli")
    assert deleted.returncode == 0, deleted.stderr
    assert await registration_state(stack, client.namespace, "cli") is None
    status, read = await invoke_feed(client, ALARM, "READ", "cli")
    assert (status, read) == (502, {"error": "Trigger authentication request failed."})
