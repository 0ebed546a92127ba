"""How each kind served by the actionloop proxy writes, builds and starts an action.

The image says which family it is (``LEDGERWHISK_FAMILY``) and which kind
(``LEDGERWHISK_KIND``). A family that compiles (go, and java source) builds
into a directory keyed by :func:`build_key`; where the invoker mounted a
build cache at ``/cache`` (``runtimes/manifest.json`` ``build_cache``) a
finished build is kept there and a later container of the same code (a
second cold start) starts from it without compiling. A build is announced on
stderr (``[ledgerwhisk] compiled ...``), so the activation's logs show which
cold start paid for it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

OPT = "/opt/ledgerwhisk"
CACHE = "/cache"
# Where a compiler may write: /tmp is the only writable place in a container.
SCRATCH = "/tmp"


class InitError(Exception):
    """The action cannot be loaded; ``message`` is the 502's error text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Launch:
    """How to start the action: its command, directory and extra environment.

    ``enveloped``: the process is a launcher of ours, answering
    ``{"result": ...}`` / ``{"thrown": ...}``; otherwise it is the user's own
    actionloop executable. ``per_run``: start it once per activation with the
    parameters as ``argv[1]`` (the docker skeleton).
    """

    argv: list[str]
    cwd: str
    enveloped: bool = True
    per_run: bool = False
    env: dict[str, str] = field(default_factory=dict)


def build_key(value: dict[str, Any]) -> str:
    """The build cache's key: a hash of the kind, our Go launcher, ``main``, ``binary`` and
    the code (a Go build links the launcher in: a new one must not reuse an old build)."""
    digest = hashlib.sha256()
    for part in (
        os.environ.get("LEDGERWHISK_KIND", ""),
        _launchers_digest(),
        str(value.get("main") or "main"),
        "binary" if value.get("binary") else "source",
        str(value.get("code") or ""),
    ):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:32]


def _launchers_digest() -> str:
    """A hash of the launcher a build links in (Go's), '' where there is none."""
    path = f"{OPT}/launcher.go.txt"
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_tool(argv: list[str], cwd: str, env: dict[str, str], what: str) -> None:
    """Run a compiler; ``InitError`` with its output when it fails."""
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL, check=False
        )
    except OSError as exc:
        raise InitError(f"The action could not be compiled: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
        sys.stderr.write(output + "\n")
        raise InitError(f"The action could not be {what}:\n{output}")


def cached_build(key: str, build: Any) -> str:
    """The directory holding the build of ``key``: from ``/cache``, or built now.

    ``build(out_dir)`` fills ``out_dir``; it is then copied into the cache
    under a temporary name and renamed, so a half-written build is never used.
    """
    entry = os.path.join(CACHE, key)
    if os.path.isfile(os.path.join(entry, ".complete")):
        return entry
    out = tempfile.mkdtemp(prefix="build-", dir=SCRATCH)
    began = time.monotonic()
    build(out)
    elapsed = time.monotonic() - began
    kept = ""
    if os.access(CACHE, os.W_OK):
        partial = tempfile.mkdtemp(prefix=f".{key}-", dir=CACHE)
        try:
            shutil.copytree(out, partial, dirs_exist_ok=True, symlinks=True)
            with open(os.path.join(partial, ".complete"), "w") as f:
                f.write(f"{elapsed:.3f}\n")
            os.rename(partial, entry)
            kept = "; kept for later cold starts"
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)  # a racing container won, or no room
    print(f"[ledgerwhisk] compiled the action in {elapsed:.1f} s{kept}", file=sys.stderr)
    return out


class Family:
    """A runtime family: how its source is written and its action started."""

    source_file = "main"

    def write_source(self, action_dir: str, code: str) -> None:
        with open(os.path.join(action_dir, self.source_file), "w", encoding="utf-8") as f:
            f.write(code)

    def prepare(self, action_dir: str, main: str, key: str) -> Launch:
        raise NotImplementedError


def need(action_dir: str, name: str, kind: str) -> str:
    path = os.path.join(action_dir, name)
    if not os.path.isfile(path):
        raise InitError(f"Zipped {kind} actions must contain {name} at the root.")
    return path


class Ruby(Family):
    """``def main(args)`` returning a Hash; a zip holds ``main.rb``."""

    source_file = "main.rb"

    def prepare(self, action_dir: str, main: str, key: str) -> Launch:
        source = need(action_dir, "main.rb", "Ruby")
        return Launch(["/usr/bin/ruby3.1", f"{OPT}/launcher.rb", source, main], action_dir)


class Php(Family):
    """``function main(array $args) : array``; a zip holds ``index.php`` (and ``vendor/``)."""

    source_file = "index.php"

    def prepare(self, action_dir: str, main: str, key: str) -> Launch:
        source = need(action_dir, "index.php", "PHP")
        # variables_order EGPCS: $_ENV holds the environment, as OpenWhisk's php.ini says.
        settings = [
            *("-d", "display_errors=stderr", "-d", "memory_limit=-1", "-d", "log_errors=0"),
            *("-d", "variables_order=EGPCS"),
        ]
        return Launch(
            ["/usr/bin/php8.2", *settings, f"{OPT}/launcher.php", source, main], action_dir
        )


class Native(Family):
    """OpenWhisk's docker skeleton: ``exec``, a script or a Linux executable."""

    source_file = "exec"

    def prepare(self, action_dir: str, main: str, key: str) -> Launch:
        path = need(action_dir, "exec", "native")
        os.chmod(path, 0o755)
        return Launch([path], action_dir, enveloped=False, per_run=True)


GO_MAIN = re.compile(r"^func\s+main\s*\(\s*\)", re.MULTILINE)
GO_PACKAGE = re.compile(r"^package\s+(\w+)", re.MULTILINE)


