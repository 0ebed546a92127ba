"""The java, go, ruby, php and native kinds on the real stack, as OpenWhisk's runtimes behave.

Each kind: hello world with parameters in and a result out, its logs, a
thrown error (or a non-zero exit) as its OpenWhisk runtime reports it, the
time-out and the memory limit, a zip variant, and ``__OW_ACTIVATION_ID``.
Go's build cache: a second cold start of the same code does not compile.
Java's jars and Go's precompiled ``exec`` are built with the runtime images
themselves (no JDK or Go needed on the host).
"""

from __future__ import annotations

import base64
import io
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pytest

import runtimes
from streams.messages import (
    ABNORMAL_RUN,
    COMMAND_EXITED,
    LOG_WARNING_DEVELOPER_ERROR,
    MEMORY_EXCEEDED,
    NOT_A_DICT_OR_ARRAY,
    TIMEOUT,
)
from streams.settings import Settings
from tests.support.client import Client
from tests.support.invoker import annotations_of, docker_client, started_event

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

KINDS = ["java:17", "go:1.19", "ruby:3.1", "php:8.2", "native"]
TIMEOUT_MS = 8_000  # covers a compile at /init (go, java) on a loaded machine

JAVA = """package com.example;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

public class Hello {
    public static JsonObject main(JsonObject args) {
        String name = args.has("name") ? args.get("name").getAsString() : "stranger";
        System.out.println("hello stdout " + name);
        System.err.println("hello stderr " + name);
        JsonObject out = new JsonObject();
        out.addProperty("greeting", "Hello, " + name + "!");
        out.addProperty("id", System.getenv("__OW_ACTIVATION_ID"));
        return out;
    }

    public static JsonObject fail(JsonObject args) {
        throw new RuntimeException("boom");
    }

    public static JsonObject sleep(JsonObject args) throws InterruptedException {
        Thread.sleep(30_000);
        return args;
    }

    public static JsonObject hog(JsonObject args) {
        List<byte[]> hoard = new ArrayList<>();
        for (int i = 0; i < 2000; i++) hoard.add(new byte[1 << 20]);
        JsonObject out = new JsonObject();
        out.addProperty("survived", hoard.size());
        return out;
    }
}
"""

GO_HELLO = """package main

import (
	"fmt"
	"os"
)

func Main(args map[string]interface{}) map[string]interface{} {
	name, ok := args["name"].(string)
	if !ok {
		name = "stranger"
	}
	fmt.Println("hello stdout " + name)
	fmt.Fprintln(os.Stderr, "hello stderr "+name)
	id := os.Getenv("__OW_ACTIVATION_ID")
	return map[string]interface{}{"greeting": "Hello, " + name + "!", "id": id}
}
"""
GO_FAIL = (
    "package main\n\nfunc Main(args map[string]interface{}) map[string]interface{} {\n"
    '\tpanic("boom")\n}\n'
)
GO_SLEEP = """package main

import "time"

func Main(args map[string]interface{}) map[string]interface{} {
	time.Sleep(30 * time.Second)
	return args
}
"""
GO_HOG = """package main

func Main(args map[string]interface{}) map[string]interface{} {
	var hoard [][]byte
	for i := 0; i < 2000; i++ {
		chunk := make([]byte, 1<<20)
		for j := range chunk {
			chunk[j] = 1
		}
		hoard = append(hoard, chunk)
	}
	return map[string]interface{}{"survived": len(hoard)}
}
"""
# A zip of sources: a module with two files, the entry point named by exec.main.
GO_MODULE = {
    "go.mod": "module example.com/hello\n\ngo 1.19\n",
    "greet.go": (
        'package main\n\nfunc greeting(name string) string { return "Hello, " + name + "!" }\n'
    ),
    "main.go": (
        "package main\n\n"
        "func Hello(args map[string]interface{}) map[string]interface{} {\n"
        '\treturn map[string]interface{}{"greeting": greeting(args["name"].(string))}\n'
        "}\n"
    ),
}
# OpenWhisk's actionloop protocol spoken by the user's own program (a precompiled exec).
GO_OWN_LOOP = """package main

import (
	"bufio"
	"encoding/json"
	"os"
)

func main() {
	out := os.NewFile(3, "out")
	if os.Getenv("__OW_WAIT_FOR_ACK") != "" {
		out.WriteString("{\\"ok\\": true}\\n")
	}
	in := bufio.NewReader(os.Stdin)
	for {
		line, err := in.ReadBytes('\\n')
		if err != nil {
			return
		}
		var body map[string]interface{}
		json.Unmarshal(line, &body)
		reply, _ := json.Marshal(map[string]interface{}{"precompiled": body["value"]})
		out.Write(append(reply, '\\n'))
	}
}
"""

