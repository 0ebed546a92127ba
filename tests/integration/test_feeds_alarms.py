"""The alarms feeds on the real stack: cron, once, interval, pause, DELETE, restarts.

Every fire is read back from the ledger (the trigger's ``accepted`` events and
its rule's action's); nothing sleeps: each wait is on a condition, and "no more
fires" is shown against a second alarm that keeps firing meanwhile.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from feeds import registration as reg
from feeds.store import FeedStore
from store.couch import Couch
from streams.ids import now_ms
from streams.settings import Settings
from tests.support.client import Client, new_client
from tests.support.feeds import (
    ALARM,
    INTERVAL,
    LOG,
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


def lwsk_as(client: Client, *words: str) -> subprocess.CompletedProcess[str]:
    """The installed ``lwsk`` with the client's key (no ~/.wskprops of its own)."""
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "lwsk"), "--apihost", API, "-u", client.key, *words],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(ROOT / ".state" / "test")},
    )


async def post_feeds(client: Client, body: dict[str, Any]) -> tuple[int, Any]:
    """``POST /api/v1/feeds`` as the feed actions send it, with the client's key."""
    api = client.url("").split("/namespaces/")[0]
    async with client.session.post(
        f"{api}/feeds", json=body, headers={"Authorization": client.auth}
    ) as resp:
        return resp.status, await resp.json(content_type=None)


async def store_registration(
    stack: Settings, client: Client, feed: str, provider: str, trigger: str, config: dict
) -> dict[str, Any]:
    """A registration written straight to CouchDB, as one stored before the API refused
    its parameters (a registration of an older version)."""
    doc = reg.new_registration(
        feed, provider, client.namespace, trigger, client.key, config, None, now_ms()
    )
    couch = Couch(stack)
    try:
        return await FeedStore(couch, stack).put_registration(doc)
    finally:
        await couch.close()


async def read_when_ended(client: Client, feed: str, trigger: str) -> dict[str, Any]:
    """READ's answer once the registration is no longer active."""

    async def ended() -> dict | None:
        code, answer = await invoke_feed(client, feed, "READ", trigger)
        assert code == 200, answer
        return answer if not answer["status"]["active"] else None

    answer: dict[str, Any] = await eventually(ended, DEADLINE_S, f"{trigger} to end", 0.5)
    return answer


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
        # Schedules the feed service cannot compute: refused, never registered.
        (ALARM, {"cron": "0 0 31 2 *"}, "cron pattern '0 0 31 2 *' is not valid: no date"),
        (
            ALARM,
            {"cron": "* * * * *", "startDate": 1e30},
            "startDate parameter '1e+30' is not a valid Date",
        ),
        (
            ALARM,
            {"cron": "* * * * *", "stopDate": 1e30},
            "stopDate parameter '1e+30' is not a valid Date",
        ),
        (INTERVAL, {"minutes": 1, "startDate": 1e30}, "startDate parameter '1e+30' is not"),
        (ONCE, {"date": 1e30}, "date parameter '1e+30' is not a valid Date"),
        (ONCE, {"date": True}, "date parameter 'true' must be in the future"),
        # minutes as OpenWhisk reads them: +minutes !== parseInt(minutes).
        (INTERVAL, {"minutes": 1.5}, "the minutes parameter must be an integer"),
        (INTERVAL, {"minutes": 1e300}, "the minutes parameter must be an integer"),
        (INTERVAL, {"minutes": "abc"}, "the minutes parameter must be an integer"),
        (ALARM, {"cron": "* * * * *", "maxTriggers": "two"}, "maxTriggers parameter 'two'"),
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
    assert (code, read) == (
        502,
        {"error": f"could not find trigger /{client.namespace}/bad in the database"},
    )


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
        return lwsk_as(client, *words)

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


