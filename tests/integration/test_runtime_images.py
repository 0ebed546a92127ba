"""The action runtime images of runtimes/ speak OpenWhisk's action protocol.

Builds the images with runtimes/build.sh (cached: seconds when nothing
changed, a few minutes the first time), then starts real containers and talks
to them from inside each container's network namespace, as the invoker does
(containers run with ``--network none``; see invoker/netns.py).
Needs a Docker engine, root (debootstrap) for the first build, and the docker
SDK: `pip install pytest docker`.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import pathlib
import subprocess
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import runtimes
from invoker.netns import connect_blocking

docker = pytest.importorskip("docker", reason="the docker SDK is needed: pip install docker")

# The first test also waits for runtimes/build.sh: minutes on a cold cache.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The manifest the stack runs with (LEDGERWHISK_RUNTIMES_MANIFEST may name another).
MANIFEST = json.loads(runtimes.MANIFEST.read_text())
SENTINEL = MANIFEST["sentinel"]
PORT = MANIFEST["protocol_port"]
KIND_OF = {"python": "python:3.11", "nodejs": "nodejs:18"}
TEST_LABEL = {"org.ledgerwhisk.test": "runtime-images"}
# The runtimes' texts for a result neither an object nor an array: OpenWhisk's
# nodejs runtime's (service.js), and its actionloop proxy's, which serves python.
NOT_AN_OBJECT = {
    "python": "The action did not return a dictionary or array.",
    "nodejs": "The action did not return a dictionary.",
}


# --- actions, per runtime --------------------------------------------------

ACTIONS: dict[str, dict[str, str]] = {
    "python": {
        "hello": (
            "import sys\n"
            "def main(args):\n"
            "    name = args.get('name', 'stranger')\n"
            "    print(f'hello stdout {name}')\n"
            "    print(f'hello stderr {name}', file=sys.stderr)\n"
            "    return {'greeting': f'Hello, {name}!'}\n"
        ),
        "env": (
            "import os\ndef main(args):\n    return {k: os.environ.get(k) for k in args['keys']}\n"
        ),
        "raise": "def main(args):\n    raise ValueError('boom ' + args['name'])\n",
        "list": "def main(args):\n    return [1, 2, 3]\n",
        "none": "def main(args):\n    print('returning nothing')\n",
        "unserialisable": "def main(args):\n    return {'x': object()}\n",
        "error_field": "def main(args):\n    return {'error': 'application says no'}\n",
        "syntax_error": "def main(args)\n    return {}\n",
        "no_main": "def handler(args):\n    return {}\n",
        "custom_main": "def handler(args):\n    return {'via': 'handler', 'n': args['n'] + 1}\n",
        "exit": "import sys\ndef main(args):\n    sys.exit(3)\n",
    },
    "nodejs": {
        "hello": (
            "function main(args) {\n"
            "  const name = args.name || 'stranger';\n"
            "  console.log(`hello stdout ${name}`);\n"
            "  console.error(`hello stderr ${name}`);\n"
            "  return { greeting: `Hello, ${name}!` };\n"
            "}\n"
        ),
        "env": (
            "function main(args) {\n"
            "  const out = {};\n"
            "  for (const k of args.keys) {\n"
            "    out[k] = process.env[k] === undefined ? null : process.env[k];\n"
            "  }\n"
            "  return out;\n"
            "}\n"
        ),
        "raise": "function main(args) { throw new Error('boom ' + args.name); }\n",
        "list": "function main(args) { return [1, 2, 3]; }\n",
        "none": "function main(args) { console.log('returning nothing'); }\n",
        "unserialisable": "function main(args) { const o = {}; o.self = o; return o; }\n",
        "error_field": "async function main(args) { return { error: 'application says no' }; }\n",
        "syntax_error": "function main(args) { return {; }\n",
        "no_main": "function handler(args) { return {}; }\n",
        "custom_main": "exports.handler = (args) => ({ via: 'handler', n: args.n + 1 });\n",
        "reject_object": (
            "function main(args) { return Promise.reject({ error: 'no ' + args.name }); }\n"
        ),
        "reject": (
            "async function main(args) {\n"
            "  await new Promise((r) => setTimeout(r, 5));\n"
            "  throw new TypeError('late ' + args.name);\n"
            "}\n"
        ),
        "promise": (
            "function main(args) {\n"
            "  return new Promise((resolve) => {\n"
            "    setTimeout(() => resolve({ later: args.name }), 5);\n"
            "  });\n"
            "}\n"
        ),
        "slow": (
            "async function main(args) {\n"
            "  await new Promise((r) => setTimeout(r, args.delay));\n"
            "  return { name: args.name, id: process.env.__OW_ACTIVATION_ID };\n"
            "}\n"
        ),
        "uncaught": (
            "function main(args) {\n"
            "  return new Promise(() => {\n"
            "    setTimeout(() => { throw new RangeError('thrown from a timer'); }, 5);\n"
            "  });\n"
            "}\n"
        ),
    },
}


def zip_b64(files: dict[str, str]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def run_body(value: dict[str, Any], activation_id: str | None = None) -> dict[str, Any]:
    return {
        "value": value,
        "activation_id": activation_id or uuid.uuid4().hex,
        "namespace": "guest",
        "action_name": "/guest/test-action",
        "deadline": str(int(time.time() * 1000) + 60_000),
        "api_host": "http://127.0.0.1:3233",
        "api_key": "uuid:key",
        "transaction_id": "tid-1",
    }


# --- containers ------------------------------------------------------------


class NetnsConnection(http.client.HTTPConnection):
    """An HTTP connection to port 8080 inside a container's own network namespace."""

    def __init__(self, pid: int, timeout: float = 30) -> None:
        super().__init__("127.0.0.1", PORT, timeout=timeout)
        self.pid = pid

    def connect(self) -> None:
        self.sock = connect_blocking(self.pid, PORT, self.timeout or 30)