RUBY_HELLO = """def main(args)
  name = args['name'] || 'stranger'
  puts "hello stdout #{name}"
  $stderr.puts "hello stderr #{name}"
  { 'greeting' => "Hello, #{name}!", 'id' => ENV['__OW_ACTIVATION_ID'] }
end
"""
RUBY_FAIL = "def main(args)\n  raise 'boom'\nend\n"
RUBY_SLEEP = "def main(args)\n  sleep 30\n  args\nend\n"
RUBY_HOG = (
    "def main(args)\n  hoard = []\n  2000.times { hoard << ('x' * (1 << 20)) }\n"
    "  { 'survived' => hoard.size }\nend\n"
)
RUBY_ZIP = {
    "main.rb": (
        "require_relative 'lib/greet'\n"
        "def main(args)\n  { 'greeting' => greeting(args['name']) }\nend\n"
    ),
    "lib/greet.rb": 'def greeting(name)\n  "Hello, #{name}!"\nend\n',
}

PHP_HELLO = """<?php
function main(array $args): array
{
    $name = $args['name'] ?? 'stranger';
    echo "hello stdout $name\\n";
    fwrite(STDERR, "hello stderr $name\\n");
    // $_ENV and getenv() both, as OpenWhisk's runner.php sets them.
    $id = $_ENV['__OW_ACTIVATION_ID'] ?? 'not in $_ENV';
    $same = $id === getenv('__OW_ACTIVATION_ID');
    return ['greeting' => "Hello, $name!", 'id' => $same ? $id : 'differs'];
}
"""
PHP_FAIL = (
    "<?php\nfunction main(array $args): array\n{\n    throw new RuntimeException('boom');\n}\n"
)
PHP_SLEEP = "<?php\nfunction main(array $args): array\n{\n    sleep(30);\n    return $args;\n}\n"
PHP_HOG = (
    "<?php\nfunction main(array $args): array\n{\n    $hoard = [];\n"
    "    for ($i = 0; $i < 2000; $i++) { $hoard[] = str_repeat('x', 1 << 20); }\n"
    "    return ['survived' => count($hoard)];\n}\n"
)
PHP_ZIP = {
    "index.php": (
        "<?php\nrequire __DIR__ . '/greet.php';\n"
        "function main(array $args): array\n{\n"
        "    return ['greeting' => greeting($args['name'])];\n}\n"
    ),
    "greet.php": '<?php\nfunction greeting(string $name): string { return "Hello, $name!"; }\n',
}

# The docker skeleton: argv[1] is the JSON argument, the last stdout line the result.
NATIVE_HELLO = """#!/bin/sh
name=$(printf '%s' "$1" | sed -n 's/.*"name": *"\\([^"]*\\)".*/\\1/p')
echo "hello stdout $name"
echo "hello stderr $name" >&2
printf '{"greeting": "Hello, %s!", "id": "%s"}\\n' "$name" "$__OW_ACTIVATION_ID"
"""
NATIVE_FAIL = "#!/bin/sh\necho 'about to fail'\necho boom >&2\nexit 3\n"
NATIVE_SLEEP = "#!/bin/sh\nsleep 30\necho '{}'\n"
NATIVE_HOG = (
    "#!/usr/bin/python3\n"
    "hoard = [bytearray(1 << 20) for _ in range(2000)]\n"
    "print('{\"survived\": %d}' % len(hoard))\n"
)
NATIVE_ZIP = {
    "exec": '#!/bin/sh\nexec "$(dirname "$0")/bin/greet" "$1"\n',
    "bin/greet": '#!/bin/sh\necho \'{"greeting": "Hello, Ada!"}\'\n',
}


