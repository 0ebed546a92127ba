"""Re-running an activation, and rebuilding the projection from the log."""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

import pytest

from store.couch import Couch
from streams import constants
from streams.history import read_activation
from streams.ids import now_ms
from streams.settings import Settings
from tests.support.client import Client, new_client
from tests.support.ledger import lwsk, stack_env, writer_caught_up

pytestmark = pytest.mark.integration

V1 = 'def main(args):\n    print("v1 ran")\n    return {"version": 1, "args": args}\n'
V2 = 'def main(args):\n    return {"version": 2, "args": args}\n'


def annotation(record: dict[str, Any], key: str) -> Any:
    return next((a["value"] for a in record["annotations"] if a["key"] == key), None)


async def test_a_rerun_runs_with_the_original_parameters(client: Client, stack: Settings) -> None:
    await client.put_action("greet", V1, parameters=[{"key": "greeting", "value": "hi"}])
    status, first = await client.invoke("greet", {"name": "Ada"})
    assert status == 200 and isinstance(first, dict)
    original = first["activationId"]
    expected_args = {"greeting": "hi", "name": "Ada"}
    assert first["response"]["result"] == {"version": 1, "args": expected_args}
    # The action changes afterwards: new code, new default parameter.
    await client.put_action("greet", V2, parameters=[{"key": "greeting", "value": "hello"}])

    status, again = await client.request(
        "POST", f"activations/{original}/rerun", params={"blocking": "true"}
    )
    assert status == 200 and isinstance(again, dict)
    assert again["activationId"] != original
    assert again["response"]["result"] == {"version": 1, "args": expected_args}
    assert annotation(again, "replayOf") == original and again["cause"] == original
    assert any("v1 ran" in line for line in again["logs"])
    # The projected record says so too, and the ledger records why it ran.
    record = await client.activation(again["activationId"])
    assert annotation(record, "replayOf") == original
    status, events = await client.request("GET", f"activations/{again['activationId']}/events")
    assert status == 200 and isinstance(events, list)
    accepted = events[0]["fields"]
    assert accepted["cause"] == {"kind": "replay", "activation_id": original, "name": None} | {
        "name": f"{client.namespace}/greet"
    }
    assert accepted["params"] == expected_args

    status, current = await client.request(
        "POST",
        f"activations/{original}/rerun",
        params={"blocking": "true", "result": "true", "action_version": "current"},
    )
    assert (status, current) == (200, {"version": 2, "args": expected_args})

    # /replay is the first name of /rerun: it still works.
    status, queued = await client.request("POST", f"activations/{original}/replay")
    assert status == 202 and isinstance(queued, dict)
    later = await client.activation(queued["activationId"])
    assert later["response"]["result"] == {"version": 1, "args": expected_args}

    ran = await lwsk(
        "activation", "rerun", original, "-r", env=stack_env(stack, WSK_AUTH=client.key)
    )
    assert ran.status == 0, ran.err
    assert '"version": 1' in ran.out and '"name": "Ada"' in ran.out


async def test_a_rerun_is_refused_for_others_and_for_nonsense(
    client: Client, stack: Settings
) -> None:
    await client.put_action("greet", V1)
    _, first = await client.invoke("greet", {})
    assert isinstance(first, dict)
    stranger = await new_client(stack, client.session)
    status, _ = await stranger.request("POST", f"activations/{first['activationId']}/rerun")
    assert status == 404
    status, _ = await client.request("POST", f"activations/{'0' * 32}/rerun")
    assert status == 404
    status, body = await client.request(
        "POST", f"activations/{first['activationId']}/rerun", params={"action_version": "v9"}
    )
    assert status == 400 and isinstance(body, dict)
    await client.request("DELETE", "actions/greet")
    # A deleted action's code runs no more, whichever the version (as invoking it is 404).
    for version in ("current", "original", None):
        status, body = await client.request(
            "POST",
            f"activations/{first['activationId']}/rerun",
            params={"blocking": "true", **({"action_version": version} if version else {})},
        )
        assert status == 404 and isinstance(body, dict), (version, body)
        assert "no longer exists" in body["error"], body
    # Created again under its name, it exists: original runs the recorded revision.
    await client.put_action("greet", V2)
    status, again = await client.request(
        "POST", f"activations/{first['activationId']}/rerun", params={"blocking": "true"}
    )
    assert status == 200 and isinstance(again, dict)
    assert again["response"]["result"]["version"] == 1


