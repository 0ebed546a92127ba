"""Action shapes beyond one source file: zip actions, shared containers, blackbox images."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from streams.messages import IMAGE_MISSING, LOGS_NOT_COLLECTED
from streams.settings import Settings
from tests.support.client import Client
from tests.support.invoker import annotations_of, docker_client, started_event
from tests.support.stack import PREFIX

pytestmark = pytest.mark.integration

TEST_LABEL = "org.ledgerwhisk.test"


def zipped(files: dict[str, str]) -> str:
    """Base64 of a zip holding ``files``, as ``wsk action create ... x.zip`` sends it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()


async def put_zip(
    client: Client, name: str, kind: str, files: dict[str, str], **extra: object
) -> None:
    status, body = await client.request(
        "PUT",
        f"actions/{name}",
        json={"exec": {"kind": kind, "code": zipped(files), "binary": True, **extra}},
        params={"overwrite": "true"},
    )
    assert status == 200, body


async def test_python_zip_action_with_helpers_and_a_bundled_package(client: Client) -> None:
    await put_zip(
        client,
        "pyzip",
        "python:3.11",
        {
            "__main__.py": (
                "import helper\n"
                "import shout\n"
                "def main(args):\n"
                "    return {'msg': shout.loud(helper.greet(args.get('name', 'x')))}\n"
            ),
            "helper.py": "def greet(name):\n    return 'hello ' + name\n",
            # A package installed into the zip's virtualenv, as OpenWhisk's
            # python runtime finds it.
            "virtualenv/lib/python3.11/site-packages/shout/__init__.py": (
                "def loud(text):\n    return text.upper() + '!'\n"
            ),
        },
    )
    status, result = await client.invoke("pyzip", {"name": "ada"}, result=True)
    assert (status, result) == (200, {"msg": "HELLO ADA!"})


# What virtualenv's own bin/activate_this.py does, in short: the environment's
# prefix and site-packages (with its .pth files) first.
ACTIVATE_THIS = """
import os, site, sys
base = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["VIRTUAL_ENV"] = base
before = list(sys.path)
site.addsitedir(os.path.join(base, "lib", "python3.11", "site-packages"))
sys.path[:] = [p for p in sys.path if p not in before] + before
sys.prefix = base
"""


@pytest.mark.parametrize("activate", [True, False])
async def test_a_zipped_virtualenv_is_activated_with_its_pth_files(
    client: Client, activate: bool
) -> None:
    """OpenWhisk's launcher.py runs the virtualenv's ``activate_this.py``; a ``python -m
    venv`` one (no such file) gets its site-packages the same way, ``.pth`` files too."""
    site = "virtualenv/lib/python3.11/site-packages"
    files = {
        "__main__.py": (
            "import os, sys\n"
            "import extra\n"
            "def main(args):\n"
            "    return {'extra': extra.WHO, 'venv': os.environ.get('VIRTUAL_ENV', '')}\n"
        ),
        f"{site}/extras.pth": "extras_dir\n",
        f"{site}/extras_dir/extra.py": "WHO = 'found through a .pth file'\n",
    }
    if activate:
        files["virtualenv/bin/activate_this.py"] = ACTIVATE_THIS
    await put_zip(client, "venv", "python:3.11", files)
    status, result = await client.invoke("venv", result=True)
    assert status == 200, result
    assert isinstance(result, dict) and result["extra"] == "found through a .pth file"
    assert result["venv"].endswith("/virtualenv") == activate


async def test_python_zip_action_with_a_custom_entry_point(client: Client) -> None:
    await put_zip(
        client,
        "pyzipmain",
        "python:3.11",
        {"__main__.py": "def handler(args):\n    return {'via': 'handler'}\n"},
        main="handler",
    )
    assert await client.invoke("pyzipmain", result=True) == (200, {"via": "handler"})