def zipped(files: dict[str, str | bytes], executable: tuple[str, ...] = ()) -> str:
    """A base64 zip of ``files``; the names in ``executable`` get mode 0755."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return base64.b64encode(buffer.getvalue()).decode()


def built_with(kind: str, script: str, files: dict[str, str]) -> bytes:
    """Run ``script`` in a throwaway container of ``kind``'s image with ``files`` in
    /tmp/src; its stdout (base64) decoded: how the tests make jars and binaries."""
    image = runtimes.resolve(kind).image  # type: ignore[union-attr]
    unpack = "".join(
        f"mkdir -p /tmp/src/$(dirname {name}) && echo {base64.b64encode(text.encode()).decode()}"
        f" | base64 -d > /tmp/src/{name} && "
        for name, text in files.items()
    )
    output = docker_client().containers.run(
        image,
        # A last line without its newline can be lost in Docker's log: end with one.
        entrypoint=["/bin/sh", "-c", f"set -e; {unpack} cd /tmp/src && {script} && echo"],
        network_mode="none",
        user="action",
        environment={"HOME": "/tmp", "GOCACHE": "/tmp/.gocache", "CGO_ENABLED": "0"},
        remove=True,
    )
    return base64.b64decode(output)


@pytest.fixture(scope="module")
def java_jar() -> str:
    jar = built_with(
        "java:17",
        "javac -cp /opt/ledgerwhisk/jars/gson.jar -d out com/example/Hello.java"
        " && jar --create --file hello.jar -C out . && base64 -w0 hello.jar",
        {"com/example/Hello.java": JAVA},
    )
    return base64.b64encode(jar).decode()


@pytest.fixture(scope="module")
def go_exec() -> str:
    binary = built_with(
        "go:1.19",
        "printf 'module own\\n\\ngo 1.19\\n' > go.mod && GOPROXY=off go build -o exec ."
        " && base64 -w0 exec",
        {"main.go": GO_OWN_LOOP},
    )
    return zipped({"exec": binary}, executable=("exec",))


@dataclass
class Variants:
    """The ``exec`` of each test action of one kind."""

    hello: dict[str, Any]
    fail: dict[str, Any]
    sleep: dict[str, Any]
    hog: dict[str, Any]
    zipped: dict[str, Any]
    failure: str  # the error a thrown exception / non-zero exit ends with
    # ...as a developer error, or (ruby, as OpenWhisk's launcher.rb) the
    # result's error: an application error, and the container stays.
    failure_status: str = "action developer error"
    zip_result: dict[str, Any] = field(default_factory=lambda: {"greeting": "Hello, Ada!"})


def source(kind: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "code": code, **extra}


def variants(kind: str, request: pytest.FixtureRequest) -> Variants:
    if kind == "java:17":
        jar = request.getfixturevalue("java_jar")

        def java(main: str) -> dict[str, Any]:
            return source(kind, jar, binary=True, main=main)

        return Variants(
            hello=java("com.example.Hello"),
            fail=java("com.example.Hello#fail"),
            sleep=java("com.example.Hello#sleep"),
            hog=java("com.example.Hello#hog"),
            # The jar is Java's zip; a source file compiled at /init is the other form.
            zipped=source(
                kind,
                "public class Hi {\n  public static com.google.gson.JsonObject main("
                'com.google.gson.JsonObject args) {\n    args.addProperty("greeting", '
                '"Hello, " + args.get("name").getAsString() + "!");\n'
                '    args.remove("name");\n    return args;\n  }\n}\n',
            ),
            # OpenWhisk's Java runtime (Proxy.java) words it so.
            failure="An error has occurred while invoking the action (see logs for details): "
            "java.lang.RuntimeException: boom",
        )
    if kind == "go:1.19":
        return Variants(
            hello=source(kind, GO_HELLO),
            fail=source(kind, GO_FAIL),
            sleep=source(kind, GO_SLEEP),
            hog=source(kind, GO_HOG),
            zipped=source(kind, zipped(GO_MODULE), binary=True, main="hello"),
            # OpenWhisk's Go runtime: its action process dies, its proxy says so only.
            failure=COMMAND_EXITED,
        )
    if kind == "ruby:3.1":
        return Variants(
            hello=source(kind, RUBY_HELLO),
            fail=source(kind, RUBY_FAIL),
            sleep=source(kind, RUBY_SLEEP),
            hog=source(kind, RUBY_HOG),
            zipped=source(kind, zipped(RUBY_ZIP), binary=True),
            failure="boom",
            failure_status="application error",
        )
    if kind == "php:8.2":
        return Variants(
            hello=source(kind, PHP_HELLO),
            fail=source(kind, PHP_FAIL),
            sleep=source(kind, PHP_SLEEP),
            hog=source(kind, PHP_HOG),
            zipped=source(kind, zipped(PHP_ZIP), binary=True),
            # OpenWhisk's PHP runtime (runner.php) logs the exception and answers no JSON.
            failure=NOT_A_DICT_OR_ARRAY,
        )

    # native: as `wsk action create --native` sends it, a blackbox on the skeleton.
    def skeleton(code: str, binary: bool = False) -> dict[str, Any]:
        return {
            "kind": "blackbox",
            "image": "openwhisk/dockerskeleton",
            "code": code,
            "binary": binary,
        }

    return Variants(
        hello=skeleton(NATIVE_HELLO),
        fail=skeleton(NATIVE_FAIL),
        sleep=skeleton(NATIVE_SLEEP),
        hog=skeleton(NATIVE_HOG),
        zipped=skeleton(zipped(NATIVE_ZIP, executable=("exec", "bin/greet")), binary=True),
        # OpenWhisk's skeleton reads no exit code: its last stdout line is no object.
        failure=NOT_A_DICT_OR_ARRAY,
    )


async def put(client: Client, name: str, exec_: dict[str, Any], **limits: int) -> None:
    body: dict[str, Any] = {"exec": exec_}
    if limits:
        body["limits"] = limits
    status, answer = await client.request(
        "PUT", f"actions/{name}", json=body, params={"overwrite": "true"}
    )
    assert status == 200, answer


def text_logs(record: dict[str, Any]) -> list[str]:
    """The record's log lines without their time stamps: ``stdout: text``."""
    return [line.split(" ", 1)[1] for line in record["logs"]]


