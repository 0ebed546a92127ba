"""The operator's commands on the real stack: ``lwsk admin user`` keeps what it does not
change (wskadmin's rules), and ``lwsk admin limits`` sets a namespace's own limits,
which the API enforces (throttles and ``allowedKinds``, with OpenWhisk's texts).

Each test has subjects of its own, made with the installed ``lwsk`` as an operator
does. The API reads a changed subject or limits document once its cache of keys
expires (``api/auth.py``, 10 s), so every change is awaited as a condition.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from api import userlimits
from api.setup import ensure_guest, new_key, put_subject
from store.couch import Couch
from streams import constants
from streams.settings import Settings
from tests.support.api import call
from tests.support.cli import Lwsk
from tests.support.client import Client
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

CHANGED_S = 40.0  # the API's key cache is 10 s; a loaded stack may answer slowly
ECHO = "def main(args):\n    return args\n"
SLOW = "import time\ndef main(args):\n    time.sleep(args.get('s', 3))\n    return {}\n"
NODE = "function main(args) { return args; }"


def fresh_name() -> str:
    return "l" + os.urandom(4).hex()


def admin(lwsk: Lwsk, *words: str, ok: bool = True) -> Any:
    return lwsk.run("admin", *words, ok=ok)


@contextlib.asynccontextmanager
async def new_subject(stack: Settings, tmp_path: Path) -> AsyncIterator[tuple[Lwsk, Client]]:
    """``lwsk`` as the administrator, and a client of a subject it just created."""
    lwsk = Lwsk(tmp_path, stack)
    name = fresh_name()
    key = admin(lwsk, "user", "create", name).stdout.strip()
    async with aiohttp.ClientSession() as session:
        yield lwsk, Client(session, key, name)


async def status_of(session: aiohttp.ClientSession, key: str) -> int:
    status, _body, _ = await call(session, "GET", "namespaces", auth=key)
    return status


async def until_status(session: aiohttp.ClientSession, key: str, wanted: int) -> None:
    async def reached() -> bool:
        return await status_of(session, key) == wanted

    await eventually(reached, CHANGED_S, f"the key answered {wanted}", 0.5)


async def until_limits(me: Client, **wanted: Any) -> dict[str, Any]:
    """The namespace's ``GET .../limits`` once it shows ``wanted``."""

    async def shown() -> dict[str, Any] | None:
        status, body = await me.request("GET", "limits")
        assert status == 200, body
        assert isinstance(body, dict)
        return body if all(body.get(k) == v for k, v in wanted.items()) else None

    found: dict[str, Any] = await eventually(shown, CHANGED_S, f"limits {wanted}", 0.5)
    return found


async def test_create_on_an_existing_subject_keeps_its_key_blocked_flag_and_limits(
    stack: Settings, tmp_path: Path
) -> None:
    lwsk = Lwsk(tmp_path, stack)
    name = fresh_name()
    key1 = admin(lwsk, "user", "create", name).stdout.strip()
    admin(lwsk, "limits", "set", name, "--invocationsPerMinute", "500")
    async with aiohttp.ClientSession() as session:
        await until_status(session, key1, 200)
        again = admin(lwsk, "user", "create", name, ok=False)
        assert again.returncode == 1 and again.stdout == ""
        assert again.stderr.startswith("error: Namespace already exists")
        assert admin(lwsk, "user", "get", name).stdout.strip() == key1
        assert await status_of(session, key1) == 200

        assert admin(lwsk, "user", "block", name).stdout == f'"{name}" blocked successfully\n'
        await until_status(session, key1, 401)
        for extra in ((), ("-u", key1), ("--revoke",)):
            refused = admin(lwsk, "user", "create", name, *extra, ok=False)
            assert refused.returncode == 1, extra
            assert refused.stderr == "error: The subject you want to edit is blocked\n"
        listed = lwsk.json("admin", "user", "list", name)
        assert [(r["auth"], r["blocked"]) for r in listed] == [(key1, True)]

        admin(lwsk, "user", "unblock", name)
        await until_status(session, key1, 200)
        key2 = admin(lwsk, "user", "create", name, "--revoke").stdout.strip()
        assert key2 != key1
        await until_status(session, key2, 200)
        await until_status(session, key1, 401)
        me = Client(session, key2, name)
        await until_limits(me, invocationsPerMinute=500)
    assert admin(lwsk, "limits", "get", name).stdout == "invocationsPerMinute = 500\n"


