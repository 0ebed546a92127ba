"""Ledgerwhisk python action proxy: OpenWhisk's action protocol on 0.0.0.0:8080.

Runs inside the python runtime image (Debian's python3.11, stdlib only):

- ``POST /init`` ``{"value": {"name", "main", "code", "binary", "env"}}``, once.
  ``code`` is python source, or with ``binary`` a base64 zip whose
  ``__main__.py`` defines the entry point (its directory joins ``sys.path``;
  a bundled ``virtualenv/`` is activated: ``activate_virtualenv``). 200
  ``{"ok": true}``; 502 ``{"error": ...}`` when the code cannot be loaded; 403
  on a second /init.
- ``POST /run`` ``{"value": params, "activation_id", ...}``: every top-level key
  but ``value`` is exported as ``__OW_<KEY>``, then ``main(params)`` runs in
  this process. 200 with the dict it returns, or ``{"error": str(exception)}``
  when it raises (OpenWhisk's launcher.py); 502 ``{"error": ...}`` when it
  returns anything but a JSON object or exits.
- After every /run (and after a failed /init, as OpenWhisk's proxies do) the
  sentinel line is written to stdout and stderr, before the HTTP response.

One thread per connection (HTTP/1.1 keep-alive), one activation at a time.
"""

from __future__ import annotations

import http.server
import json
import os
import site
import socket
import sys
import tempfile
import threading
import traceback
import types
from collections.abc import Callable
from typing import Any

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
PORT = int(os.environ.get("LEDGERWHISK_PROXY_PORT", "8080"))
MAX_BODY = 64 * 1024 * 1024  # far above the platform's 48 MB code limit
MODULE_NAME = "main__"  # the name OpenWhisk's python runtime gives the action module

# OpenWhisk's actionloop proxy (openwhisk-runtime-go ``openwhisk/runHandler.go``),
# which serves its python runtime, for a result neither an object nor an array.
NOT_A_DICT_OR_ARRAY = "The action did not return a dictionary or array."

_lock = threading.Lock()  # init and run: one at a time
_state: dict[str, Any] = {"main": None, "init_attempted": False}


class ProxyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def write_sentinels() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # user code may have replaced or closed it
            pass
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.write(SENTINEL + "\n")
            stream.flush()


def describe(exc: BaseException) -> str:
    message = str(exc)
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def env_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


# --- /init -----------------------------------------------------------------


ZIP_INVALID = "zip: not a valid zip file"


def extract_zip(code: str, target: str) -> None:
    import base64
    import binascii
    import io
    import zipfile

    try:
        data = base64.b64decode(code, validate=False)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            root = os.path.realpath(target)
            for member in archive.namelist():
                path = os.path.realpath(os.path.join(root, member))
                if path != root and not path.startswith(root + os.sep):
                    raise ProxyError(
                        502,
                        f"Invalid zip file: the entry {member!r} points outside "
                        "the action directory.",
                    )
            archive.extractall(target)
    except (zipfile.BadZipFile, EOFError) as exc:
        # OpenWhisk's actionloop proxy (Go's archive/zip, ErrFormat) words it so; the
        # detail goes to the logs.
        print(f"Invalid zip file: {exc}", file=sys.stderr)
        raise ProxyError(502, ZIP_INVALID) from exc
    except (binascii.Error, ValueError) as exc:
        raise ProxyError(502, f"Invalid zip file: {exc}") from exc


def activate_virtualenv(venv: str) -> None:
    """A zip's ``virtualenv/``, as OpenWhisk's launcher.py activates it: its
    ``bin/activate_this.py`` runs (``sys.prefix``, ``VIRTUAL_ENV``, ``PATH``, the
    site-packages with their ``.pth`` files first on ``sys.path``). Unlike
    OpenWhisk, which refuses a virtualenv without that file ("Invalid virtualenv"),
    one made by ``python -m venv`` (which writes none) has its site-packages added
    the same way (``site.addsitedir``, ``.pth`` files too)."""
    if not os.path.isdir(venv):
        return
    for script in ("bin/activate_this.py", "Scripts/activate_this.py"):
        path = os.path.join(venv, script)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                exec(compile(f.read(), path, "exec"), {"__file__": path})
            return
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site_dir = os.path.join(venv, "lib", version, "site-packages")
    if os.path.isdir(site_dir):
        before = list(sys.path)
        site.addsitedir(site_dir)
        added = [p for p in sys.path if p not in before]
        sys.path[:] = added + before  # first, as activate_this.py puts them