async def developer_error(client: Client, name: str) -> dict[str, Any]:
    status, record = await client.invoke(name)
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "action developer error", record["response"]
    return record


@pytest.mark.parametrize("kind", KINDS)
async def test_hello_world_with_parameters_logs_and_activation_id(
    client: Client, kind: str, request: pytest.FixtureRequest
) -> None:
    await put(client, "hello", variants(kind, request).hello, timeout=TIMEOUT_MS)
    status, record = await client.invoke("hello", {"name": "Ada"})
    assert status == 200, (record["response"], record["logs"])  # type: ignore[index]
    assert isinstance(record, dict)
    assert record["response"]["result"] == {
        "greeting": "Hello, Ada!",
        "id": record["activationId"],
    }
    logs = text_logs(record)
    assert "stdout: hello stdout Ada" in logs, logs
    assert "stderr: hello stderr Ada" in logs, logs
    # The kind as the action names it (``--native`` is the blackbox kind).
    named = "blackbox" if kind == "native" else kind
    assert {"key": "kind", "value": named} in record["annotations"]
    # The container stays warm: the next one reuses it and sees its own id.
    status, again = await client.invoke("hello", {"name": "Grace"})
    assert isinstance(again, dict) and status == 200, again
    assert again["response"]["result"]["id"] == again["activationId"]
    assert "initTime" not in annotations_of(again)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_thrown_error_or_a_failed_exit_ends_as_its_openwhisk_runtime_says(
    client: Client, kind: str, request: pytest.FixtureRequest
) -> None:
    found = variants(kind, request)
    await put(client, "fail", found.fail, timeout=TIMEOUT_MS)
    status, record = await client.invoke("fail")
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == found.failure_status, record["response"]
    assert record["response"]["result"] == {"error": found.failure}
    assert any("boom" in line for line in text_logs(record)), record["logs"]


EXITS = {
    "go:1.19": (
        'package main\n\nimport "os"\n\n'
        "func Main(args map[string]interface{}) map[string]interface{} {\n\tos.Exit(1)\n"
        "\treturn args\n}\n",
        COMMAND_EXITED,
    ),
    "php:8.2": ("<?php\nfunction main(array $args): array\n{\n    exit(1);\n}\n", COMMAND_EXITED),
    "java:17": (
        "public class Bye {\n  public static com.google.gson.JsonObject main("
        "com.google.gson.JsonObject args) {\n    System.exit(1);\n    return args;\n  }\n}\n",
        ABNORMAL_RUN,
    ),
}


