"""One activation's history, read from the log: the endpoint and ``lwsk activation events``."""

from __future__ import annotations

import pytest

from streams.events import ACCEPTED, COMPLETED, SCHEDULED, STARTED
from streams.settings import Settings
from tests.support.client import Client, new_client
from tests.support.ledger import lwsk, stack_env

pytestmark = pytest.mark.integration

ECHO = 'def main(args):\n    print("got", args)\n    return {"echo": args}\n'


def placed_by_api(events: list[dict]) -> bool:
    """Whether the API placed the activation (its ``accepted`` names the invoker)."""
    return events[0]["fields"].get("invoker") is not None


async def test_the_events_endpoint_returns_the_states_in_order(client: Client) -> None:
    await client.put_action("echo", ECHO)
    status, body = await client.invoke("echo", {"n": 1})
    assert status == 200 and isinstance(body, dict)
    aid = body["activationId"]

    status, events = await client.request("GET", f"activations/{aid}/events")
    assert status == 200 and isinstance(events, list)
    # Placed by the API, the acceptance is also the schedule: three events;
    # placed by the controller (no room in the API's share), four.
    if placed_by_api(events):
        assert [e["type"] for e in events] == [ACCEPTED, STARTED, COMPLETED]
        assert [e["fields"]["seq"] for e in events] == [1, 3, 4]
        assert events[0]["fields"]["decision"] in ("home", "step")
    else:
        assert [e["type"] for e in events] == [ACCEPTED, SCHEDULED, STARTED, COMPLETED]
        assert [e["fields"]["seq"] for e in events] == [1, 2, 3, 4]
    assert {e["activationId"] for e in events} == {aid}
    assert len({e["partition"] for e in events}) == 1
    offsets = [e["offset"] for e in events]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(events)
    times = [e["at_ms"] for e in events]
    assert times == sorted(times) and all(e["time"].endswith("Z") for e in events)
    accepted, started, completed = (events[0]["fields"], events[-2]["fields"], events[-1]["fields"])
    assert accepted["params"] == {"n": 1} and accepted["action"] == f"{client.namespace}/echo"
    assert started["start"] in ("cold", "warm", "prewarm")
    assert completed["response"]["result"] == {"echo": {"n": 1}}
    assert any("got" in line for line in completed["logs"])


async def test_someone_elses_activation_is_not_found(client: Client, stack: Settings) -> None:
    await client.put_action("echo", ECHO)
    status, body = await client.invoke("echo", {})
    assert status == 200 and isinstance(body, dict)
    stranger = await new_client(stack, client.session)
    status, answer = await stranger.request("GET", f"activations/{body['activationId']}/events")
    assert status == 404 and isinstance(answer, dict)
    assert answer["error"] == "The requested resource does not exist."


async def test_unknown_and_malformed_ids(client: Client) -> None:
    status, _ = await client.request("GET", f"activations/{'0' * 32}/events")
    assert status == 404
    status, body = await client.request("GET", "activations/not-an-id/events")
    assert status == 400 and isinstance(body, dict) and body["error"]


async def test_lwsk_activation_events_prints_a_timeline(client: Client, stack: Settings) -> None:
    await client.put_action("echo", ECHO)
    status, body = await client.invoke("echo", {"n": 2})
    assert status == 200 and isinstance(body, dict)
    ran = await lwsk(
        "activation", "events", body["activationId"], env=stack_env(stack, WSK_AUTH=client.key)
    )
    assert ran.status == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].split()[:3] == ["state", "time", "since"]
    states = [line.split()[0] for line in lines[1:]]
    assert states in (
        ["accepted", "started", "completed"],
        ["accepted", "scheduled", "started", "completed"],
    )
    assert "+" in lines[2] and " ms" in lines[2]
    assert any(kind in lines[-2] for kind in ("cold", "warm", "stem cell"))
    assert "success" in lines[-1]
