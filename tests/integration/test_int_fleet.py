"""Fleet scale: a 300-job list in one task, and the entra.sync.restart_jobs playbook from the installed collection."""

import json
import random

import entra_int_harness as HARNESS

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


def _summary_line(run):
    return run.output.split("TASK [Summary]")[1].split("TASK [")[0]


def test_counts_after_come_from_the_results_unless_verify_after_reads_the_jobs_again(tenant, run_playbook, tmp_path):
    layout = {sp: [("Quarantine", {"relapse": True}) if sp == 3 else "Quarantine", "Active"] for sp in range(1, 7)}
    tenant.make_fleet(layout)
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(tmp_path / "a"), "entra_sync_canary_size": 0})
    assert run.rc == 0, run.describe()
    # No job is read after discovery (a $batch of job lists is the only read): the counts come from the restart results,
    # and they say so: a restarted job is counted as restarted, not as Active, even the one that fell back into quarantine.
    assert [e for e in tenant.log() if e["method"] == "GET" and "/synchronization/jobs/" in e["path"]] == []
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["counts_before"] == {"scim": {"Active": 6, "Quarantine": 6}}
    assert report["counts_after"] == {"scim": {"Active": 6, "restarted (quarantine lifted)": 6}}
    assert report["after_source"] == "restart_results" and report["quarantined_again"] == []
    markdown = (tmp_path / "a" / "report.md").read_text()
    assert "## Jobs by template and status, before and expected after the restarts (not read again)" in markdown
    assert "| template | status | before | expected after (not read again) |" in markdown
    assert "| scim | restarted (quarantine lifted) | 0 | 6 |" in markdown and "| scim | Active | 6 | 6 |" in markdown
    assert "Quarantined again" not in markdown
    assert "counts after: restart_results, expected after the restarts (not read again)" in _summary_line(run)

    tenant.make_fleet(layout)
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {
        "entra_sync_report_dir": str(tmp_path / "b"), "entra_sync_canary_size": 0, "entra_sync_verify_after": True})
    assert run.rc == 0, run.describe()
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    truth = {}
    for job in tenant.admin.jobs():
        truth[job["status_code"]] = truth.get(job["status_code"], 0) + 1
    assert report["counts_after"] == {"scim": truth} == {"scim": {"Active": 11, "Quarantine": 1}}
    assert report["after_source"] == "read_again" and [entry["job_id"] for entry in report["quarantined_again"]] == [
        "scim." + HARNESS.job_hex(300)]
    markdown = (tmp_path / "b" / "report.md").read_text()
    assert "## Jobs by template and status, before and read again after the restarts" in markdown
    assert "| template | status | before | after (read again) |" in markdown and "not read again" not in markdown
    assert "counts after: read_again, read again after the restarts" in _summary_line(run)


def _tenant_actionable(code, message):
    return {"quarantine_error": {"code": code, "message": message, "tenant_actionable": True}, "template_id": "AD2AADProvisioning"}