INC = 'def main(args):\n    return {"n": args.get("n", 0) + 1}\n'


async def test_a_rerun_of_a_sequence_runs_the_sequence_again(client: Client) -> None:
    await client.put_action("inc", INC)
    components = [f"/{client.namespace}/inc", f"/{client.namespace}/inc"]
    status, _ = await client.request(
        "PUT",
        "actions/twice",
        json={"exec": {"kind": "sequence", "components": components}},
    )
    assert status == 200
    status, first = await client.invoke("twice", {"n": 1})
    assert status == 200 and isinstance(first, dict)
    assert first["response"]["result"] == {"n": 3}
    original = first["activationId"]

    status, again = await client.request(
        "POST", f"activations/{original}/rerun", params={"blocking": "true"}
    )
    assert status == 200 and isinstance(again, dict), (status, again)
    assert again["response"]["result"] == {"n": 3} and again["response"]["success"]
    assert annotation(again, "replayOf") == original and again["cause"] == original
    assert len(again["logs"]) == 2 and original not in again["logs"]  # its own components
    # current: the sequence as it is now (one component fewer).
    status, _ = await client.request(
        "PUT",
        "actions/twice",
        json={"exec": {"kind": "sequence", "components": components[:1]}},
        params={"overwrite": "true"},
    )
    status, now = await client.request(
        "POST",
        f"activations/{original}/rerun",
        params={"blocking": "true", "result": "true", "action_version": "current"},
    )
    assert (status, now) == (200, {"n": 2})
    # Not blocking: 202, and the record completes (no whisk error at a deadline).
    status, queued = await client.request("POST", f"activations/{original}/rerun")
    assert status == 202 and isinstance(queued, dict)
    record = await client.activation(queued["activationId"])
    assert record["response"]["result"] == {"n": 3}


async def test_a_rerun_of_a_trigger_fires_it_again(client: Client) -> None:
    await client.put_action("inc", INC)
    assert (await client.request("PUT", "triggers/t", json={}))[0] == 200
    rule = {"trigger": f"/{client.namespace}/t", "action": f"/{client.namespace}/inc"}
    assert (await client.request("PUT", "rules/r", json=rule))[0] == 200
    status, fired = await client.request("POST", "triggers/t", json={"n": 10})
    assert status == 202 and isinstance(fired, dict)
    original = fired["activationId"]
    await client.activation(original)

    status, again = await client.request(
        "POST", f"activations/{original}/rerun", params={"blocking": "true"}
    )
    assert status == 200 and isinstance(again, dict), (status, again)
    assert again["activationId"] != original and again["name"] == "t"
    assert annotation(again, "replayOf") == original
    started = json.loads(again["logs"][0])
    assert started["success"] and started["rule"].endswith("/r")
    rule_run = await client.activation(started["activationId"])
    assert rule_run["response"]["result"] == {"n": 11}
    assert rule_run["cause"] == again["activationId"]

    # With no active rule nothing would run: refused at once, not left to time out.
    await client.request("POST", "rules/r", json={"status": "inactive"})
    status, body = await client.request("POST", f"activations/{original}/rerun")
    assert status == 409 and isinstance(body, dict) and "no active rule" in body["error"]
    await client.request("DELETE", "rules/r")
    await client.request("DELETE", "triggers/t")
    status, body = await client.request("POST", f"activations/{original}/rerun")
    assert status == 404 and isinstance(body, dict) and "no longer exists" in body["error"]


