"""``make bench``: measure the platform beside its physical floors, print and save the results."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from api.setup import new_key, put_subject
from bench import floors, platform, report, stats, system
from bench.client import Client
from bench.floors import Containers
from bench.target import RESULTS, BenchStack, Plan
from bench.watch import LedgerWatch
from store.couch import Couch

NAMESPACE = "bench"
NOTE = (
    "Absolute times on a shared 2-core machine are noisy; each platform figure is "
    "measured beside its floor in the same run, so compare within one run."
)


class Progress:
    """Progress lines on stderr, stamped with the seconds since the start."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self.t0:6.1f}s] {message}", file=sys.stderr, flush=True)


async def measure(target: BenchStack, plan: Plan, progress: Progress) -> dict[str, Any]:
    settings = target.settings
    run_id = format(int(time.time()), "x")
    results: dict[str, Any] = {
        "date": system.now_iso(),
        "machine": system.machine(),
        "note": NOTE + (" QUICK RUN: reduced sample counts." if plan.quick else ""),
        "plan": plan.__dict__,
    }
    couch = Couch(settings)
    auth = new_key()
    await put_subject(couch, settings, NAMESPACE, auth)
    client = Client(target.api_url, auth, connections=plan.concurrency * 2)
    containers = Containers(settings, target.container_owner)
    watch = LedgerWatch(settings)
    pids = system.platform_pids(target)
    cpu = system.CpuMeter({**pids, **system.service_pids(target)})
    samples: dict[str, list[float]] = {}
    try:
        if not await client.ping():
            raise SystemExit(f"no Ledgerwhisk API answers on {target.api_url}: run `make up`")
        await containers.start()
        await watch.start()
        progress(f"platform processes: {pids}")
        idle = system.rss_of(pids)
        progress(f"idle RSS: {idle}")

        progress(f"kafka floor: {plan.kafka_roundtrips} produce -> consume round trips")
        roundtrips = await floors.kafka_roundtrips(settings, plan.kafka_roundtrips, progress)

        progress(f"warm: {plan.warm_calls} blocking invokes beside direct /run calls")
        warm = await platform.warm(client, containers, watch, plan, run_id, cpu, progress)
        results["warm_latency_ms"] = warm
        warm_samples = warm.pop("samples")
        samples["warm platform"] = warm_samples["platform"]
        samples["warm floor (/run)"] = warm_samples["floor"]
        samples["kafka round trip floor"] = roundtrips
        controller_hop = warm["platform"]["stages_ms"]["controller_hop"]
        kafka = stats.latency_entry(controller_hop, stats.summary(roundtrips))
        kafka["platform"]["what"] = (
            "accepted sent by the API -> scheduled sent by the controller "
            "(Kafka record timestamps, set at send, ms resolution): one produce + consume + decide"
        )
        kafka["floor"]["what"] = "aiokafka produce -> consume on the same broker"
        results["kafka_roundtrip_ms"] = kafka

        progress(f"cold starts: {plan.cold_samples} with a stem cell, {plan.cold_samples} without")
        cold = await platform.cold(
            client,
            containers,
            watch,
            plan,
            run_id,
            float(warm["floor"]["p50"]),
            progress,
            target.invoker_owner_prefix,
        )
        cold_samples = cold.pop("samples")
        samples["cold platform"] = cold_samples["no_stem_cell"]
        samples["stem platform"] = cold_samples["stem_cell"]
        samples["cold floor"] = cold_samples["floor"]
        results["cold_start_ms"] = cold

        rss = system.RssPeak(pids)
        tput = await platform.throughput(
            client, containers, couch, watch, plan, target, run_id, rss, cpu, progress
        )
        load = tput.pop("rss_peak_mb")
        action = tput.pop("action")
        results["throughput_per_s"] = tput

        total = await platform.fill_ledger(client, couch, plan, target, action, progress)
        progress(f"replay over {total} activations")
        results["replay_events_per_s"] = await platform.replay(
            couch, target, plan, run_id, progress
        )
        results["rss_mb"] = {
            "platform": {"idle": idle, "load": load, "idle_after": system.rss_of(pids)},
            "floor": {},
            "processes": pids,
        }
        results["machine"]["load_avg_end"] = system.machine()["load_avg"]
        results["load_avg_end"] = results["machine"]["load_avg_end"]
        docker_version = await asyncio.to_thread(lambda: containers.docker.sdk.version()["Version"])
        results["versions"] = await system.versions(target, docker_version)
    finally:
        await watch.stop()
        await containers.close()
        await client.close()
        await couch.close()
    results["samples"] = samples
    return results


def main() -> None:
    target = BenchStack.from_env()
    plan = Plan.from_env()
    progress = Progress()
    progress(
        f"stack: API {target.api_url}, Kafka {target.settings.kafka_bootstrap}, "
        f"CouchDB {target.settings.couchdb_url}, prefix {target.settings.prefix}"
    )
    results = asyncio.run(measure(target, plan, progress))
    samples = results.pop("samples")
    report.write_json(results, RESULTS / "latest.json")
    report.chart(results, samples, RESULTS / "latest.png")
    print(report.table(results))
    print(f"\nwrote {RESULTS / 'latest.json'} and {RESULTS / 'latest.png'}")
    progress("done")


if __name__ == "__main__":
    main()
