# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a fleet run shows of the jobs it touched: report entries with names, and capped console lines."""

from ansible_collections.entra.sync.plugins.filter.touched_jobs import FilterModule, job_lines, to_do_lines, touched_jobs

FOUND = [
    {"tenant_id": "t1", "service_principal_id": "sp1", "job_id": "scim.1", "service_principal_name": "Box 4", "quarantine_error_code": "E1"},
    {"tenant_id": "t1", "service_principal_id": "sp2", "job_id": "scim.2", "service_principal_name": "Slack"},
]
RESULTS = [
    {"tenant_id": "t1", "service_principal_id": "sp2", "job_id": "scim.2", "action": "failed", "reason": "HTTP 500:\n boom"},
    {"tenant_id": "t1", "service_principal_id": "sp9", "job_id": "scim.9", "action": "skipped", "reason": "healthy"},
    {"tenant_id": "t1", "service_principal_id": "sp1", "job_id": "scim.1", "action": "restarted", "reason": "quarantined"},
    {"tenant_id": "t1", "service_principal_id": "sp3", "job_id": None, "action": "unknown", "message": "lost"},
]


def test_touched_jobs_restarted_then_failed_then_unknown_with_names():
    entries = touched_jobs(RESULTS, FOUND)
    assert [(entry["action"], entry["job_id"]) for entry in entries] == [("restarted", "scim.1"), ("failed", "scim.2"), ("unknown", None)]
    assert [entry["service_principal_name"] for entry in entries] == ["Box 4", "Slack", None]
    assert [entry["quarantine_error_code"] for entry in entries] == ["E1", None, None]
    assert entries[2]["reason"] == "lost"
    assert touched_jobs(None) == [] and touched_jobs(["junk"], None) == []
    assert set(FilterModule().filters()) == {"touched_jobs", "job_lines", "to_do_lines"}


def test_job_lines_say_who_and_why_and_cap_the_list():
    entries = touched_jobs(RESULTS, FOUND)
    lines = job_lines(entries)
    assert lines[0] == "restarted: Box 4 (service principal sp1, job scim.1) - quarantined"
    assert lines[1] == "failed: Slack (service principal sp2, job scim.2) - HTTP 500: boom"
    assert lines[2] == "unknown: (no name) (service principal sp3, job None) - lost"
    assert job_lines(entries, 2) == lines[:2] + ["and 1 more (see the report)"]
    assert job_lines(entries * 10, "5")[-1] == "and 25 more (see the report)"
    assert job_lines([]) == []


def test_to_do_lines_say_the_remedy_the_deadline_and_what_to_do():
    entries = [
        {"service_principal_id": "sp1", "job_id": "scim.1", "service_principal_name": "Box 4", "remedy": "credentials",
         "remedy_reason": "get a new secret token,\n test it", "disables_at": "2026-12-09T08:00:00Z", "disables_soon": True},
        {"service_principal_id": "sp2", "job_id": "scim.2", "service_principal_name": "Slack", "remedy": "approve_deletes",
         "remedy_reason": "release the deletes", "disables_at": "2027-01-01T00:00:00Z", "disables_soon": False},
        {"service_principal_id": "sp3", "job_id": "scim.3", "remedy": "clean_up_errors", "remedy_reason": "clean up", "disables_at": None},
    ]
    assert to_do_lines(entries) == [
        "credentials, disabled SOON, 2026-12-09T08:00:00Z: Box 4 (service principal sp1, job scim.1) - get a new secret token, test it",
        "approve_deletes, disabled 2027-01-01T00:00:00Z: Slack (service principal sp2, job scim.2) - release the deletes",
        "clean_up_errors: (no name) (service principal sp3, job scim.3) - clean up",
    ]
    assert to_do_lines(entries, 1)[-1] == "and 2 more (see the report)"
