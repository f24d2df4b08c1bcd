"""entra.sync.rotate_credentials against the sandbox: each job tested, then saved, then restarted (only when it was
quarantined) and waited for; refused tokens are neither saved nor restarted and are named at the end; bad input stops
before any request; check mode tests only; tenant hosts each rotate their own list."""

import json

import entra_int_harness as HARNESS  # tests/integration/conftest.py

PLAYBOOK = "entra.sync.rotate_credentials"
REFUSED = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
BASE = "https://scim.target.test/v2"


def _token(index, good=True):
    return "%s-token-%04d-c3f1a9" % ("good" if good else "revoked", index)


def _quarantined_by_credentials(tenant, count, paused=()):
    """`count` service principals, one scim job each, quarantined because the target now wants _token(index); the ones
    in `paused` are Paused instead (their saved token refused too). Returns [(sp_id, job_id)] by index 1..count."""
    ids = tenant.make_fleet({index: ["Active"] for index in range(1, count + 1)})
    jobs = []
    for index in range(1, count + 1):
        sp_id, job_id = ids[(index, 0)]
        tenant.admin.set_credentials(sp_id, saved={"BaseAddress": BASE, "SecretToken": "old-token-%d" % index},
                                     accepts={"BaseAddress": BASE, "SecretToken": _token(index)}, cycle=index not in paused)
        if index in paused:
            tenant.admin.set_job(sp_id, job_id, status_code="Paused")
        jobs.append((sp_id, job_id))
    tenant.clear()
    return jobs


def _job_list(jobs, refused=()):
    return [{"service_principal_id": sp_id, "job_id": job_id,
             "credentials": {"BaseAddress": BASE, "SecretToken": _token(index, index not in refused)}}
            for index, (sp_id, job_id) in enumerate(jobs, start=1)]


