"""Measure cold, stem-cell and warm starts for each runtime through a running stack.

A benchmark, not a test: it prints figures and asserts nothing about them.
Each sample is one blocking invoke through the API; how the activation got
its container is read back from its ``started`` event on the ledger, and a
sample that did not start the intended way is reported and left out.

    LEDGERWHISK_TEST_PORT_BASE=21000 LEDGERWHISK_TEST_PREFIX=lwt3 \\
        .venv/bin/python -m bench.invoker_starts [--samples 5]

(the stack must be up with that port base and prefix, e.g. the test stack).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

import aiohttp

import runtimes
from api.setup import new_key, put_subject
from store.couch import Couch
from streams.settings import Settings
from tests.support.client import Client
from tests.support.invoker import annotations_of, started_event
from tests.support.stack import TEST_ENV

CODE = {
    "python:3.11": "def main(args):\n    return {'ok': True}\n",
    "nodejs:18": "function main() { return { ok: true }; }\n",
    # A source file compiled at /init; the build cache serves later cold starts.
    "java:17": (
        "public class Ok {\n  public static com.google.gson.JsonObject main("
        "com.google.gson.JsonObject args) {\n    com.google.gson.JsonObject out = "
        'new com.google.gson.JsonObject();\n    out.addProperty("ok", true);\n'
        "    return out;\n  }\n}\n"
    ),
    "go:1.19": (
        "package main\n\nfunc Main(args map[string]interface{}) map[string]interface{} {\n"
        '\treturn map[string]interface{}{"ok": true}\n}\n'
    ),
    "ruby:3.1": "def main(args)\n  { 'ok' => true }\nend\n",
    "php:8.2": "<?php\nfunction main(array $args): array\n{\n    return ['ok' => true];\n}\n",
    "native": "#!/bin/sh\necho '{\"ok\": true}'\n",
}
# Kinds that compile at /init: a "compile" row gives each sample code of its own
# (a first cold start, which compiles); "cold" rows reuse one code (the build cache).
COMPILED = ("java:17", "go:1.19")
# The stem cells of runtimes/manifest.json are 256 MB; 128 MB has none.
MEMORY = {"cold": 128, "prewarm": 256, "warm": 256}
# Time for the pool to replace a stem cell between two stem-cell samples.
REFILL_PAUSE_S = 3.0


def settings() -> Settings:
    return Settings(
        kafka_bootstrap=f"127.0.0.1:{TEST_ENV['LEDGERWHISK_KAFKA_PORT']}",
        couchdb_url=f"http://127.0.0.1:{TEST_ENV['LEDGERWHISK_COUCHDB_PORT']}",
        prefix=TEST_ENV["LEDGERWHISK_PREFIX"],
    )


async def sample(
    client: Client,
    stack: Settings,
    name: str,
    kind: str,
    memory: int,
    create: bool,
    fresh: bool = False,
) -> dict[str, Any]:
    if create:
        code = CODE[kind]
        if fresh:  # code no build cache holds yet
            mark = "#" if kind in ("native", "ruby:3.1") else "//"
            code += f"\n{mark} {os.urandom(8).hex()}\n"
        status, body = await client.put_action(
            name, code, kind=kind, limits={"memory": memory, "timeout": 60_000}
        )
        assert status == 200, body
    began = time.perf_counter()
    status, record = await client.invoke(name)
    elapsed_ms = (time.perf_counter() - began) * 1000
    assert status == 200 and isinstance(record, dict), record
    marks = annotations_of(record)
    started = await started_event(stack, record["activationId"])
    return {
        "start": started.start,
        "e2e_ms": elapsed_ms,
        "wait_ms": marks["waitTime"],
        "init_ms": marks.get("initTime"),
        "duration_ms": record["duration"],
    }


def summary(rows: list[dict[str, Any]], key: str) -> str:
    values = [r[key] for r in rows if r[key] is not None]
    if not values:
        return "-"
    return f"{statistics.median(values):7.1f} [{min(values):.0f}-{max(values):.0f}]"


async def bench(samples: int, kinds: list[str]) -> None:
    stack = settings()
    namespace = "bench" + os.urandom(3).hex()
    auth = new_key()
    couch = Couch(stack)
    try:
        await put_subject(couch, stack, namespace, auth)
    finally:
        await couch.close()
    print(f"namespace {namespace}; {samples} samples per row; median [min-max] in ms")
    print(
        f"{'kind':12} {'start':8} {'n':>2}  {'end to end':>18}  {'waitTime':>18}  "
        f"{'initTime':>18}  {'duration':>18}"
    )
    async with aiohttp.ClientSession() as session:
        client = Client(session, auth, namespace)
        for kind in kinds:
            family = kind.split(":")[0]
            found = runtimes.resolve(kind)
            starts = ["compile"] if kind in COMPILED else []
            starts += (
                ["cold", "prewarm", "warm"] if found and found.stem_cells else ["cold", "warm"]
            )
            if kind in COMPILED:  # the "cold" rows' code, compiled once, uncounted
                await sample(client, stack, f"{family}-prime", kind, MEMORY["cold"], True)
            for row_name in starts:
                start = "cold" if row_name == "compile" else row_name
                rows: list[Any] = []
                off: list[Any] = []
                if start == "warm":
                    await sample(client, stack, f"{family}-warm", kind, MEMORY[start], True)
                for i in range(samples):
                    if start == "prewarm":
                        await asyncio.sleep(REFILL_PAUSE_S)
                    name = f"{family}-{row_name}-{i}" if start != "warm" else f"{family}-warm"
                    row = await sample(
                        client,
                        stack,
                        name,
                        kind,
                        MEMORY[start],
                        create=start != "warm",
                        fresh=row_name == "compile",
                    )
                    (rows if row["start"] == start else off).append(row)
                print(
                    f"{kind:12} {row_name:8} {len(rows):>2}  {summary(rows, 'e2e_ms'):>18}  "
                    f"{summary(rows, 'wait_ms'):>18}  {summary(rows, 'init_ms'):>18}  "
                    f"{summary(rows, 'duration_ms'):>18}"
                    + (
                        f"  ({len(off)} started otherwise: {[r['start'] for r in off]})"
                        if off
                        else ""
                    )
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--kinds", nargs="*", default=list(CODE), help="default: every kind")
    args = parser.parse_args()
    asyncio.run(bench(args.samples, args.kinds))


if __name__ == "__main__":
    main()
