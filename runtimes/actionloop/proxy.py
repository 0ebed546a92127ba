"""Ledgerwhisk's actionloop proxy: OpenWhisk's action protocol on :8080 for java, go, ruby,
php and native actions.

The HTTP layer, the 403/502 rules, the error bodies and the sentinels are the
python runtime's own (``pyproxy.py`` in the image is a copy of
``runtimes/python/proxy.py``): this module only replaces what ``/init`` loads
and what ``/run`` calls. It follows OpenWhisk's actionloop proxy
(openwhisk-runtime-go, ``docs/ACTION.md``, "The Action Loop Protocol"):

- ``POST /init`` ``{"value": {"name", "main", "code", "binary", "env"}}``:
  every key of ``env`` is exported first, so the action's load-time code sees
  ``__OW_*``; the code is written (``binary``: a base64 zip is unpacked) under
  /tmp, built if the family compiles (``families.py``; a build is reused from
  ``/cache`` when the invoker mounts one there), and its action process
  started. That process answers ``{"ok": true}`` on file descriptor 3 once
  loaded (``__OW_WAIT_FOR_ACK``), or ``{"error": ...}`` and exits: 502.
- ``POST /run`` ``{"value": params, "activation_id", ...}``: the body, less
  ``null`` values, goes to the process's stdin as one JSON line; its answer
  is one JSON line on fd 3. Our own launchers answer ``{"result": ...}`` or
  ``{"thrown": "<class>: <message>"}`` (502: java and php, whose OpenWhisk
  runtimes fail the run; ruby's, like OpenWhisk's, makes an exception the
  result's ``error``, an application error); an executable of the user's
  (a Go ``exec``, a Go ``func main()``) answers the result itself, as in
  OpenWhisk. A result that is neither a JSON object nor an array is a 502
  "The action did not return a dictionary or array." (OpenWhisk's actionloop
  proxy, openwhisk-runtime-go ``openwhisk/runHandler.go``); a JSON array
  ``value`` (a sequence passing an array result on) reaches ``main`` as it is.
- ``native`` (OpenWhisk's docker skeleton, ``actionProxy/actionproxy.py``)
  starts ``exec`` once per /run instead: ``argv[1]`` is the JSON of the
  parameters, the ``__OW_*`` keys are in its environment, its stdout is
  logged but for the last line, which is the result (empty output: ``{}``).
  A non-zero exit is a 502 naming the exit code and the last line of stderr.

An action process that dies during /run: killed by a signal (the kernel's OOM
killer sends SIGKILL) ends this proxy too, so the invoker sees the container
exit and reports "exhausted its memory" when Docker says so; an exit of its own
is a 502 worded as its OpenWhisk runtime does (``exited_text``).
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile
from typing import IO, Any

import families
import pyproxy
from families import InitError, Launch

ProxyError = pyproxy.ProxyError
NOT_A_DICT_OR_ARRAY = pyproxy.NOT_A_DICT_OR_ARRAY
# The protocol's acknowledgement, and what a launcher of ours says when loaded.
ACK = {"ok": True}


# Where an image built FROM the docker skeleton puts its own executable.
BAKED_EXEC = "/action/exec"
NATIVE_NO_BINARY = "The action failed to generate or locate a binary. See logs for details."


def exited_text(family: str) -> str:
    """The error of an action process that ended itself during /run, as the family's
    OpenWhisk runtime words it: its actionloop proxy's "command exited" (go, php, ruby:
    openwhisk-runtime-go runHandler.go); Java's action runs in its proxy's JVM, whose
    exit ends the container, so the invoker's Messages.abnormalRun."""
    if family == "java":
        return "The action did not produce a valid response and exited unexpectedly."
    return "command exited"


