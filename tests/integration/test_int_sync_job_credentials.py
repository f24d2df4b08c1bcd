"""entra.sync.sync_job_credentials against the sandbox: test first, save only what the target accepted, one PUT of the
whole set; check mode and test_only test only; bad input stops before any write; the job leaves quarantine only after
the save and a restart."""

import json

import pytest

CREDENTIALS = "entra.sync.sync_job_credentials"
RESTART = "entra.sync.sync_job_restart"
REFUSED = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
BASE = "https://scim.target.test/v2"
GOOD = {"BaseAddress": BASE, "SecretToken": "good-token-7d41c2e9a0"}
BAD = {"BaseAddress": BASE, "SecretToken": "revoked-token-3b90f1"}


def _credential_quarantine(tenant, layout=None):
    """One scim job quarantined because the target revoked the saved token; returns (sp_id, job_id)."""
    ids = tenant.make_fleet(layout or {1: ["Active"]})
    sp_id, job_id = ids[(1, 0)]
    tenant.admin.set_credentials(sp_id, saved={"BaseAddress": BASE, "SecretToken": "old-token"})
    tenant.admin.set_credentials(sp_id, accepts=GOOD, cycle=True)
    assert tenant.admin.job(sp_id, job_id)["summary"]["status_code"] == "Quarantine"
    tenant.clear()
    return sp_id, job_id


def _writes(tenant):
    return [(entry["method"], entry["path"].rsplit("/", 1)[-1]) for entry in tenant.graph_writes(tenant.log())]


def test_an_accepted_token_is_tested_saved_once_and_the_restart_lifts_the_quarantine(tenant, run_tasks):
    sp_id, job_id = _credential_quarantine(tenant)
    run = run_tasks(tenant.sandbox, [
        {"module": CREDENTIALS, "args": {"service_principal_id": sp_id, "job_id": job_id, "credentials": GOOD}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "restart_if": ["quarantined"],
                                     "reset_scope": ["QuarantineState"], "wait": True, "wait_timeout": 30}},
    ])
    saved, restarted = run.results
    assert not saved.get("failed"), saved
    assert (saved["tested"], saved["accepted"], saved["saved"], saved["changed"]) == (True, True, True, True)
    assert (saved["status_code"], saved["quarantine_reason"], saved["quarantine_error_code"]) == (
        "Quarantine", "EncounteredQuarantineException", REFUSED)
    assert saved["secret_keys"] == ["BaseAddress", "SecretToken"] and saved["template_id"] == "scim"
    assert saved["remedy"] == "credentials" and "test it, save it" in saved["remedy_reason"]
    assert restarted["action"] == "restarted" and restarted["wait"]["healthy"], restarted
    assert _writes(tenant) == [("POST", "validateCredentials"), ("PUT", "secrets"), ("POST", "restart")]
    put = [entry for entry in tenant.log() if entry["method"] == "PUT"][0]
    assert put["body"] == {"value": [{"key": "BaseAddress", "value": BASE}, {"key": "SecretToken", "value": GOOD["SecretToken"]}]}
    state = tenant.admin.credentials(sp_id)
    assert (state["saved"], state["puts"], state["validations"]) == (GOOD, 1, 1)
    assert tenant.admin.job(sp_id, job_id)["summary"]["status_code"] == "Active"
    assert GOOD["SecretToken"] not in run.output


def test_a_refused_token_fails_with_graphs_code_and_saves_nothing(tenant, run_tasks):
    sp_id, job_id = _credential_quarantine(tenant)
    run = run_tasks(tenant.sandbox, [{"module": CREDENTIALS, "args": {"service_principal_id": sp_id, "job_id": job_id, "credentials": BAD}}],
                    verbosity=4, diff=True)
    result = run.result
    assert result["failed"] is True and result["error_code"] == REFUSED and result["status"] == 400
    assert REFUSED in result["msg"] and "Nothing was saved" in result["msg"]
    assert (result["tested"], result["accepted"], result["saved"], result["changed"]) == (True, False, False, False)
    assert _writes(tenant) == [("POST", "validateCredentials")]
    assert tenant.admin.credentials(sp_id)["puts"] == 0
    assert tenant.admin.job(sp_id, job_id)["summary"]["restarts"] == 0
    assert BAD["SecretToken"] not in run.output