async def test_create_adds_a_namespace_to_a_subject_and_delete_ns_removes_only_it(
    stack: Settings, tmp_path: Path
) -> None:
    lwsk = Lwsk(tmp_path, stack)
    name, space = fresh_name(), fresh_name()
    own = admin(lwsk, "user", "create", name).stdout.strip()
    other = admin(lwsk, "user", "create", name, "-ns", space).stdout.strip()
    assert admin(lwsk, "user", "whois", other).stdout == f"subject: {name}\nnamespace: {space}\n"
    async with aiohttp.ClientSession() as session:
        status, names, _ = await call(session, "GET", "namespaces", auth=other)
        assert (status, names) == (200, [space])
        assert await status_of(session, own) == 200
        assert admin(lwsk, "user", "delete", name, "-ns", space).stdout == "Namespace deleted\n"
        await until_status(session, other, 401)
        assert await status_of(session, own) == 200
    assert admin(lwsk, "user", "list", space).stdout == (
        f'no identities found for namespace "{space}"\n'
    )


def test_user_create_refuses_a_malformed_or_weak_key_and_a_short_name(
    stack: Settings, tmp_path: Path
) -> None:
    lwsk = Lwsk(tmp_path, stack)
    name = fresh_name()
    uuid = new_key().split(":")[0]
    for words, text in (
        ((name, "-u", "notauuid:short"), "authorization id is not a valid UUID"),
        ((name, "-u", f"{uuid}:short"), "authorization key must be at least 64 characters long"),
        (("pmx",), "Subject name must be at least 5 characters"),
    ):
        refused = admin(lwsk, "user", "create", *words, ok=False)
        assert refused.returncode == 2, (words, refused.stderr)
        assert refused.stderr == f"error: {text}\n"
    assert lwsk.json("admin", "user", "list", name) == []


async def test_limits_set_throttles_invocations_and_fires_with_openwhisks_texts(
    stack: Settings, tmp_path: Path
) -> None:
    async with new_subject(stack, tmp_path) as (lwsk, me):
        name = me.namespace
        assert (await me.put_action("echo", ECHO))[0] == 200
        assert (await me.request("PUT", "triggers/t", json={}))[0] == 200
        words = ("--invocationsPerMinute", "2", "--firesPerMinute", "1")
        assert admin(lwsk, "limits", "set", name, *words).stdout == (
            f'Limits successfully set for "{name}"\n'
        )
        await until_limits(me, invocationsPerMinute=2, firesPerMinute=1)
        # Five requests over at most two calendar minutes: one minute holds three or more.
        invokes = [await me.invoke("echo", {}, blocking=False) for _ in range(5)]
        refused = [body for status, body in invokes if status == 429]
        assert refused and {s for s, _ in invokes} <= {202, 429}, invokes
        assert re.fullmatch(
            r"Too many requests in the last minute \(count: \d+, allowed: 2\)\.",
            refused[0]["error"],  # type: ignore[index]
        )
        fires = [await me.request("POST", "triggers/t", json={}) for _ in range(3)]
        refused = [body for status, body in fires if status == 429]
        assert refused, fires
        assert re.fullmatch(
            r"Too many requests in the last minute \(count: \d+, allowed: 1\)\.",
            refused[0]["error"],  # type: ignore[index]
        )


async def test_limits_set_concurrent_invocations(stack: Settings, tmp_path: Path) -> None:
    async with new_subject(stack, tmp_path) as (lwsk, me):
        name = me.namespace
        assert (await me.put_action("slow", SLOW))[0] == 200
        admin(lwsk, "limits", "set", name, "--concurrentInvocations", "1")
        await until_limits(me, concurrentInvocations=1)
        status, first = await me.invoke("slow", {"s": 5}, blocking=False)
        assert status == 202, first
        status, body = await me.invoke("slow", {"s": 0}, blocking=False)
        assert status == 429
        assert body == {
            "error": "Too many concurrent requests in flight (count: 1, allowed: 1).",
            "code": body["code"],  # type: ignore[index]
        }
        admin(lwsk, "limits", "delete", name)
        await until_limits(me, concurrentInvocations=stack.throttle_concurrent)
        status, _ = await me.invoke("slow", {"s": 0}, blocking=False)
        assert status == 202
        await me.activation(first["activationId"], deadline_s=90)  # type: ignore[index]


