"""The fast JSON encoder gives what the standard library would parse back the same."""

from __future__ import annotations

import json

from streams.jsonenc import dumps


def test_records_encode_to_the_same_json() -> None:
    doc = {"_id": "a", "response": {"result": {"ü": [1, 2.5, None, True]}}, "logs": ["x\ny"]}
    assert json.loads(dumps(doc)) == doc


def test_what_orjson_refuses_falls_back_to_the_standard_library() -> None:
    huge = {"result": {"n": 2**70}}
    assert json.loads(dumps(huge)) == huge