def test_verify_after_with_a_delay_lists_the_restarted_jobs_quarantined_again_by_remedy_first(tenant, run_playbook, tmp_path):
    # Two Cloud Sync quarantines restarted anyway (restart_remedies: the admin believes them fixed): their cause is not, so
    # their first cycle, `relapse` s after the restart, quarantines them again. Two escrow thresholds recover.
    relapse, delay = 2, 3
    agents = _tenant_actionable("HybridIdentityServiceNoActiveAgents", "No provisioning agent is active.")
    expired = _tenant_actionable("AzureActiveDirectoryExpiredCredentials", "The service account's credentials have expired.")
    layout = {1: [("Quarantine", dict(agents, id="AD2AADProvisioning." + HARNESS.job_hex(1)))],
              2: [("Quarantine", {"quarantine_reason": "EncounteredEscrowProportionThreshold"}), "Active"],
              3: [("Quarantine", {"quarantine_reason": "EncounteredBaseEscrowThreshold"})],
              4: [("Quarantine", dict(expired, id="AD2AADProvisioning." + HARNESS.job_hex(4)))]}
    ids = tenant.make_fleet(layout)
    tenant.admin.set_relapse_delay(relapse)
    report_dir = tmp_path / "report"
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {
        "entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 0,
        "entra_sync_restart_remedies": ["restart", "credentials", "fix_target"],
        "entra_sync_verify_after": True, "entra_sync_verify_after_delay": delay})
    assert run.rc == 0, run.describe()
    assert len(tenant.restarts()) == 4
    # the jobs were read again once the delay had passed after the last restart, when the relapses had happened
    log = tenant.log()
    last_restart = max(entry["time"] for entry in tenant.restart_posts(log))
    reads = [entry for entry in log if entry["method"] == "GET" and "/synchronization/jobs/" in entry["path"]]
    assert reads and min(entry["time"] for entry in reads) >= last_restart + delay - 0.1, (last_restart, reads)

    report = json.loads((report_dir / "report.json").read_text())
    again = report["quarantined_again"]
    # by remedy (credentials before fix_target), whatever order the jobs were restarted in
    assert [(entry["job_id"], entry["remedy"], entry["quarantine_error_code"]) for entry in again] == [
        (ids[(4, 0)][1], "credentials", "AzureActiveDirectoryExpiredCredentials"), (ids[(1, 0)][1], "fix_target", "HybridIdentityServiceNoActiveAgents")]
    assert "service account" in again[0]["remedy_reason"] and "agent" in again[1]["remedy_reason"]
    assert [entry["service_principal_name"] for entry in again] == ["Integration App 4", "Integration App 1"]
    assert all(entry["disables_at"] and entry["status_code"] == "Quarantine" for entry in again)
    assert report["after_source"] == "read_again"
    assert report["counts_after"] == {"AD2AADProvisioning": {"Quarantine": 2}, "scim": {"Active": 3}}

    markdown = (report_dir / "report.md").read_text()
    # the first section after the run's details
    first = markdown.split("\n## ")[1]
    assert first.startswith("Quarantined again after the restart, by remedy"), markdown[:2000]
    assert "| credentials | 1 |\n| fix_target | 1 |" in first and first.index(ids[(4, 0)][1]) < first.index(ids[(1, 0)][1])
    assert ids[(2, 0)][1] not in first
    # the console: those jobs first, then the summary line
    shown = run.output.split("TASK [Show the jobs quarantined again after their restart, by remedy]")[1].split("TASK [")[0]
    assert "quarantined again, credentials, disabled " in shown and shown.index(ids[(4, 0)][1]) < shown.index(ids[(1, 0)][1])
    assert run.output.index("Show the jobs quarantined again") < run.output.index("Show the jobs restarted, failed or unknown")
    line = _summary_line(run)
    assert "2 quarantined again after the restart (remedies: credentials, fix_target)" in line and "counts after: read_again" in line


def test_list_form_tenant_secrets_never_reach_the_output(tenant, run_playbook, tmp_path):
    first, second = _fleet_layout()
    ids = tenant.make_fleet(first, second_tenant=second)
    sandbox = tenant.sandbox
    secret = sandbox.env["AZURE_CLIENT_SECRET"]
    tenants = [{"tenant_id": entry["id"], "client_id": sandbox.env["AZURE_CLIENT_ID"], "client_secret": secret}
               for entry in sandbox.config["tenants"][:2]]
    run = run_playbook(sandbox, "entra.sync.restart_jobs", {"entra_sync_tenants": tenants, "entra_sync_report_dir": str(tmp_path / "r")},
                       verbosity=3, env={"AZURE_CLIENT_SECRET": None})
    assert run.rc == 0, run.describe()
    # Each tenant signed in with the secret its entry gives (none is in the environment), and restarted its jobs.
    quarantined = [key for key, restarts in tenant.restarts().items() if restarts == 1]
    assert len(quarantined) == 5 + 2 and len(tenant.token_requests(tenant.log())) == 2
    assert secret not in run.output
    assert secret not in (tmp_path / "r" / "report.json").read_text()
    assert ids  # the fleet was made
