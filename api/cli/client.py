"""The CLI's HTTP client (httpx): requests, one-line errors that name what failed, SSE streams.

Every failure becomes a ``CLIError`` carrying ``wsk``'s exit code
(``api.cli.errors``). An error answer names the entity and the operation
(``What``): "action /guest/hello does not exist", "action /guest/hello
already exists: ...", and a refused key says which host refused it and where
the key came from. ``-v`` prints each HTTP exchange on stderr (the key
hidden), as ``wsk -v`` shows it (apache/openwhisk-client-go ``whisk/client.go``
``PrintRequestInfo``/``PrintResponseInfo``).
"""

from __future__ import annotations

import json
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import click
import httpx
from httpx_sse import ServerSentEvent, SSEError, connect_sse

from api.cli import messages as m
from api.cli.config import Endpoint
from api.cli.errors import EXIT_NETWORK, CLIError, http_exit
from api.cli.names import OWN_NAMESPACE, parse_name

# A blocking invoke waits up to its action's timeout (at most 300 s) on the server.
READ_TIMEOUT_S = 330.0
CONNECT_TIMEOUT_S = 10.0
BODY_SHOWN_MAX = 4_000
GENERIC_NOT_FOUND = "The requested resource does not exist."


@dataclass(frozen=True)
class What:
    """What a request does, for its error message: ``invoke`` ``action`` ``hello``."""

    verb: str
    kind: str
    name: str = ""


def segment(name: str) -> str:
    """One path segment, percent-encoded (names may hold spaces and ``@``)."""
    return quote(name, safe="@")