async def test_nodejs_zip_action_with_package_json_and_modules(client: Client) -> None:
    await put_zip(
        client,
        "jszip",
        "nodejs:18",
        {
            "package.json": '{"name": "jszip", "main": "lib/entry.js"}',
            "lib/entry.js": (
                "const { greet } = require('./greet');\n"
                "const pad = require('leftpad-lite');\n"
                "exports.main = async (params) => ({ msg: pad(greet(params.name), 12) });\n"
            ),
            "lib/greet.js": "exports.greet = (n) => `hi ${n}`;\n",
            # A dependency bundled under node_modules, as `npm install` leaves it.
            "node_modules/leftpad-lite/package.json": '{"name": "leftpad-lite"}',
            "node_modules/leftpad-lite/index.js": (
                "module.exports = (s, n) => s.padStart(n, '.');\n"
            ),
        },
    )
    status, result = await client.invoke("jszip", {"name": "bo"}, result=True)
    assert (status, result) == (200, {"msg": ".......hi bo"})


@pytest.mark.parametrize(
    ("kind", "files", "main"),
    [
        (
            "nodejs:18",
            {
                "package.json": '{"main": "index.js"}',
                "index.js": "exports.main = (p) => ({ got: p.name });\n",
            },
            None,
        ),
        ("nodejs:18", {"other.js": "exports.niam = (p) => ({ got: p.name });\n"}, "other.niam"),
        (
            "python:3.11",
            {"__main__.py": "def main(args):\n    return {'got': args['name']}\n"},
            None,
        ),
    ],
)
async def test_a_zip_sent_without_exec_binary_is_binary(
    client: Client, kind: str, files: dict[str, str], main: str | None
) -> None:
    # As the npm client and wsk send a .zip: base64 code and no exec.binary.
    exec_: dict[str, object] = {"kind": kind, "code": zipped(files)}
    if main is not None:
        exec_["main"] = main
    status, body = await client.request(
        "PUT", "actions/z", json={"exec": exec_}, params={"overwrite": "true"}
    )
    assert status == 200, body
    assert isinstance(body, dict) and body["exec"]["binary"] is True
    status, result = await client.invoke("z", {"name": "Ada"}, result=True)
    assert (status, result) == (200, {"got": "Ada"})


async def test_a_nodejs_zip_main_names_a_file_and_its_export(client: Client) -> None:
    # OpenWhisk's Node.js runtime: "file.func" is func exported by file.js, no
    # package.json nor index.js needed; a plain name still needs one of them.
    files = {"other.js": "exports.niam = () => ({ from: 'other' });\n"}
    await put_zip(client, "named", "nodejs:18", files, main="other.niam")
    assert await client.invoke("named", result=True) == (200, {"from": "other"})
    await put_zip(client, "unnamed", "nodejs:18", files, main="niam")
    status, record = await client.invoke("unnamed")
    assert status == 502 and isinstance(record, dict)
    # OpenWhisk's runner.js rejects so; its service.js initCode adds the prefix.
    assert record["response"]["result"] == {
        "error": "Initialization has failed due to: "
        "Zipped actions must contain either package.json or index.js at the root."
    }


CORRUPT_ZIPS = {
    # OpenWhisk's runner.js (detectFileType, extractInTmpDir) through service.js initCode.
    "nodejs:18": (
        "Initialization has failed due to: There was an error uncompressing the action "
        "archive. The file type is unsupported",
        "Initialization has failed due to: There was an error uncompressing the action "
        "Zip archive.",
    ),
    # OpenWhisk's actionloop proxy: Go's archive/zip.
    "python:3.11": ("zip: not a valid zip file", "zip: not a valid zip file"),
    "php:8.2": ("zip: not a valid zip file", "zip: not a valid zip file"),
}


