# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rotation playbook's pure parts: inputs checked (never a value kept or shown), each job's entry, the report."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet.rotation import (
    check_credential_jobs,
    check_rotation_inputs,
    rotation_entries,
    rotation_report,
    saved_jobs,
    tenant_sign_in,
)

SP1 = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
SP2 = "11111111-2222-4333-8444-555555555555"
JOB1 = "scim.0123456789abcdef0123456789abcdef"
JOB2 = "scim.fedcba9876543210fedcba9876543210"
TOKEN = "tok-5e8a1c9f-secret"
CREDS = {"BaseAddress": "https://scim.example.com/v2", "SecretToken": TOKEN}


def _item(sp=SP1, job=JOB1, credentials=None):
    return {"service_principal_id": sp, "job_id": job, "credentials": dict(CREDS) if credentials is None else credentials}


def test_checked_jobs_keep_ids_and_keys_never_values():
    checked = check_credential_jobs([_item(), _item(SP2.upper(), JOB2, {"UserName": "u", "Password": TOKEN})])
    assert checked == [{"index": 0, "service_principal_id": SP1, "job_id": JOB1, "secret_keys": ["BaseAddress", "SecretToken"]},
                       {"index": 1, "service_principal_id": SP2, "job_id": JOB2, "secret_keys": ["UserName", "Password"]}]
    assert TOKEN not in repr(checked)
    assert check_credential_jobs(None) == [] and check_credential_jobs([]) == []


def test_two_jobs_of_one_service_principal_share_one_set():
    assert len(check_credential_jobs([_item(), _item(job=JOB2)])) == 2


@pytest.mark.parametrize("value, words", [
    ("x", ["must be a list"]),
    ([None], ["entra_sync_credential_jobs[0] must be a dictionary"]),
    ([dict(_item(), token="x")], ["[0] has unknown keys token"]),
    ([dict(_item(), service_principal_id="nope")], ["[0].service_principal_id", "not a GUID"]),
    ([dict(_item(), job_id="a/b")], ["[0].job_id"]),
    ([{"service_principal_id": SP1, "job_id": JOB1}], ["[0]: credentials is missing"]),
    ([_item(credentials={"Token": TOKEN})], ["[0]: credentials: unknown key 'Token'", "SecretToken"]),
    ([_item(credentials={"SecretToken": ""})], ["SecretToken has no value"]),
    ([_item(), _item(SP1.upper(), JOB1)], ["[1] names the job of entra_sync_credential_jobs[0] again"]),
    ([_item(), _item(job=JOB2, credentials=dict(CREDS, SecretToken="other-token"))], ["[1] gives service principal", "other credentials"]),
    ([_item(credentials={"Token": TOKEN}), dict(_item(), job_id="")], ["[0]: credentials", "[1].job_id"]),
])
def test_bad_jobs_in_one_message_naming_items_and_keys(value, words):
    with pytest.raises(InputError) as caught:
        check_credential_jobs(value)
    message = str(caught.value)
    assert message.startswith("entra.sync.rotate_credentials: bad input, nothing was sent") or "must be a list" in message
    for word in words:
        assert word in message, message
    assert TOKEN not in message and "other-token" not in message


def test_rotation_inputs():
    checked = check_rotation_inputs({"jobs": [_item()], "test_only": "no", "reset_scope": ["quarantinestate"], "wait_timeout": "60",
                                     "report_dir": " out ", "allow_connector_data_store": False})
    assert checked["jobs"][0]["secret_keys"] == ["BaseAddress", "SecretToken"]
    assert (checked["test_only"], checked["reset_scope"], checked["wait_timeout"], checked["report_dir"]) == (False, ["QuarantineState"], 60, "out")
    assert checked["notes"] == []


def test_rotation_inputs_list_every_problem():
    with pytest.raises(InputError) as caught:
        check_rotation_inputs({"jobs": [_item(credentials={"Nope": TOKEN})], "test_only": "maybe", "reset_scope": ["Nope"], "wait_timeout": 0})
    message = str(caught.value)
    for words in ("unknown key 'Nope'", "entra_sync_test_only must be true or false", "entra_sync_wait_timeout", "reset_scope"):
        assert words in message, message
    assert message.count("bad input, nothing was sent") == 1 and TOKEN not in message


def test_tenant_sign_in():
    assert tenant_sign_in({"entra_sync_client_secret": "s"}, "localhost") == {}
    options = tenant_sign_in({"entra_sync_client_id": "app", "entra_sync_client_secret": "s3cret", "entra_sync_tenant_access_token": ""},
                             "contoso.onmicrosoft.com")
    assert options == {"tenant_id": "contoso.onmicrosoft.com", "client_id": "app", "client_secret": "s3cret"}
    assert tenant_sign_in({"entra_sync_tenant_access_token": "tok"}, "t1")["access_token"] == "tok"
    with pytest.raises(InputError, match="auth_method"):
        tenant_sign_in({"entra_sync_auth_method": "magic"}, "t1")


def _tested(index, sp=SP1, job=JOB1, **result):
    base = {"entra_sync_job": {"index": index, "service_principal_id": sp, "job_id": job, "secret_keys": ["SecretToken"]},
            "service_principal_id": sp, "job_id": job, "template_id": "scim", "status_code": "Quarantine", "tested": True,
            "accepted": True, "saved": True, "changed": True}
    base.update(result)
    return base


CHECKED = [{"index": 0, "service_principal_id": SP1, "job_id": JOB1, "secret_keys": ["SecretToken"]},
           {"index": 1, "service_principal_id": SP2, "job_id": JOB2, "secret_keys": ["SecretToken"]}]


