"""Which action code is binary: OpenWhisk's Exec.isBinaryCode."""

from __future__ import annotations

import base64

from api.validation import check_exec, is_binary_code

ZIP = base64.b64encode(b"PK\x03\x04 a zip's first bytes").decode()


def test_base64_code_is_binary_whatever_the_client_said() -> None:
    assert is_binary_code(ZIP) and is_binary_code(ZIP + "\n")
    assert check_exec({"kind": "nodejs:18", "code": ZIP})["binary"] is True
    assert check_exec({"kind": "nodejs:18", "code": ZIP, "binary": False})["binary"] is True


def test_source_code_is_not_binary() -> None:
    for code in ("def main(args):\n    return args\n", "", "abc", "UEsD\nBBBB"):
        assert not is_binary_code(code), code
    assert check_exec({"kind": "python:3.11", "code": "x = 1"})["binary"] is False