async def test_a_trigger_deleted_over_rest_can_be_created_again_with_its_feed(
    stack: Settings, client: Client
) -> None:
    """The registration left behind by a REST delete (ended by its fire's 404) is replaced
    by the next CREATE, as both OpenWhisk providers overwrite theirs; its state goes."""
    await with_rule(client, "reborn", "echo", ALARM)
    status, _ = await invoke_feed(
        client, ALARM, "CREATE", "reborn", cron="* * * * * *", trigger_payload={"n": 1}
    )
    assert status == 200
    couch = Couch(stack)
    try:
        store = FeedStore(couch, stack)
        first = await store.registration(f"{client.namespace}/reborn")
        assert first is not None
        code, _ = await client.request("DELETE", "rules/reborn-rule")
        assert code == 200
        code, _ = await client.request("DELETE", "triggers/reborn")  # the feed is not told
        assert code == 200
        await read_state_ended(stack, client, "reborn")

        made = lwsk_as(
            client,
            "trigger",
            "create",
            "reborn",
            "--feed",
            ALARM,
            "-p",
            "cron",
            "* * * * * *",
            "-p",
            "trigger_payload",
            '{"n": 2}',
        )
        assert made.returncode == 0, made.stderr
        code, body = await client.request(
            "PUT", "rules/reborn-rule", json={"trigger": "/_/reborn", "action": "/_/echo"}
        )
        assert code == 200, body

        async def ran_again() -> bool:
            ran = await runs(stack, client.namespace, "echo")
            return any(isinstance(r.params, dict) and r.params.get("n") == 2 for r in ran)

        await eventually(ran_again, DEADLINE_S, "a fire of the new registration", 0.5)
        status, read = await invoke_feed(client, ALARM, "READ", "reborn")
        assert status == 200 and read["status"]["active"] is True
        assert read["config"]["payload"] == {"n": 2}
        second = await store.registration(f"{client.namespace}/reborn")
        assert second is not None and second["uuid"] != first["uuid"]

        async def old_state_gone() -> bool:
            return await store.state(first["uuid"]) is None

        await eventually(old_state_gone, DEADLINE_S, "the replaced registration's state to go")
    finally:
        await couch.close()
    deleted = lwsk_as(client, "trigger", "delete", "reborn")
    assert deleted.returncode == 0, deleted.stderr
    assert await registration_state(stack, client.namespace, "reborn") is None


async def read_state_ended(stack: Settings, client: Client, trigger: str) -> dict[str, Any]:
    async def ended() -> dict | None:
        state = await registration_state(stack, client.namespace, trigger)
        return state if state and state.get("ended") else None

    state: dict[str, Any] = await eventually(ended, DEADLINE_S, f"{trigger} to end", 0.5)
    return state


async def test_create_over_an_active_registration_replaces_its_schedule(
    stack: Settings, client: Client
) -> None:
    await with_rule(client, "twice", "echo", ALARM)
    status, _ = await invoke_feed(client, ALARM, "CREATE", "twice", cron="0 0 1 1 *")
    assert status == 200
    status, result = await invoke_feed(
        client, ALARM, "CREATE", "twice", cron="* * * * * *", trigger_payload={"second": True}
    )
    assert (status, result) == (200, {"status": "success"})
    status, read = await invoke_feed(client, ALARM, "READ", "twice")
    assert status == 200 and read["config"]["cron"] == "* * * * * *"

    async def fired() -> bool:
        ran = await runs(stack, client.namespace, "echo")
        return any(isinstance(r.params, dict) and r.params.get("second") is True for r in ran)

    await eventually(fired, DEADLINE_S, "the replacing schedule to fire", 0.5)
    status, _ = await invoke_feed(client, ALARM, "DELETE", "twice")
    assert status == 200


