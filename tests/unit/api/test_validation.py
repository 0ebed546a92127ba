"""Which action code is binary (OpenWhisk's Exec.isBinaryCode); how parameters are sized."""

from __future__ import annotations

import base64

import pytest

from api.errors import APIError
from api.validation import check_entity_sizes, check_exec, is_binary_code, parameters_size

ZIP = base64.b64encode(b"PK\x03\x04 a zip's first bytes").decode()


def test_base64_code_is_binary_whatever_the_client_said() -> None:
    assert is_binary_code(ZIP) and is_binary_code(ZIP + "\n")
    assert check_exec({"kind": "nodejs:18", "code": ZIP})["binary"] is True
    assert check_exec({"kind": "nodejs:18", "code": ZIP, "binary": False})["binary"] is True


def test_source_code_is_not_binary() -> None:
    for code in ("def main(args):\n    return args\n", "", "abc", "UEsD\nBBBB"):
        assert not is_binary_code(code), code
    assert check_exec({"kind": "python:3.11", "code": "x = 1"})["binary"] is False


def test_parameters_are_sized_as_openwhisk_counts_them() -> None:
    # Parameter.scala: each key's bytes plus its value's compact JSON; no list syntax.
    assert parameters_size([{"key": "a", "value": "xy"}, {"key": "é", "value": {"b": 1}}]) == (
        1 + 4 + 2 + 7
    )
    just_under = [{"key": "a", "value": "x" * (1024 * 1024 - 3)}]  # 1 + (n + 2) == 1 MiB
    check_entity_sizes(just_under, [])
    with pytest.raises(APIError) as over:
        check_entity_sizes([{"key": "ab", "value": "x" * (1024 * 1024 - 3)}], [])
    assert over.value.status == 413