@pytest.mark.parametrize("kind", list(EXITS))
async def test_an_action_that_ends_its_own_process_fails_as_its_openwhisk_runtime_says(
    client: Client, kind: str
) -> None:
    """OpenWhisk's actionloop proxy (go, php) answers "command exited" once its action
    process is gone (openwhisk-runtime-go runHandler.go); Java's action runs in the
    proxy's JVM, whose exit ends the container (Messages.abnormalRun)."""
    code, error = EXITS[kind]
    await put(client, "bye", source(kind, code), timeout=TIMEOUT_MS)
    status, record = await client.invoke("bye")
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "action developer error", record["response"]
    assert record["response"]["result"] == {"error": error}
    assert record["logs"][-1].endswith(LOG_WARNING_DEVELOPER_ERROR), record["logs"]


MISSING_MAIN = {
    # OpenWhisk's runner.js assertMainIsFunction, through service.js initCode.
    "nodejs:18": (
        "function main() { return {}; }\n",
        "Initialization has failed due to: Action entrypoint 'nosuch' is not a function.",
    ),
    # One line: Ruby's error_highlight snippet of the launcher stays out of the result.
    "ruby:3.1": (
        "def main(args)\n  args\nend\n",
        "Initialization has failed due to: The action has no function named 'nosuch'.",
    ),
}


@pytest.mark.parametrize("kind", list(MISSING_MAIN))
async def test_a_main_that_is_not_there_fails_init_with_one_line(client: Client, kind: str) -> None:
    code, error = MISSING_MAIN[kind]
    await put(client, "nomain", source(kind, code, main="nosuch"), timeout=TIMEOUT_MS)
    status, record = await client.invoke("nomain")
    assert status == 502, record
    assert isinstance(record, dict)
    assert record["response"]["status"] == "action developer error", record["response"]
    assert record["response"]["result"] == {"error": error}


@pytest.mark.parametrize("kind", KINDS)
async def test_the_time_limit_is_enforced(
    client: Client, kind: str, request: pytest.FixtureRequest
) -> None:
    await put(client, "sleepy", variants(kind, request).sleep, timeout=TIMEOUT_MS)
    record = await developer_error(client, "sleepy")
    assert record["response"]["result"] == {"error": TIMEOUT.format(ms=TIMEOUT_MS)}
    assert annotations_of(record)["timeout"] is True


@pytest.mark.parametrize("kind", KINDS)
async def test_the_memory_limit_is_enforced(
    client: Client, kind: str, request: pytest.FixtureRequest
) -> None:
    await put(client, "hog", variants(kind, request).hog, timeout=60_000, memory=128)
    record = await developer_error(client, "hog")
    error = record["response"]["result"]["error"]
    if kind == "java:17":
        # The JVM's heap is half the container's memory: Java says so first.
        assert error == (
            "An error has occurred while invoking the action (see logs for details): "
            "java.lang.OutOfMemoryError: Java heap space"
        ), error
    else:
        assert error == MEMORY_EXCEEDED, error
    assert annotations_of(record)["timeout"] is False


@pytest.mark.parametrize("kind", KINDS)
async def test_the_zip_variant_runs(
    client: Client, kind: str, request: pytest.FixtureRequest
) -> None:
    found = variants(kind, request)
    await put(client, "zipped", found.zipped, timeout=TIMEOUT_MS)
    status, record = await client.invoke("zipped", {"name": "Ada"})
    assert status == 200, record
    assert isinstance(record, dict)
    assert record["response"]["result"] == found.zip_result


@pytest.mark.parametrize("kind", KINDS)
async def test_a_zip_or_jar_sent_without_exec_binary_is_binary(
    client: Client, kind: str, request: pytest.FixtureRequest
) -> None:
    # wsk and the npm client send an archive as base64 code without exec.binary;
    # OpenWhisk infers it from the code (Exec.scala isBinaryCode).
    found = variants(kind, request)
    archive = found.hello if kind == "java:17" else found.zipped
    exec_ = {k: v for k, v in archive.items() if k != "binary"}
    status, body = await client.request(
        "PUT",
        "actions/archive",
        json={"exec": exec_, "limits": {"timeout": TIMEOUT_MS}},
        params={"overwrite": "true"},
    )
    assert status == 200, body
    assert isinstance(body, dict) and body["exec"]["binary"] is True
    status, record = await client.invoke("archive", {"name": "Ada"})
    assert status == 200, record
    assert isinstance(record, dict)
    result = record["response"]["result"]
    if kind == "java:17":  # the jar's hello also names its activation
        assert result == {"greeting": "Hello, Ada!", "id": record["activationId"]}
    else:
        assert result == found.zip_result