@pytest.mark.parametrize("kind", list(CORRUPT_ZIPS))
async def test_an_archive_that_cannot_be_read_fails_init_as_openwhisk_says(
    client: Client, kind: str
) -> None:
    not_a_zip, broken_zip = CORRUPT_ZIPS[kind]
    whole = io.BytesIO()
    with zipfile.ZipFile(whole, "w", zipfile.ZIP_STORED) as archive:
        # Stored, incompressible: the archive is far longer than the 300 bytes kept below.
        archive.writestr("index.js", "exports.main = () => ({});\n")
        archive.writestr("__main__.py", "def main(args):\n    return args\n")
        archive.writestr("data.bin", os.urandom(4096))
    for name, data, error in (
        ("garbage", b"garbage, not an archive\n" * 10, not_a_zip),
        ("truncated", whole.getvalue()[:300], broken_zip),
    ):
        code = base64.b64encode(data).decode()
        status, answer = await client.request(
            "PUT",
            f"actions/{name}",
            json={"exec": {"kind": kind, "code": code, "binary": True}},
            params={"overwrite": "true"},
        )
        assert status == 200, answer
        status, record = await client.invoke(name)
        assert status == 502 and isinstance(record, dict), record
        assert record["response"]["status"] == "action developer error", record["response"]
        assert record["response"]["result"] == {"error": error}, name


async def test_source_code_is_not_taken_for_binary(client: Client) -> None:
    status, body = await client.put_action("src", "def main(args):\n    return {'ok': True}\n")
    assert status == 200 and isinstance(body, dict) and body["exec"]["binary"] is False
    assert await client.invoke("src", result=True) == (200, {"ok": True})


async def test_a_zip_without_an_entry_file_fails_at_init(client: Client) -> None:
    await put_zip(client, "nomain", "python:3.11", {"other.py": "x = 1\n"})
    status, record = await client.invoke("nomain")
    assert status == 502 and isinstance(record, dict)
    assert record["response"]["status"] == "action developer error"
    assert "__main__.py" in record["response"]["result"]["error"]


CONCURRENT_JS = """
const container = Math.random().toString(36).slice(2);
let active = 0;
let peak = 0;
async function main(params) {
  active += 1;
  peak = Math.max(peak, active);
  // Wait (bounded) until all the activations the test sent share this process.
  const until = Date.now() + 10000;
  while (peak < params.expect && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  active -= 1;
  console.log('not collected');
  return { container, peak, id: process.env.__OW_ACTIVATION_ID };
}
"""


async def test_nodejs_activations_share_a_container_up_to_the_concurrency_limit(
    client: Client, stack: Settings
) -> None:
    await client.put_action(
        "shared", CONCURRENT_JS, kind="nodejs:18", limits={"concurrency": 3, "timeout": 30_000}
    )
    answers = await asyncio.gather(*(client.invoke("shared", {"expect": 3}) for _ in range(3)))
    records = []
    for status, record in answers:
        assert status == 200, record
        assert isinstance(record, dict)
        records.append(record)
    results = [r["response"]["result"] for r in records]
    # One process served all three, and all three were in it at once.
    assert len({r["container"] for r in results}) == 1
    assert [r["peak"] for r in results] == [3, 3, 3]
    # Each saw its own activation id despite sharing the process.
    assert sorted(r["id"] for r in results) == sorted(r["activationId"] for r in records)
    started = [await started_event(stack, r["activationId"]) for r in records]
    assert len({s.container for s in started}) == 1
    # Exactly one of them paid for /init.
    assert sum("initTime" in annotations_of(r) for r in records) == 1
    # Output of activations sharing a container cannot be told apart: not collected.
    for record in records:
        assert len(record["logs"]) == 1 and record["logs"][0].endswith(LOGS_NOT_COLLECTED)


async def test_python_ignores_a_concurrency_limit_it_cannot_honour(
    client: Client, stack: Settings
) -> None:
    code = "import time\ndef main(args):\n    time.sleep(0.5)\n    return {}\n"
    await client.put_action("single", code, limits={"concurrency": 2})
    answers = await asyncio.gather(*(client.invoke("single") for _ in range(2)))
    records = [record for _, record in answers]
    assert all(isinstance(r, dict) and r["response"]["status"] == "success" for r in records)
    containers = {
        (await started_event(stack, r["activationId"])).container  # type: ignore[index]
        for r in records
    }
    assert len(containers) == 2