async def docs(stack: Settings, db: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    couch = Couch(stack)
    try:
        found = await couch.get_many(db, ids)
    finally:
        await couch.close()
    return {k: {f: v for f, v in d.items() if f != "_rev"} for k, d in found.items()}


# Rebuilds the whole test stack's projection several times: long on a stack reused across runs.
@pytest.mark.timeout(1200)
async def test_dropping_the_projection_and_replaying_the_log_rebuilds_identical_records(
    client: Client, stack: Settings
) -> None:
    await client.put_action("greet", V1)
    ids = []
    for n in range(3):
        _, body = await client.invoke("greet", {"n": n})
        assert isinstance(body, dict)
        ids.append(body["activationId"])
    # An array result (OpenWhisk's since 2022) goes through the log and back too.
    await client.put_action("listing", "def main(args):\n    return [args.get('n'), 'x']\n")
    _, accepted = await client.invoke("listing", {"n": 7}, blocking=False)
    assert isinstance(accepted, dict)
    ids.append(accepted["activationId"])
    for aid in ids:
        await client.activation(aid)
    assert (await client.activation(ids[-1]))["response"]["result"] == [7, "x"]
    await writer_caught_up(stack)
    live = stack.database(constants.DB_ACTIVATIONS)
    scratch = f"{stack.prefix}_rebuilt_{os.urandom(3).hex()}"
    env = stack_env(stack)
    couch = Couch(stack, timeout_s=600)
    try:
        before_api = {aid: await client.activation(aid) for aid in ids}
        before = await docs(stack, live, ids)

        ran = await lwsk("admin", "rebuild", "--into", scratch, "--verify", env=env, timeout_s=600)
        assert ran.status == 0, ran.out + ran.err
        assert f"{scratch} is identical to {live}" in ran.out
        assert "events/s" in ran.out and "events" in ran.err  # the summary and the progress bar

        # Drop the live projection; rebuild it from the log under its own name.
        await couch.drop(live)
        status, _ = await client.request("GET", f"activations/{ids[0]}")
        assert status in (404, 503)
        ran = await lwsk("admin", "rebuild", "--into", live, env=env, timeout_s=600)
        assert ran.status == 0, ran.out + ran.err
        assert await docs(stack, live, ids) == before
        assert {aid: await client.activation(aid) for aid in ids} == before_api
        status, listed = await client.request("GET", "activations", params={"limit": "10"})
        assert status == 200 and isinstance(listed, list)
        assert {a["activationId"] for a in listed} == set(ids)

        # A record that differs from the log is found and named, field by field.
        doc = await couch.get(live, ids[1])
        assert doc is not None
        tampered = {**doc, "response": {**doc["response"], "result": {"forged": True}}}
        await couch.put(live, tampered)
        await couch.drop(scratch)
        ran = await lwsk("admin", "rebuild", "--into", scratch, "--verify", env=env, timeout_s=600)
        assert ran.status == 1, ran.out + ran.err
        assert "1 of" in ran.out and ids[1] in ran.out and "response.result" in ran.out
        restored = await couch.get(live, ids[1])
        assert restored is not None
        await couch.put(live, {**before[ids[1]], "_rev": restored["_rev"]})

        # Refuses to overwrite a database that holds records.
        ran = await lwsk("admin", "rebuild", "--into", live, env=env, timeout_s=600)
        assert ran.status != 0 and "fresh" in ran.err
    finally:
        await couch.drop(scratch)
        await couch.close()


@pytest.mark.timeout(1200)
async def test_verify_on_a_stack_in_use_compares_only_what_the_cut_covers(
    client: Client, stack: Settings
) -> None:
    await client.put_action("greet", V1)
    await client.invoke("greet", {})
    scratch = f"{stack.prefix}_busy_{os.urandom(3).hex()}"
    live = stack.database(constants.DB_ACTIVATIONS)
    running = True
    invoked = 0

    async def traffic() -> None:
        # Activations go on for as long as the rebuild runs (bounded in count).
        nonlocal invoked
        while running and invoked < 5_000:
            await client.invoke("greet", {"n": invoked})
            invoked += 1

    busy = asyncio.create_task(traffic())
    couch = Couch(stack)
    try:
        ran = await lwsk(
            "admin", "rebuild", "--into", scratch, "--verify", env=stack_env(stack), timeout_s=600
        )
        running = False
        await busy
        assert ran.status == 0, ran.out + ran.err
        assert f"{scratch} is identical to {live}" in ran.out
        left_out = re.search(r"; ([\d,]+) not compared: ([\d,]+) touched by the log after", ran.out)
        assert left_out is not None, ran.out
        assert int(left_out.group(2).replace(",", "")) > 0
        for phase in ("reading the log", "waiting for the live projection", "comparing records"):
            assert phase in ran.err
        # The comparison's bar ends whole: compared of total, never more than the total.
        compared = re.findall(r"comparing records\s.*?([\d,]+)/([\d,]+)", ran.err)
        assert compared and all(a == b for a, b in compared), ran.err
    finally:
        running = False
        await busy
        await couch.drop(scratch)
        await couch.close()


async def test_a_failed_rebuild_leaves_no_database_behind(stack: Settings) -> None:
    scratch = f"{stack.prefix}_failed_{os.urandom(3).hex()}"
    # Kafka where nothing listens: the rebuild fails after it created its database.
    env = stack_env(stack, LEDGERWHISK_KAFKA_BOOTSTRAP="127.0.0.1:1")
    ran = await lwsk("admin", "rebuild", "--into", scratch, env=env)
    assert ran.status == 1 and f"the rebuild dropped {scratch}" in ran.err
    assert [line for line in ran.err.splitlines() if line.startswith("error:")] == [
        ran.err.splitlines()[-1]
    ]
    couch = Couch(stack)
    try:
        assert await couch.doc_count(scratch) is None
    finally:
        await couch.close()


async def test_until_gives_the_projection_as_of_a_past_moment(
    client: Client, stack: Settings
) -> None:
    await client.put_action("greet", V1)
    _, early = await client.invoke("greet", {"when": "early"})
    assert isinstance(early, dict)
    moment = now_ms()
    _, late = await client.invoke("greet", {"when": "late"})
    assert isinstance(late, dict)
    scratch = f"{stack.prefix}_asof_{os.urandom(3).hex()}"
    couch = Couch(stack)
    try:
        ran = await lwsk(
            "admin",
            "replay",
            "--into",
            scratch,
            "--until",
            str(moment),
            env=stack_env(stack),
            timeout_s=600,
        )
        assert ran.status == 0, ran.out + ran.err
        found = await docs(stack, scratch, [early["activationId"], late["activationId"]])
        assert set(found) == {early["activationId"]}
        assert found[early["activationId"]]["response"]["result"]["args"] == {"when": "early"}
    finally:
        await couch.drop(scratch)
        await couch.close()


async def test_until_counts_every_event_the_log_received_after_the_moment(
    client: Client, stack: Settings
) -> None:
    # The moment lies well before these activations: their events are all past
    # the rebuild's seek slack, which the count once stopped at.
    moment = now_ms() - 30_000
    await client.put_action("greet", V1)
    ids = []
    for n in range(3):
        _, body = await client.invoke("greet", {"n": n})
        assert isinstance(body, dict)
        ids.append(body["activationId"])
    mine = sum([len(await read_activation(stack, aid)) for aid in ids])
    scratch = f"{stack.prefix}_late_{os.urandom(3).hex()}"
    couch = Couch(stack)
    try:
        ran = await lwsk(
            "--json",
            "admin",
            "rebuild",
            "--into",
            scratch,
            "--until",
            str(moment),
            env=stack_env(stack),
            timeout_s=600,
        )
        assert ran.status == 0, ran.out + ran.err
        summary = json.loads(ran.out)
        assert summary["afterUntil"] >= mine >= 3 * 3, (summary, mine)
        assert not await docs(stack, scratch, ids)
    finally:
        await couch.drop(scratch)
        await couch.close()
