"""The machine, the versions, and the platform's processes (by pid file or command line)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.metadata
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

from bench.target import PROCESSES, ROOT, BenchStack

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")
# Processes besides the four platform processes whose CPU time an activation costs:
# the broker, the database, the metrics exporter (it reads every completion) and the
# feed service (idle here, counted so that nothing the stack runs is left out).
SERVICES = ("kafka", "couchdb", "metrics", "feeds")
DAEMONS = ("dockerd", "containerd")
LIBRARIES = ("faust-streaming", "aiokafka", "aiohttp", "aiocouch", "pydantic", "docker")


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, kernel and the load when asked."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_mb": mem_kb // 1024,
        "cpu": model,
        "kernel": platform.release(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _kafka_version(target: BenchStack) -> str | None:
    pid = _pid_from_file(target.state_dir / "run" / "kafka.pid")
    if pid is None:
        return None
    with contextlib.suppress(OSError):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        found = re.search(r"kafka-(\d+\.\d+\.\d+)/libs", cmdline) or re.search(
            r"kafka_2\.\d+-(\d+\.\d+\.\d+)\.jar", cmdline
        )
        if found:
            return found.group(1)
    return None


async def _couch_version(target: BenchStack) -> str | None:
    headers = {"Accept": "application/json"}
    with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(target.settings.couchdb_url, headers=headers) as resp,
        ):
            body = await resp.json(content_type=None)
            name = next((k for k in body if k != "version" and body[k] == "Welcome"), "couchdb")
            return f"{name} {body.get('version', '?')}"
    return None


async def versions(target: BenchStack, docker_version: str | None) -> dict[str, Any]:
    """The platform's commit and the versions of everything it runs on."""
    libs = {}
    for name in LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            libs[name] = importlib.metadata.version(name)
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "ledgerwhisk": _git("rev-parse", "--short", "HEAD") + ("-dirty" if dirty else ""),
        "python": platform.python_version(),
        "kafka": _kafka_version(target),
        "couchdb": await _couch_version(target),
        "docker": docker_version,
        "libraries": libs,
    }


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the platform's processes ------------------------------------------------


def _pid_from_file(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        pid = int(path.read_text().split()[0])
        if Path(f"/proc/{pid}").exists():
            return pid
    return None


def _environ(pid: int) -> dict[str, str]:
    with contextlib.suppress(OSError):
        raw = Path(f"/proc/{pid}/environ").read_bytes()
        return dict(
            item.decode(errors="replace").split("=", 1) for item in raw.split(b"\0") if b"=" in item
        )
    return {}


def platform_pids(target: BenchStack) -> dict[str, int]:
    """The pid of each of the four platform processes of this stack.

    From the stack's pid files first; else from ``/proc``: a process running the
    module whose environment names this stack's Kafka.
    """
    found: dict[str, int] = {}
    for name in PROCESSES:
        pid = _pid_from_file(target.state_dir / "run" / f"{name}.pid")
        if pid is not None:
            found[name] = pid
    missing = {n: m for n, m in PROCESSES.items() if n not in found}
    if not missing:
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            args = [a.decode(errors="replace") for a in cmdline]
            for name, module in list(missing.items()):
                if "-m" in args and module in args:
                    env = _environ(int(entry.name))
                    if env.get("LEDGERWHISK_KAFKA_BOOTSTRAP") == target.settings.kafka_bootstrap:
                        found[name] = int(entry.name)
                        del missing[name]
    return found


def service_pids(target: BenchStack) -> dict[str, int]:
    """Kafka, CouchDB (when this stack started them), the metrics exporter and the feed
    service, and the Docker daemons."""
    found: dict[str, int] = {}
    for name in SERVICES:
        pid = _pid_from_file(target.state_dir / "run" / f"{name}.pid")
        if pid is not None:
            found[name] = pid
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                exe = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
                if os.path.basename(exe) in DAEMONS:
                    found[os.path.basename(exe)] = int(entry.name)
    return found


def cpu_ms(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far, in ms."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


class CpuMeter:
    """CPU time each process spends between ``start`` and ``per_activation``."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self._start: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: cpu_ms(pid) for name, pid in self.pids.items()}

    def per_activation(self, activations: int) -> dict[str, float]:
        """Milliseconds of CPU per activation, per process and in ``total``."""
        n = max(1, activations)
        out = {
            name: round((cpu_ms(pid) - self._start.get(name, 0.0)) / n, 2)
            for name, pid in self.pids.items()
        }
        out["total"] = round(sum(out.values()), 2)
        return out


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process in MB (None when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    return round(int(fields[1]) * PAGE_KB / 1024, 1)


def rss_of(pids: dict[str, int]) -> dict[str, float]:
    """RSS of each process and their ``total``."""
    out = {name: rss_mb(pid) or 0.0 for name, pid in pids.items()}
    out["total"] = round(sum(out.values()), 1)
    return out


class RssPeak:
    """Samples the processes' RSS every ``interval_s`` and keeps each one's peak."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.5):
        self.pids = pids
        self.interval_s = interval_s
        self.peak: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        now = rss_of(self.pids)
        for name, value in now.items():
            self.peak[name] = max(self.peak.get(name, 0.0), value)

    async def _loop(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample()
        return dict(self.peak)
