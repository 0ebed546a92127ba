"""The stack under test and the benchmark's own knobs, both read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# The platform's processes, by the name stack.sh gives their pid files, and
# the module each one runs (to find them when no pid file is at hand).
PROCESSES = {
    "api": "api.main",
    "controller": "streams.controller.agent",
    "invoker0": "invoker.agent",
    "projection": "projections.writer",
}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Plan:
    """How much of each measurement to take (``LEDGERWHISK_BENCH_*`` overrides each).

    The defaults are the issue's minimums; ``LEDGERWHISK_BENCH_QUICK=1`` shrinks
    every figure for a smoke run (its numbers are not the benchmark's).
    """

    warm_calls: int = 1000
    warm_chunk: int = 100
    kafka_roundtrips: int = 1000
    cold_samples: int = 5
    concurrency: int = 32
    throughput_s: float = 30.0
    throughput_warmup_s: float = 5.0
    floor_throughput_s: float = 10.0
    replay_activations: int = 10_000
    memory_mb: int = 256
    cold_memory_mb: int = 128

    @classmethod
    def from_env(cls) -> Plan:
        quick = os.environ.get("LEDGERWHISK_BENCH_QUICK") == "1"
        base = (
            cls(
                warm_calls=200,
                warm_chunk=50,
                kafka_roundtrips=200,
                cold_samples=2,
                throughput_s=5.0,
                throughput_warmup_s=2.0,
                floor_throughput_s=3.0,
                replay_activations=500,
            )
            if quick
            else cls()
        )
        p = "LEDGERWHISK_BENCH_"
        return cls(
            warm_calls=_int(p + "WARM_CALLS", base.warm_calls),
            warm_chunk=_int(p + "WARM_CHUNK", base.warm_chunk),
            kafka_roundtrips=_int(p + "KAFKA_ROUNDTRIPS", base.kafka_roundtrips),
            cold_samples=_int(p + "COLD_SAMPLES", base.cold_samples),
            concurrency=_int(p + "CONCURRENCY", base.concurrency),
            throughput_s=_float(p + "THROUGHPUT_S", base.throughput_s),
            throughput_warmup_s=_float(p + "THROUGHPUT_WARMUP_S", base.throughput_warmup_s),
            floor_throughput_s=_float(p + "FLOOR_THROUGHPUT_S", base.floor_throughput_s),
            replay_activations=_int(p + "REPLAY_ACTIVATIONS", base.replay_activations),
            memory_mb=base.memory_mb,
            cold_memory_mb=base.cold_memory_mb,
        )

    @property
    def quick(self) -> bool:
        return os.environ.get("LEDGERWHISK_BENCH_QUICK") == "1"


@dataclass(frozen=True)
class BenchStack:
    """Where the stack runs: its settings, API address and state folder."""

    settings: Settings
    api_url: str
    state_dir: Path

    @classmethod
    def from_env(cls) -> BenchStack:
        settings = Settings()
        state = Path(os.environ.get("LEDGERWHISK_STATE_DIR", ROOT / ".state"))
        return cls(settings, f"http://127.0.0.1:{settings.api_port}", state)

    @property
    def container_owner(self) -> str:
        """The Docker label value of the benchmark's own floor containers."""
        return f"{self.settings.prefix}-bench"

    @property
    def invoker_owner_prefix(self) -> str:
        return f"{self.settings.prefix}-invoker"
