# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make soak: the entra.sync.sync_job_events source for SOAK_MINUTES (30) on 1,000 jobs, one poll a second, chaos faults.

The parent starts a sandbox (500 service principals x 2 jobs, the chaos profile's faults and 20 s tokens), then the
source in a child process: the event source file run as ansible-rulebook runs it (runpy, then its `main(queue, args)`),
with a consumer that drains the queue. Every 5 s the parent quarantines 10 random jobs and lets 10 others recover, so
relapse history keeps growing and must be pruned (relapse_window 300 s). The child samples its own RSS, the tracker's
size, the state file's size and the wall time of its polls every 10 s into samples.jsonl.

The source keeps its state file in .build/soak. Two modes (SOAK_MODE or --mode):
- standard: a discovery every 10 minutes. Pass: RSS at the end within 10% of RSS at 5 minutes, and no quarantine entry
  older than the relapse window (plus one step).
- week: a compressed week: a discovery due every 10 s (a week of hourly discoveries is 168; under the chaos faults a
  discovery takes about 10 s, so 30 minutes hold about 100).
  Pass: RSS at the end within 5% of RSS at 5 minutes, the median poll wall time of the last 5 minutes within 1.5x that
  of minutes 1 to 5, the state file's size bounded (at most 200 bytes per job it holds, and per job of the tenant: it
  follows how many jobs are unhealthy, not how long the source ran), and history pruned as above.

The sandbox's read bucket is raised to SOAK_READS_PER_SECOND (2,000): at the published 350 reads per second no client
can read 1,000 jobs every second, and the soak is about the source's memory and history over many polls, not about the
pace (docs/self-heal.md has the polling cost). Figures: .build/soak/figures.json (or figures-week.json).
"""

import argparse
import asyncio
import json
import os
import random
import runpy
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# SOAK_COLLECTIONS: another installed copy (a build during a 30-minute soak must not change the code under test).
COLLECTIONS = os.environ.get("SOAK_COLLECTIONS") or os.path.join(ROOT, ".build", "collections")
SOURCE = os.path.join(COLLECTIONS, "ansible_collections", "entra", "sync", "extensions", "eda", "plugins", "event_source", "sync_job_events.py")
PROFILE = os.path.join(ROOT, "tests", "sandbox", "profiles", "chaos.json")
OUT = os.path.join(ROOT, ".build", "soak")
RELAPSE_WINDOW = 300
SAMPLE_SECONDS = 10
JOBS = 1000
MODES = {
    "standard": {"discovery_interval": 600, "week_checks": False, "rss_growth": 0.10},
    "week": {"discovery_interval": 10, "week_checks": True, "rss_growth": 0.05},
}


def rss_kb():
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def state_size(path):
    """(bytes, jobs) of the state file; (0, 0) when there is none yet."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        return len(text.encode("utf-8")), len(json.loads(text).get("jobs") or {})
    except (OSError, TypeError, ValueError):
        return 0, 0


def source_args(mode, state_path):
    args = {"interval": 1, "discovery_interval": MODES[mode]["discovery_interval"], "relapse_window": RELAPSE_WINDOW,
            "concurrency": 10, "timeout": 10, "max_retries": 3, "state_file": state_path}
    return args


def sample(sources, polls, counts, started, state_path):
    """One line of samples.jsonl: the child's RSS, the tracker's size, the state file and the polls since the last line."""
    tracker = sources[0].tracker if sources else None
    epoch = time.time()
    oldest = max((epoch - memory.entries[0] for memory in tracker.memory.values() if memory.entries), default=0) if tracker else 0
    durations, polls[:] = list(polls), []
    state_bytes, state_jobs = state_size(state_path)
    return {"t": round(time.monotonic() - started, 1), "rss_kb": rss_kb(), "jobs": len(tracker) if tracker else 0,
            "history": tracker.history_size() if tracker else 0, "oldest_entry_s": round(oldest, 1),
            "scans": sources[0].scans if sources else 0, "state_bytes": state_bytes, "state_jobs": state_jobs,
            "poll_seconds": durations, **counts}


