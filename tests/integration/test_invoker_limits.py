"""Per-container limits: a fork bomb or an fd leak stays inside its own container."""

from __future__ import annotations

import pytest

from streams.settings import Settings
from tests.support.client import Client
from tests.support.invoker import container_info, started_event

pytestmark = pytest.mark.integration

FORK_BOMB_PY = """
import os, signal

def main(args):
    children, error = [], None
    try:
        while len(children) < 100000:
            pid = os.fork()
            if pid == 0:  # the child: a cheap process that just sits there
                try:
                    os.execv('/bin/sleep', ['sleep', '60'])
                finally:
                    os._exit(1)
            children.append(pid)
    except OSError as exc:
        error = exc.strerror
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    for pid in children:
        os.waitpid(pid, 0)
    return {'forked': len(children), 'failure': error}
"""

FD_LEAK_PY = """
import os, resource

def main(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fds, error = [], None
    try:
        while len(fds) < 1000000:
            fds.append(os.open('/dev/null', os.O_RDONLY))
    except OSError as exc:
        error = exc.strerror
    for fd in fds:
        os.close(fd)
    return {'soft': soft, 'hard': hard, 'opened': len(fds), 'failure': error}
"""

FD_LEAK_JS = """
const fs = require('fs');
function main() {
  const fds = [];
  let error = null;
  try {
    while (fds.length < 1000000) fds.push(fs.openSync('/dev/null', 'r'));
  } catch (e) {
    error = e.code;
  }
  for (const fd of fds) fs.closeSync(fd);
  return { opened: fds.length, failure: error };
}
"""


async def test_a_fork_bomb_hits_the_pids_limit_of_its_container(
    client: Client, stack: Settings
) -> None:
    limit = Settings().container_pids_limit  # what the stack's invoker runs with
    await client.put_action("forks", FORK_BOMB_PY, limits={"timeout": 60_000})
    status, record = await client.invoke("forks")
    assert status == 200, record
    assert isinstance(record, dict)
    result = record["response"]["result"]
    assert result["failure"] == "Resource temporarily unavailable"
    assert 0 < result["forked"] < limit
    started = await started_event(stack, record["activationId"])
    info = await container_info(started.container)
    assert info["HostConfig"]["PidsLimit"] == limit
    # The invoker and everything else carry on.
    await client.put_action("after", "def main(args):\n    return {'ok': True}\n")
    assert await client.invoke("after", result=True) == (200, {"ok": True})


async def test_an_fd_leak_hits_the_open_file_limit_of_its_container(
    client: Client, stack: Settings
) -> None:
    limit = Settings().container_nofile_limit
    await client.put_action("fds", FD_LEAK_PY)
    status, record = await client.invoke("fds")
    assert status == 200, record
    assert isinstance(record, dict)
    result = record["response"]["result"]
    assert (result["soft"], result["hard"]) == (limit, limit)
    assert result["failure"] == "Too many open files"
    assert 0 < result["opened"] < limit
    started = await started_event(stack, record["activationId"])
    info = await container_info(started.container)
    assert {"Name": "nofile", "Soft": limit, "Hard": limit} in info["HostConfig"]["Ulimits"]

    await client.put_action("jsfds", FD_LEAK_JS, kind="nodejs:18")
    status, result = await client.invoke("jsfds", result=True)
    assert status == 200 and isinstance(result, dict), result
    assert result["failure"] == "EMFILE"
    assert 0 < result["opened"] < limit


async def test_containers_have_no_network(client: Client) -> None:
    code = (
        "import socket\n"
        "def main(args):\n"
        "    names = sorted(n for _, n in socket.if_nameindex())\n"
        "    return {'interfaces': names}\n"
    )
    await client.put_action("net", code)
    assert await client.invoke("net", result=True) == (200, {"interfaces": ["lo"]})
