"""One real stack for the whole integration run, started by the project's own scripts.

It runs beside any dev stack: its own state folder, ports and topic/database
prefix. Each test gets its own namespace (a fresh subject).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from streams.settings import Settings
from tests.support.cli import Lwsk, new_user
from tests.support.client import Client, new_client
from tests.support.stack import ROOT, TEST_ENV
from tests.support.stack import settings as stack_settings


def _stack(command: str) -> None:
    env = {**os.environ, **TEST_ENV}
    subprocess.run([str(ROOT / "scripts" / "stack.sh"), command], env=env, check=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    """The running test stack's settings; the stack stops when the run ends."""
    if os.environ.get("LEDGERWHISK_TEST_REUSE_STACK") != "1":
        # Every run starts from an empty ledger and empty databases, so no
        # record left by an earlier run (or an earlier version) is compared.
        _stack("down")
        state = Path(TEST_ENV["LEDGERWHISK_STATE_DIR"])
        for data in ("kafka", "couchdb"):
            shutil.rmtree(state / data, ignore_errors=True)
        try:
            _stack("up")
        except subprocess.CalledProcessError:
            _stack("down")  # stop what did start: a failed run leaves nothing behind
            raise
    settings = stack_settings()
    try:
        yield settings
    finally:
        if os.environ.get("LEDGERWHISK_TEST_REUSE_STACK") != "1":
            _stack("down")


@pytest.fixture
async def client(stack: Settings) -> AsyncIterator[Client]:
    """A client for a fresh namespace of its own."""
    async with aiohttp.ClientSession() as session:
        yield await new_client(stack, session)


@pytest.fixture
def lwsk(stack: Settings, tmp_path: Path) -> Lwsk:
    """The installed ``lwsk`` for a fresh subject, with its own ~/.wskprops."""
    return new_user(stack, tmp_path)