async def test_lwsk_trigger_get_reads_the_feed_and_update_updates_it(
    stack: Settings, client: Client
) -> None:
    """As wsk (commands/trigger.go): ``get`` of a feed's trigger shows the feed's READ
    activation; ``update -p`` invokes the feed's UPDATE and leaves the trigger alone."""
    status, body = await client.put_action("echo", "def main(a):\n    return a\n")
    assert status == 200, body
    made = lwsk_as(
        client,
        "trigger",
        "create",
        "fed",
        "--feed",
        ALARM,
        "-p",
        "cron",
        "0 0 1 1 *",
        "-p",
        "trigger_payload",
        '{"v": 1}',
    )
    assert made.returncode == 0, made.stderr

    got = lwsk_as(client, "trigger", "get", "fed")
    assert got.returncode == 0, got.stderr
    activation = json.loads(got.stdout)
    assert activation["name"] == "alarm" and len(activation["activationId"]) == 32
    result = activation["response"]["result"]
    assert result["config"]["cron"] == "0 0 1 1 *" and result["config"]["payload"] == {"v": 1}
    assert result["status"]["active"] is True
    summary = lwsk_as(client, "trigger", "get", "fed", "--summary")  # wsk: the READ too
    assert summary.returncode == 0 and json.loads(summary.stdout)["response"]["result"]
    field = lwsk_as(client, "trigger", "get", "fed", "parameters")  # wsk: the READ too
    assert field.returncode == 0 and "config" in json.loads(field.stdout)["response"]["result"]
    bad = lwsk_as(client, "trigger", "get", "fed", "nosuchfield")
    assert bad.returncode == 1 and "Invalid field filter 'nosuchfield'" in bad.stderr

    updated = lwsk_as(client, "trigger", "update", "fed", "-p", "trigger_payload", '{"via": 1}')
    assert updated.returncode == 0, updated.stderr
    assert "ok: updated trigger fed" in updated.stdout
    status, read = await invoke_feed(client, ALARM, "READ", "fed")
    assert status == 200 and read["config"]["payload"] == {"via": 1}
    code, trigger = await client.request("GET", "triggers/fed")
    assert (
        code == 200 and isinstance(trigger, dict) and trigger["parameters"] == []
    )  # nothing merged into fires

    refused = lwsk_as(client, "trigger", "update", "fed", "-p", "cron", "bad")
    assert refused.returncode == 246, (refused.stdout, refused.stderr)
    assert "cron pattern 'bad' is not valid" in refused.stderr
    nothing = lwsk_as(client, "trigger", "update", "fed")
    assert nothing.returncode == 246 and "no updatable parameters were specified" in nothing.stderr
    never = lwsk_as(client, "trigger", "update", "fed", "-p", "cron", "0 0 31 2 *")
    assert never.returncode == 246 and "no date matches it" in never.stderr
    status, read = await invoke_feed(client, ALARM, "READ", "fed")
    assert read["config"]["cron"] == "0 0 1 1 *"

    deleted = lwsk_as(client, "trigger", "delete", "fed")
    assert deleted.returncode == 0, deleted.stderr
    gone = lwsk_as(client, "trigger", "get", "fed")
    assert gone.returncode == 148


@pytest.mark.parametrize(
    ("trigger", "config"),
    [
        ("feb31", {"kind": "cron", "payload": {}, "cron": "0 0 31 2 *", "timezone": None}),
        (
            "farstart",
            {
                "kind": "cron",
                "payload": {},
                "cron": "* * * * *",
                "timezone": None,
                "startDate": 1e30,
                "start_ms": 10**30,
            },
        ),
    ],
)
async def test_a_stored_schedule_that_cannot_be_computed_ends_with_a_reason(
    stack: Settings, client: Client, trigger: str, config: dict
) -> None:
    """A registration stored before CREATE refused such schedules ends once, with the
    reason READ shows (OpenWhisk's provider text), and is not started again and again."""
    await with_rule(client, trigger, "echo", ALARM)
    await store_registration(stack, client, ALARM, "alarm", trigger, config)
    read = await read_when_ended(client, ALARM, trigger)
    reason = read["status"]["reason"]
    assert reason["kind"] == "AUTO"
    assert reason["message"].startswith(
        "Automatically disabled after receiving error on trigger creation: "
    )
    assert f"/{client.namespace}/{trigger} failed; starting it again" not in LOG.read_text()
    assert await count_fires(stack, client, trigger) == 0
    status, _ = await invoke_feed(client, ALARM, "DELETE", trigger)
    assert status == 200


