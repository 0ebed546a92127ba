"""Where ``lwsk`` connects: the properties file, the environment and the flags, as wsk's
``loadProperties``; and ``property set|get`` as wsk prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli.config import normal_host, props_path, target
from api.cli.main import main
from api.cli.properties import property_line

ENV = (
    "WSK_CONFIG_FILE",
    "WHISK_APIHOST",
    "WHISK_AUTH",
    "WHISK_APIVERSION",
    "WSK_APIHOST",
    "WSK_AUTH",
)


@pytest.fixture
def props(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "wskprops"
    path.write_text("APIHOST=http://file:1/\nAUTH=file:key\nAPIVERSION=v2\n")
    monkeypatch.setenv("WSK_CONFIG_FILE", str(path))
    return path


def test_wsks_environment_beats_the_file(props: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert target().apihost == "http://file:1"
    monkeypatch.setenv("WHISK_APIHOST", "http://env:2")
    monkeypatch.setenv("WHISK_AUTH", "env:key")
    monkeypatch.setenv("WHISK_APIVERSION", "v1")
    found = target()
    assert (found.apihost, found.auth, found.apiversion) == ("http://env:2", "env:key", "v1")
    assert found.host_source == "$WHISK_APIHOST" and found.auth_source == "$WHISK_AUTH"


def test_a_flag_beats_the_environment(props: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHISK_APIHOST", "http://env:2")
    monkeypatch.setenv("WHISK_APIVERSION", "v3")
    found = target("http://flag:3", "flag:key", "v1")
    assert (found.apihost, found.auth, found.apiversion) == ("http://flag:3", "flag:key", "v1")


def test_lwsks_older_names_still_work_below_wsks(
    props: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WSK_APIHOST", "http://old:4")
    monkeypatch.setenv("WSK_AUTH", "old:key")
    assert (target().apihost, target().auth) == ("http://old:4", "old:key")
    monkeypatch.setenv("WHISK_APIHOST", "http://env:2")
    assert target().apihost == "http://env:2"


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("127.0.0.1:3443", "https://127.0.0.1:3443"),
        ("localhost:3443", "https://localhost:3443"),
        ("[::1]:3233", "https://[::1]:3233"),
        ("example.com", "https://example.com"),
        ("http://127.0.0.1:3233/", "http://127.0.0.1:3233"),
    ],
)
def test_a_bare_host_is_https_as_client_gos_get_url_base(given: str, url: str) -> None:
    assert normal_host(given) == url


def test_an_empty_config_file_variable_reads_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".wskprops").write_text("APIHOST=http://127.0.0.1:9\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert target().apihost == "http://127.0.0.1:9"
    monkeypatch.setenv("WSK_CONFIG_FILE", "")
    assert props_path() is None
    assert target().apihost == "http://127.0.0.1:3233"


def test_property_set_stores_and_echoes_as_given_in_wsks_order(
    props: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["property", "set", "--apiversion", "v1", "--apihost", "127.0.0.1:3233", "--auth", "a:b"]
    )
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "ok: whisk auth set. Run 'lwsk property get --auth' to see the new value.",
        "ok: whisk API host set to 127.0.0.1:3233",
        "ok: whisk API version set to v1",
    ]
    assert "APIHOST=127.0.0.1:3233\n" in props.read_text()
    assert main(["property", "get", "--apihost"]) == 0
    assert capsys.readouterr().out == "whisk API host\t\t127.0.0.1:3233\n"
    assert target().apihost == "https://127.0.0.1:3233"


def test_property_get_prints_wsks_tabs_and_order(
    props: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert property_line("apiversion", "v1") == "whisk API version\tv1"
    assert property_line("cliversion", "1") == "whisk CLI version\t1"
    assert property_line("apibuildno", "2") == "whisk API build number\t2"
    assert property_line("apibuild", "3") == "whisk API build\t\t3"
    assert property_line("apihost", "h") == "whisk API host\t\th"
    assert main(["property", "get", "--apiversion", "--cliversion", "--auth"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "whisk auth",
        "whisk CLI version",
        "whisk API version",
    ]