class Runtime:
    """One runtime container and a keep-alive HTTP connection into it."""

    def __init__(self, container: Any, pid: int) -> None:
        self.container = container
        self.pid = pid
        self.conn = NetnsConnection(pid)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        status, data, _ = self.post_raw(path, body)
        return status, json.loads(data)

    def post_raw(
        self, path: str, body: Any, conn: http.client.HTTPConnection | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        c = conn or self.conn
        c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = c.getresponse()
        return resp.status, resp.read(), resp

    def init(
        self, code: str, main: str = "main", binary: bool = False, env: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        value = {
            "name": "test-action",
            "main": main,
            "code": code,
            "binary": binary,
            "env": env or {},
        }
        return self.post("/init", {"value": value})

    def run(self, value: dict[str, Any], activation_id: str | None = None) -> tuple[int, Any]:
        return self.post("/run", run_body(value, activation_id))

    def logs(self, stream: str) -> str:
        return self.container.logs(stdout=stream == "stdout", stderr=stream == "stderr").decode()

    def wait_logs(self, stream: str, sentinels: int, timeout: float = 10.0) -> str:
        """The stream's log once it holds `sentinels` sentinel lines.

        The engine writes a container's logs asynchronously: poll, with a deadline.
        """
        deadline = time.monotonic() + timeout
        while True:
            text = self.logs(stream)
            if text.count(SENTINEL) >= sentinels or time.monotonic() > deadline:
                return text
            time.sleep(0.02)


def wait_until_serving(container: Any, timeout: float = 30.0) -> int:
    """Until the proxy answers HTTP inside the container; returns the container's pid."""
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        pid = int(container.attrs["State"].get("Pid") or 0)
        if pid:
            conn = NetnsConnection(pid, timeout=2)
            try:
                conn.request("GET", "/")
                conn.getresponse().read()
                return pid
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
        if container.status == "exited" or time.monotonic() > deadline:
            raise AssertionError(
                f"{container.name} did not serve on port {PORT} ({container.status}): "
                f"{container.logs().decode()}"
            )
        time.sleep(0.02)


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    subprocess.run(
        ["bash", str(ROOT / "runtimes" / "build.sh"), *KIND_OF.values()], check=True, timeout=1800
    )
    return {family: MANIFEST["kinds"][kind]["image"] for family, kind in KIND_OF.items()}


@pytest.fixture(scope="module")
def docker_client() -> Iterator[Any]:
    client = docker.from_env()
    yield client
    for c in client.containers.list(
        all=True, filters={"label": "org.ledgerwhisk.test=runtime-images"}
    ):
        c.remove(force=True)
    client.close()


@pytest.fixture
def start(images: dict[str, str], docker_client: Any) -> Iterator[Callable[[str], Runtime]]:
    started: list[Runtime] = []

    def _start(family: str) -> Runtime:
        container = docker_client.containers.run(
            images[family],
            detach=True,
            labels=TEST_LABEL,
            network_mode="none",
        )
        rt = Runtime(container, wait_until_serving(container))
        started.append(rt)
        return rt

    yield _start
    for rt in started:
        rt.conn.close()
        rt.container.remove(force=True)


@pytest.fixture(params=["python", "nodejs"])
def family(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def runtime(start: Callable[[str], Runtime], family: str) -> Runtime:
    return start(family)


def init_ok(rt: Runtime, code: str, **kw: Any) -> None:
    status, body = rt.init(code, **kw)
    assert (status, body) == (200, {"ok": True})


# --- tests: both runtimes -------------------------------------------------


def test_images_carry_kind_and_inputs_labels(images: dict[str, str], docker_client: Any) -> None:
    for family, image in images.items():
        labels = docker_client.images.get(image).labels
        assert labels["org.ledgerwhisk.kind"] == KIND_OF[family]
        assert len(labels["org.ledgerwhisk.inputs"]) == 16


def test_init_then_run_hello_with_params(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["hello"])
    assert runtime.run({"name": "Ada"}) == (200, {"greeting": "Hello, Ada!"})
    # The container stays warm: the next activation gets its own params.
    assert runtime.run({"name": "Grace"}) == (200, {"greeting": "Hello, Grace!"})
    assert runtime.run({}) == (200, {"greeting": "Hello, stranger!"})


def test_activation_fields_and_init_env_are_in_the_environment(
    runtime: Runtime, family: str
) -> None:
    init_ok(runtime, ACTIONS[family]["env"], env={"FROM_INIT": "init-value"})
    keys = [
        "__OW_ACTIVATION_ID",
        "__OW_NAMESPACE",
        "__OW_ACTION_NAME",
        "__OW_DEADLINE",
        "__OW_API_HOST",
        "__OW_API_KEY",
        "__OW_TRANSACTION_ID",
        "FROM_INIT",
    ]
    body = run_body({"keys": keys}, activation_id="a1b2c3d4e5f6")
    status, result = runtime.post("/run", body)
    assert status == 200
    assert result == {
        "__OW_ACTIVATION_ID": "a1b2c3d4e5f6",
        "__OW_NAMESPACE": "guest",
        "__OW_ACTION_NAME": "/guest/test-action",
        "__OW_DEADLINE": body["deadline"],
        "__OW_API_HOST": "http://127.0.0.1:3233",
        "__OW_API_KEY": "uuid:key",
        "__OW_TRANSACTION_ID": "tid-1",
        "FROM_INIT": "init-value",
    }
    # The next activation sees its own id.
    status, result = runtime.run({"keys": ["__OW_ACTIVATION_ID"]}, activation_id="second")
    assert (status, result) == (200, {"__OW_ACTIVATION_ID": "second"})


def test_second_init_is_refused(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["hello"])
    status, body = runtime.init(ACTIONS[family]["list"])
    assert (status, body) == (403, {"error": "Cannot initialize the action more than once."})
    # The first action is still the one that runs.
    assert runtime.run({"name": "Ada"}) == (200, {"greeting": "Hello, Ada!"})


def test_run_before_init_is_refused(runtime: Runtime) -> None:
    assert runtime.run({"name": "Ada"}) == (403, {"error": "Cannot run an uninitialized action."})


def test_an_exception_ends_as_openwhisk_runtime_says_with_its_trace_in_stderr(
    runtime: Runtime, family: str
) -> None:
    init_ok(runtime, ACTIONS[family]["raise"])
    # OpenWhisk's Python runtime makes the exception's text the result's error
    # (launcher.py, 200); its Node.js runtime fails the run (service.js, 502).
    expected = {
        "python": (200, {"error": "boom {}"}),
        "nodejs": (502, {"error": "An error has occurred: Error: boom {}"}),
    }[family]
    status, body = runtime.run({"name": "Ada"})
    assert (status, body) == (expected[0], {"error": expected[1]["error"].format("Ada")})
    stderr = runtime.wait_logs("stderr", 1)
    before_sentinel = stderr.split(SENTINEL)[0]
    assert "boom Ada" in before_sentinel
    assert (
        "Traceback (most recent call last)" if family == "python" else "at main"
    ) in before_sentinel
    # The container survives and answers the next activation.
    status, body = runtime.run({"name": "Bob"})
    assert (status, body) == (expected[0], {"error": expected[1]["error"].format("Bob")})


def test_a_list_result_is_200(runtime: Runtime, family: str) -> None:
    # As OpenWhisk's runtimes since their array results.
    init_ok(runtime, ACTIONS[family]["list"])
    assert runtime.run({}) == (200, [1, 2, 3])


def test_result_that_is_not_json_is_502(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["unserialisable"])
    assert runtime.run({}) == (502, {"error": NOT_AN_OBJECT[family]})


def test_no_return_value(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["none"])
    if family == "python":  # None: OpenWhisk's actionloop proxy refuses its null
        assert runtime.run({}) == (502, {"error": NOT_AN_OBJECT[family]})
    else:  # OpenWhisk's nodejs runtime treats `return;` as an empty result
        assert runtime.run({}) == (200, {})


def test_error_field_in_a_dict_is_still_200(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["error_field"])
    assert runtime.run({}) == (200, {"error": "application says no"})


def test_init_failures_are_502_with_a_clear_message(
    start: Callable[[str], Runtime], family: str
) -> None:
    rt = start(family)
    status, body = rt.init(ACTIONS[family]["syntax_error"])
    assert status == 502 and "SyntaxError" in body["error"], body
    assert SENTINEL in rt.wait_logs("stderr", 1)  # init logs are cut like an activation's

    rt = start(family)
    status, body = rt.init(ACTIONS[family]["no_main"])
    assert status == 502 and "'main'" in body["error"], body

    rt = start(family)
    status, body = rt.init(base64.b64encode(b"this is not a zip").decode(), binary=True)
    # As OpenWhisk's runtimes word it: runner.js (by the archive's first bytes), or the
    # actionloop proxy (Go's archive/zip).
    unreadable = {
        "nodejs": "Initialization has failed due to: There was an error uncompressing the "
        "action archive. The file type is unsupported",
        "python": "zip: not a valid zip file",
    }[family]
    assert (status, body) == (502, {"error": unreadable}), body

    rt = start(family)
    status, body = rt.init(zip_b64({"README": "no entry point here"}), binary=True)
    assert status == 502, body
    assert ("__main__.py" if family == "python" else "index.js") in body["error"]


def test_custom_main_name(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["custom_main"], main="handler")
    assert runtime.run({"n": 41}) == (200, {"via": "handler", "n": 42})


def test_zip_action(runtime: Runtime, family: str) -> None:
    if family == "python":
        files = {
            "__main__.py": (
                "import helper\n"
                "import vendored\n"
                "def main(args):\n"
                "    return {'greeting': helper.greet(args['name']),\n"
                "            'vendored': vendored.VERSION}\n"
            ),
            "helper.py": "def greet(name):\n    return f'Hello from a zip, {name}!'\n",
            "virtualenv/lib/python3.11/site-packages/vendored.py": "VERSION = '1.2.3'\n",
        }
    else:
        files = {
            "package.json": json.dumps({"name": "zipped", "main": "lib/entry.js"}),
            "lib/entry.js": (
                "const helper = require('./helper');\n"
                "const vendored = require('vendored');\n"
                "exports.main = (args) => ({\n"
                "  greeting: helper.greet(args.name),\n"
                "  vendored: vendored.VERSION,\n"
                "});\n"
            ),
            "lib/helper.js": "exports.greet = (name) => `Hello from a zip, ${name}!`;\n",
            "node_modules/vendored/index.js": "exports.VERSION = '1.2.3';\n",
        }
    init_ok(runtime, zip_b64(files), binary=True)
    assert runtime.run({"name": "Ada"}) == (
        200,
        {"greeting": "Hello from a zip, Ada!", "vendored": "1.2.3"},
    )


def test_logs_end_with_the_sentinel_on_both_streams(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["hello"])
    assert runtime.run({"name": "Ada"})[0] == 200
    assert runtime.run({"name": "Bob"})[0] == 200
    stdout = runtime.wait_logs("stdout", 2)
    stderr = runtime.wait_logs("stderr", 2)
    assert stdout.splitlines() == ["hello stdout Ada", SENTINEL, "hello stdout Bob", SENTINEL]
    assert stderr.splitlines() == ["hello stderr Ada", SENTINEL, "hello stderr Bob", SENTINEL]


def test_sentinel_after_a_failed_run_too(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["unserialisable"])
    assert runtime.run({})[0] == 502
    assert runtime.wait_logs("stdout", 1).splitlines() == [SENTINEL]
    assert runtime.wait_logs("stderr", 1).splitlines()[-1] == SENTINEL


def test_keep_alive_serves_many_requests_on_one_connection(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["custom_main"], main="handler")
    sock = runtime.conn.sock
    for n in range(50):
        status, data, resp = runtime.post_raw("/run", run_body({"n": n}))
        assert (status, json.loads(data)) == (200, {"via": "handler", "n": n + 1})
        assert (resp.getheader("Connection") or "").lower() != "close"
    assert runtime.conn.sock is sock  # never reconnected


def test_an_idle_connection_does_not_block_another(runtime: Runtime, family: str) -> None:
    init_ok(runtime, ACTIONS[family]["custom_main"], main="handler")
    assert runtime.run({"n": 1})[0] == 200  # runtime.conn now idles, kept alive
    other = NetnsConnection(runtime.pid, timeout=5)
    try:
        status, data, _ = runtime.post_raw("/run", run_body({"n": 2}), conn=other)
        assert (status, json.loads(data)) == (200, {"via": "handler", "n": 3})
    finally:
        other.close()


def test_python_sys_exit_is_502(start: Callable[[str], Runtime]) -> None:
    rt = start("python")
    init_ok(rt, ACTIONS["python"]["exit"])
    # OpenWhisk's actionloop proxy, its launcher gone: "command exited" (runHandler.go).
    assert rt.run({}) == (502, {"error": "command exited"})
    assert rt.run({}) == (502, {"error": "command exited"})  # the proxy is still there


# --- tests: nodejs only ---------------------------------------------------


def test_nodejs_promise_and_async_rejection(start: Callable[[str], Runtime]) -> None:
    rt = start("nodejs")
    init_ok(rt, ACTIONS["nodejs"]["promise"])
    assert rt.run({"name": "Ada"}) == (200, {"later": "Ada"})
    rt = start("nodejs")
    init_ok(rt, ACTIONS["nodejs"]["reject"])
    # As OpenWhisk's runtime (runner.js): a rejection is an application error
    # holding the serialised rejection.
    status, body = rt.run({"name": "Ada"})
    assert status == 200 and isinstance(body, dict), body
    error = body["error"]
    assert (error["name"], error["message"]) == ("TypeError", "late Ada")
    assert error["stack"].startswith("TypeError: late Ada\n")
    rt = start("nodejs")
    init_ok(rt, ACTIONS["nodejs"]["reject_object"])
    assert rt.run({"name": "Ada"}) == (200, {"error": {"error": "no Ada"}})


def test_nodejs_exception_in_a_callback_fails_the_activation_not_the_proxy(
    start: Callable[[str], Runtime],
) -> None:
    rt = start("nodejs")
    init_ok(rt, ACTIONS["nodejs"]["uncaught"])
    thrown = {"error": "An error has occurred: RangeError: thrown from a timer"}
    assert rt.run({}) == (502, thrown)
    assert rt.run({}) == (502, thrown)


def test_nodejs_concurrent_activations_keep_their_params_and_env(
    start: Callable[[str], Runtime],
) -> None:
    rt = start("nodejs")
    init_ok(rt, ACTIONS["nodejs"]["slow"])
    results: dict[str, tuple[int, Any, float]] = {}

    def call(name: str, delay: int) -> None:
        conn = NetnsConnection(rt.pid, timeout=10)
        try:
            status, data, _ = rt.post_raw(
                "/run",
                run_body({"name": name, "delay": delay}, activation_id=f"id-{name}"),
                conn=conn,
            )
            results[name] = (status, json.loads(data), time.monotonic())
        finally:
            conn.close()

    slow = threading.Thread(target=call, args=("slow", 600))
    fast = threading.Thread(target=call, args=("fast", 10))
    slow.start()
    time.sleep(
        0.1
    )  # let the slow one start first: the fast one then overwrites the process-wide env
    fast.start()
    slow.join(15)
    fast.join(15)
    assert results["slow"][:2] == (200, {"name": "slow", "id": "id-slow"})
    assert results["fast"][:2] == (200, {"name": "fast", "id": "id-fast"})
    assert results["fast"][2] < results["slow"][2]  # they overlapped: fast finished first
