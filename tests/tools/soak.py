# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make soak: the entra.sync.sync_job_events source for SOAK_MINUTES (30) on 1,000 jobs, one poll a second, chaos faults.

The parent starts a sandbox (500 service principals x 2 jobs, the chaos profile's faults and 20 s tokens), then the
source in a child process: the event source file run as ansible-rulebook runs it (runpy, then its `main(queue, args)`),
with a consumer that drains the queue. Every 5 s the parent quarantines 10 random jobs and lets 10 others recover, so
relapse history keeps growing and must be pruned (relapse_window 300 s). The child samples its own RSS and the
tracker's size every 10 s into samples.jsonl. The sandbox's read bucket is raised to SOAK_READS_PER_SECOND (2,000):
at the published 350 reads per second no client can read 1,000 jobs every second, and the soak is about the source's
memory and history over many polls, not about the pace (docs/self-heal.md has the polling cost). Pass: RSS at the end
within 10% of RSS at 5 minutes, and no quarantine entry older than the relapse window (plus one step). Figures:
.build/soak/figures.json.
"""

import argparse
import asyncio
import json
import os
import random
import runpy
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, ".build", "collections", "ansible_collections", "entra", "sync", "extensions", "eda", "plugins",
                      "event_source", "sync_job_events.py")
PROFILE = os.path.join(ROOT, "tests", "sandbox", "profiles", "chaos.json")
OUT = os.path.join(ROOT, ".build", "soak")
RELAPSE_WINDOW = 300
SAMPLE_SECONDS = 10


def rss_kb():
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def child(samples_path, minutes):
    module = runpy.run_path(SOURCE)
    sources = []

    class Recording(module["HealSource"]):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            sources.append(self)

    module["main"].__globals__["HealSource"] = Recording
    queue = asyncio.Queue()
    counts = {"events": 0, "scan_errors": 0}
    args = {"interval": 1, "discovery_interval": 600, "relapse_window": RELAPSE_WINDOW, "concurrency": 10, "timeout": 10, "max_retries": 3}
    task = asyncio.create_task(module["main"](queue, args))

    async def drain():
        while True:
            event = await queue.get()
            counts["events"] += 1
            counts["scan_errors"] += event["entra_sync"]["type"] == "scan_error"

    drainer = asyncio.create_task(drain())
    started = time.monotonic()
    with open(samples_path, "w", encoding="utf-8") as out:
        while time.monotonic() - started < minutes * 60 and not task.done():
            await asyncio.sleep(SAMPLE_SECONDS)
            tracker = sources[0].tracker if sources else None
            now = time.monotonic()
            oldest = max((now - memory.entries[0] for memory in tracker.memory.values() if memory.entries), default=0) if tracker else 0
            sample = {"t": round(now - started, 1), "rss_kb": rss_kb(), "jobs": len(tracker) if tracker else 0,
                      "history": tracker.history_size() if tracker else 0, "oldest_entry_s": round(oldest, 1),
                      "scans": sources[0].scans if sources else 0, **counts}
            out.write(json.dumps(sample) + "\n")
            out.flush()
    if task.done():
        task.result()  # the source stopped: show why
    task.cancel()
    drainer.cancel()


def flip_states(admin, ids, rng):
    """Quarantine 10 random jobs and let 10 random others recover."""
    for sp_id, job_id in rng.sample(ids, 10):
        admin.set_job(sp_id, job_id, status_code="Quarantine")
    for sp_id, job_id in rng.sample(ids, 10):
        admin.set_job(sp_id, job_id, status_code="Active")


def judge(samples):
    after_five = next((s for s in samples if s["t"] >= 300), samples[0])
    end = samples[-1]
    growth = (end["rss_kb"] - after_five["rss_kb"]) / after_five["rss_kb"]
    worst_age = max(s["oldest_entry_s"] for s in samples)
    return {
        "rss_kb_at_5_min": after_five["rss_kb"], "rss_kb_at_end": end["rss_kb"], "rss_growth": round(growth, 4),
        "jobs_tracked": end["jobs"], "history_entries_at_end": end["history"], "oldest_entry_seen_s": worst_age,
        "scans": end["scans"], "events": end["events"], "scan_errors": end["scan_errors"], "minutes": round(end["t"] / 60, 1),
        "rss_flat": growth <= 0.10, "history_pruned": worst_age <= RELAPSE_WINDOW + SAMPLE_SECONDS + 30,
    }


def parent(minutes):
    sys.path.insert(0, os.path.join(ROOT, "tests", "sandbox"))
    from entra_sandbox.testing import SandboxProcess  # pylint: disable=import-outside-toplevel

    os.makedirs(OUT, exist_ok=True)
    samples_path = os.path.join(OUT, "samples.jsonl")
    with open(PROFILE, encoding="utf-8") as handle:
        profile = json.load(handle)
    with SandboxProcess(os.path.join(OUT, "sandbox"), service_principals=10) as sandbox:
        admin = sandbox.admin
        admin.set_fleet(service_principals_list=[{"jobs": [{"template_id": "scim"}, {"template_id": "scim"}]} for _index in range(500)])
        ids = [(job["service_principal_id"], job["job_id"]) for job in admin.jobs(sandbox.tenant_id)]
        reads = float(os.environ.get("SOAK_READS_PER_SECOND", 2000))
        admin.set_throttle(reads={"rate": reads, "burst": reads * 10})
        admin.set_token_lifetime(int(profile["token_lifetime"]))
        admin.set_faults(profile)
        env = dict(os.environ, **sandbox.env, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"))
        print("soak: %d jobs, chaos faults, one poll a second for %s minutes; samples in %s" % (len(ids), minutes, samples_path), flush=True)
        proc = subprocess.Popen([sys.executable, __file__, "--child", "--minutes", str(minutes), "--samples", samples_path], env=env)
        rng = random.Random(7)
        try:
            while proc.poll() is None:
                time.sleep(5)
                flip_states(admin, ids, rng)
                admin.clear_log()  # the sandbox's own log would grow for 30 minutes
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
    with open(samples_path, encoding="utf-8") as handle:
        samples = [json.loads(line) for line in handle if line.strip()]
    if proc.returncode != 0 or not samples:
        print("soak: the source process failed (exit %s)" % proc.returncode, file=sys.stderr)
        return 1
    figures = judge(samples)
    with open(os.path.join(OUT, "figures.json"), "w", encoding="utf-8") as handle:
        json.dump(figures, handle, indent=2)
    print("soak: " + json.dumps(figures))
    return 0 if figures["rss_flat"] and figures["history_pruned"] else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)))
    parser.add_argument("--samples")
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.samples, args.minutes))
        return 0
    return parent(args.minutes)


if __name__ == "__main__":
    sys.exit(main())
