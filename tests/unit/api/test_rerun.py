"""A re-run's ``accepted`` event: the original's parameters, the revision asked for."""

from __future__ import annotations

from api.auth import Identity
from api.names import EntityRef
from api.rerun import REPLAY_OF, how, ref_of, rerun_of
from projections.record import apply_all, public_view
from streams.events import ActivationAccepted
from tests.support.events import four

A = "0" * 12 + "a" * 20
GUEST = Identity("guest", "guest", "u", "k")


def _original() -> ActivationAccepted:
    first = four(A, params={"name": "Ada", "n": 3})[0]
    assert isinstance(first, ActivationAccepted)
    return first


def test_a_replay_keeps_the_parameters_and_the_original_revision() -> None:
    original = _original()
    again = rerun_of(original, GUEST, source="api1", blocking=False, grace_ms=10_000)
    assert again.params == {"name": "Ada", "n": 3}
    assert (again.action_rev, again.action_version, again.kind) == ("1-x", "0.0.1", "python:3.11")
    assert again.activation_id != A and again.seq == 1 and again.subject == "guest"
    assert again.deadline_ms == again.at_ms + original.limits.timeout_ms + 10_000
    assert again.reply_to == "api1" and not again.blocking
    assert (
        again.cause is not None and again.cause.kind == "replay" and again.cause.activation_id == A
    )
    assert again.annotations == [{"key": REPLAY_OF, "value": A}]


def test_a_replay_of_the_current_version_takes_its_code_and_limits() -> None:
    current = {
        "_rev": "3-z",
        "version": "0.0.3",
        "exec": {"kind": "nodejs:18", "main": "run"},
        "limits": {"timeout": 5000, "memory": 128, "logs": 1, "concurrency": 1},
    }
    again = rerun_of(_original(), GUEST, source="api0", blocking=True, grace_ms=0, current=current)
    assert (again.action_rev, again.action_version, again.kind, again.main) == (
        "3-z",
        "0.0.3",
        "nodejs:18",
        "run",
    )
    assert again.limits.timeout_ms == 5000 and again.deadline_ms == again.at_ms + 5000
    assert again.params == {"name": "Ada", "n": 3}


def test_a_replay_of_a_replay_names_only_the_one_it_replays() -> None:
    first = rerun_of(_original(), GUEST, source="a", blocking=False, grace_ms=0)
    second = rerun_of(first, GUEST, source="a", blocking=False, grace_ms=0)
    assert second.annotations == [{"key": REPLAY_OF, "value": first.activation_id}]


def test_the_replay_annotation_reaches_the_record() -> None:
    first = rerun_of(_original(), GUEST, source="a", blocking=False, grace_ms=0)
    rest = [e.model_copy(update={"activation_id": first.activation_id}) for e in four(A)[1:]]
    shown = public_view(apply_all(None, [first, *rest]) or {})
    assert {"key": REPLAY_OF, "value": A} in shown["annotations"]
    assert shown["annotations"][0]["key"] == "path"  # the completion's come first
    assert shown["cause"] == A


def test_each_kind_reruns_its_own_way() -> None:
    action = _original()
    sequence = action.model_copy(update={"kind": "sequence"})
    trigger = action.model_copy(update={"kind": "trigger"})
    assert how(action, "original") == "revision"
    # The current action may have become a sequence: it goes the way an invoke goes.
    assert how(action, "current") == "entity"
    assert how(sequence, "original") == how(sequence, "current") == "entity"
    assert how(trigger, "original") == how(trigger, "current") == "trigger"


def test_entity_refs_come_from_document_ids() -> None:
    assert ref_of("guest/hello") == EntityRef("guest", "hello")
    assert ref_of("guest/pkg/hello") == EntityRef("guest", "hello", "pkg")