def test_twenty_jobs_three_refused_tokens_rotates_seventeen_and_names_three(tenant, run_playbook, tmp_path):
    jobs = _quarantined_by_credentials(tenant, 20)
    refused = (4, 11, 17)
    report_dir = tmp_path / "report"
    history = tmp_path / "history"
    run = run_playbook(tenant.sandbox, PLAYBOOK, {"entra_sync_credential_jobs": _job_list(jobs, refused), "entra_sync_report_dir": str(report_dir),
                                                  "entra_sync_report_history": str(history)}, verbosity=4)
    assert run.rc == 2, run.describe()
    assert "3 of 20 jobs were not rotated" in run.stdout
    for index in refused:
        assert "%s refused %s" % (jobs[index - 1][1], REFUSED) in run.stdout
    report = json.loads((report_dir / "report.json").read_text())
    assert report["summary"] == {"rotated": 17, "tested": 0, "refused": 3, "failed": 0, "total": 20}
    assert sorted(job["job_id"] for job in report["failed"]) == sorted(jobs[index - 1][1] for index in refused)
    assert all(job["error_code"] == REFUSED and "Nothing was saved" in job["message"] for job in report["failed"])
    for index, (sp_id, job_id) in enumerate(jobs, start=1):
        state = tenant.admin.credentials(sp_id)
        summary = tenant.admin.job(sp_id, job_id)["summary"]
        if index in refused:
            assert (state["puts"], summary["restarts"], summary["status_code"]) == (0, 0, "Quarantine"), index
        else:
            assert (state["puts"], summary["restarts"], summary["status_code"]) == (1, 1, "Active"), index
            assert summary["reset_scopes"] == ["QuarantineState"]
    assert not (history / "history.jsonl").exists()  # the restart runs' history is not a rotation's
    entry = next(job for job in report["jobs"] if job["job_id"] == jobs[0][1])
    assert (entry["tested"], entry["accepted"], entry["saved"], entry["restarted"], entry["healthy"], entry["outcome"]) == (
        True, True, True, True, True, "rotated")
    assert entry["status_code"] == "Quarantine" and entry["quarantine_error_code"] == REFUSED and entry["remedy"] == "credentials"
    # One sign-in for the run; no token or credential in the output at -vvvv or in the report.
    assert len(tenant.token_requests(tenant.log())) == 1
    markdown = (report_dir / "report.md").read_text()
    assert "| 17 | 0 | 3 | 0 | 20 |" in markdown
    html = (report_dir / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count('<td class="refused">') == 3 and html.count('<td class="rotated">') == 17
    texts = run.output + (report_dir / "report.json").read_text() + markdown + html
    leaked = [index for index in range(1, 21) if _token(index) in texts or _token(index, False) in texts]
    assert leaked == []
    assert all(token not in texts for token in tenant.admin.issued()["access_tokens"])


def test_bad_input_stops_before_any_request_and_shows_no_secret(tenant, run_playbook):
    jobs = _quarantined_by_credentials(tenant, 2)
    items = _job_list(jobs)
    items[1]["credentials"]["Token"] = "leaky-value-9c2e71"
    items[0]["credentials"]["SecretToken"] = ""
    run = run_playbook(tenant.sandbox, PLAYBOOK, {"entra_sync_credential_jobs": items, "entra_sync_reset_scope": ["Nope"]}, verbosity=3)
    assert run.rc != 0
    assert "bad input, nothing was sent" in run.stdout
    for words in ("entra_sync_credential_jobs[0]: credentials: SecretToken has no value", "entra_sync_credential_jobs[1]: credentials: unknown key",
                  "reset_scope"):
        assert words in run.stdout, run.describe()
    assert tenant.log() == []
    assert "leaky-value-9c2e71" not in run.output and _token(2) not in run.output


def test_check_mode_tests_and_saves_nothing(tenant, run_playbook, tmp_path):
    jobs = _quarantined_by_credentials(tenant, 3)
    report_dir = tmp_path / "report"
    run = run_playbook(tenant.sandbox, PLAYBOOK, {"entra_sync_credential_jobs": _job_list(jobs, refused=(3,)),
                                                  "entra_sync_report_dir": str(report_dir)}, check=True)
    assert run.rc == 2, run.describe()
    assert "tested only 2" in run.stdout and "refused 1" in run.stdout
    writes = [(entry["method"], entry["path"].rsplit("/", 1)[-1]) for entry in tenant.graph_writes(tenant.log())]
    assert writes == [("POST", "validateCredentials")] * 3
    assert not report_dir.exists()


def test_test_only_and_a_paused_job_is_started(tenant, run_playbook, tmp_path):
    jobs = _quarantined_by_credentials(tenant, 2, paused=(2,))
    tested_only = run_playbook(tenant.sandbox, PLAYBOOK, {"entra_sync_credential_jobs": _job_list(jobs), "entra_sync_test_only": True})
    assert tested_only.rc == 0, tested_only.describe()
    assert [tenant.admin.credentials(sp_id)["puts"] for sp_id, _job in jobs] == [0, 0]
    report_dir = tmp_path / "report"
    run = run_playbook(tenant.sandbox, PLAYBOOK, {"entra_sync_credential_jobs": _job_list(jobs), "entra_sync_report_dir": str(report_dir)})
    assert run.rc == 0, run.describe()
    report = json.loads((report_dir / "report.json").read_text())
    paused = report["jobs"][1]
    assert (paused["status_code"], paused["saved"], paused["started"], paused["restarted"], paused["outcome"]) == (
        "Paused", True, True, False, "rotated")
    summaries = [tenant.admin.job(sp_id, job_id)["summary"] for sp_id, job_id in jobs]
    assert [(s["status_code"], s["restarts"], s["starts"]) for s in summaries] == [("Active", 1, 0), ("Active", 0, 1)]


def test_tenant_hosts_each_rotate_their_own_jobs(tenant, run_playbook, tmp_path):
    ids = tenant.make_fleet({1: ["Active"]}, second_tenant={2: ["Active"]})
    tenants = [entry["id"] for entry in tenant.sandbox.config["tenants"]]
    lists = {}
    for index, tenant_id in ((1, tenants[0]), (2, tenants[1])):
        sp_id, job_id = ids[(index, 0)]
        tenant.admin.set_credentials(sp_id, saved={"SecretToken": "old"}, accepts={"SecretToken": _token(index)}, cycle=True)
        lists[tenant_id] = [{"service_principal_id": sp_id, "job_id": job_id, "credentials": {"SecretToken": _token(index)}}]
    tenant.clear()
    full = tenant.sandbox.app("full")
    inventory = tmp_path / "tenants.yml"
    inventory.write_text(json.dumps({"entra_tenants": {"hosts": {
        tenant_id: {"entra_sync_client_id": full["client_id"], "entra_sync_client_secret": full["client_secret"],
                    "entra_sync_credential_jobs": jobs} for tenant_id, jobs in lists.items()}}}))
    report_dir = tmp_path / "report"
    run = run_playbook(tenant.sandbox, PLAYBOOK, {"entra_sync_report_dir": str(report_dir)}, extra_args=["-i", str(inventory)],
                       env={"AZURE_TENANT_ID": None, "AZURE_CLIENT_SECRET": None})
    assert run.rc == 0, run.describe()
    report = json.loads((report_dir / "report.json").read_text())
    assert report["summary"]["rotated"] == 2
    assert sorted((job["tenant_id"], job["outcome"]) for job in report["jobs"]) == sorted((tenant_id, "rotated") for tenant_id in tenants)
    by_tenant = {}
    for entry in tenant.token_requests(tenant.log()):
        by_tenant[entry["tenant_id"]] = by_tenant.get(entry["tenant_id"], 0) + 1
    assert by_tenant == {tenants[0]: 1, tenants[1]: 1}
    assert HARNESS.sp_guid(1) in run.stdout and full["client_secret"] not in run.output