@pytest.mark.parametrize("how", ["check_mode", "test_only"])
def test_check_mode_and_test_only_test_and_save_nothing(tenant, run_tasks, how):
    sp_id, job_id = _credential_quarantine(tenant)
    args = {"service_principal_id": sp_id, "job_id": job_id, "credentials": GOOD}
    if how == "test_only":
        args["test_only"] = True
    run = run_tasks(tenant.sandbox, [{"module": CREDENTIALS, "args": args}], check=how == "check_mode", diff=True)
    result = run.result
    assert not result.get("failed"), result
    assert (result["tested"], result["accepted"], result["saved"], result["changed"]) == (True, True, False, False)
    assert _writes(tenant) == [("POST", "validateCredentials")]
    assert tenant.admin.credentials(sp_id)["puts"] == 0
    assert "not saved" in result["diff"]["after"] and GOOD["SecretToken"] not in json.dumps(result)


def test_use_saved_credentials_tests_what_is_saved(tenant, run_tasks):
    sp_id, job_id = _credential_quarantine(tenant)
    args = {"service_principal_id": sp_id, "job_id": job_id, "use_saved_credentials": True}
    before, rotate, after = run_tasks(tenant.sandbox, [
        {"module": CREDENTIALS, "args": args},
        {"module": CREDENTIALS, "args": {"service_principal_id": sp_id, "job_id": job_id, "credentials": GOOD}},
        {"module": CREDENTIALS, "args": args},
    ]).results
    assert before["failed"] is True and before["error_code"] == REFUSED and before["accepted"] is False, before
    assert rotate["saved"] is True
    assert not after.get("failed") and (after["accepted"], after["saved"], after["changed"], after["secret_keys"]) == (True, False, False, [])
    bodies = [entry["body"] for entry in tenant.log() if entry["path"].endswith("/validateCredentials")]
    assert bodies[0] == bodies[2] == {"useSavedCredentials": True}


@pytest.mark.parametrize("args, words", [
    ({"credentials": {"Token": "abcdef123456"}}, ["unknown key 'Token'", "BaseAddress", "SecretToken"]),
    ({"credentials": {"BaseAddress": BASE, "SecretToken": ""}}, ["SecretToken has no value"]),
    ({"credentials": ["abcdef123456"]}, ["credentials"]),
    ({"credentials": GOOD, "use_saved_credentials": True}, ["not both"]),
    ({}, ["give credentials"]),
    ({"credentials": GOOD, "service_principal_id": "not-a-guid"}, ["is not a GUID"]),
    ({"credentials": GOOD, "job_id": "scim/../x"}, ["job id"]),
])
def test_bad_input_fails_before_any_request(tenant, run_task, args, words):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    run = run_task(tenant.sandbox, CREDENTIALS, dict({"service_principal_id": sp_id, "job_id": job_id}, **args))
    assert run.result["failed"] is True, run.result
    for word in words:
        assert word in run.result["msg"], run.result["msg"]
    assert [entry for entry in tenant.log() if entry["kind"] != "token"] == []
    assert "abcdef123456" not in run.output


def test_a_job_that_does_not_exist_is_named_before_any_write(tenant, run_task):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, _job_id = ids[(1, 0)]
    run = run_task(tenant.sandbox, CREDENTIALS, {"service_principal_id": sp_id, "job_id": "scim.00000000000000000000000000000000",
                                                 "credentials": GOOD})
    result = run.result
    assert result["failed"] is True and result["error_code"] == "itemNotFound" and "reading the job failed" in result["msg"]
    assert (result["tested"], result["saved"]) == (False, False)
    assert _writes(tenant) == []


def test_missing_permission_names_it_and_saves_nothing(tenant, run_task):
    sp_id, job_id = _credential_quarantine(tenant)
    readonly = tenant.sandbox.app("readonly")
    run = run_task(tenant.sandbox, CREDENTIALS, {"service_principal_id": sp_id, "job_id": job_id, "credentials": GOOD,
                                                 "client_id": readonly["client_id"], "client_secret": readonly["client_secret"]})
    result = run.result
    assert result["failed"] is True and "Synchronization.ReadWrite.All" in result["msg"], result
    assert (result["tested"], result["accepted"], result["saved"]) == (False, None, False)
    assert tenant.admin.credentials(sp_id)["puts"] == 0
