"""Fleet scale: a 300-job list in one task, and the entra.sync.restart_jobs playbook from the installed collection."""

import json
import random

RESTART = "entra.sync.sync_job_restart"


def test_300_job_list_in_one_task_one_token_results_in_input_order(tenant, run_task):
    # 100 service principals x 3 jobs; every 7th job quarantined.
    layout = {sp: [("Quarantine" if ((sp - 1) * 3 + n) % 7 == 0 else "Active") for n in range(3)] for sp in range(1, 101)}
    ids = tenant.make_fleet(layout)
    quarantined = {ids[(sp, n)] for sp, codes in layout.items() for n, code in enumerate(codes) if code == "Quarantine"}
    order = sorted(ids.values())
    random.Random(300).shuffle(order)
    jobs = [{"service_principal_id": sp_id, "job_id": job_id, "note": "extra keys are ignored"} for sp_id, job_id in order]
    assert len(jobs) == 300 and len(quarantined) == 43

    run = run_task(tenant.sandbox, RESTART, {"jobs": jobs, "restart_if": ["quarantined"], "concurrency": 16})
    assert run.rc == 0, run.describe()
    result = run.result
    assert not result.get("failed"), result.get("msg")
    results = result["results"]
    assert len(results) == 300
    assert [(r["service_principal_id"], r["job_id"]) for r in results] == order
    for r in results:
        expected = "restarted" if (r["service_principal_id"], r["job_id"]) in quarantined else "skipped"
        assert r["action"] == expected, r
        assert r["status_code"] in ("Quarantine", "Active"), r
    summary = result["summary"]
    assert summary["total"] == 300
    assert summary["restarted"] == 43 and summary["skipped"] == 257
    assert summary["failed"] == 0 and summary["unknown"] == 0 and summary["would_restart"] == 0
    assert result["changed"] is True

    log = tenant.log()
    assert len(tenant.token_requests(log)) == 1, "one token for the whole task, got %d" % len(tenant.token_requests(log))
    assert len([e for e in log if e["method"] == "GET" and "/synchronization/jobs/" in e["path"]]) >= 300, "every job is read first"
    assert len(tenant.restart_posts(log)) == 43
    assert tenant.restarts() == {key: 1 for key in quarantined}


def _fleet_layout():
    # first tenant: 5 quarantined jobs among 12; second tenant: 2 quarantined jobs that must not be touched
    first = {
        1: ["Quarantine", "Active", ("Active", {"last_execution_state": "Failed"})],
        2: ["Quarantine", "Quarantine"],
        3: [("Paused", {"schedule_state": "Paused"}), "NotRun"],
        4: ["Active"],
        5: ["Quarantine", ("Quarantine", {"quarantine_reason": "EncounteredEscrowProportionThreshold"}), "Active"],
        6: [],
    }
    second = {50: ["Quarantine", "Active"], 51: ["Quarantine"]}
    return first, second


def test_fleet_playbook_restarts_quarantined_once_reports_and_converges(tenant, run_playbook, tmp_path):
    first, second = _fleet_layout()
    ids = tenant.make_fleet(first, second_tenant=second)
    quarantined = {ids[(sp, n)] for sp, codes in first.items() for n, code in enumerate(codes)
                   if (code if isinstance(code, str) else code[0]) == "Quarantine"}
    jobs_in_tenant = sum(len(codes) for codes in first.values())
    report_dir = tmp_path / "report"

    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(report_dir)})
    assert run.rc == 0, run.describe()
    assert tenant.restarts() == {key: 1 for key in quarantined}
    counters = tenant.admin.counters()
    assert counters["totals"]["restarts"] == len(quarantined) == 5
    assert counters["totals"]["jobs_restarted_more_than_once"] == 0

    report = json.loads((report_dir / "report.json").read_text())
    assert int(report["jobs_found"]) == jobs_in_tenant
    assert report["summary"]["restarted"] == counters["totals"]["restarts"]
    assert report["summary"]["total"] == jobs_in_tenant
    assert report["summary"]["skipped"] == jobs_in_tenant - len(quarantined)
    assert report["summary"]["failed"] == 0 and report["summary"]["unknown"] == 0
    assert report["failed_or_unknown"] == []

    tenant.admin.clear_log()
    again = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(report_dir)})
    assert again.rc == 0, again.describe()
    assert tenant.restarts() == {key: 1 for key in quarantined}, "the second run restarted something"
    # No write at all; a $batch envelope is a POST that only carries reads (its items are logged one by one as batch_item).
    assert [e for e in tenant.graph_posts(tenant.log()) if e["kind"] != "batch"] == []
    report = json.loads((report_dir / "report.json").read_text())
    assert report["summary"]["restarted"] == 0
    assert report["summary"]["skipped"] == jobs_in_tenant


def test_counts_after_come_from_the_results_unless_verify_after_reads_the_jobs_again(tenant, run_playbook, tmp_path):
    layout = {sp: [("Quarantine", {"relapse": True}) if sp == 3 else "Quarantine", "Active"] for sp in range(1, 7)}
    tenant.make_fleet(layout)
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(tmp_path / "a"), "entra_sync_canary_size": 0})
    assert run.rc == 0, run.describe()
    # No job is read after discovery (a $batch of job lists is the only read): the counts come from the restart results,
    # so the job that fell back into quarantine right after its restart is counted in the status a restart leads to.
    assert [e for e in tenant.log() if e["method"] == "GET" and "/synchronization/jobs/" in e["path"]] == []
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["counts_before"] == {"scim": {"Active": 6, "Quarantine": 6}}
    assert report["counts_after"] == {"scim": {"Active": 12}}

    tenant.make_fleet(layout)
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {
        "entra_sync_report_dir": str(tmp_path / "b"), "entra_sync_canary_size": 0, "entra_sync_verify_after": True})
    assert run.rc == 0, run.describe()
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    truth = {}
    for job in tenant.admin.jobs():
        truth[job["status_code"]] = truth.get(job["status_code"], 0) + 1
    assert report["counts_after"] == {"scim": truth} == {"scim": {"Active": 11, "Quarantine": 1}}