async def test_allowed_kinds_refuse_other_kinds_sequences_and_blackbox_with_403(
    stack: Settings, tmp_path: Path
) -> None:
    async with new_subject(stack, tmp_path) as (lwsk, me):
        name = me.namespace
        assert (await me.put_action("py", ECHO))[0] == 200
        admin(lwsk, "limits", "set", name, "--allowedKinds", "nodejs:default")
        limits = await until_limits(me, allowedKinds=["nodejs:default"])
        assert limits["invocationsPerMinute"] == stack.throttle_invocations_per_minute

        def not_allowed(kind: str) -> str:
            # KindRestrictor.scala, ErrorResponse.scala notAuthorizedtoActionKind
            return (
                f"The supplied authentication is not authorized to access actions of kind '{kind}'."
            )

        status, body = await me.put_action("py2", ECHO)
        assert (status, body["error"]) == (403, not_allowed("python:3.11"))  # type: ignore[index]
        status, body = await me.put_action("py", ECHO)  # replacing the exec is checked too
        assert (status, body["error"]) == (403, not_allowed("python:3.11"))  # type: ignore[index]
        status, body = await me.request(
            "PUT",
            "actions/py",
            json={"annotations": [{"key": "a", "value": 1}]},
            params={"overwrite": "true"},
        )
        assert status == 200, body  # an update that keeps the exec is not checked
        node_kind = limits_kind(await me.put_action("node", NODE, kind="nodejs:default"))
        seq = {"exec": {"kind": "sequence", "components": [f"/{name}/node"]}}
        status, body = await me.request("PUT", "actions/seq", json=seq)
        assert (status, body["error"]) == (403, not_allowed("sequence"))  # type: ignore[index]
        box = {"exec": {"kind": "blackbox", "image": "openwhisk/dockerskeleton"}}
        status, body = await me.request("PUT", "actions/box", json=box)
        assert (status, body["error"]) == (403, not_allowed("blackbox"))  # type: ignore[index]
        status, body = await me.invoke("py", {"x": 1}, blocking=True, result=True)
        assert (status, body) == (200, {"x": 1})  # existing actions still run

        admin(lwsk, "limits", "set", name, "--allowedKinds", node_kind, "sequence")
        await until_limits(me, allowedKinds=[node_kind, "sequence"])
        status, body = await me.request("PUT", "actions/seq", json=seq)
        assert status == 200, body
        assert admin(lwsk, "limits", "delete", name).stdout == "Limits deleted\n"

        async def all_kinds() -> bool:
            status, body = await me.request("GET", "limits")
            return status == 200 and "python:3.11" in body["allowedKinds"]  # type: ignore[index]

        await eventually(all_kinds, CHANGED_S, "every kind allowed again", 0.5)
        status, body = await me.put_action("py2", ECHO)
        assert status == 200, body


def limits_kind(answer: tuple[int, object]) -> str:
    """The kind an action was stored with (``nodejs:default`` resolves to a version)."""
    status, body = answer
    assert status == 200, body
    assert isinstance(body, dict)
    return str(body["exec"]["kind"])


async def test_the_subject_records_own_limits_are_still_read_under_the_documents(
    stack: Settings,
) -> None:
    name, key = fresh_name(), new_key()
    db = stack.database(constants.DB_SUBJECTS)
    couch = Couch(stack)
    try:
        await put_subject(couch, stack, name, key)
        doc = await couch.get(db, name)
        assert doc is not None
        await couch.put(db, {**doc, "limits": {"invocationsPerMinute": 4, "firesPerMinute": 3}})
        async with aiohttp.ClientSession() as session:
            me = Client(session, key, name)
            await until_limits(me, invocationsPerMinute=4, firesPerMinute=3)
            await couch.put(db, {"_id": userlimits.document_id(name), "invocationsPerMinute": 9})
            await until_limits(me, invocationsPerMinute=9, firesPerMinute=3)
    finally:
        await couch.close()


async def test_the_guest_setup_is_idempotent_and_keeps_the_record(stack: Settings) -> None:
    # ensure_guest is what `make up`/`make run` run for the guest (api/setup.py prepare),
    # here for a guest namespace of this test's own.
    name, key = fresh_name(), new_key()
    mine = stack.model_copy(update={"guest_namespace": name, "guest_key": key})
    db = stack.database(constants.DB_SUBJECTS)
    couch = Couch(stack)
    try:
        await ensure_guest(couch, mine)
        created = await couch.get(db, name)
        assert created is not None
        assert created["namespaces"] == [
            {"name": name, "uuid": key.split(":")[0], "key": key.split(":")[1]}
        ]
        marked = {**created, "blocked": True, "admin": True, "limits": {"firesPerMinute": 2}}
        await couch.put(db, marked)
        before = await couch.get(db, name)
        await ensure_guest(couch, mine)
        assert await couch.get(db, name) == before  # same revision: nothing written
        other = new_key().split(":")
        assert before is not None
        await couch.put(
            db, {**before, "namespaces": [{"name": name, "uuid": other[0], "key": other[1]}]}
        )
        await ensure_guest(couch, mine)
        restored = await couch.get(db, name)
        assert restored is not None
        assert restored["namespaces"] == created["namespaces"]
        assert (restored["blocked"], restored["admin"], restored["limits"]) == (
            True,
            True,
            {"firesPerMinute": 2},
        )
    finally:
        await couch.close()
