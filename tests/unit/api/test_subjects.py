"""Subject records changed by wskadmin's rules, and a namespace's own limits (pure)."""

from __future__ import annotations

import pytest

from api import subjects, userlimits
from api.errors import APIError
from api.setup import subject_with_key
from api.subjects import SubjectRefused
from api.throttle import Allowances

UUID = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502"
KEY = "k" * 64


def refused(call: object, *args: object, **kwargs: object) -> SubjectRefused:
    with pytest.raises(SubjectRefused) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def test_a_new_key_is_a_uuid_and_64_characters_that_check_key_accepts() -> None:
    uid, key = subjects.check_key(subjects.new_key())
    assert len(uid) == 36 and len(key) == 64


def test_keys_and_names_are_refused_with_wskadmins_texts_and_exit_2() -> None:
    # tools/admin/wskadmin createUserCmd
    short = refused(subjects.check_subject, "pmx")
    assert (short.message, short.exit_code) == ("Subject name must be at least 5 characters", 2)
    assert subjects.check_subject(" alice ") == "alice"
    assert refused(subjects.check_subject, "al/ice").exit_code == 2
    bad_uuid = refused(subjects.check_key, "notauuid:" + KEY)
    assert (bad_uuid.message, bad_uuid.exit_code) == ("authorization id is not a valid UUID", 2)
    weak = refused(subjects.check_key, f"{UUID}:short")
    assert weak.message == "authorization key must be at least 64 characters long"
    assert weak.exit_code == 2
    assert refused(subjects.check_key, UUID).message.startswith(
        "failed to determine authorization id and key"
    )
    assert refused(subjects.check_namespace, "  ", "alice").message == (
        "Namespace must not be empty"
    )
    assert subjects.check_namespace(None, "alice") == "alice"
    # The uuid is stored in its canonical form, as wskadmin stores str(uuid.UUID(...)).
    assert subjects.check_key(f"{UUID.upper()}:{KEY}") == (UUID, KEY)


def test_create_never_replaces_a_key_unless_revoked_and_keeps_every_other_field() -> None:
    doc = {
        "_id": "alice",
        "_rev": "1-a",
        "subject": "alice",
        "namespaces": [{"name": "alice", "uuid": "u1", "key": "k1"}],
        "admin": True,
        "limits": {"invocationsPerMinute": 3},
    }
    again = refused(subjects.with_key, doc, "alice", "alice", ("u2", "k2"))
    assert again.message.startswith("Namespace already exists") and again.exit_code == 1
    revoked = subjects.with_key(doc, "alice", "alice", ("u2", "k2"), revoke=True)
    assert revoked["namespaces"] == [{"name": "alice", "uuid": "u2", "key": "k2"}]
    assert {k: revoked[k] for k in ("_rev", "admin", "limits")} == {
        "_rev": "1-a",
        "admin": True,
        "limits": {"invocationsPerMinute": 3},
    }
    added = subjects.with_key(doc, "alice", "space1", ("u3", "k3"))
    assert [ns["name"] for ns in added["namespaces"]] == ["alice", "space1"]
    assert doc["namespaces"] == [{"name": "alice", "uuid": "u1", "key": "k1"}]  # not mutated
    new = subjects.with_key(None, "bob12", "bob12", ("u", "k"))
    assert new == {
        "_id": "bob12",
        "subject": "bob12",
        "namespaces": [{"name": "bob12", "uuid": "u", "key": "k"}],
    }


def test_a_blocked_subject_is_not_edited_even_with_revoke() -> None:
    doc = {"_id": "alice", "subject": "alice", "namespaces": [], "blocked": True}
    for revoke in (False, True):
        blocked = refused(subjects.with_key, doc, "alice", "alice", ("u", "k"), revoke)
        assert blocked.message == "The subject you want to edit is blocked"
        assert blocked.exit_code == 1


def test_a_namespace_key_is_deleted_got_and_found_by_key() -> None:
    doc = {
        "_id": "alice",
        "subject": "alice",
        "namespaces": [
            {"name": "alice", "uuid": "u1", "key": "k1"},
            {"name": "space1", "uuid": "u2", "key": "k2"},
        ],
    }
    assert subjects.key_of(doc, "space1") == "u2:k2"
    assert refused(subjects.key_of, doc, "other").message == (
        'namespace "other" not found for "alice"'
    )
    left = subjects.without_namespace(doc, "space1")
    assert [ns["name"] for ns in left["namespaces"]] == ["alice"]
    assert refused(subjects.without_namespace, left, "space1").message == (
        'Namespace "space1" does not exist for "alice"'
    )
    limits_doc = {"_id": "space1/limits", "invocationsPerMinute": 1}
    assert subjects.whois([limits_doc, doc], "u2:k2") == {
        "subject": "alice",
        "namespace": "space1",
        "auth": "u2:k2",
        "blocked": False,
        "admin": False,
    }
    assert subjects.whois([{**doc, "blocked": True}], "u2:k2") is None
    assert [r["subject"] for r in subjects.identities([limits_doc, doc], "alice")] == ["alice"]