class Client:
    """A connection to one API host with one key."""

    def __init__(
        self, endpoint: Endpoint, *, verbose: bool = False, insecure: bool = False
    ) -> None:
        self.endpoint = endpoint
        self._namespace: str | None = None
        uuid, _, key = endpoint.auth.partition(":")
        cert: Any = None
        if endpoint.cert:
            cert = (endpoint.cert, endpoint.key) if endpoint.key else endpoint.cert
        hooks: dict[str, list[Any]] = {"request": [], "response": []}
        if verbose:
            hooks = {"request": [show_request], "response": [show_response]}
        try:
            self.http = httpx.Client(
                base_url=f"{endpoint.apihost}/api/{endpoint.apiversion}/",
                auth=httpx.BasicAuth(uuid, key),
                headers={"Accept": "application/json", "User-Agent": "lwsk"},
                verify=not insecure,
                cert=cert,
                timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
                event_hooks=hooks,
            )
        except (OSError, ssl.SSLError) as exc:
            raise CLIError(
                m.CERT_UNUSABLE.format(cert=endpoint.cert, key=endpoint.key, error=exc)
            ) from exc
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise self.invalid_host(exc) from exc

    def close(self) -> None:
        self.http.close()

    # -- requests ----------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """``(status, decoded body)`` of one request; network failures raise ``CLIError``."""
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        try:
            response = self.http.request(method, path.lstrip("/"), json=body, params=params or None)
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from exc
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise self.invalid_host(exc) from exc
        return response.status_code, _decoded(response.content)

    def ok(
        self, method: str, path: str, body: Any = None, what: What | None = None, **query: Any
    ) -> Any:
        """The body of a 2xx answer; any other answer becomes a one-line ``CLIError``."""
        status, answer = self.call(method, path, body, query)
        if 200 <= status < 300:
            return answer
        self.fail(status, answer, what)

    def fail(self, status: int, answer: Any, what: What | None = None) -> NoReturn:
        """Raise the one-line error an answer means, naming ``what`` failed."""
        raise CLIError(self.error_text(status, answer, what), http_exit(status))

    def error_text(self, status: int, answer: Any, what: What | None) -> str:
        message = str(answer.get("error")) if isinstance(answer, dict) else str(answer or "")
        message = message or m.NO_ANSWER_BODY
        code = answer.get("code") if isinstance(answer, dict) else None
        detail = f"(HTTP {status}{f', code {code}' if code else ''})"
        if status == 401:
            e = self.endpoint
            return m.KEY_REFUSED.format(
                host=e.apihost, uuid=e.uuid, source=e.auth_source, detail=detail
            )
        if what is None:
            return f"{message} {detail}"
        name = self.qualified(what)
        if status == 404 and message == GENERIC_NOT_FOUND:
            return m.NOT_FOUND.format(kind=what.kind, name=name, detail=detail)
        if status == 409 and what.verb in ("create", "bind"):
            text = m.BINDING_EXISTS if what.verb == "bind" else m.EXISTS
            return text.format(kind=what.kind, name=name, short=what.name, detail=detail)
        return m.FAILED.format(
            verb=what.verb, kind=what.kind, name=name, message=message, detail=detail
        )

    def qualified(self, what: What) -> str:
        """``/guest/hello`` for ``hello`` (``_`` resolved to the key's namespace)."""
        if what.kind in ("activation", "namespace") or not what.name:
            return what.name
        try:
            parsed = parse_name(what.name)
        except click.UsageError:
            return what.name
        namespace = parsed.namespace
        if namespace == OWN_NAMESPACE:
            namespace = self.namespace(default=OWN_NAMESPACE)
        return f"/{namespace}/{parsed.entity_name}"

    def namespace(self, default: str | None = None) -> str:
        """The key's own namespace (``GET /namespaces``' first entry, as wsk reads it)."""
        if self._namespace is None:
            try:
                status, answer = self.call("GET", "namespaces")
            except CLIError:
                if default is None:
                    raise
                return default
            if status == 200 and isinstance(answer, list) and answer:
                self._namespace = str(answer[0])
            elif default is not None:
                return default
            else:
                self.fail(status, answer, What("list", "namespaces"))
        return self._namespace

    def invalid_host(self, exc: Exception) -> CLIError:
        """An API host no request can go to (a bad port, an empty name label): wsk's
        ``The API host is not valid`` (commands.go SetupClientConfig), exit 1."""
        return CLIError(m.APIHOST_INVALID.format(host=self.endpoint.apihost, error=exc))

    def unreachable(self, exc: httpx.HTTPError) -> CLIError:
        host = self.endpoint.apihost
        reason = str(exc) or exc.__class__.__name__
        if isinstance(exc, httpx.TimeoutException):
            return CLIError(m.NO_ANSWER.format(host=host, reason=reason), EXIT_NETWORK)
        if "WRONG_VERSION_NUMBER" in reason or "record layer failure" in reason:
            return CLIError(m.NOT_TLS.format(host=host, reason=reason), EXIT_NETWORK)
        if "CERTIFICATE_VERIFY_FAILED" in reason or "SSL" in reason:
            return CLIError(m.TLS_FAILED.format(host=host, reason=reason), EXIT_NETWORK)
        return CLIError(m.CANNOT_REACH.format(host=host, reason=reason), EXIT_NETWORK)

    # -- event streams -------------------------------------------------------------
    def events(
        self, path: str, query: dict[str, Any], last_id: str | None, read_timeout_s: float
    ) -> Iterator[ServerSentEvent]:
        """The messages of one SSE connection (ends when the server closes it)."""
        headers = {"Last-Event-ID": last_id} if last_id else {}
        params = {k: _query_value(v) for k, v in query.items() if v is not None}
        timeout = httpx.Timeout(read_timeout_s, connect=CONNECT_TIMEOUT_S)
        try:
            with connect_sse(
                self.http, "GET", path, params=params, headers=headers, timeout=timeout
            ) as source:
                response = source.response
                if response.status_code != 200:
                    self.fail(response.status_code, _decoded(response.read()), None)
                yield from source.iter_sse()
        except SSEError as exc:
            raise CLIError(m.NOT_A_STREAM.format(host=self.endpoint.apihost, error=exc)) from exc
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from exc
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise self.invalid_host(exc) from exc


def _query_value(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def _decoded(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


# -- -v: the HTTP exchange on stderr ---------------------------------------------------
def _hidden(headers: httpx.Headers) -> dict[str, str]:
    return {k: ("Basic ***" if k.lower() == "authorization" else v) for k, v in headers.items()}


def _shown(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= BODY_SHOWN_MAX else text[:BODY_SHOWN_MAX] + " ...(truncated)"


def show_request(request: httpx.Request) -> None:
    lines = ["REQUEST:", f"[{request.method}]\t{request.url}", "Req Headers"]
    lines.append(json.dumps(_hidden(request.headers), indent=2))
    if request.content:
        lines += ["Req Body", _shown(request.content)]
    print("\n".join(lines), file=sys.stderr, flush=True)


def show_response(response: httpx.Response) -> None:
    lines = [f"RESPONSE:Got response with code {response.status_code}", "Resp Headers"]
    lines.append(json.dumps(dict(response.headers), indent=2))
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        lines += ["Response body received:", _shown(response.read())]
    print("\n".join(lines), file=sys.stderr, flush=True)