def load_action(value: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    code = value.get("code")
    main_name = value.get("main") or "main"
    if not isinstance(code, str) or not code:
        raise ProxyError(403, "Missing main/no code to execute.")
    if not isinstance(main_name, str):
        raise ProxyError(403, "The name of the main function must be a string.")

    env = value.get("env") or {}
    if isinstance(env, dict):
        for key, val in env.items():
            if val is not None:
                os.environ[str(key)] = env_value(val)

    action_dir = tempfile.mkdtemp(prefix="action-")
    main_file = os.path.join(action_dir, "__main__.py")
    if value.get("binary"):
        extract_zip(code, action_dir)
        if not os.path.isfile(main_file):
            raise ProxyError(502, "Zip file does not include __main__.py.")
        activate_virtualenv(os.path.join(action_dir, "virtualenv"))
    else:
        with open(main_file, "w", encoding="utf-8") as f:
            f.write(code)
    sys.path.insert(0, action_dir)
    os.chdir(action_dir)

    with open(main_file, "rb") as f:
        source = f.read()
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = main_file
    sys.modules[MODULE_NAME] = module  # dataclasses, pickle and friends look it up
    try:
        exec(compile(source, main_file, "exec"), module.__dict__)
    except BaseException as exc:
        traceback.print_exc()
        raise ProxyError(502, f"Initialization has failed due to: {describe(exc)}") from exc

    function = getattr(module, main_name, None)
    if function is None:
        raise ProxyError(502, f"The action has no function named {main_name!r}.")
    if not callable(function):
        raise ProxyError(502, f"The action's {main_name!r} is not a function.")
    return function


def do_init(body: Any) -> tuple[int, Any]:
    if _state["init_attempted"]:
        print("Cannot initialize the action more than once.", file=sys.stderr, flush=True)
        return 403, {"error": "Cannot initialize the action more than once."}
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, dict):
        return 403, {"error": "Missing main/no code to execute."}
    _state["init_attempted"] = True
    try:
        _state["main"] = load_action(value)
    except ProxyError as exc:
        if exc.status == 403:  # a malformed request: the container may be initialised later
            _state["init_attempted"] = False
            return exc.status, {"error": exc.message}
        print(exc.message, file=sys.stderr)
        write_sentinels()
        return exc.status, {"error": exc.message}
    except Exception as exc:
        traceback.print_exc()
        write_sentinels()
        return 502, {"error": f"Initialization has failed due to: {describe(exc)}"}
    return 200, {"ok": True}


# --- /run ------------------------------------------------------------------


def do_run(body: Any) -> tuple[int, Any] | tuple[int, Any, bytes]:
    main = _state["main"]
    if main is None:
        return 403, {"error": "Cannot run an uninitialized action."}
    if not isinstance(body, dict):
        body = {}
    for key, val in body.items():
        if key != "value" and val is not None:
            os.environ["__OW_" + key.upper()] = env_value(val)
    params = body.get("value")
    if params is None:
        params = {}
    try:
        result = main(params)
    except Exception as exc:
        # As OpenWhisk's Python runtime (launcher.py): the exception's text is
        # the result's error, an application error; the trace goes to the logs.
        traceback.print_exc()
        write_sentinels()
        return 200, {"error": str(exc)}
    except BaseException:  # SystemExit too: the proxy must answer
        # OpenWhisk's launcher.py catches Exception only: sys.exit() ends its action
        # process, and its actionloop proxy answers just "command exited"
        # (openwhisk-runtime-go runHandler.go), a developer error.
        traceback.print_exc()
        write_sentinels()
        return 502, {"error": "command exited"}
    payload = None
    # None too is neither: OpenWhisk's launcher writes it as null, which its
    # actionloop proxy refuses (openwhisk-runtime-go runHandler.go isJsonObjOrArray).
    if isinstance(result, dict | list):
        try:
            payload = json.dumps(result, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            print(f"The action's result is not JSON serialisable: {exc}", file=sys.stderr)
    else:
        print(
            f"The action returned {type(result).__name__}, not a dictionary or a list.",
            file=sys.stderr,
        )
    write_sentinels()
    if payload is None:
        return 502, {"error": NOT_A_DICT_OR_ARRAY}
    return 200, None, payload


# --- HTTP ------------------------------------------------------------------


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ledgerwhisk-python-proxy"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # stderr belongs to the action's logs

    def send_json(self, status: int, obj: Any, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(obj).encode("utf-8")
        reason = self.responses.get(status, ("",))[0]
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            + ("Connection: close\r\n" if self.close_connection else "")
            + "\r\n"
        )
        self.wfile.write(head.encode("latin-1") + body)  # one write: no Nagle stall

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ProxyError(413, "Request body too large.")
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        try:
            raw = self.read_body()
        except (ValueError, ProxyError) as exc:
            self.close_connection = True
            self.send_json(getattr(exc, "status", 400), {"error": f"Bad request body: {exc}"})
            return
        if path not in ("/init", "/run"):
            self.send_json(404, {"error": f"Unknown path {path}."})
            return
        try:
            body = json.loads(raw) if raw else {}
        except ValueError as exc:
            self.send_json(400, {"error": f"The request body is not JSON: {exc}"})
            return
        with _lock:
            reply = do_init(body) if path == "/init" else do_run(body)
        self.send_json(*reply)

    def do_GET(self) -> None:
        self.send_json(404, {"error": "Use POST /init and POST /run."})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main() -> None:
    server = Server(("0.0.0.0", PORT), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
