"""A small synchronous HTTP client for the CLI (stdlib only)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NoReturn

from api.cli.config import Endpoint


class CLIError(Exception):
    """An error the CLI prints in one line before exiting non-zero."""


class Client:
    def __init__(self, target: Endpoint):
        self.target = target
        token = base64.b64encode(target.auth.encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}

    def call(
        self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        url = f"{self.target.apihost}/api/v1/{path.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode(
                {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in query.items()}
            )
        data = None
        headers = dict(self._headers)
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=330) as resp:
                return resp.status, _parse(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _parse(exc.read())
        except urllib.error.URLError as exc:
            raise CLIError(
                f"cannot reach {self.target.apihost} ({exc.reason}); is the stack up? (make up)"
            ) from exc

    def ok(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        """The body of a 2xx answer; any other answer becomes a one-line CLIError."""
        status, answer = self.call(method, path, body, query or None)
        if 200 <= status < 300:
            return answer
        self.fail(status, answer)

    @staticmethod
    def fail(status: int, answer: Any) -> NoReturn:
        """Raise the one-line error an answer means."""
        message = answer.get("error") if isinstance(answer, dict) else answer
        code = answer.get("code") if isinstance(answer, dict) else None
        first = " ".join(str(message).split()) if message else "no answer"
        raise CLIError(f"{first} (HTTP {status}{', code ' + code if code else ''})")


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