class ActionProcess:
    """One long-lived action process speaking the actionloop protocol."""

    def __init__(self, launch: Launch):
        self.enveloped = launch.enveloped
        read_fd, write_fd = os.pipe()
        env = {**os.environ, **launch.env, "__OW_WAIT_FOR_ACK": "1"}
        # File descriptor 3 is the protocol's answer channel; a small shell
        # moves the pipe there so nothing else of this proxy leaks into it.
        argv = ["/bin/sh", "-c", f'exec "$@" 3>&{write_fd} {write_fd}>&-', "sh", *launch.argv]
        try:
            self.process = subprocess.Popen(
                argv,
                cwd=launch.cwd,
                env=env,
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
            )
        except OSError as exc:
            raise InitError(f"The action could not be started: {exc}") from exc
        finally:
            os.close(write_fd)
        self.answers: IO[bytes] = os.fdopen(read_fd, "rb")
        first = self._answer()
        if first is None:
            raise InitError(self._exit_message("did not start"))
        if isinstance(first, dict) and "error" in first and first != ACK:
            raise InitError(str(first["error"]))
        if first != ACK:
            raise InitError(f"The action did not acknowledge its start: {first!r}")

    def _answer(self) -> Any:
        """The next JSON line on fd 3, or None once the process closed it."""
        line = self.answers.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except ValueError:
            return line.decode("utf-8", "replace").rstrip("\n")

    def _exit_message(self, what: str) -> str:
        code = self.process.wait()
        if code < 0:
            return f"The action {what}: it was killed by signal {-code}."
        return f"The action {what} (exit code {code})."

    def run(self, body: dict[str, Any]) -> tuple[int, Any]:
        """Send one activation; ``(200, result)`` or ``(502, {"error": ...})``."""
        assert self.process.stdin is not None
        line = json.dumps(body, ensure_ascii=False, allow_nan=False) + "\n"
        try:
            self.process.stdin.write(line.encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # it died: the answer channel says so below
        answer = self._answer()
        if answer is None:
            code = self.process.wait()
            if code == -signal.SIGKILL:
                # The OOM killer (or a kill from outside): go down with it, so the
                # invoker reads the container's fate as it does for any runtime.
                os._exit(137)
            return 502, {"error": exited_text(os.environ.get("LEDGERWHISK_FAMILY", ""))}
        if self.enveloped:
            if isinstance(answer, dict) and "thrown" in answer:
                return 502, {"error": str(answer["thrown"])}
            answer = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(answer, dict | list):
            if not self.enveloped:  # our launchers said what it was
                print(
                    f"The action returned {answer!r}, not a dictionary or array.", file=sys.stderr
                )
            return 502, {"error": NOT_A_DICT_OR_ARRAY}
        return 200, answer


# Linux's longest single argument (MAX_ARG_STRLEN): a longer JSON argument goes by stdin only.
ARGUMENT_MAX = 131071


class Executable:
    """OpenWhisk's docker skeleton: the executable runs once per activation.

    As openwhisk-runtime-docker ``core/actionProxy/actionproxy.py`` ``run``: the
    JSON argument goes on stdin and, when it fits, as ``argv[1]``; the last line
    of stdout is the result, the rest are logs; the exit code is not read (an
    executable that failed but printed an object succeeded; one that printed
    none, even empty output, answers 502 "The action did not return a
    dictionary or array."). A SIGKILL (the memory limit) takes the container
    down, so the invoker reports it as for every runtime.
    """

    def __init__(self, launch: Launch):
        self.launch = launch

    def run(self, body: dict[str, Any]) -> tuple[int, Any]:
        env = {**os.environ, **self.launch.env}
        for key, value in body.items():
            if key != "value":
                env["__OW_" + key.upper()] = pyproxy.env_value(value)
        value = body.get("value")
        argument = json.dumps({} if value is None else value, ensure_ascii=False)
        encoded = argument.encode("utf-8")
        try:
            done = subprocess.run(
                [*self.launch.argv, argument] if len(encoded) <= ARGUMENT_MAX else self.launch.argv,
                cwd=self.launch.cwd,
                env=env,
                input=encoded,
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            return 502, {"error": f"The action could not be started: {exc}"}
        out = done.stdout.decode("utf-8", "replace").strip("\n")
        err = done.stderr.decode("utf-8", "replace")
        lines = out.split("\n") if out else []
        for text in lines[:-1]:
            sys.stdout.write(text + "\n")
        sys.stderr.write(err if not err or err.endswith("\n") else err + "\n")
        if done.returncode == -signal.SIGKILL:
            os._exit(137)  # as ActionProcess: the invoker reads why from Docker
        last = lines[-1] if lines else ""
        try:
            result = json.loads(last)
        except ValueError:
            result = None
        if not isinstance(result, dict | list):
            sys.stdout.write(last + "\n")
            return 502, {"error": NOT_A_DICT_OR_ARRAY}
        return 200, result


Runner = ActionProcess | Executable


def restore_modes(code: str, action_dir: str) -> None:
    """Give unpacked files the execute bits the zip recorded (``zipfile`` drops them):
    a native action's ``exec`` may call other programs of its zip."""
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(code))) as archive:
        for info in archive.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode & 0o111 and not info.is_dir():
                os.chmod(os.path.join(action_dir, info.filename), mode | 0o400)


