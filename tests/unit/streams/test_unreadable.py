"""Records no reader can decode: what is told of them, and how the controller ends them."""

from __future__ import annotations

from invoker.errors import ContainerError, ImageMissing, ImageUnusable
from invoker.outcome import of_container_failure
from streams import constants
from streams.controller.restore import fold_partition
from streams.controller.state import Append, ControllerState
from streams.events import ActivationCompleted, Unreadable, encode, headers_of, read
from streams.registry import HeartbeatRegistry
from tests.support.events import accepted, aid, completed, health

NS_HEADERS = [("type", b"activation.accepted"), ("namespace", b"ns")]


def test_read_decodes_events_and_never_raises() -> None:
    event = accepted(1)
    assert read(encode(event), event.activation_id.encode(), headers_of(event)) == event
    assert headers_of(event) == NS_HEADERS
    bad = read(b"\xff{", aid(2).encode(), NS_HEADERS)
    assert isinstance(bad, Unreadable) and bad.identified
    assert (bad.activation_id, bad.namespace, bad.type) == (aid(2), "ns", "activation.accepted")
    deep = b'{"type": "activation.accepted", "params": {"a": ' + b"[" * 300 + b"]" * 300 + b"}}"
    assert isinstance(read(deep, aid(3).encode(), NS_HEADERS), Unreadable)
    for key, headers in ((None, NS_HEADERS), (b"not-an-id", NS_HEADERS), (aid(4).encode(), None)):
        told = read(b"{}", key, headers)
        assert isinstance(told, Unreadable) and not told.identified
    assert isinstance(read(None), Unreadable)


def controller() -> ControllerState:
    state = ControllerState(registry=HeartbeatRegistry(offline_after_ms=10_000), source="ctl")
    state.assign({0}, 1)
    state.registry.hearing(1_000, caught_up=True)
    state.on_health(health(0), 1_000)
    return state


def test_the_controller_ends_an_identified_unreadable_activation_once() -> None:
    state = controller()
    record = Unreadable(aid(5), "ns", "activation.accepted", "recursion limit exceeded")
    out = state.on_unreadable(record, 2_000)
    assert len(out) == 1 and isinstance(out[0], Append)
    done = out[0].event
    assert isinstance(done, ActivationCompleted)
    assert done.activation_id == aid(5) and done.namespace == "ns"
    assert done.response.status_code == constants.STATUS_WHISK_ERROR
    assert "recursion limit exceeded" in done.response.result["error"]
    assert {"key": "reason", "value": "unreadable"} in done.annotations
    assert state.on_unreadable(record, 2_001) == []  # ended already
    assert state.on_unreadable(Unreadable(None, "ns", None, "x"), 2_000) == []
    assert state.on_unreadable(Unreadable(aid(6), None, None, "x"), 2_000) == []


def test_the_controller_ends_a_tracked_activation_whose_later_record_is_unreadable() -> None:
    state = controller()
    a = accepted(7)
    state.on_accepted(a, 0, 1, 1_000)
    assert a.activation_id in state.tracked
    out = state.on_unreadable(Unreadable(a.activation_id, "ns", "activation.started", "x"), 1_500)
    assert a.activation_id not in state.tracked and state.reserved_mb.get(0, 0) == 0
    assert [o.event.activation_id for o in out if isinstance(o, Append)] == [a.activation_id]


def test_a_known_activation_ends_in_its_own_namespace_whatever_the_header_says() -> None:
    # A corrupt (or forged) record keyed by a running activation, its namespace header
    # naming another tenant: the completion goes to the activation's own namespace,
    # or even no header at all.
    state = controller()
    a = accepted(11)
    state.on_accepted(a, 0, 1, 1_000)
    out = state.on_unreadable(
        Unreadable(a.activation_id, "other", "activation.started", "x"), 1_500
    )
    [done] = [o.event for o in out if isinstance(o, Append)]
    assert done.namespace == a.namespace != "other"
    b = accepted(12)
    state.on_accepted(b, 0, 2, 1_000)
    out = state.on_unreadable(Unreadable(b.activation_id, None, None, "x"), 1_500)
    assert [o.event.namespace for o in out if isinstance(o, Append)] == [b.namespace]


def test_a_partition_rebuild_returns_unreadable_activations_not_completed() -> None:
    a = accepted(8)
    records = [
        (0, a),
        (1, Unreadable(aid(9), "ns", "activation.accepted", "x")),
        (2, Unreadable(aid(10), "ns", "activation.accepted", "x")),
        (3, completed(accepted(10))),
        (4, Unreadable(None, None, None, "x")),
    ]
    rebuilt = fold_partition(records, 0, committed=0)
    assert [t.accepted.activation_id for t in rebuilt.tracked] == [a.activation_id]
    assert [u.activation_id for u in rebuilt.unreadable] == [aid(9)]
    state = controller()
    out = state.restore(rebuilt.tracked, rebuilt.done, 2_000, rebuilt.unreadable)
    assert aid(9) in {o.event.activation_id for o in out if isinstance(o, Append)}


def test_a_bad_image_is_its_owners_developer_error_and_no_fault_of_the_invoker() -> None:
    for exc in (ImageMissing("x"), ImageUnusable("bad_REF!!", "invalid reference format")):
        result, fault = of_container_failure(exc, blackbox=True)
        assert result.status_code == constants.STATUS_DEVELOPER_ERROR and not fault
        assert "bad_REF!!" in result.result["error"] or "x" in result.result["error"]
    # One of our runtime images that does not work is the invoker's own fault.
    result, fault = of_container_failure(ImageUnusable("ours", "exits"), blackbox=False)
    assert result.status_code == constants.STATUS_WHISK_ERROR and fault
    result, fault = of_container_failure(ContainerError("docker is down"), blackbox=True)
    assert result.status_code == constants.STATUS_WHISK_ERROR and fault


def test_a_runtime_image_not_built_yet_is_a_whisk_error_but_no_fault_of_the_invoker() -> None:
    # Missing with no build under way: the invoker's host lacks it (its fault).
    result, fault = of_container_failure(ImageMissing("lw/java"), blackbox=False, kind="java:17")
    assert result.status_code == constants.STATUS_WHISK_ERROR and fault
    assert "build it with runtimes/build.sh" in result.result["error"]
    result, fault = of_container_failure(
        ImageMissing("lw/java"), blackbox=False, kind="java:17", being_built=True
    )
    assert result.status_code == constants.STATUS_WHISK_ERROR and not fault
    assert "java:17 is being built" in result.result["error"]
    assert "try again in a few minutes" in result.result["error"]
