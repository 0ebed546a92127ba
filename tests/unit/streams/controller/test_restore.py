"""Rebuilding a partition's unfinished activations from the ledger."""

from __future__ import annotations

from streams.controller.restore import fold_partition
from tests.support.events import accepted, completed, scheduled, started


def test_each_unfinished_activation_comes_back_in_its_phase() -> None:
    done, queued, sent, running, retried, kept, api = (accepted(i) for i in range(7))
    api = api.model_copy(update={"invoker": 2, "decision": "home"})  # placed by the API
    log = [
        done,
        scheduled(done, 0),
        started(done, 0),
        completed(done),
        queued,
        sent,
        scheduled(sent, 1),
        running,
        scheduled(running, 2),
        started(running, 2),
        retried,
        scheduled(retried, 0),
        scheduled(retried, 1, attempt=1),
        kept,
        scheduled(kept, 0),
        started(kept, 0),
        scheduled(kept, 1, attempt=1),
        api,
    ]
    rebuilt = fold_partition(enumerate(log), partition=3, committed=0)
    assert rebuilt.done == {done.activation_id}
    by_id = {t.accepted.activation_id: t for t in rebuilt.tracked}
    assert [t.accepted.activation_id for t in rebuilt.tracked] == [
        x.activation_id for x in (queued, sent, running, retried, kept, api)
    ]
    assert by_id[queued.activation_id].phase == "queued"
    t = by_id[sent.activation_id]
    assert (t.phase, t.invoker, t.attempt, t.started) == ("dispatched", 1, 0, False)
    assert t.offset == 6 and t.partition == 3  # where its placement sits
    t = by_id[running.activation_id]
    assert (t.invoker, t.started) == (2, True)
    t = by_id[retried.activation_id]
    assert (t.invoker, t.attempt, t.started) == (1, 1, False)
    assert t.offset == 12  # the retry's placement
    t = by_id[kept.activation_id]  # started before the retry: the retry was void
    assert (t.invoker, t.attempt, t.started) == (0, 0, True)
    t = by_id[api.activation_id]  # its acceptance is its placement
    assert (t.phase, t.invoker, t.attempt, t.offset) == ("dispatched", 2, 0, 17)


def test_only_ids_the_stream_will_deliver_again_are_remembered_as_done() -> None:
    old, new = accepted(1), accepted(2)
    log = [old, completed(old), new, completed(new)]
    assert fold_partition(enumerate(log), 0, committed=2).done == {new.activation_id}


def test_events_whose_acceptance_was_not_read_are_left_alone() -> None:
    a = accepted(1)
    assert fold_partition(enumerate([scheduled(a, 0)]), 0, 0).tracked == []
