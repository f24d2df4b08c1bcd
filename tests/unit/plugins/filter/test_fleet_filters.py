"""The fleet playbook's filters: restart_candidates reuses the modules' decision on sync_job_info output."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.entra.sync.plugins.filter.fleet_filters import (
    FilterModule,
    action_counts,
    fleet_inputs,
    job_counts,
    report_entry,
    restart_candidates,
    tenant_entry,
)
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import job_from_dict, parse_job

QUARANTINED = {"job_id": "scim.1", "template_id": "scim", "status_code": "Quarantine", "quarantine_reason": "EncounteredQuarantineException"}
FAILED = {"job_id": "scim.2", "template_id": "scim", "status_code": "Active", "last_execution_state": "Failed"}
HEALTHY = {"job_id": "aws.3", "template_id": "aws", "status_code": "Active", "last_execution_state": "Succeeded"}
PAUSED_WITH_QUARANTINE = {"job_id": "aws.4", "template_id": "aws", "status_code": "paused", "quarantine": {"reason": "TooManyDeletes"}}
JOBS = [QUARANTINED, FAILED, HEALTHY, PAUSED_WITH_QUARANTINE]


@pytest.mark.parametrize("restart_if, expected", [
    (["quarantined"], ["scim.1"]),
    (["failed"], ["scim.2"]),
    (["quarantined", "failed"], ["scim.1", "scim.2"]),
    (["paused"], ["aws.4"]),
    (["always"], ["scim.1", "scim.2", "aws.3", "aws.4"]),
    (["entry_errors"], []),
])
def test_restart_candidates_follow_restart_if(restart_if, expected):
    assert [job["job_id"] for job in restart_candidates(JOBS, restart_if)] == expected


def test_restart_candidates_refuse_bad_conditions_and_input():
    with pytest.raises(AnsibleFilterError, match="restart_if"):
        restart_candidates(JOBS, ["sometimes"])
    with pytest.raises(AnsibleFilterError, match="list of jobs"):
        restart_candidates("scim.1", ["always"])


def test_job_from_dict_round_trips_the_decision_fields():
    raw = {"id": "scim.9", "templateId": "scim", "schedule": {"state": "Active"},
           "status": {"code": "Quarantine", "quarantine": {"reason": "TooManyDeletes", "currentBegan": "2026-01-02T03:04:05Z"},
                      "lastExecution": {"state": "Failed"}, "countSuccessiveCompleteFailures": 3}}
    job = parse_job(raw, {"id": "00000000-0000-0000-0000-000000000001"})
    again = job_from_dict(job.to_dict())
    for name in ("job_id", "template_id", "status_code", "schedule_state", "last_execution_state", "quarantine_reason",
                 "count_successive_complete_failures", "service_principal_id"):
        assert getattr(again, name) == getattr(job, name), name
    assert job_from_dict("junk").status_code is None


def test_job_counts_by_template_then_status():
    assert job_counts(JOBS + [{"status_code": None}, "junk"]) == {
        "aws": {"Active": 1, "paused": 1},
        "scim": {"Active": 1, "Quarantine": 1},
        "unknown": {"unknown": 1},
    }
    assert set(FilterModule().filters()) == {
        "restart_candidates", "job_counts", "action_counts", "report_entry", "tenant_entry", "fleet_inputs",
    }


def test_action_counts_report_entry_and_tenant_entry():
    results = [{"action": "restarted"}, {"action": "failed"}, {"action": "restarted"}, "junk"]
    counts = action_counts(results)
    assert counts["restarted"] == 2 and counts["failed"] == 1 and counts["skipped"] == 0 and counts["total"] == 3

    entry = report_entry(dict(QUARANTINED, action="failed", reason="boom", extra="dropped"))
    assert entry == {"tenant_id": None, "service_principal_id": None, "job_id": "scim.1", "template_id": "scim",
                     "status_code": "Quarantine", "action": "failed", "reason": "boom"}

    unreadable = report_entry({"service_principal_id": "sp", "job_id": "scim.1", "action": "failed", "message": "HTTP 404"})
    assert unreadable["reason"] == "HTTP 404"

    assert tenant_entry(" contoso.onmicrosoft.com ") == {"tenant_id": "contoso.onmicrosoft.com"}
    assert tenant_entry({"tenant_id": "t2", "client_id": "c"}) == {"tenant_id": "t2", "client_id": "c"}
    for bad in ("", {"client_id": "c"}, 5, None):
        with pytest.raises(AnsibleFilterError, match="entra_sync_tenants"):
            tenant_entry(bad)


def test_fleet_inputs_checks_with_the_modules_rules():
    good = {"service_principal_id": "6F1C4B6E-2B55-4E0B-9D5C-3C4F0E0F1A2B", "job_id": "scim.1", "tenant_id": "t1"}
    checked = fleet_inputs({"jobs": [good, dict(good)], "restart_if": ["Quarantined"], "reset_scope": ["watermark", "escrows"],
                            "allow_connector_data_store": False})
    assert checked["restart_if"] == ["quarantined"]
    assert checked["reset_scope"] == ["Escrows", "Watermark"]
    assert checked["jobs"] == [dict(good, service_principal_id=good["service_principal_id"].lower())]
    assert any("duplicates" in note for note in checked["notes"])
    assert fleet_inputs({"jobs": None, "restart_if": ["always"], "reset_scope": []})["jobs"] is None
    for inputs, words in (
        ({"jobs": [{"service_principal_id": "x", "job_id": "scim.1"}], "restart_if": ["always"]}, "GUID"),
        ({"jobs": None, "restart_if": ["bogus"]}, "quarantined"),
        ({"jobs": None, "restart_if": ["always"], "reset_scope": ["ConnectorDataStore"]}, "allow_connector_data_store"),
        ({"jobs": None, "restart_if": ["always"], "reset_scope": ["None"]}, "sync_job"),
    ):
        with pytest.raises(AnsibleFilterError, match=words):
            fleet_inputs(inputs)