async def child(samples_path, minutes, mode, state_path):
    module = runpy.run_path(SOURCE)
    sources, polls = [], []

    class Recording(module["HealSource"]):
        """The source as ansible-rulebook runs it, noting the wall time of each poll (a step that is not a discovery)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            sources.append(self)

        def step(self, now):
            discovering = self.next_discovery is None or now >= self.next_discovery
            began = time.monotonic()
            result = super().step(now)
            if not discovering:
                polls.append(round(time.monotonic() - began, 3))
            return result

    module["main"].__globals__["HealSource"] = Recording
    queue = asyncio.Queue()
    counts = {"events": 0, "scan_errors": 0, "warnings": 0}
    task = asyncio.create_task(module["main"](queue, source_args(mode, state_path)))

    async def drain():
        while True:
            event = await queue.get()
            counts["events"] += 1
            counts["scan_errors"] += event["entra_sync"]["type"] == "scan_error"
            counts["warnings"] += event["entra_sync"]["type"] == "warning"

    drainer = asyncio.create_task(drain())
    started = time.monotonic()
    with open(samples_path, "w", encoding="utf-8") as out:
        while time.monotonic() - started < minutes * 60 and not task.done():
            await asyncio.sleep(SAMPLE_SECONDS)
            out.write(json.dumps(sample(sources, polls, counts, started, state_path)) + "\n")
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


def median_poll(samples, start, end):
    durations = [seconds for s in samples if start <= s["t"] < end for seconds in s.get("poll_seconds", [])]
    return round(statistics.median(durations), 3) if durations else None


def judge(samples, mode):
    after_five = next((s for s in samples if s["t"] >= 300), samples[0])
    end = samples[-1]
    growth = (end["rss_kb"] - after_five["rss_kb"]) / after_five["rss_kb"]
    worst_age = max(s["oldest_entry_s"] for s in samples)
    figures = {
        "mode": mode, "rss_kb_at_5_min": after_five["rss_kb"], "rss_kb_at_end": end["rss_kb"], "rss_growth": round(growth, 4),
        "jobs_tracked": end["jobs"], "history_entries_at_end": end["history"], "oldest_entry_seen_s": worst_age,
        "scans": end["scans"], "events": end["events"], "scan_errors": end["scan_errors"], "warnings": end.get("warnings", 0),
        "minutes": round(end["t"] / 60, 1),
        "rss_flat": growth <= MODES[mode]["rss_growth"], "history_pruned": worst_age <= RELAPSE_WINDOW + SAMPLE_SECONDS + 30,
    }
    if MODES[mode]["week_checks"]:
        first, last = median_poll(samples, 60, 300), median_poll(samples, end["t"] - 300, end["t"] + 1)
        state_max = max(s["state_bytes"] for s in samples)
        per_job = round(end["state_bytes"] / end["state_jobs"], 1) if end.get("state_jobs") else None
        figures.update({
            "poll_seconds_minutes_1_to_5": first, "poll_seconds_last_5_minutes": last,
            "polls_steady": first is not None and last is not None and last <= 1.5 * first,
            "state_bytes_at_5_min": after_five["state_bytes"], "state_bytes_at_end": end["state_bytes"], "state_bytes_max": state_max,
            "state_jobs_at_end": end.get("state_jobs"), "state_bytes_per_job": per_job,
            # The file holds the unhealthy jobs and the recent entries: it follows the tenant's state, never the run's age.
            "state_bounded": 0 < end["state_bytes"] and state_max <= 200 * JOBS and (per_job is None or per_job <= 200),
        })
    return figures


def passed(figures):
    return all(value for key, value in figures.items() if key in ("rss_flat", "history_pruned", "polls_steady", "state_bounded"))


def parent(minutes, mode):
    sys.path.insert(0, os.path.join(ROOT, "tests", "sandbox"))
    from entra_sandbox.testing import SandboxProcess  # pylint: disable=import-outside-toplevel

    os.makedirs(OUT, exist_ok=True)
    suffix = "" if mode == "standard" else "-" + mode
    samples_path = os.path.join(OUT, "samples%s.jsonl" % suffix)
    state_path = os.path.join(OUT, "state%s" % suffix, "heal.json")
    if os.path.exists(state_path):
        os.unlink(state_path)  # each soak starts with no memory
    with open(PROFILE, encoding="utf-8") as handle:
        profile = json.load(handle)
    with SandboxProcess(os.path.join(OUT, "sandbox"), service_principals=10) as sandbox:
        admin = sandbox.admin
        admin.set_fleet(service_principals_list=[{"jobs": [{"template_id": "scim"}, {"template_id": "scim"}]} for _index in range(JOBS // 2)])
        ids = [(job["service_principal_id"], job["job_id"]) for job in admin.jobs(sandbox.tenant_id)]
        reads = float(os.environ.get("SOAK_READS_PER_SECOND", 2000))
        admin.set_throttle(reads={"rate": reads, "burst": reads * 10})
        admin.set_token_lifetime(int(profile["token_lifetime"]))
        admin.set_faults(profile)
        env = dict(os.environ, **sandbox.env, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
        print("soak (%s): %d jobs, chaos faults, one poll a second, a discovery every %d s, for %s minutes; samples in %s"
              % (mode, len(ids), MODES[mode]["discovery_interval"], minutes, samples_path), flush=True)
        proc = subprocess.Popen([sys.executable, __file__, "--child", "--mode", mode, "--minutes", str(minutes), "--samples", samples_path,
                                 "--state-file", state_path], env=env)
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
    figures = judge(samples, mode)
    with open(os.path.join(OUT, "figures%s.json" % suffix), "w", encoding="utf-8") as handle:
        json.dump(figures, handle, indent=2)
    print("soak: " + json.dumps(figures))
    return 0 if passed(figures) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--mode", choices=sorted(MODES), default=os.environ.get("SOAK_MODE", "standard"))
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)))
    parser.add_argument("--samples")
    parser.add_argument("--state-file")
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.samples, args.minutes, args.mode, args.state_file))
        return 0
    return parent(args.minutes, args.mode)


if __name__ == "__main__":
    sys.exit(main())