def test_saved_jobs():
    tested = [_tested(0), _tested(1, SP2, JOB2, status_code="Paused"), _tested(2, SP2, "scim.x", saved=False)]
    assert saved_jobs(tested, "Quarantine") == [{"service_principal_id": SP1, "job_id": JOB1}]
    assert saved_jobs(tested, "Paused") == [{"service_principal_id": SP2, "job_id": JOB2}]


@pytest.mark.parametrize("tested, restarted, started, error, test_only, outcome, fields", [
    ({}, {"action": "restarted", "wait": {"healthy": True}}, None, "", False, "rotated", {"restarted": True, "healthy": True}),
    ({}, {"action": "skipped", "reason": "no longer quarantined"}, None, "", False, "rotated", {"restarted": False}),
    ({}, {"action": "restarted", "wait": {"healthy": False, "reason": "quarantined again"}}, None, "", False, "failed",
     {"restarted": True, "healthy": False, "message": "restarted, not healthy: quarantined again"}),
    ({}, {"action": "failed", "reason": "HTTP 500"}, None, "", False, "failed", {"message": "HTTP 500"}),
    ({}, None, None, "", False, "failed", {"message": "the restart was not sent"}),
    ({"status_code": "Paused"}, None, {"action": "started"}, "", False, "rotated", {"started": True, "restarted": False}),
    ({"status_code": "Active"}, None, None, "", False, "rotated", {"restarted": False, "started": False}),
    ({"accepted": False, "saved": False, "failed": False, "failed_when_result": False, "msg": "the target refused", "error_code": "X"},
     None, None, "", False, "refused", {"error_code": "X", "message": "the target refused"}),
    ({"accepted": None, "tested": False, "saved": False, "failed": True, "msg": "HTTP 401"}, None, None, "", False, "failed", {}),
    ({"saved": False}, None, None, "", True, "tested", {"saved": False}),
    ({"saved": None, "failed": True, "msg": "lost"}, None, None, "", False, "failed", {"saved": None}),
])
def test_entry_outcomes(tested, restarted, started, error, test_only, outcome, fields):
    status = tested.get("status_code", "Quarantine")
    entries = rotation_entries(CHECKED[:1], [_tested(0, **tested)], [dict(started, service_principal_id=SP1, job_id=JOB1)] if started else [],
                               [dict(restarted, service_principal_id=SP1.upper(), job_id=JOB1)] if restarted else [], "t1", error, test_only)
    entry = entries[0]
    assert entry["outcome"] == outcome, entry
    assert (entry["tenant_id"], entry["status_code"], entry["secret_keys"]) == ("t1", status, ["SecretToken"])
    for name, value in fields.items():
        assert entry[name] == value, (name, entry)


def test_jobs_not_reached_fail_with_the_hosts_error():
    restarted = [{"service_principal_id": SP1, "job_id": JOB1, "action": "restarted", "wait": {"healthy": True}}]
    entries = rotation_entries(CHECKED, [_tested(0)], [], restarted, "t1", "")
    assert [entry["outcome"] for entry in entries] == ["rotated", "failed"]
    assert entries[1]["message"] == "the job's credentials were not tested"
    stopped = rotation_entries(CHECKED, None, None, None, "t1", "Report a sign-in failure: AADSTS7000215")
    assert [(entry["outcome"], entry["message"]) for entry in stopped] == [("failed", "Report a sign-in failure: AADSTS7000215")] * 2


def test_report():
    good = rotation_entries(CHECKED[:1], [_tested(0)], [], [{"service_principal_id": SP1, "job_id": JOB1, "action": "restarted",
                                                             "wait": {"healthy": True}}], "t1")
    refused = rotation_entries(CHECKED[1:], [_tested(1, SP2, JOB2, accepted=False, saved=False, failed=True, msg="refused", error_code="C")],
                               tenant_id="t2")
    report = rotation_report([{"host": "t1", "tenant_id": "t1", "error": "", "jobs": good},
                              {"host": "t2", "tenant_id": "t2", "error": "", "jobs": refused}, None],
                             {"started_at": "a", "finished_at": "b", "test_only": False, "reset_scope": ["QuarantineState"]})
    assert report["summary"] == {"failed": 0, "refused": 1, "rotated": 1, "tested": 0, "total": 2}
    assert report["failed"] == [{"tenant_id": "t2", "service_principal_id": SP2, "job_id": JOB2, "outcome": "refused", "error_code": "C",
                                 "message": "refused"}]
    assert report["kind"] == "rotate_credentials" and [job["job_id"] for job in report["jobs"]] == [JOB1, JOB2]
    assert report["failed_hosts"] == [] and [host["host"] for host in report["hosts"]] == ["t1", "t2"]


def test_credentials_for_a_job_by_job_id_then_service_principal_id():
    from ansible_collections.entra.sync.plugins.module_utils._fleet.rotation import credentials_for
    mapping = {SP1.upper(): {"SecretToken": "by-sp"}, JOB2.upper(): {"SecretToken": "by-job"}}
    assert credentials_for(mapping, SP1, JOB1) == {"SecretToken": "by-sp"}
    assert credentials_for(dict(mapping, **{JOB1: {"SecretToken": "job-wins"}}), SP1, JOB1) == {"SecretToken": "job-wins"}
    assert credentials_for(mapping, SP2, JOB2) == {"SecretToken": "by-job"}
    with pytest.raises(InputError) as caught:
        credentials_for(mapping, SP2, JOB1)
    assert JOB1 in str(caught.value) and "by-sp" not in str(caught.value)
    with pytest.raises(InputError, match="must be a mapping"):
        credentials_for(["x"], SP1, JOB1)
