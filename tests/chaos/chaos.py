"""The chaos fleet run: entra.sync.restart_jobs against the sandbox under a seeded fault profile, judged by the sandbox.

    python tests/chaos/chaos.py --jobs 5000            # what `make chaos` runs (after building the collection)
    python tests/chaos/chaos.py --jobs 300 --spike-max 2

The invariants come from the sandbox's own counters and request log, never from the playbook's word:
  1. every targeted job (quarantined before the run) is restarted exactly once, or report.json lists it as failed or
     unknown with a reason (or the report says the run stopped, and the job was not restarted);
  2. no job is restarted twice, in a run or across the follow-up runs;
  3. no job that was not targeted is restarted;
  4. every job the report calls failed or unknown is in failed_or_unknown, with a reason;
  5. a follow-up run with -e entra_sync_retry_report=<report.json> (still under faults), then if needed a plain re-run
     (status pre-check), bring the fleet to zero quarantined, with still no job restarted more than once.
Figures printed: wall time, Graph calls and token requests, faults injected by kind, 429s, retryable answers (each
is retried unless max_retries ran out), outcomes per run, duplicates.

Used by tests/integration/test_int_chaos.py (300 jobs) and the `make chaos` target (5,000 jobs).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PROFILE_PATH = os.path.join(REPO, "tests", "sandbox", "profiles", "chaos.json")
STATUS_MIX = (("Quarantine", 40), ("Active", 45), ("Paused", 5), ("NotRun", 5), ("ActiveFailed", 5))
TEMPLATES = ("scim", "AD2AADProvisioning", "Azure2Azure", "SfSandboxOutDelta", "dataBricks")
RUN_TIMEOUT = 3600


# ---- the fleet and the profile -----------------------------------------------------------------------------------

def make_fleet(n_jobs, seed=7):
    """An explicit fleet: n_jobs jobs on n_jobs/2 service principals (2 each), plus n_jobs/10 without jobs."""
    rng = random.Random("chaos:%s" % seed)
    codes = [code for code, weight in STATUS_MIX for _copy in range(weight)]
    specs = []
    for index in range((n_jobs + 1) // 2):
        jobs = []
        for number in range(2 if 2 * index + 1 < n_jobs or n_jobs % 2 == 0 else 1):
            code = rng.choice(codes)
            template = TEMPLATES[(index + number) % len(TEMPLATES)]
            job = {"id": "%s.%032x" % (template, rng.getrandbits(128)), "template_id": template,
                   "status_code": "Active" if code == "ActiveFailed" else code}
            if code == "Quarantine":
                job["quarantine_reason"] = "EncounteredQuarantineException"
            elif code == "ActiveFailed":
                job["last_execution_state"] = "Failed"
            elif code == "Paused":
                job["schedule_state"] = "Paused"
            jobs.append(job)
        specs.append({"id": "%08x-0000-4000-8000-%012x" % (0xC4A05000 + index // 10 ** 12, index), "displayName": "Chaos App %d" % index,
                      "jobs": jobs})
    for index in range(n_jobs // 10):
        specs.append({"id": "%08x-0000-4000-9000-%012x" % (0xC4A05000, index), "displayName": "Plain App %d" % index})
    return specs


def load_profile(spike_max=None, seed=None):
    with open(PROFILE_PATH, encoding="utf-8") as handle:
        profile = json.load(handle)
    if spike_max is not None:
        profile["spikes"]["max_seconds"] = spike_max
    if seed is not None:
        profile["seed"] = seed
    return profile


# ---- running the playbook ------------------------------------------------------------------------------------------

def default_env(sandbox):
    """os.environ + the sandbox's env, as a user's shell after `source env.sh` (ANSIBLE_COLLECTIONS_PATH from the caller)."""
    env = dict(os.environ)
    env.update(sandbox.env)
    bin_dir = os.path.dirname(sys.executable)
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
                "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_DEPRECATION_WARNINGS": "false",
                "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "PATH": bin_dir + os.pathsep + env.get("PATH", "")})
    return env


def run_fleet(env, extra_vars, workdir):
    os.makedirs(workdir, exist_ok=True)
    vars_file = os.path.join(workdir, "extra_vars.json")
    with open(vars_file, "w", encoding="utf-8") as handle:
        json.dump(extra_vars, handle)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "entra.sync.restart_jobs", "-e", "@" + vars_file]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=workdir, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    elapsed = time.monotonic() - started
    for name, text in (("stdout.txt", proc.stdout), ("stderr.txt", proc.stderr)):
        with open(os.path.join(workdir, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    report_path = os.path.join(workdir, "report", "report.json")
    report = None
    if os.path.exists(report_path):
        with open(report_path, encoding="utf-8") as handle:
            report = json.load(handle)
    return {"rc": proc.returncode, "elapsed": elapsed, "report": report, "report_path": report_path,
            "output": proc.stdout + "\n" + proc.stderr, "tail": (proc.stdout[-3000:] + "\n" + proc.stderr[-2000:])}


# ---- judging -----------------------------------------------------------------------------------------------------

def restarts_by_job(admin):
    return {key: entry["restarts"] for key, entry in admin.counters()["jobs"].items() if entry["restarts"]}


def log_figures(entries):
    """Calls, token requests, and the answers a client retries (unless max_retries ran out) from the request log."""
    graph = [e for e in entries if e["kind"] in ("graph", "batch")]
    retryable = Counter()
    for entry in graph:
        fault = entry.get("fault")
        if entry["status"] == 429:
            retryable["429"] += 1
        elif entry["status"] == 503:
            retryable["503"] += 1
        elif entry["status"] == 401 and fault == "token_expired":
            retryable["401 token rejected"] += 1
        elif fault in ("reset", "malformed") and entry["method"] == "GET":
            retryable["GET " + fault] += 1
    not_retried = Counter(entry["fault"] for entry in graph if entry["method"] == "POST" and entry.get("fault") in ("reset", "lost_response"))
    return {
        "graph_calls": len(graph),
        "restart_posts": sum(1 for e in graph if e["method"] == "POST" and e["path"].endswith("/restart")),
        "token_requests": sum(1 for e in entries if e["kind"] in ("token", "managed_identity")),
        "retryable_answers": dict(retryable),
        "retryable_total": sum(retryable.values()),
        "posts_cut_off_not_resent": dict(not_retried),
    }


def check_run(label, targeted, before_restarts, after_restarts, report, problems, output=""):
    """Invariants 1-4 for one run. targeted: the jobs quarantined when it began. output: the run's stdout + stderr."""
    if report is None:
        problems.append("%s: no report.json" % label)
        return {}
    results = {("%s/%s" % (r["service_principal_id"], r["job_id"])): r for r in report.get("results", [])}
    listed = {("%s/%s" % (r["service_principal_id"], r["job_id"])) for r in report.get("failed_or_unknown", [])}
    # A service principal whose jobs could not be listed is reported as one entry without a job id.
    unlisted_sps = {r["service_principal_id"] for r in report.get("failed_or_unknown", []) if not r.get("job_id")}
    stopped = bool(report.get("stopped"))
    outcome = Counter()
    for key in targeted:
        delta = after_restarts.get(key, 0) - before_restarts.get(key, 0)
        result = results.get(key)
        action = result["action"] if result else None
        if delta == 1:
            outcome["restarted once (sandbox)"] += 1
            if action not in ("restarted", "unknown"):
                problems.append("%s: %s was restarted but the report says %s" % (label, key, action))
        elif delta == 0:
            if action in ("failed", "unknown"):
                outcome["not restarted, reported %s" % action] += 1
                if not result.get("reason"):
                    problems.append("%s: %s is %s with no reason" % (label, key, action))
            elif result is None and stopped:
                outcome["not attempted (run stopped)"] += 1
            elif action == "skipped" and label != "run 1":
                outcome["skipped (healthy already)"] += 1
            elif result is None and key.split("/")[0] in unlisted_sps:
                outcome["not restarted, its service principal reported failed"] += 1
            elif result is None and "service principal %s could not be read" % key.split("/")[0] in " ".join(output.split()):
                outcome["lost: its service principal could not be listed"] += 1
                problems.append("%s: %s was never looked at and its service principal is in no report, the run only warned" % (label, key))
            else:
                problems.append("%s: %s was targeted, not restarted, and the report says %s" % (label, key, action or "nothing"))
        else:
            problems.append("%s: %s restarted %d times in one run" % (label, key, delta))
    for key, count in after_restarts.items():
        if key not in targeted and count != before_restarts.get(key, 0):
            problems.append("%s: %s was restarted but was not targeted" % (label, key))
    for key, result in results.items():
        if result["action"] in ("failed", "unknown") and key not in listed:
            problems.append("%s: %s is %s but not in failed_or_unknown" % (label, key, result["action"]))
    return dict(outcome)


