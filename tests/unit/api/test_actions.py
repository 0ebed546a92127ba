"""The stored action document: OpenWhisk's create/update rules for annotations."""

from __future__ import annotations

from api.actions import document
from api.names import EntityRef

REF = EntityRef("ns", "a")
EXEC = {"kind": "python:3.11", "code": "def main(a): return a", "binary": False}


def marks(doc: dict) -> list[tuple[str, object]]:
    return [(a["key"], a["value"]) for a in doc["annotations"]]


def test_a_new_action_is_stored_without_the_key_unless_granted() -> None:
    created = document(REF, {"annotations": [{"key": "a", "value": 1}]}, None, EXEC)
    assert marks(created) == [("a", 1), ("provide-api-key", False), ("exec", "python:3.11")]
    granted = [{"key": "provide-api-key", "value": True}]
    assert ("provide-api-key", True) in marks(document(REF, {"annotations": granted}, None, EXEC))


def test_an_update_keeps_what_is_stored_and_adds_nothing() -> None:
    legacy = document(REF, {}, None, EXEC)
    legacy["annotations"] = [{"key": "exec", "value": "python:3.11"}]  # stored before the rule
    updated = document(REF, {"annotations": [{"key": "b", "value": 2}]}, legacy, EXEC)
    assert marks(updated) == [("b", 2), ("exec", "python:3.11")]
    declined = document(REF, {}, None, EXEC)
    assert ("provide-api-key", False) in marks(document(REF, {}, declined, EXEC))