async def test_update_refuses_a_schedule_that_cannot_be_computed(
    stack: Settings, client: Client
) -> None:
    await with_rule(client, "upd", "echo", ALARM)
    status, _ = await invoke_feed(client, ALARM, "CREATE", "upd", cron="0 0 1 1 *")
    assert status == 200
    for params, message in (
        ({"cron": "0 0 31 2 *"}, "cron pattern '0 0 31 2 *' is not valid: no date matches it"),
        ({"startDate": 1e30}, "startDate parameter '1e+30' is not a valid Date"),
    ):
        status, result = await invoke_feed(client, ALARM, "UPDATE", "upd", **params)
        assert (status, result) == (502, {"error": message})
    status, read = await invoke_feed(client, ALARM, "READ", "upd")
    assert read["config"]["cron"] == "0 0 1 1 *" and read["status"]["active"] is True
    assert "startDate" not in read["config"]  # never given: left out, as OpenWhisk's JSON
    status, _ = await invoke_feed(client, ALARM, "DELETE", "upd")
    assert status == 200


async def test_a_registration_answers_only_its_own_feed_action(
    stack: Settings, client: Client
) -> None:
    """Through another feed action, every lifecycle event is "could not find trigger"
    (OpenWhisk's packages each have their own database) and changes nothing."""
    await with_rule(client, "owned", "echo", ALARM)
    status, _ = await invoke_feed(client, ALARM, "CREATE", "owned", cron="0 0 1 1 *")
    assert status == 200
    unknown = {"error": f"could not find trigger /{client.namespace}/owned in the database"}
    for other in (INTERVAL, ONCE):
        for event, params in (
            ("READ", {}),
            ("UPDATE", {"minutes": 2, "date": now_ms() + 60_000}),
            ("PAUSE", {}),
            ("UNPAUSE", {}),
            ("DELETE", {}),
        ):
            status, result = await invoke_feed(client, other, event, "owned", **params)
            assert (status, result) == (502, unknown), (other, event)
    code, answer = await post_feeds(
        client, {"feed": INTERVAL, "lifecycleEvent": "READ", "triggerName": "/_/owned"}
    )
    assert code == 404 and answer["error"] == unknown["error"]
    status, read = await invoke_feed(client, ALARM, "READ", "owned")
    assert status == 200 and read["status"]["active"] is True
    assert read["config"]["cron"] == "0 0 1 1 *"
    status, _ = await invoke_feed(client, ALARM, "DELETE", "owned")
    assert status == 200


async def test_a_string_max_triggers_ends_a_cron_after_that_many_fires(
    stack: Settings, client: Client
) -> None:
    await with_rule(client, "capped", "echo", ALARM)
    status, _ = await invoke_feed(
        client, ALARM, "CREATE", "capped", cron="* * * * * *", maxTriggers="2"
    )
    assert status == 200
    read = await read_when_ended(client, ALARM, "capped")
    assert (
        read["status"]["reason"]["message"] == "Automatically disabled after reaching max triggers"
    )
    assert await count_fires(stack, client, "capped") == 2
    status, _ = await invoke_feed(client, ALARM, "DELETE", "capped")
    assert status == 200


async def test_an_interval_fires_on_past_max_triggers_as_openwhisks_does(
    stack: Settings, client: Client
) -> None:
    await with_rule(client, "steady", "echo", INTERVAL)
    status, result = await invoke_feed(
        client, INTERVAL, "CREATE", "steady", minutes=0.02, maxTriggers=1
    )
    assert status == 200, result

    async def thrice() -> bool:
        return await count_fires(stack, client, "steady") >= 3

    await eventually(thrice, DEADLINE_S, "three fires of the interval", 0.5)
    status, read = await invoke_feed(client, INTERVAL, "READ", "steady")
    assert status == 200 and read["status"]["active"] is True
    status, _ = await invoke_feed(client, INTERVAL, "DELETE", "steady")
    assert status == 200