def chaos(sandbox, n_jobs, workdir, env, spike_max=None, seed=7, canary=2, chunk=None, concurrency=20, log=print):
    """Run the chaos scenario on a running sandbox; returns (figures, problems)."""
    admin = sandbox.admin
    tenant_id = sandbox.config["tenants"][0]["id"]
    profile = load_profile(spike_max, seed)
    admin.set_fleet(tenants={tenant_id: make_fleet(n_jobs, seed)})
    sandbox.reload_config()
    admin.set_faults({})
    admin.set_throttle()  # the sandbox's default (published) budgets
    admin.set_token_lifetime(int(profile.get("token_lifetime", 3600)))
    admin.clear_log()
    admin.reset_counters()
    jobs = admin.jobs(tenant_id)
    assert len(jobs) == n_jobs, (len(jobs), n_jobs)
    quarantined = {"%s/%s" % (j["service_principal_id"], j["job_id"]) for j in jobs if j["status_code"] == "Quarantine"}
    chunk = chunk or max(50, n_jobs // 20)
    base_vars = {"entra_sync_canary_size": canary, "entra_sync_chunk_size": chunk, "entra_sync_concurrency": concurrency}
    figures = {"jobs": n_jobs, "targeted": len(quarantined), "profile": {k: profile[k] for k in ("seed", "latency_ms", "spikes")},
               "runs": []}
    problems = []
    log("chaos: %d jobs, %d quarantined; profile seed %s, spikes up to %.1f s, token lifetime %s s"
        % (n_jobs, len(quarantined), profile["seed"], profile["spikes"]["max_seconds"], profile.get("token_lifetime")))

    def one_run(label, extra_vars, faults_on):
        admin.set_faults(profile if faults_on else {})
        before = restarts_by_job(admin)
        faults_before = Counter(admin.counters()["faults"])
        admin.clear_log()
        still = {"%s/%s" % (j["service_principal_id"], j["job_id"]) for j in admin.jobs(tenant_id) if j["status_code"] == "Quarantine"}
        run = run_fleet(env, dict(base_vars, entra_sync_report_dir=os.path.join(workdir, label.replace(" ", ""), "report"), **extra_vars),
                        os.path.join(workdir, label.replace(" ", "")))
        admin.set_faults({})
        after = restarts_by_job(admin)
        counters = admin.counters()
        injected = dict(Counter(counters["faults"]) - faults_before)
        entries = admin.log()
        targeted = still if label == "run 1" else {k for k in still if k in _retry_keys(run, extra_vars, still)}
        outcome = check_run(label, targeted, before, after, run["report"], problems, run["output"])
        summary = (run["report"] or {}).get("summary", {})
        entry = dict({"run": label, "faults": faults_on, "rc": run["rc"], "seconds": round(run["elapsed"], 1),
                      "quarantined_before": len(still), "faults_injected": injected, "summary": summary,
                      "outcome": outcome, "stopped": (run["report"] or {}).get("stopped", "")}, **log_figures(entries))
        figures["runs"].append(entry)
        log("%s: rc %s in %.0f s; %s" % (label, run["rc"], run["elapsed"], json.dumps({k: entry[k] for k in (
            "graph_calls", "token_requests", "faults_injected", "retryable_total", "summary", "outcome")})))
        if run["report"] is None:
            log(run["tail"])
        return run

    first = one_run("run 1", {}, True)
    if first["report"] is not None and first["report"].get("failed_or_unknown"):
        one_run("run 2 retry report", {"entra_sync_retry_report": first["report_path"]}, True)
    left = [j for j in admin.jobs(tenant_id) if j["status_code"] == "Quarantine"]
    if left:
        one_run("run 3 plain", {}, False)
    final = admin.jobs(tenant_id)
    restarts = restarts_by_job(admin)
    figures["quarantined_at_end"] = sum(1 for j in final if j["status_code"] == "Quarantine")
    figures["restarted_jobs"] = len(restarts)
    figures["duplicates"] = sum(1 for count in restarts.values() if count > 1)
    figures["restarts_of_untargeted_jobs"] = sum(1 for key in restarts if key not in quarantined)
    if figures["quarantined_at_end"]:
        problems.append("%d jobs are still quarantined after the follow-up runs" % figures["quarantined_at_end"])
    if figures["duplicates"]:
        problems.append("%d jobs were restarted more than once" % figures["duplicates"])
    if figures["restarts_of_untargeted_jobs"]:
        problems.append("%d jobs that were not quarantined were restarted" % figures["restarts_of_untargeted_jobs"])
    if figures["restarted_jobs"] != len(quarantined):
        problems.append("%d jobs restarted in all, %d were quarantined" % (figures["restarted_jobs"], len(quarantined)))
    totals = Counter()
    for run in figures["runs"]:
        totals.update(run["faults_injected"])
    figures["faults_injected_total"] = dict(totals)
    figures["graph_calls_total"] = sum(run["graph_calls"] for run in figures["runs"])
    figures["seconds_total"] = round(sum(run["seconds"] for run in figures["runs"]), 1)
    log("chaos: %d jobs restarted once, duplicates: %d, quarantined at the end: %d, %d Graph calls, faults %s, %.0f s"
        % (figures["restarted_jobs"], figures["duplicates"], figures["quarantined_at_end"], figures["graph_calls_total"],
           json.dumps(figures["faults_injected_total"], sort_keys=True), figures["seconds_total"]))
    return figures, problems


def _retry_keys(run, extra_vars, still):
    """The jobs a follow-up run was asked to look at: the retry report's, or every quarantined one."""
    path = extra_vars.get("entra_sync_retry_report")
    if not path:
        return still
    with open(path, encoding="utf-8") as handle:
        return {"%s/%s" % (j["service_principal_id"], j["job_id"]) for j in json.load(handle).get("failed_or_unknown", [])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spike-max", type=float, default=None, help="seconds; default: the profile's (5)")
    parser.add_argument("--canary", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--figures", default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if not os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        parser.error("set ANSIBLE_COLLECTIONS_PATH to a path where entra.sync is installed (make chaos does)")
    sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))
    from entra_sandbox.testing import SandboxProcess  # pylint: disable=import-outside-toplevel
    workdir = args.workdir or tempfile.mkdtemp(prefix="entra-chaos-")
    with SandboxProcess(os.path.join(workdir, "sandbox"), seed=args.seed, service_principals=10) as sandbox:
        figures, problems = chaos(sandbox, args.jobs, workdir, default_env(sandbox), args.spike_max, args.seed, args.canary,
                                  args.chunk, args.concurrency)
    print(json.dumps(figures, indent=1, sort_keys=True))
    if args.figures:
        with open(args.figures, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=1, sort_keys=True)
    print("chaos: workdir %s" % workdir)
    if problems:
        print("chaos: FAILED, %d invariant(s) broken:\n  %s" % (len(problems), "\n  ".join(problems[:50])))
        if all(problem.startswith("KNOWN BUG") for problem in problems):
            print("chaos: only the known bug above broke an invariant (the follow-up runs still converged, duplicates: 0)")
        return 1
    print("chaos: OK: every targeted job restarted exactly once or reported; duplicates: 0; quarantined at the end: 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
