"""What the invoker sends a proxy and records: payloads, annotations, outcomes, event size."""

from __future__ import annotations

from invoker import outcome, protocol
from invoker.proxy import ProxyAnswer
from streams import completion, constants
from streams.completion import error_response
from streams.events import ActivationAccepted, ActivationCompleted, Limits, Response, encode

ACCEPTED = ActivationAccepted(
    activation_id="0" * 32,
    seq=1,
    at_ms=1_000,
    namespace="ns",
    source="api0",
    action="ns/pkg/act",
    action_name="pkg/act",
    action_version="0.0.3",
    action_rev="3-abc",
    kind="python:3.11",
    params={"a": 1},
    limits=Limits(timeout_ms=5_000, memory_mb=256, logs_mb=10, concurrency=1),
    subject="ns",
    blocking=True,
    deadline_ms=16_000,
    reply_to="api0",
)


OW_ENV = {
    "__OW_ACTIVATION_ID": "0" * 32,
    "__OW_NAMESPACE": "ns",
    "__OW_ACTION_NAME": "/ns/pkg/act",
    "__OW_ACTION_VERSION": "0.0.3",
    "__OW_DEADLINE": "6000",
    "__OW_API_HOST": "http://api",
    "__OW_TRANSACTION_ID": "0" * 32,
}


def test_init_payload_carries_code_main_binary_and_the_environment() -> None:
    action = {"exec": {"kind": "python:3.11", "code": "UEsD", "binary": True, "main": "run"}}
    assert protocol.init_payload(ACCEPTED, action, "http://api", "u:k", 6_000) == {
        "value": {
            "name": "pkg/act",
            "main": "run",
            "code": "UEsD",
            "binary": True,
            "env": {**OW_ENV, "__OW_API_KEY": "u:k"},
        }
    }
    blackbox = {"exec": {"kind": "blackbox", "image": "me/box"}}
    no_key = protocol.init_payload(ACCEPTED, blackbox, "http://api", None, 6_000)["value"]
    assert no_key["code"] == "" and no_key["env"] == OW_ENV


def test_init_parameters_go_to_init_only() -> None:
    action = {
        "exec": {"kind": "python:3.11", "code": "x"},
        "parameters": [{"key": "a", "value": 0, "init": True}, {"key": "b", "value": 2}],
    }
    accepted = ACCEPTED.model_copy(update={"params": {"a": 1, "b": 2}})
    env = protocol.init_payload(accepted, action, "http://api", None, 6_000)["value"]["env"]
    assert env == {"a": "1", **OW_ENV}
    names = protocol.init_names(action)
    assert names == {"a"}
    assert protocol.run_payload(accepted, "http://api", None, 6_000, names)["value"] == {"b": 2}


def test_init_args_named_by_the_api_win_over_the_action_document() -> None:
    action = {"exec": {"kind": "python:3.11", "code": "x"}, "parameters": []}
    accepted = ACCEPTED.model_copy(update={"params": {"a": 1, "b": 2}, "init_args": ["b"]})
    env = protocol.init_payload(accepted, action, "http://api", None, 6_000)["value"]["env"]
    assert env == {"b": "2", **OW_ENV}
    names = protocol.init_args(accepted, action)
    assert protocol.run_payload(accepted, "http://api", None, 6_000, names)["value"] == {"a": 1}


def test_init_parameters_reach_the_environment_as_openwhisk_prints_them() -> None:
    # WhiskAction.containerInitializer: strings as they are, null as "", the rest compact JSON.
    values = {
        "s": "text",
        "n": None,
        "i": 3,
        "f": 4.5,
        "t": True,
        "l": [1, "a", {"b": None}],
        "o": {"ü": "é"},
    }
    accepted = ACCEPTED.model_copy(update={"params": values, "init_args": list(values)})
    action = {"exec": {"kind": "python:3.11", "code": "x"}}
    env = protocol.init_payload(accepted, action, "http://api", None, 6_000)["value"]["env"]
    assert env == {
        "s": "text",
        "n": "",
        "i": "3",
        "f": "4.5",
        "t": "true",
        "l": '[1,"a",{"b":null}]',
        "o": '{"ü":"é"}',
        **OW_ENV,
    }


def test_an_array_of_arguments_is_passed_on_whole() -> None:
    accepted = ACCEPTED.model_copy(update={"params": [3, 1], "init_args": ["a"]})
    action = {"exec": {"kind": "python:3.11", "code": "x"}}
    env = protocol.init_payload(accepted, action, "http://api", None, 6_000)["value"]["env"]
    assert env == OW_ENV
    body = protocol.run_payload(accepted, "http://api", None, 6_000, frozenset({"a"}))
    assert body["value"] == [3, 1]


def test_run_payload_is_the_openwhisk_environment() -> None:
    body = protocol.run_payload(ACCEPTED, "http://api", "u:k", 6_000)
    assert body == {
        "value": {"a": 1},
        "activation_id": "0" * 32,
        "namespace": "ns",
        "action_name": "/ns/pkg/act",
        "action_version": "0.0.3",
        "deadline": "6000",
        "api_host": "http://api",
        "api_key": "u:k",
        "transaction_id": "0" * 32,
    }
    assert "api_key" not in protocol.run_payload(ACCEPTED, "http://api", None, 6_000)


def test_the_api_key_is_given_when_the_annotation_is_truthy_or_missing() -> None:
    # A missing annotation gives the key: actions stored before the API added it.
    assert protocol.provides_api_key({})
    for value in (True, 1, "yes", {}):
        marks = {"annotations": [{"key": "provide-api-key", "value": value}]}
        assert protocol.provides_api_key(marks), value
    for value in (False, 0, "", None):
        marks = {"annotations": [{"key": "provide-api-key", "value": value}]}
        assert not protocol.provides_api_key(marks), value


