"""JSON encoding for CouchDB bulk writes: orjson, with the standard library behind it.

orjson encodes a batch of activation records several times faster than
``json.dumps``. It refuses what JSON cannot carry portably (integers beyond
64 bits, for one); such a document is encoded by ``json.dumps`` as before.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """``value`` as JSON text."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)
