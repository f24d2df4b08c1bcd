"""The fleet playbook's canary, chunks, retry from a report, several tenants and up-front input checks."""

import json

PLAYBOOK = "entra.sync.restart_jobs"


def _job_of(path):
    parts = path.split("/")
    return parts[parts.index("servicePrincipals") + 1], parts[parts.index("jobs") + 1]


def _quarantined_layout(count, start=1):
    return {sp: ["Quarantine", "Active"] for sp in range(start, start + count)}


def test_canary_that_relapses_stops_the_run_before_the_rest(tenant, run_playbook, tmp_path):
    ids = tenant.make_fleet(_quarantined_layout(12))
    canary = [ids[(sp, 0)] for sp in (1, 2, 3)]  # discovery order is the fleet order: the first three are the canary
    tenant.admin.set_job(*canary[1], relapse=True)
    tenant.clear()
    report_dir = tmp_path / "report"

    run = run_playbook(tenant.sandbox, PLAYBOOK, {
        "entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 3, "entra_sync_chunk_size": 4,
        "entra_sync_canary_wait_timeout": 4, "entra_sync_canary_wait_interval": 0.5,
    })
    assert run.rc != 0, run.describe()
    assert "canary" in run.output and "did not recover" in run.output
    restarted = tenant.restarts()
    assert set(restarted) == set(canary), "only the canary may be restarted: %s" % restarted
    assert set(restarted.values()) == {1}

    report = json.loads((report_dir / "report.json").read_text())
    assert "did not recover" in report["stopped"]
    assert report["summary"]["restarted"] == 3
    assert "Stopped" in (report_dir / "report.md").read_text()


def test_chunks_progress_lines_and_counts_before_after(tenant, run_playbook, tmp_path):
    ids = tenant.make_fleet(_quarantined_layout(11))
    report_dir = tmp_path / "report"
    run = run_playbook(tenant.sandbox, PLAYBOOK, {
        "entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 1, "entra_sync_chunk_size": 4,
        "entra_sync_canary_wait_interval": 0.2,
    })
    assert run.rc == 0, run.describe()
    # the canary (1) and the first chunk (4) in one task, then chunks of 4
    for line in ("canary: 1 restarted, 1 healthy; chunk 1/3: 5 restarted, 0 skipped, 0 failed", "chunk 3/3: 2 restarted, 0 skipped, 0 failed"):
        assert line in run.stdout, [text for text in run.stdout.splitlines() if "chunk" in text]
    assert tenant.restarts() == {ids[(sp, 0)]: 1 for sp in range(1, 12)}
    report = json.loads((report_dir / "report.json").read_text())
    assert report["counts_before"] == {"scim": {"Active": 11, "Quarantine": 11}}
    # the canary's wait saw it Active a moment after the restart, which says no more than the others' results: all 11
    # are counted as restarted, none read again
    assert report["counts_after"] == {"scim": {"Active": 11, "restarted (quarantine lifted)": 11}}
    assert report["after_source"] == "restart_results"
    markdown = (report_dir / "report.md").read_text()
    assert "| scim | Quarantine | 11 | 0 |" in markdown and "| scim | restarted (quarantine lifted) | 0 | 11 |" in markdown


def test_retry_report_restarts_only_the_failed_and_unknown(tenant, run_playbook, tmp_path):
    ids = tenant.make_fleet(_quarantined_layout(6))
    lost, refused = ids[(2, 0)], ids[(5, 0)]
    tenant.admin.set_faults({"rules": [
        {"fault": "lost_response", "method": "POST", "path": "/%s/restart$" % lost[1], "count": 1},
        {"fault": "status", "status": 500, "method": "POST", "path": "/%s/restart$" % refused[1], "count": 1},
    ]})
    report_dir = tmp_path / "first"
    first = run_playbook(tenant.sandbox, PLAYBOOK, {"entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 0})
    assert first.rc != 0, first.describe()
    report = json.loads((report_dir / "report.json").read_text())
    retry = {(job["service_principal_id"], job["job_id"]): job["action"] for job in report["failed_or_unknown"]}
    assert retry == {lost: "unknown", refused: "unknown"}, retry  # a 500 after the POST left may have been processed
    counts = tenant.restarts()
    assert counts[lost] == 1, "the lost answer's restart did happen"

    tenant.admin.set_faults({"rules": []})
    tenant.clear()
    second = run_playbook(tenant.sandbox, PLAYBOOK, {
        "entra_sync_retry_report": str(report_dir / "report.json"), "entra_sync_report_dir": str(tmp_path / "second"),
        "entra_sync_canary_size": 0,
    })
    assert second.rc == 0, second.describe()
    log = tenant.log()
    touched = {_job_of(entry["path"]) for entry in log if "/synchronization/jobs/" in entry["path"]}
    assert touched <= {lost, refused}, "the retry read or touched other jobs: %s" % touched
    retried = tenant.restarts()
    assert lost not in retried, "the job whose answer was lost was restarted already: never twice"
    assert retried.get(refused, 0) <= 1
    after = json.loads((tmp_path / "second" / "report.json").read_text())
    assert after["failed_or_unknown"] == []


def test_two_tenants_one_token_each_and_bad_inputs_fail_before_any_request(tenant, run_playbook, tmp_path):
    first_ids = tenant.make_fleet(_quarantined_layout(2), second_tenant=_quarantined_layout(3, start=50))
    tenants = [entry["id"] for entry in tenant.sandbox.config["tenants"]]
    run = run_playbook(tenant.sandbox, PLAYBOOK, {
        "entra_sync_tenants": tenants, "entra_sync_canary_size": 1, "entra_sync_canary_wait_interval": 0.2,
        "entra_sync_report_dir": str(tmp_path / "r"),
    })
    assert run.rc == 0, run.describe()
    assert len(tenant.restarts()) == 5 and set(tenant.restarts().values()) == {1}
    assert first_ids[(1, 0)] in tenant.restarts()
    tokens = tenant.token_requests(tenant.log())
    assert sorted(entry["tenant_id"] for entry in tokens) == sorted(tenants), tokens
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["summary"]["restarted"] == 5 and report["tenants"] == tenants

    tenant.clear()
    for extra_vars, words in (
        ({"entra_sync_jobs": [{"service_principal_id": "My App", "job_id": "scim.1"}]}, "GUID"),
        ({"entra_sync_restart_if": ["bogus"]}, "quarantined"),
        ({"entra_sync_reset_scope": ["None"]}, "sync_job"),
        ({"entra_sync_tenants": [{"client_id": "x"}]}, "entra_sync_tenants"),
        ({"entra_sync_chunk_size": 0}, "entra_sync_chunk_size"),
    ):
        bad = run_playbook(tenant.sandbox, PLAYBOOK, extra_vars)
        assert bad.rc != 0 and words in bad.output, (extra_vars, bad.describe())
    assert tenant.log() == [], "a bad input sent a request"
