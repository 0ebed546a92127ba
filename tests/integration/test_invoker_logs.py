"""Log capture: both streams, timestamps, one activation's lines only, the log limit."""

from __future__ import annotations

import re

import pytest

from tests.support.client import Client

pytestmark = pytest.mark.integration

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr): (.*)$")

TALK_PY = (
    "import sys\n"
    "def main(args):\n"
    "    print('out ' + args['tag'])\n"
    "    print('err ' + args['tag'], file=sys.stderr)\n"
    "    print('out again ' + args['tag'])\n"
    "    return {}\n"
)
TALK_JS = (
    "function main(args) {\n"
    "  console.log('out ' + args.tag);\n"
    "  console.error('err ' + args.tag);\n"
    "  console.log('out again ' + args.tag);\n"
    "  return {};\n"
    "}\n"
)
CHATTY_PY = (
    "def main(args):\n"
    "    for i in range(args['lines']):\n"
    "        print(str(i).rjust(6, '0') + ' ' + 'y' * 1000)\n"
    "    return {}\n"
)


def parsed(logs: list[str]) -> list[tuple[str, str]]:
    out = []
    for line in logs:
        match = LINE.match(line)
        assert match, f"not an OpenWhisk log line: {line!r}"
        out.append((match.group(1), match.group(2)))
    return out


@pytest.mark.parametrize(("kind", "code"), [("python:3.11", TALK_PY), ("nodejs:18", TALK_JS)])
async def test_stdout_and_stderr_lines_are_captured_per_activation(
    client: Client, kind: str, code: str
) -> None:
    await client.put_action("talk", code, kind=kind)
    for tag in ("first", "second"):  # the second runs warm: only its own lines
        status, record = await client.invoke("talk", {"tag": tag})
        assert status == 200 and isinstance(record, dict), record
        lines = parsed(record["logs"])
        assert sorted(lines) == sorted(
            [("stdout", f"out {tag}"), ("stderr", f"err {tag}"), ("stdout", f"out again {tag}")]
        )
        # In time order: both stdout lines keep their order.
        outs = [text for stream, text in lines if stream == "stdout"]
        assert outs == [f"out {tag}", f"out again {tag}"]
        stamps = [line[:30] for line in record["logs"]]
        assert stamps == sorted(stamps)


async def test_logs_past_the_limit_are_cut_with_a_visible_line(client: Client) -> None:
    # limits.logs is in megabytes; 2000 lines of ~1 kB are about 2 MB.
    await client.put_action("chatty", CHATTY_PY, limits={"logs": 1})
    status, record = await client.invoke("chatty", {"lines": 2000})
    assert status == 200 and isinstance(record, dict), record
    lines = parsed(record["logs"])
    *kept, (stream, last) = lines
    assert stream == "stderr"
    assert last == (
        "Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes."
    )
    assert 900 < len(kept) < 1048
    assert sum(len(text.encode()) for _, text in kept) <= 1024 * 1024
    # The first lines are kept, in order, and none is cut in the middle.
    assert [text[:6] for _, text in kept] == [str(i).rjust(6, "0") for i in range(len(kept))]
    assert all(len(text) == 1007 for _, text in kept)

    # Under the limit nothing is cut, and the limit is the action's own.
    status, record = await client.invoke("chatty", {"lines": 100})
    assert status == 200 and isinstance(record, dict)
    assert len(parsed(record["logs"])) == 100


async def test_a_zero_log_limit_keeps_only_the_truncation_line(client: Client) -> None:
    await client.put_action("mute", TALK_PY, limits={"logs": 0})
    status, record = await client.invoke("mute", {"tag": "x"})
    assert status == 200 and isinstance(record, dict)
    assert [text for _, text in parsed(record["logs"])] == [
        "Logs were truncated because the total bytes size exceeds the limit of 0 bytes."
    ]


async def test_a_long_line_stays_one_line(client: Client) -> None:
    # Docker cuts lines over 16 kB into pieces; the activation shows it whole.
    await client.put_action(
        "long", "def main(args):\n    print('z' * 40000)\n    print('after')\n    return {}\n"
    )
    status, record = await client.invoke("long")
    assert status == 200 and isinstance(record, dict)
    assert parsed(record["logs"]) == [("stdout", "z" * 40000), ("stdout", "after")]


UNENDED_PY = (
    "import sys\n"
    "def main(args):\n"
    "    sys.stdout.write('partial out ' + args['tag'])\n"
    "    sys.stderr.write('partial err ' + args['tag'])\n"
    "    return {}\n"
)
UNENDED_JS = (
    "function main(args) {\n"
    "  process.stdout.write('partial out ' + args.tag);\n"
    "  process.stderr.write('partial err ' + args.tag);\n"
    "  return {};\n"
    "}\n"
)


@pytest.mark.parametrize(("kind", "code"), [("python:3.11", UNENDED_PY), ("nodejs:18", UNENDED_JS)])
async def test_output_without_a_final_newline_is_kept_and_the_sentinel_is_not(
    client: Client, kind: str, code: str
) -> None:
    # The runtime's sentinel lands on the same line as such output.
    await client.put_action("unended", code, kind=kind)
    for tag in ("first", "second"):
        status, record = await client.invoke("unended", {"tag": tag})
        assert status == 200 and isinstance(record, dict), record
        assert sorted(parsed(record["logs"])) == [
            ("stderr", f"partial err {tag}"),
            ("stdout", f"partial out {tag}"),
        ]