async def test_a_precompiled_go_exec_speaks_the_actionloop_protocol_itself(
    client: Client, go_exec: str
) -> None:
    await put(client, "own", source("go:1.19", go_exec, binary=True))
    status, result = await client.invoke("own", {"n": 1}, result=True)
    assert (status, result) == (200, {"precompiled": {"n": 1}})


async def test_a_second_cold_start_of_the_same_go_code_does_not_compile(
    client: Client, stack: Settings
) -> None:
    marker = os.urandom(6).hex()  # code no earlier run has compiled
    code = GO_HELLO.replace("hello stdout", f"hello {marker}")
    await put(client, "cached", source("go:1.19", code), timeout=TIMEOUT_MS)
    status, first = await client.invoke("cached", {"name": "Ada"})
    assert status == 200 and isinstance(first, dict), first
    compiled = [line for line in text_logs(first) if "[ledgerwhisk] compiled the action" in line]
    assert compiled and "kept for later cold starts" in compiled[0], first["logs"]
    # A new revision of the same code: a new container, so a cold start again.
    await put(client, "cached", source("go:1.19", code), timeout=TIMEOUT_MS)
    status, second = await client.invoke("cached", {"name": "Grace"})
    assert status == 200 and isinstance(second, dict), second
    started = await started_event(stack, second["activationId"])
    assert started.start == "cold"
    assert "initTime" in annotations_of(second)
    assert f"stdout: hello {marker} Grace" in text_logs(second)
    assert not any("compiled the action" in line for line in text_logs(second)), second["logs"]


async def test_a_go_compile_error_fails_at_init_with_the_compilers_message(
    client: Client,
) -> None:
    await put(client, "broken", source("go:1.19", "package main\n\nfunc Main(x) {}\n"))
    record = await developer_error(client, "broken")
    error = record["response"]["result"]["error"]
    assert error.startswith("The action could not be compiled:"), error
    assert "main.go:3" in error, error


# OpenWhisk's docker skeleton (openwhisk-runtime-docker actionproxy.py ``run``): the
# argument on stdin, and as argv[1] when it fits in one (131071 bytes); the exit code
# unread; the last stdout line the result, empty output no result.
NATIVE_ARGUMENTS = (
    "#!/usr/bin/python3\n"
    "import json, sys\n"
    "given = json.loads(sys.stdin.read())\n"
    "print(json.dumps({'stdin': len(given['blob']), 'argv': len(sys.argv)}))\n"
)
NATIVE_FAILED_WITH_A_RESULT = "#!/bin/sh\necho '{\"partial\": true}'\nexit 4\n"
NATIVE_SILENT = "#!/bin/sh\nexit 0\n"


def native(code: str) -> dict[str, Any]:
    return {"kind": "blackbox", "image": "openwhisk/dockerskeleton", "code": code}


async def test_a_native_action_reads_its_argument_on_stdin_and_a_long_one_only_there(
    client: Client,
) -> None:
    await put(client, "args", native(NATIVE_ARGUMENTS), timeout=TIMEOUT_MS)
    status, small = await client.invoke("args", {"blob": "x" * 10})
    assert status == 200, small
    assert small["response"]["result"] == {"stdin": 10, "argv": 2}
    # Longer than Linux's longest argument: stdin only (argv would fail to start it).
    status, large = await client.invoke("args", {"blob": "y" * 200_000})
    assert status == 200, large
    assert large["response"]["result"] == {"stdin": 200_000, "argv": 1}


async def test_a_native_actions_exit_code_is_not_read_its_output_is(client: Client) -> None:
    await put(client, "partial", native(NATIVE_FAILED_WITH_A_RESULT), timeout=TIMEOUT_MS)
    status, record = await client.invoke("partial")
    assert status == 200, record
    assert record["response"]["result"] == {"partial": True}
    await put(client, "silent", native(NATIVE_SILENT), timeout=TIMEOUT_MS)
    record = await developer_error(client, "silent")
    assert record["response"]["result"] == {"error": NOT_A_DICT_OR_ARRAY}