class Go(Family):
    """A source file or zip of sources in package ``main`` with ``func Main(...)``
    (or ``exec.main`` naming another function, first letter made upper case as
    OpenWhisk does), compiled at /init; a zip holding an executable ``exec``
    (OpenWhisk's precompiled actionloop binary) runs as it is. A source with its
    own ``func main()`` is its own actionloop (it answers results itself).
    """

    source_file = "main.go"

    def prepare(self, action_dir: str, main: str, key: str) -> Launch:
        precompiled = os.path.join(action_dir, "exec")
        if os.path.isfile(precompiled):
            os.chmod(precompiled, 0o755)
            return Launch([precompiled], action_dir, enveloped=False)
        sources = [f for f in os.listdir(action_dir) if f.endswith(".go")]
        if not sources:
            raise InitError("Zipped go actions must contain .go sources or an exec at the root.")
        texts = {}
        for name in sources:
            with open(os.path.join(action_dir, name), encoding="utf-8", errors="replace") as f:
                texts[name] = f.read()
        own_loop = any(GO_MAIN.search(text) for text in texts.values())
        function = "Main" if main == "main" else main[:1].upper() + main[1:]
        if not own_loop:
            package = GO_PACKAGE.search(next(iter(texts.values())))
            if package is None or package.group(1) != "main":
                raise InitError("Go actions must be in package main.")
            with open(f"{OPT}/launcher.go.txt", encoding="utf-8") as f:
                launcher = f.read().replace("ACTION_MAIN", function)
            with open(os.path.join(action_dir, "zz_ledgerwhisk_launcher.go"), "w") as f:
                f.write(launcher)
        if not os.path.isfile(os.path.join(action_dir, "go.mod")):
            with open(os.path.join(action_dir, "go.mod"), "w") as f:
                f.write("module action\n\ngo 1.19\n")

        def build(out: str) -> None:
            env = {
                **os.environ,
                "HOME": SCRATCH,
                "GOCACHE": f"{SCRATCH}/.gocache",
                "GOPATH": f"{SCRATCH}/.gopath",
                "GOPROXY": "off",
                "GOFLAGS": "-mod=vendor" if os.path.isdir(f"{action_dir}/vendor") else "-mod=mod",
                "CGO_ENABLED": "0",
                "GOTOOLCHAIN": "local",
            }
            run_tool(["go", "build", "-o", f"{out}/exec", "."], action_dir, env, "compiled")

        built = cached_build(key, build)
        return Launch([f"{built}/exec"], action_dir, enveloped=not own_loop)


JAVA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
JAVA_CLASS = re.compile(r"public\s+(?:final\s+|abstract\s+)*class\s+(\w+)")


class Java(Family):
    """A jar (``binary``) with ``main`` naming the class (``com.example.Hello``, or
    ``com.example.Hello#method``; without it the jar's ``Main-Class``), whose
    ``public static JsonObject main(JsonObject)`` takes and returns Gson objects,
    as OpenWhisk's Java runtime (a ``main(JsonArray)`` takes an array, and
    either may return a ``JsonArray``); or one ``.java`` source, compiled at /init.
    """

    source_file = "Main.java"

    def write_source(self, action_dir: str, code: str) -> None:
        found = JAVA_CLASS.search(code)
        name = f"{found.group(1)}.java" if found else self.source_file
        with open(os.path.join(action_dir, name), "w", encoding="utf-8") as f:
            f.write(code)

    def prepare(self, action_dir: str, main: str, key: str) -> Launch:
        sources = [n for n in os.listdir(action_dir) if n.endswith(".java")]
        gson = f"{OPT}/jars/gson.jar"
        if sources:
            source = os.path.join(action_dir, sources[0])
            with open(source, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if main == "main":
                package = JAVA_PACKAGE.search(text)
                cls = os.path.splitext(sources[0])[0]
                main = f"{package.group(1)}.{cls}" if package else cls

            def build(out: str) -> None:
                argv = ["javac", "-encoding", "UTF-8", "-cp", gson, "-d", out, source]
                run_tool(argv, action_dir, dict(os.environ), "compiled")

            classpath = cached_build(key, build)
        else:
            # The code was a jar: the zip reader unpacked it. Run it from its classes.
            classpath = action_dir
            if main == "main":
                main = jar_main_class(action_dir)
        return Launch(
            [
                "/usr/bin/java",
                *JVM_OPTIONS,
                "-cp",
                f"{OPT}/jars/launcher.jar:{gson}",
                "Launcher",
                classpath,
                main,
            ],
            action_dir,
        )


# Serial GC and half the container's memory for the heap keep a small action
# small; the env map is opened so the launcher can export __OW_* (as OpenWhisk's).
JVM_OPTIONS = [
    "-XX:+UseSerialGC",
    "-XX:MaxRAMPercentage=50",
    "-Xshare:auto",
    f"-XX:SharedArchiveFile={OPT}/launcher.jsa",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
]


def jar_main_class(action_dir: str) -> str:
    """The ``Main-Class`` of an unpacked jar's manifest; ``InitError`` without one."""
    path = os.path.join(action_dir, "META-INF", "MANIFEST.MF")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("main-class:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    raise InitError(
        "Java actions need exec.main naming the class (com.example.Hello or Class#method)."
    )


FAMILIES: dict[str, Family] = {
    "java": Java(),
    "go": Go(),
    "ruby": Ruby(),
    "php": Php(),
    "native": Native(),
}


def current() -> Family:
    """The family of this image (``LEDGERWHISK_FAMILY``)."""
    return FAMILIES[os.environ.get("LEDGERWHISK_FAMILY", "native")]