def test_setup_sets_its_subjects_key_but_keeps_blocked_and_the_rest() -> None:
    current = {
        "_id": "guest",
        "_rev": "3-c",
        "subject": "guest",
        "namespaces": [{"name": "guest", "uuid": "old", "key": "old"}],
        "blocked": True,
        "limits": {"firesPerMinute": 1},
    }
    doc = subject_with_key(current, "guest", "u", "k")
    assert doc == {**current, "namespaces": [{"name": "guest", "uuid": "u", "key": "k"}]}
    same = {**current, "namespaces": [{"name": "guest", "uuid": "u", "key": "k"}]}
    assert subject_with_key(same, "guest", "u", "k") == same  # nothing to write
    assert subject_with_key(None, "guest", "u", "k")["namespaces"] == [
        {"name": "guest", "uuid": "u", "key": "k"}
    ]


def test_the_limits_document_wins_over_the_subject_records_own_field() -> None:
    own = {"invocationsPerMinute": 5, "firesPerMinute": 7, "unknown": 1}
    document = {
        "_id": "ns/limits",
        "_rev": "1-x",
        "invocationsPerMinute": 2,
        "allowedKinds": ["nodejs:18"],
        "storeActivations": None,
    }
    limits = userlimits.merged(own, document)
    assert limits == {"invocationsPerMinute": 2, "firesPerMinute": 7, "allowedKinds": ["nodejs:18"]}
    assert userlimits.merged(None, None) == {}
    assert Allowances.of(Allowances(100, 10, 50), limits) == Allowances(2, 10, 7)
    assert userlimits.document_id("space1") == "space1/limits"


def test_allowed_kinds_as_openwhisks_kind_restrictor() -> None:
    # KindRestrictorTests.scala: no limit or an empty set allows every kind.
    unrestricted: list[dict[str, object]] = [{}, {"allowedKinds": []}, {"allowedKinds": "x"}]
    for open_ in unrestricted:
        assert userlimits.kind_allowed(open_, "python:3.11")
        assert userlimits.allowed_kinds(open_) is None
    limits = {"allowedKinds": ["nodejs:18", "python:default", "sequence"]}
    assert userlimits.kind_allowed(limits, "nodejs:18")
    assert userlimits.kind_allowed(limits, "python:3.11")  # an alias counts as its kind
    assert userlimits.kind_allowed(limits, "sequence")
    assert not userlimits.kind_allowed(limits, "blackbox")
    with pytest.raises(APIError) as caught:
        userlimits.check_kind({"allowedKinds": ["nodejs:18"]}, "python:3.11")
    assert caught.value.status == 403
    assert caught.value.message == (
        "The supplied authentication is not authorized to access actions of kind 'python:3.11'."
    )
    userlimits.check_kind(limits, "nodejs:18")  # allowed: no error


class SubjectsView:
    """The two reads ``Authenticator`` makes: the identities view and a limits document."""

    def __init__(self, docs: dict[str, dict]):
        self.docs = docs
        self.gets: list[str] = []

    async def view(self, _db: str, _ddoc: str, view: str, **_params: object) -> list[dict]:
        value = {"namespace": "space1", "subject": "alice", "limits": {"firesPerMinute": 7}}
        if view == "byNamespace":
            value.update(uuid=UUID, key=KEY)
        return [{"id": "alice", "value": value}]

    async def get(self, _db: str, doc_id: str) -> dict | None:
        self.gets.append(doc_id)
        return self.docs.get(doc_id)


async def test_an_identity_carries_its_namespaces_limits_document() -> None:
    from api.auth import Authenticator
    from api.namespaces import limits_document
    from streams.settings import Settings

    couch = SubjectsView(
        {"space1/limits": {"_id": "space1/limits", "allowedKinds": ["nodejs:18"], "x": 1}}
    )
    auth = Authenticator(couch, Settings())  # type: ignore[arg-type]
    identity = await auth.identify_key((UUID, KEY))
    assert identity.namespace == "space1"
    assert identity.limits == {"firesPerMinute": 7, "allowedKinds": ["nodejs:18"]}
    owner = await auth.owner_of("space1")
    assert owner is not None and owner.limits == identity.limits
    await auth.identify_key((UUID, KEY))  # cached with the identity: no second read
    assert couch.gets == ["space1/limits", "space1/limits"]
    shown = limits_document(Allowances(60, 30, 60), userlimits.allowed_kinds(identity.limits))
    assert shown["allowedKinds"] == ["nodejs:18"]
    assert "nodejs:18" in limits_document(Allowances(60, 30, 60))["allowedKinds"]