# -- blackbox -----------------------------------------------------------------------
BLACKBOX_SERVER = """
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.reply(404, {"error": "POST /init or /run"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path == "/init":
            self.reply(200, {"ok": True})
            return
        print("blackbox ran", body.get("activation_id"))
        for stream in (sys.stdout, sys.stderr):
            stream.write(SENTINEL + "\\n")
            stream.flush()
        self.reply(200, {"blackbox": True, "got": body.get("value"), "user": os.getuid()})

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
"""


@contextlib.contextmanager
def built_image(name: str, dockerfile: str, files: dict[str, str]) -> Iterator[str]:
    """An image built here (no registry) from ``dockerfile`` and ``files``, removed after."""
    client = docker_client()
    tag = f"{PREFIX}-test/{name}:latest"
    with tempfile.TemporaryDirectory() as context:
        for path, text in files.items():
            Path(context, path).write_text(text)
        Path(context, "Dockerfile").write_text(dockerfile)
        client.images.build(
            path=context, tag=tag, network_mode="none", rm=True, labels={TEST_LABEL: PREFIX}
        )
    try:
        yield tag
    finally:
        try:
            client.images.remove(tag, force=True)
        except docker.errors.APIError:
            pass


@pytest.fixture(scope="module")
def blackbox_image() -> Iterator[str]:
    """A tiny protocol-speaking image, built here FROM the runtimes' debootstrap base image."""
    bases = docker_client().images.list(name="ledgerwhisk/runtime-base")
    assert bases, "runtimes/build.sh makes ledgerwhisk/runtime-base; run it first"
    dockerfile = (
        f"FROM {bases[0].tags[0]}\n"
        "COPY server.py /srv/server.py\n"
        "USER 1000\n"
        'ENTRYPOINT ["/usr/bin/python3", "-u", "/srv/server.py"]\n'
    )
    with built_image("blackbox", dockerfile, {"server.py": BLACKBOX_SERVER}) as tag:
        yield tag


async def test_a_blackbox_action_runs_a_local_image(
    client: Client, stack: Settings, blackbox_image: str
) -> None:
    status, body = await client.request(
        "PUT",
        "actions/box",
        json={"exec": {"kind": "blackbox", "image": blackbox_image}},
        params={"overwrite": "true"},
    )
    assert status == 200, body
    status, record = await client.invoke("box", {"q": 1})
    assert status == 200, record
    assert isinstance(record, dict)
    assert record["response"]["result"] == {"blackbox": True, "got": {"q": 1}, "user": 1000}
    assert annotations_of(record)["kind"] == "blackbox"
    assert any(line.endswith(f"blackbox ran {record['activationId']}") for line in record["logs"])
    started = await started_event(stack, record["activationId"])
    assert started.start == "cold"
    # Warm reuse works for blackbox containers too.
    status, again = await client.invoke("box", {"q": 2})
    assert status == 200 and isinstance(again, dict)
    assert (await started_event(stack, again["activationId"])).start == "warm"


async def test_a_blackbox_image_that_is_not_on_the_host_is_a_developer_error(
    client: Client,
) -> None:
    image = f"{PREFIX}-test/no-such-image:{client.namespace}"
    await client.request(
        "PUT",
        "actions/nobox",
        json={"exec": {"kind": "blackbox", "image": image}},
        params={"overwrite": "true"},
    )
    status, record = await client.invoke("nobox")
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "action developer error"
    assert record["response"]["result"] == {"error": IMAGE_MISSING.format(image=image)}


