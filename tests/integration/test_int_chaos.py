"""The chaos fleet run at 300 jobs (make chaos runs 5,000): entra.sync.restart_jobs under the seeded fault profile
tests/sandbox/profiles/chaos.json, judged by the sandbox's counters (tests/chaos/chaos.py holds the scenario and the
invariants). Plus the failure modes the chaos run can only hit by chance, forced here so they are always tested.
"""

import importlib.util
import json
import os

import entra_int_harness as HARNESS  # tests/integration/conftest.py

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHAOS = _load("entra_chaos", os.path.join(os.path.dirname(HERE), "chaos", "chaos.py"))


def test_chaos_fleet_run_300_jobs(tenant, tmp_path):
    sandbox = tenant.sandbox
    lines = []
    figures, problems = CHAOS.chaos(sandbox, 300, str(tmp_path), HARNESS.playbook_env(sandbox), spike_max=2.0, seed=7, canary=2,
                                    chunk=60, concurrency=16, log=lines.append)
    print("\n".join(lines))
    (tmp_path / "figures.json").write_text(json.dumps(figures, indent=1, sort_keys=True))
    assert not problems, "\n".join(problems[:40]) + "\n" + "\n".join(lines)
    first = figures["runs"][0]
    injected = figures["faults_injected_total"]
    # the profile really bit: every fault kind was injected during the runs
    for kind in ("status_429", "status_503", "reset", "malformed"):
        assert injected.get(kind, 0) > 0, injected
    assert first["token_requests"] >= 2, "the 20 s token was renewed during the run"
    assert figures["duplicates"] == 0 and figures["quarantined_at_end"] == 0
    assert figures["restarted_jobs"] == figures["targeted"] > 100, "a follow-up run restarted what the first one lost"


def _one_job_each(tenant, count):
    ids = tenant.make_fleet({index: ["Quarantine"] for index in range(1, count + 1)})
    return [ids[(index, 0)] for index in range(1, count + 1)]


def test_a_lost_restart_answer_is_unknown_then_the_retry_report_skips_it(tenant, run_playbook, tmp_path):
    """The 1%-case of the chaos profile, forced: the restart is applied but its answer is lost."""
    jobs = _one_job_each(tenant, 3)
    lost_sp, lost_job = jobs[1]
    tenant.admin.set_faults({"rules": [{"method": "POST", "path": "/%s/restart$" % lost_job.replace(".", r"\."), "count": 1,
                                        "fault": "lost_response"}]})
    report_dir = tmp_path / "r1"
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 0})
    assert run.rc != 0, "a job with an unknown outcome fails the run"
    report = json.loads((report_dir / "report.json").read_text())
    assert [(e["job_id"], e["action"]) for e in report["failed_or_unknown"]] == [(lost_job, "unknown")]
    assert report["failed_or_unknown"][0]["reason"]
    assert tenant.restarts() == {job: 1 for job in jobs}, "the lost answer's restart happened, once"
    tenant.admin.set_faults({})
    again = run_playbook(tenant.sandbox, "entra.sync.restart_jobs",
                         {"entra_sync_retry_report": str(report_dir / "report.json"), "entra_sync_report_dir": str(tmp_path / "r2")})
    assert again.rc == 0, again.describe()
    assert tenant.restarts() == {job: 1 for job in jobs}, "the retry restarted the job whose answer was lost"
    second = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert second["failed_or_unknown"] == []


def test_a_reset_restart_post_is_unknown_and_the_retry_restarts_it_once(tenant, run_playbook, tmp_path):
    """A connection reset before the POST was processed: the client cannot tell, so unknown; the retry restarts it."""
    jobs = _one_job_each(tenant, 2)
    reset_job = jobs[0][1]
    tenant.admin.set_faults({"rules": [{"method": "POST", "path": "/%s/restart$" % reset_job.replace(".", r"\."), "count": 1, "fault": "reset"}]})
    report_dir = tmp_path / "r1"
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 0})
    assert run.rc != 0
    report = json.loads((report_dir / "report.json").read_text())
    assert [(e["job_id"], e["action"]) for e in report["failed_or_unknown"]] == [(reset_job, "unknown")]
    assert tenant.restarts() == {jobs[1]: 1}
    tenant.admin.set_faults({})
    again = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_retry_report": str(report_dir / "report.json")})
    assert again.rc == 0, again.describe()
    assert tenant.restarts() == {job: 1 for job in jobs}


def test_a_service_principal_whose_jobs_cannot_be_listed_is_reported_and_fails_the_run(tenant, run_playbook, tmp_path):
    jobs = _one_job_each(tenant, 3)
    hidden_sp = jobs[2][0]
    tenant.admin.set_faults({"rules": [{"method": "GET", "path": "/servicePrincipals/%s/synchronization/jobs$" % hidden_sp,
                                        "count": 50, "fault": "status", "status": 500}]})
    report_dir = tmp_path / "r1"
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 0})
    report = json.loads((report_dir / "report.json").read_text())
    assert tenant.restarts() == {jobs[0]: 1, jobs[1]: 1}
    assert hidden_sp in json.dumps(report["failed_or_unknown"]), "the unreadable service principal is not in the report"
    assert run.rc != 0, "the run ended green although one service principal's jobs were never looked at"


def test_a_job_that_cannot_be_read_in_a_retry_run_is_reported_with_a_reason(tenant, run_playbook, tmp_path):
    jobs = _one_job_each(tenant, 2)
    sp_id, job_id = jobs[0]
    report = tmp_path / "earlier.json"
    report.write_text(json.dumps({"failed_or_unknown": [{"service_principal_id": sp_id, "job_id": job_id, "action": "unknown",
                                                         "reason": "lost answer"}]}))
    tenant.admin.set_faults({"rules": [{"method": "GET", "path": "/%s$" % job_id.replace(".", r"\."), "count": 50,
                                        "fault": "status", "status": 500}]})
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_retry_report": str(report),
                                                                   "entra_sync_report_dir": str(tmp_path / "r")})
    assert run.rc != 0
    entries = json.loads((tmp_path / "r" / "report.json").read_text())["failed_or_unknown"]
    assert [(e["job_id"], e["action"]) for e in entries] == [(job_id, "failed")]
    assert entries[0]["reason"], entries[0]
    assert tenant.restarts() == {}
