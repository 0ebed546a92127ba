"""Parameters merged from a package, its binding and the action."""

from __future__ import annotations

from api.lookup import init_params, merge_params
from projections.record import blocking_body


def test_init_flags_merge_package_binding_action() -> None:
    package = [{"key": "p", "value": 1, "init": True}, {"key": "q", "value": 1, "init": True}]
    binding = [{"key": "b", "value": 2, "init": True}, {"key": "q", "value": 2}]
    action = [{"key": "a", "value": 3}]
    # A later layer redefining ``q`` without the flag wins, as Parameters ``++`` does.
    assert init_params(package, binding, action) == {"p", "b"}
    assert merge_params(package, binding, action) == {"p": 1, "q": 2, "b": 2, "a": 3}
    assert init_params(None, None, [{"key": "a", "value": 0, "init": True}]) == {"a"}


def test_a_blocking_invoke_answers_an_array_result_bare() -> None:
    shown = {"activationId": "x", "response": {"result": [1], "status": "success"}}
    assert blocking_body(shown, result_only=False) == [1]
    record = {"activationId": "x", "response": {"result": {"a": 1}, "status": "success"}}
    assert blocking_body(record, result_only=False) == record
    assert blocking_body(record, result_only=True) == {"a": 1}
