"""``lwsk admin user`` and ``lwsk admin limits`` as wskadmin answers, over an in-memory store.

The store is a stand-in for ``store.couch.Couch`` holding documents in a dict
(the commands' CouchDB round trips are covered by
``tests/integration/test_admin_limits.py``); what is checked here is what the
commands print, exit with and write.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import store.couch
from api.cli.main import main

UUID = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502"
KEY = "x" * 64
DOCS: dict[str, dict[str, Any]] = {}


class MemoryCouch:
    """The few ``Couch`` calls the admin commands make, on ``DOCS`` (one database)."""

    def __init__(self, _settings: Any):
        self.revs = 0

    async def get(self, _db: str, doc_id: str) -> dict[str, Any] | None:
        found = DOCS.get(doc_id)
        return copy.deepcopy(found) if found is not None else None

    async def put(self, _db: str, doc: dict[str, Any]) -> str:
        current = DOCS.get(doc["_id"])
        if (current or {}).get("_rev") != doc.get("_rev"):
            raise store.couch.Conflict(f"write {doc['_id']}: conflict")
        self.revs += 1
        rev = f"{len(DOCS) + self.revs}-r"
        DOCS[doc["_id"]] = {**copy.deepcopy(doc), "_rev": rev}
        return rev

    async def delete(self, _db: str, doc_id: str) -> bool:
        return DOCS.pop(doc_id, None) is not None

    async def all_docs(self, _db: str) -> AsyncIterator[dict[str, Any]]:
        for doc_id in sorted(DOCS):
            yield copy.deepcopy(DOCS[doc_id])

    async def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def memory_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    DOCS.clear()
    monkeypatch.setattr(store.couch, "Couch", MemoryCouch)
    yield
    DOCS.clear()


def lwsk(capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, str, str]:
    code = main(list(words))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_on_an_existing_namespace_keeps_its_key_and_revoke_replaces_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, first, _ = lwsk(capsys, "admin", "user", "create", "pm_user1")
    assert code == 0
    key1 = first.strip()
    DOCS["pm_user1"]["admin"] = True  # a field create must keep
    code, out, err = lwsk(capsys, "admin", "user", "create", "pm_user1")
    assert code == 1 and out == ""
    assert err.startswith("error: Namespace already exists")
    assert "--revoke" in err
    assert lwsk(capsys, "admin", "user", "get", "pm_user1")[1].strip() == key1
    code, out, _ = lwsk(capsys, "admin", "user", "create", "pm_user1", "-u", f"{UUID}:{KEY}", "-r")
    assert code == 0 and out.strip() == f"{UUID}:{KEY}"
    assert DOCS["pm_user1"]["namespaces"] == [{"name": "pm_user1", "uuid": UUID, "key": KEY}]
    assert DOCS["pm_user1"]["admin"] is True


def test_a_blocked_subject_is_neither_rekeyed_nor_unblocked_by_create(
    capsys: pytest.CaptureFixture[str],
) -> None:
    key1 = lwsk(capsys, "admin", "user", "create", "pm_user1")[1].strip()
    assert lwsk(capsys, "admin", "user", "block", "pm_user1")[1] == (
        '"pm_user1" blocked successfully\n'
    )
    for extra in ((), ("-r",), ("-u", key1)):
        code, out, err = lwsk(capsys, "admin", "user", "create", "pm_user1", *extra)
        assert (code, out) == (1, "")
        assert err == "error: The subject you want to edit is blocked\n"
    assert DOCS["pm_user1"]["blocked"] is True
    assert lwsk(capsys, "admin", "user", "get", "pm_user1")[1].strip() == key1


def test_create_adds_another_namespace_and_list_get_whois_delete_answer_as_wskadmin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_a = lwsk(capsys, "admin", "user", "create", "userA")[1].strip()
    key_a1 = lwsk(capsys, "admin", "user", "create", "userA", "-ns", "space1")[1].strip()
    key_b1 = lwsk(capsys, "admin", "user", "create", "userB", "-ns", "space1")[1].strip()
    assert len({key_a, key_a1, key_b1}) == 3
    assert lwsk(capsys, "admin", "user", "get", "userA", "-ns", "space1")[1] == key_a1 + "\n"
    assert lwsk(capsys, "admin", "user", "get", "userA", "-a")[1] == (
        f"userA\t{key_a}\nspace1\t{key_a1}\n"
    )
    # wskadmin's list: "uuid:key<TAB>subject", the first one unless --all or --pick.
    assert lwsk(capsys, "admin", "user", "list", "space1")[1] == f"{key_a1}\tuserA\n"
    assert lwsk(capsys, "admin", "user", "list", "space1", "-a")[1] == (
        f"{key_a1}\tuserA\n{key_b1}\tuserB\n"
    )
    assert lwsk(capsys, "admin", "user", "list", "space1", "-p", "2", "-k")[1] == (
        f"{key_a1}\n{key_b1}\n"
    )
    assert lwsk(capsys, "admin", "user", "list", "pm_nonexist") == (
        0,
        'no identities found for namespace "pm_nonexist"\n',
        "",
    )
    assert lwsk(capsys, "admin", "user", "whois", key_b1)[1] == (
        "subject: userB\nnamespace: space1\n"
    )
    assert lwsk(capsys, "admin", "user", "whois", f"{UUID}:{KEY}")[1] == (
        "Subject id is not recognized\n"
    )
    assert lwsk(capsys, "admin", "user", "delete", "userB", "-ns", "space1")[1] == (
        "Namespace deleted\n"
    )
    code, _, err = lwsk(capsys, "admin", "user", "delete", "userB", "-ns", "space1")
    assert code == 1 and err == 'error: Namespace "space1" does not exist for "userB"\n'
    assert lwsk(capsys, "admin", "user", "delete", "userA")[1] == "Subject deleted\n"
    assert "userA" not in DOCS


def test_bad_keys_and_names_are_refused_with_exit_2_and_nothing_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cases = [
        (("pmx",), "Subject name must be at least 5 characters"),
        (("pm_user2", "-u", "notauuid:short"), "authorization id is not a valid UUID"),
        (("pm_user2", "-u", f"{UUID}:short"), "authorization key must be at least 64 characters"),
    ]
    for words, text in cases:
        code, out, err = lwsk(capsys, "admin", "user", "create", *words)
        assert (code, out) == (2, ""), words
        assert err.startswith(f"error: {text}"), err
    assert DOCS == {}


def test_block_reports_each_missing_subject_and_exits_with_their_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lwsk(capsys, "admin", "user", "create", "pm_user1")
    code, out, err = lwsk(capsys, "admin", "user", "block", "pm_user1", "pm_none1", "pm_none2")
    assert code == 2 and out == '"pm_user1" blocked successfully\n'
    assert err.splitlines() == [
        'error: Failed to block "pm_none1" (it does not exist)',
        'error: Failed to block "pm_none2" (it does not exist)',
    ]
    assert lwsk(capsys, "admin", "user", "unblock", "pm_user1")[:2] == (
        0,
        '"pm_user1" unblocked successfully\n',
    )
    assert DOCS["pm_user1"]["blocked"] is False


def test_limits_set_get_delete_in_the_namespaces_limits_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert lwsk(capsys, "admin", "limits", "get", "space1") == (
        0,
        "No limits found, default system limits apply\n",
        "",
    )
    words = ["admin", "limits", "set", "space1", "--invocationsPerMinute", "2"]
    words += ["--concurrentInvocations", "1", "--allowedKinds", "nodejs:18", "python:3.11"]
    assert lwsk(capsys, *words) == (0, 'Limits successfully set for "space1"\n', "")
    more = ["--firesPerMinute", "1", "--storeActivations", "no"]
    code, out, err = lwsk(capsys, "admin", "limits", "set", "space1", *more)
    assert code == 0 and out == 'Limits successfully set for "space1"\n'
    assert "storeActivations is stored but has no effect" in err
    doc = DOCS["space1/limits"]
    assert {k: v for k, v in doc.items() if k != "_rev"} == {
        "_id": "space1/limits",
        "invocationsPerMinute": 2,
        "concurrentInvocations": 1,
        "allowedKinds": ["nodejs:18", "python:3.11"],
        "firesPerMinute": 1,
        "storeActivations": False,
    }
    # wskadmin's order and Python's way of printing the values.
    assert lwsk(capsys, "admin", "limits", "get", "space1")[1].splitlines() == [
        "invocationsPerMinute = 2",
        "firesPerMinute = 1",
        "concurrentInvocations = 1",
        "allowedKinds = ['nodejs:18', 'python:3.11']",
        "storeActivations = False",
    ]
    code, _, err = lwsk(capsys, "admin", "limits", "set", "space1", "--allowedKinds", "cobol:1")
    assert code == 0 and "cobol:1 is no kind of this platform" in err
    assert lwsk(capsys, "admin", "limits", "delete", "space1")[:2] == (0, "Limits deleted\n")
    code, _, err = lwsk(capsys, "admin", "limits", "delete", "space1")
    assert code == 1 and err.startswith("error: Failed to delete limits")
    assert lwsk(capsys, "admin", "limits", "set", "space1", "stray")[0] == 2