def _baked_exec(family: families.Family) -> bool:
    """Whether this is the docker skeleton with an executable of the image's own at
    ``/action/exec``: OpenWhisk's skeleton (actionproxy.py ``init``) runs it when
    /init brings no code (``wsk sdk install docker``'s pattern)."""
    return isinstance(family, families.Native) and os.access(BAKED_EXEC, os.X_OK)


def load_action(value: dict[str, Any]) -> Runner:
    """``/init``: export ``env``, write and build the code, start the action process."""
    code = value.get("code")
    main_name = value.get("main") or "main"
    family = families.current()
    if (not isinstance(code, str) or not code) and not _baked_exec(family):
        raise ProxyError(403, "Missing main/no code to execute.")
    if not isinstance(main_name, str):
        raise ProxyError(403, "The name of the main function must be a string.")
    env = value.get("env") or {}
    if isinstance(env, dict):
        for key, val in env.items():
            if val is not None:
                os.environ[str(key)] = pyproxy.env_value(val)
    if not isinstance(code, str) or not code:
        # An image built FROM the docker skeleton with its own /action/exec.
        return Executable(Launch([BAKED_EXEC], os.path.dirname(BAKED_EXEC), False, True))
    action_dir = tempfile.mkdtemp(prefix="action-")
    try:
        if value.get("binary"):
            try:
                pyproxy.extract_zip(code, action_dir)
            except ProxyError as exc:
                if os.environ.get("LEDGERWHISK_FAMILY", "native") == "native":
                    # OpenWhisk's docker skeleton (actionProxy/actionproxy.py) says so.
                    raise ProxyError(exc.status, NATIVE_NO_BINARY) from exc
                raise
            restore_modes(code, action_dir)
        else:
            family.write_source(action_dir, code)
        launch = family.prepare(action_dir, main_name, families.build_key(value))
        return Executable(launch) if launch.per_run else ActionProcess(launch)
    except InitError as exc:
        raise ProxyError(502, exc.message) from exc


def do_run(body: Any) -> tuple[int, Any] | tuple[int, Any, bytes]:
    """``/run``: one activation through the action's process (one at a time)."""
    runner = pyproxy._state["main"]
    if runner is None:
        return 403, {"error": "Cannot run an uninitialized action."}
    if not isinstance(body, dict):
        body = {}
    body = {k: v for k, v in body.items() if v is not None}
    if body.get("value") is None:
        body["value"] = {}
    status, answer = runner.run(body)
    payload = None
    if status == 200:
        try:
            payload = json.dumps(answer, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            print(f"The action's result is not JSON serialisable: {exc}", file=sys.stderr)
            status, answer = 502, {"error": NOT_A_DICT_OR_ARRAY}
    pyproxy.write_sentinels()
    if payload is None:
        return status, answer
    return 200, None, payload


def main() -> None:
    # The python runtime's server, with this module's /init and /run.
    pyproxy.load_action = load_action
    pyproxy.do_run = do_run
    threading.current_thread().name = "actionloop"
    pyproxy.main()


if __name__ == "__main__":
    main()
