"""Exactly-once under concurrency: two fleet runs started at the same moment on the same jobs, restart_if [quarantined].

What the collection guarantees (docs/reliability.md):
- within one run, a job is restarted at most once (the run's POSTs, told apart by the app each run signs in as, are
  counted per job in the sandbox's request log);
- across runs that overlap on one controller, the controller-local job leases (lease.py) make each run decide on a
  status read after any restart the other sent, so each job is restarted once; across controllers only the status
  pre-check protects, and the bound is one restart per job per overlapping run. The assertions here keep that
  cross-controller bound (at most 2), which the leases tighten to 1 on this machine;
- runs that do not overlap (AWX "allow simultaneous" off, or a lock such as flock(1) around ansible-playbook) never
  restart a job twice: the second run finds it healthy.
"""

import json
import os
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import entra_int_harness as HARNESS  # tests/integration/conftest.py

HERE = os.path.dirname(os.path.abspath(__file__))


JOBS = 160  # 80 service principals x 2 jobs, half of them quarantined


def _fleet(tenant):
    layout = {sp: [("Quarantine" if (sp + n) % 2 == 0 else "Active") for n in range(2)] for sp in range(1, JOBS // 2 + 1)}
    ids = tenant.make_fleet(layout)
    quarantined = {"%s/%s" % ids[(sp, n)] for sp, codes in layout.items() for n, code in enumerate(codes) if code == "Quarantine"}
    return quarantined


def _run_envs(sandbox):
    """Run A signs in as the `full` app (secret), run B as the `cert` app (certificate): the log tells their calls apart."""
    cert = sandbox.app("cert")
    env_a = HARNESS.playbook_env(sandbox)
    env_b = HARNESS.playbook_env(sandbox, {"AZURE_CLIENT_ID": cert["client_id"], "AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None,
                                           "AZURE_CLIENT_CERTIFICATE_PATH": cert["certificate_path"]})
    return {"A": (sandbox.app("full")["client_id"], env_a), "B": (cert["client_id"], env_b)}


def _fleet_cmd(workdir, extra_vars):
    vars_file = workdir / "extra_vars.json"
    vars_file.write_text(json.dumps(extra_vars))
    return [os.path.join(HARNESS.BIN_DIR, "ansible-playbook"), "entra.sync.restart_jobs", "-e", "@%s" % vars_file]


def _start_together(tmp_path, envs, lock=None):
    """Start both runs at the same moment; with `lock`, each waits for an exclusive flock(1) first."""
    extra = {"entra_sync_canary_size": 0, "entra_sync_chunk_size": 20, "entra_sync_concurrency": 10, "entra_sync_restart_if": ["quarantined"]}

    def run(name):
        workdir = tmp_path / name
        workdir.mkdir()
        cmd = _fleet_cmd(workdir, dict(extra, entra_sync_report_dir=str(workdir / "report")))
        if lock:
            cmd = ["flock", str(lock)] + cmd
        started = time.monotonic()
        proc = subprocess.run(cmd, env=envs[name][1], cwd=str(workdir), capture_output=True, text=True,
                              timeout=HARNESS.RUN_TIMEOUT, check=False)
        report = json.loads((workdir / "report" / "report.json").read_text())
        return name, proc, report, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=2) as pool:
        return {name: (proc, report, seconds) for name, proc, report, seconds in pool.map(run, ("A", "B"))}


def _posts_per_run_and_job(entries, envs):
    by_app = {client_id: name for name, (client_id, _env) in envs.items()}
    counts = Counter()
    for entry in entries:
        if entry["method"] == "POST" and entry["path"].endswith("/restart") and entry["kind"] == "graph":
            job_path = entry["path"][len("/v1.0/servicePrincipals/"):-len("/restart")].replace("/synchronization/jobs/", "/")
            counts[(by_app.get(entry["app_id"], entry["app_id"]), job_path)] += 1
    return counts


def _restarted(report):
    return {"%s/%s" % (r["service_principal_id"], r["job_id"]) for r in report["results"] if r["action"] == "restarted"}


def test_two_simultaneous_runs_restart_each_job_at_most_once_per_run(tenant, tmp_path):
    quarantined = _fleet(tenant)
    sandbox = tenant.sandbox
    tenant.admin.set_faults({"latency_ms": 10})  # a Graph-like round trip, so the two runs really overlap
    envs = _run_envs(sandbox)
    runs = _start_together(tmp_path, envs)
    tenant.admin.set_faults({})
    for name, (proc, _report, _seconds) in runs.items():
        assert proc.returncode == 0, "run %s failed:\n%s\n%s" % (name, proc.stdout[-3000:], proc.stderr[-2000:])

    restarts = {"%s/%s" % key: count for key, count in tenant.restarts().items()}
    per_run = _posts_per_run_and_job(tenant.log(), envs)
    # guaranteed: within one run, never twice
    assert per_run and max(per_run.values()) == 1, [key for key, count in per_run.items() if count > 1][:5]
    # guaranteed: every quarantined job restarted, nothing else, and never more than once per overlapping run
    assert set(restarts) == quarantined
    assert max(restarts.values()) <= 2
    # the reports agree with the sandbox: a job restarted twice is one that both reports call restarted
    restarted_a, restarted_b = _restarted(runs["A"][1]), _restarted(runs["B"][1])
    duplicates = {key for key, count in restarts.items() if count == 2}
    assert restarted_a | restarted_b == quarantined
    assert restarted_a & restarted_b == duplicates
    skipped_by_precheck = len(quarantined) - len(duplicates)
    print("concurrent runs: %d quarantined jobs; run A restarted %d, run B %d; restarted twice (both pre-checks read "
          "Quarantine before either POST landed): %d (%.0f%%); protected by the pre-check: %d; %.0f s / %.0f s"
          % (len(quarantined), len(restarted_a), len(restarted_b), len(duplicates), 100.0 * len(duplicates) / len(quarantined),
             skipped_by_precheck, runs["A"][2], runs["B"][2]))
    (tmp_path / "figures.json").write_text(json.dumps({"quarantined": len(quarantined), "restarted_by_a": len(restarted_a),
                                                       "restarted_by_b": len(restarted_b), "restarted_twice": len(duplicates)}))


def test_two_runs_serialized_by_a_lock_restart_each_job_once(tenant, tmp_path):
    quarantined = _fleet(tenant)
    sandbox = tenant.sandbox
    envs = _run_envs(sandbox)
    runs = _start_together(tmp_path, envs, lock=tmp_path / "entra-sync.lock")
    for name, (proc, _report, _seconds) in runs.items():
        assert proc.returncode == 0, "run %s failed:\n%s" % (name, proc.stdout[-3000:])
    restarts = {"%s/%s" % key: count for key, count in tenant.restarts().items()}
    assert restarts == {key: 1 for key in quarantined}
    restarted = [_restarted(report) for _proc, report, _seconds in runs.values()]
    assert sorted(len(found) for found in restarted) == [0, len(quarantined)], "the second run found every job healthy"


def test_two_tasks_on_the_same_jobs_in_flight_together_measured(tenant, tmp_path):
    """The race at its sharpest: two sync_job_restart tasks, same 80-job list, started together, each POST taking
    300 ms to land. Without the leases (another controller) a job both tasks read before either POST lands would be restarted by
    both: the bound kept here is 2; on one controller the leases make it 1."""
    quarantined = _fleet(tenant)
    sandbox = tenant.sandbox
    envs = _run_envs(sandbox)
    jobs = [{"service_principal_id": key.split("/")[0], "job_id": key.split("/")[1]} for key in sorted(quarantined)]
    tenant.admin.set_faults({"latency_ms": 300})

    def run(name):
        workdir = tmp_path / name
        workdir.mkdir()
        env = {key: envs[name][1].get(key) for key in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH")}
        return HARNESS.Runner(workdir).run_task(sandbox, "entra.sync.sync_job_restart",
                                                {"jobs": jobs, "restart_if": ["quarantined"], "concurrency": 16}, env=env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(("A", "B"), pool.map(run, ("A", "B")), strict=True))
    tenant.admin.set_faults({})
    for name, result in runs.items():
        assert result.rc == 0 and not result.result.get("failed"), "%s: %s" % (name, result.describe())
    restarts = {"%s/%s" % key: count for key, count in tenant.restarts().items()}
    per_run = _posts_per_run_and_job(tenant.log(), envs)
    assert max(per_run.values()) == 1, "a task restarted a job twice"
    assert set(restarts) == quarantined and max(restarts.values()) <= 2
    duplicates = sum(1 for count in restarts.values() if count == 2)
    summaries = {name: run.result["summary"] for name, run in runs.items()}
    assert summaries["A"]["restarted"] + summaries["B"]["restarted"] == len(quarantined) + duplicates
    print("in-flight race: %d jobs; task A restarted %d, task B %d; restarted twice: %d (%.0f%%)"
          % (len(quarantined), summaries["A"]["restarted"], summaries["B"]["restarted"], duplicates, 100.0 * duplicates / len(quarantined)))