def marks_of(start_ms: int, init_ms: int | None, timed_out: bool) -> dict[str, object]:
    event = completion.of_run(
        ACCEPTED,
        0,
        "invoker0",
        0,
        error_response(0, "x"),
        start_ms=start_ms,
        end_ms=start_ms + 1,
        logs=[],
        init_ms=init_ms,
        timed_out=timed_out,
    )
    return {a["key"]: a["value"] for a in event.annotations}


def test_annotations_add_init_time_only_when_paid_and_mark_time_outs() -> None:
    marks = marks_of(1_007, init_ms=40, timed_out=False)
    assert marks == {
        "path": "ns/pkg/act",
        "waitTime": 7,
        "kind": "python:3.11",
        "timeout": False,
        "limits": {"concurrency": 1, "logs": 10, "memory": 256, "timeout": 5_000},
        "initTime": 40,
    }
    marks = marks_of(997, init_ms=None, timed_out=True)
    assert "initTime" not in marks
    assert marks["timeout"] is True and marks["waitTime"] == 0


def completed(logs: list[str], result: dict) -> ActivationCompleted:
    return completion.of_run(
        ACCEPTED,
        0,
        "invoker0",
        0,
        Response(status_code=0, result=result, size=len(str(result))),
        start_ms=2_000,
        end_ms=2_500,
        logs=logs,
        init_ms=None,
    )


def test_a_completed_event_that_fits_is_unchanged() -> None:
    event = completed(["t stdout: hi"], {"ok": True})
    assert protocol.fit(event, 10_000, "now") is event  # type: ignore[arg-type]


def test_logs_give_way_first_when_the_event_is_too_large() -> None:
    event = completed([f"t stdout: {i:04d} " + "x" * 100 for i in range(100)], {"ok": True})
    cut = protocol.fit(event, 5_000, "2026-01-01T00:00:00.000000000Z")  # type: ignore[arg-type]
    assert len(encode(cut)) <= 5_000
    assert 0 < len(cut.logs) < 100
    assert cut.logs[:-1] == event.logs[: len(cut.logs) - 1]  # type: ignore[attr-defined]
    assert cut.logs[-1].startswith("2026-01-01T00:00:00.000000000Z stderr: Logs were truncated")
    assert cut.response == event.response  # type: ignore[attr-defined]


def test_the_result_gives_way_when_logs_are_not_enough() -> None:
    event = completed([], {"big": "y" * 10_000})
    cut = protocol.fit(event, 2_000, "now")  # type: ignore[arg-type]
    assert len(encode(cut)) <= 2_000
    assert cut.response.status_code == constants.STATUS_DEVELOPER_ERROR
    assert "exceeded the allowed length" in cut.response.result["error"]  # type: ignore[index]


def test_run_outcomes() -> None:
    ok = outcome.of_run(ProxyAnswer(200, {"x": 1}, 7))
    assert (ok.status_code, ok.result) == (0, {"x": 1})
    app = outcome.of_run(ProxyAnswer(200, {"error": "no"}, 14))
    assert app.status_code == constants.STATUS_APPLICATION_ERROR
    dev = outcome.of_run(ProxyAnswer(502, {"error": "ValueError: bad"}, 30))
    assert (dev.status_code, dev.result) == (2, {"error": "ValueError: bad"})
    # An array is a success (ActivationResult.scala processRunResponseContent);
    # another JSON value a developer error quoting it.
    listed = outcome.of_run(ProxyAnswer(200, [1, 2], 6))
    assert (listed.status_code, listed.result, listed.size) == (0, [1, 2], 6)
    null = outcome.of_run(ProxyAnswer(200, None, 4))
    assert null.result == {
        "error": "The action did not produce a valid JSON or JSON Array response: null"
    }
    scalar = outcome.of_run(ProxyAnswer(200, 42, 2))
    assert (scalar.status_code, scalar.result) == (
        2,
        {"error": "The action did not produce a valid JSON or JSON Array response: 42"},
    )
    odd = outcome.of_run(ProxyAnswer(500, "oops", 4, invalid="not JSON"))
    assert odd.result == {
        "error": "The action did not produce a valid JSON or JSON Array response: oops"
    }
    assert outcome.of_run(ProxyAnswer(503, None, 0)).result == {
        "error": "The action did not produce a valid JSON or JSON Array response."
    }
    failed = outcome.of_init(ProxyAnswer(500, {"x": 1}, 7))
    assert failed is not None and failed.result == {
        "error": 'The action failed during initialization: {"x":1}'
    }
    head = b'{"blob": "zz\xc3'  # cut inside a character
    big = outcome.of_run(ProxyAnswer(200, None, 2_000_000, oversize=True, head=head))
    assert (big.status_code, big.size) == (constants.STATUS_APPLICATION_ERROR, 2_000_000)
    assert big.result == {
        "error": "The action produced a response that exceeded the allowed length: "
        '2000000 > 1048576 bytes. The truncated response was: {"blob": "zz\ufffd'
    }
    assert outcome.keeps_container(big)


def test_a_developer_error_discards_the_container() -> None:
    assert outcome.keeps_container(Response(status_code=0, result={}, size=2))
    assert outcome.keeps_container(Response(status_code=1, result={"error": "x"}, size=2))
    assert not outcome.keeps_container(error_response(2, "boom"))
    assert not outcome.keeps_container(error_response(3, "whisk"))