@pytest.mark.parametrize(
    ("kind", "stored"),
    [
        ("python:3", "python:3.11"),
        ("python:default", "python:3.11"),
        ("nodejs:default", "nodejs:18"),
    ],
)
async def test_kind_aliases_run_on_their_runtime(client: Client, kind: str, stored: str) -> None:
    code = (
        "def main(args):\n    return {'ok': 1}\n"
        if stored.startswith("python")
        else "function main() { return { ok: 1 }; }\n"
    )
    status, body = await client.put_action("alias", code, kind=kind)
    assert status == 200 and isinstance(body, dict), body
    assert body["exec"]["kind"] == stored
    status, record = await client.invoke("alias")
    assert status == 200 and isinstance(record, dict), record
    assert record["response"]["result"] == {"ok": 1}
    assert annotations_of(record)["kind"] == stored


async def test_a_custom_entry_point_names_the_function_to_run(client: Client) -> None:
    status, body = await client.request(
        "PUT",
        "actions/custom",
        json={
            "exec": {
                "kind": "python:3.11",
                "code": "def main(args):\n    return {'via': 'main'}\n"
                "def handle(args):\n    return {'via': 'handle'}\n",
                "main": "handle",
            }
        },
        params={"overwrite": "true"},
    )
    assert status == 200, body
    assert await client.invoke("custom", result=True) == (200, {"via": "handle"})


async def test_nodejs_promises_and_async_functions_resolve_to_their_result(
    client: Client,
) -> None:
    await client.put_action(
        "later",
        "function main(p) {\n"
        "  return new Promise((resolve) => setTimeout(() => resolve({ twice: p.n * 2 }), 50));\n"
        "}\n",
        kind="nodejs:18",
    )
    assert await client.invoke("later", {"n": 21}, result=True) == (200, {"twice": 42})
    await client.put_action(
        "asyncfn",
        "async function main(p) { await null; return { got: p.n }; }\n",
        kind="nodejs:18",
    )
    assert await client.invoke("asyncfn", {"n": 5}, result=True) == (200, {"got": 5})


BAKED_EXEC = "#!/bin/sh\necho baked says hi\necho '{\"baked\": true}'\n"


@pytest.fixture(scope="module")
def skeleton_image() -> Iterator[str]:
    """An image built FROM our docker skeleton with an ``/action/exec`` of its own, as
    ``wsk sdk install docker`` users build theirs."""
    assert docker_client().images.list(name="ledgerwhisk/dockerskeleton"), "build.sh makes it"
    dockerfile = (
        "FROM ledgerwhisk/dockerskeleton:latest\n"
        "USER root\n"
        "RUN mkdir -p /action\n"
        "COPY exec /action/exec\n"
        "RUN chmod 755 /action/exec\n"
        "USER action\n"
    )
    with built_image("skeleton-derived", dockerfile, {"exec": BAKED_EXEC}) as tag:
        yield tag


async def test_an_image_built_from_the_skeleton_runs_its_own_exec_or_the_actions_code(
    client: Client, skeleton_image: str
) -> None:
    """OpenWhisk's skeleton runs the image's ``/action/exec`` when /init brings no code,
    and an action's zipped ``exec`` (unpacked under /tmp) when it does."""
    status, body = await client.request(
        "PUT",
        "actions/baked",
        json={"exec": {"kind": "blackbox", "image": skeleton_image}},
        params={"overwrite": "true"},
    )
    assert status == 200, body
    status, record = await client.invoke("baked")
    assert status == 200, record
    assert isinstance(record, dict) and record["response"]["result"] == {"baked": True}
    assert any(line.endswith("stdout: baked says hi") for line in record["logs"])
    exec_script = "#!/bin/sh\necho '{\"zipped\": true}'\n"
    status, body = await client.request(
        "PUT",
        "actions/bakedzip",
        json={
            "exec": {
                "kind": "blackbox",
                "image": skeleton_image,
                "code": zipped({"exec": exec_script}),
                "binary": True,
            }
        },
        params={"overwrite": "true"},
    )
    assert status == 200, body
    status, record = await client.invoke("bakedzip")
    assert status == 200, record
    assert isinstance(record, dict) and record["response"]["result"] == {"zipped": True}
