"""``lwsk action create``: the kind and code it sends for each file, as ``wsk`` does."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

import runtimes
from api.cli.actioncode import ExecFlags, exec_of
from api.cli.errors import CLIError


def args(artifact: Path | None, **given: object) -> ExecFlags:
    return ExecFlags(str(artifact) if artifact else None, **given)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.py", "python:default"),
        ("a.js", "nodejs:default"),
        ("A.java", "java:default"),
        ("a.go", "go:default"),
        ("a.rb", "ruby:default"),
        ("a.php", "php:default"),
    ],
)
def test_a_source_file_gives_its_familys_default_kind(tmp_path: Path, name: str, kind: str) -> None:
    path = tmp_path / name
    path.write_text("source")
    assert exec_of(args(path)) == {"kind": kind, "code": "source", "binary": False}
    assert runtimes.resolve(kind) is not None


def test_a_jar_is_java_in_base64_and_needs_main(tmp_path: Path) -> None:
    jar = tmp_path / "hello.jar"
    jar.write_bytes(b"PK\x03\x04jar")
    with pytest.raises(CLIError, match="--main"):
        exec_of(args(jar))
    assert exec_of(args(jar, main="com.example.Hello#run")) == {
        "kind": "java:default",
        "code": base64.b64encode(b"PK\x03\x04jar").decode(),
        "binary": True,
        "main": "com.example.Hello#run",
    }


def test_a_zip_needs_a_kind_unless_native(tmp_path: Path) -> None:
    archive = tmp_path / "action.zip"
    archive.write_bytes(b"PK\x05\x06zip")
    code = base64.b64encode(b"PK\x05\x06zip").decode()
    with pytest.raises(CLIError, match="kind explicitly"):
        exec_of(args(archive))
    assert exec_of(args(archive, kind="go:1.19", main="hello")) == {
        "kind": "go:1.19",
        "code": code,
        "binary": True,
        "main": "hello",
    }
    # As wsk --native: the blackbox kind on OpenWhisk's docker skeleton.
    native = exec_of(args(archive, native=True))
    assert native == {
        "kind": "blackbox",
        "image": "openwhisk/dockerskeleton",
        "code": code,
        "binary": True,
    }
    assert runtimes.for_blackbox_image("openwhisk/dockerskeleton:1.14.0") == runtimes.resolve(
        "native"
    )
    assert runtimes.for_blackbox_image("someone/else") is None


def test_an_unknown_extension_asks_for_a_kind(tmp_path: Path) -> None:
    path = tmp_path / "a.swift"
    path.write_text("x")
    with pytest.raises(CLIError, match="not a supported action runtime"):
        exec_of(args(path))


def test_a_kind_is_being_built_while_a_running_build_lists_it(tmp_path: Path) -> None:
    building = tmp_path / "building"
    building.mkdir()
    assert not runtimes.being_built("java:17", str(tmp_path))
    (building / str(os.getpid())).write_text("java:17\ngo:1.19\n")
    assert runtimes.being_built("java:17", str(tmp_path))
    assert not runtimes.being_built("ruby:3.1", str(tmp_path))
    # A build that died without cleaning up is not building anything.
    (building / str(os.getpid())).rename(building / "999999999")
    assert not runtimes.being_built("java:17", str(tmp_path))
