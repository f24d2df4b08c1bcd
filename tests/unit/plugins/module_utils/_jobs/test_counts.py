# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Job counts by template and status, the status a restart leads to, and the fleet report's counts after a run."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.filter.fleet_counts import FilterModule
from ansible_collections.entra.sync.plugins.module_utils._jobs.counts import add_counts, counts_after, job_counts, status_after
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import status_after_restart
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import Job, Quarantine, job_from_dict
from ansible_collections.entra.sync.plugins.module_utils._modules.runner import found_jobs

T1, T2 = "tenant-1", "tenant-2"


def job(job_id, status, template="scim", tenant=T1, **extra):
    return dict({"tenant_id": tenant, "service_principal_id": "sp-" + job_id, "job_id": job_id, "template_id": template,
                 "status_code": status}, **extra)


def result(found, action, **extra):
    return dict({key: found[key] for key in ("tenant_id", "service_principal_id", "job_id", "template_id", "status_code")},
                action=action, reset_scope=None, **extra)


def test_job_counts_take_job_objects_and_dicts_alike():
    jobs = [Job(template_id="scim", status_code="Quarantine"), job("a", "Active"), job("b", "Active", template="aws"), "junk", None]
    assert job_counts(jobs) == {"aws": {"Active": 1}, "scim": {"Active": 1, "Quarantine": 1}}
    assert job_counts([]) == {} and job_counts(None) == {}


def test_add_counts_sums_tenants_and_drops_zeros():
    assert add_counts({"scim": {"Active": 2, "Quarantine": 1}}, {"scim": {"Active": 1}, "aws": {"Paused": 1}}, None) == {
        "aws": {"Paused": 1}, "scim": {"Active": 3, "Quarantine": 1}}
    assert add_counts({"scim": {"Active": 0}}) == {}
    assert FilterModule().filters()["add_counts"]({"scim": {"Active": 1}}, {"scim": {"Active": 1}}) == {"scim": {"Active": 2}}


@pytest.mark.parametrize("status, quarantine, scope, expected", [
    ("Quarantine", "EncounteredQuarantineException", None, "Active"),          # empty criteria lift the quarantine
    ("Quarantine", "EncounteredQuarantineException", "Escrows, Watermark, QuarantineState", "Active"),
    ("Quarantine", "EncounteredQuarantineException", "Full", "Active"),
    ("Quarantine", "EncounteredQuarantineException", "Watermark", "Quarantine"),  # nothing lifts it
    ("Paused", None, "Watermark", "Active"),
    ("Active", None, "Escrows", "Active"),
    ("NotConfigured", None, None, "NotConfigured"),                             # nothing to run
])
def test_status_after_restart(status, quarantine, scope, expected):
    restarted = Job(status_code=status, quarantine=Quarantine(reason=quarantine) if quarantine else None)
    assert status_after_restart(restarted, scope) == expected


def test_status_after_prefers_a_read_then_the_wait_then_the_expected_status():
    found = job("a", "Quarantine", quarantine_reason="EncounteredQuarantineException")
    restarted = result(found, "restarted")
    assert status_after(restarted, found, job("a", "Paused")) == "Paused"
    assert status_after(dict(restarted, wait={"status_code_after": "Quarantine"}), found, None) == "Quarantine"
    assert status_after(dict(restarted, wait=None), found, None) == "Active"
    assert status_after(dict(restarted, reset_scope="Watermark"), found, None) == "Quarantine"
    assert status_after(result(found, "unknown"), found, None) == "Quarantine"
    assert status_after(result(found, "unknown"), found, job("a", "Active")) == "Active"


def test_counts_after_moves_only_the_jobs_a_run_changed():
    found = [job("q1", "Quarantine"), job("q2", "Quarantine"), job("q3", "Quarantine"), job("q4", "Quarantine", tenant=T2),
             job("q5", "Quarantine")]
    before = {"scim": {"Active": 10, "Quarantine": 5}}
    results = [
        result(found[0], "restarted", wait={"healthy": True, "status_code_after": "Active"}),   # the canary, seen Active
        result(found[1], "restarted"),                                                         # expected Active
        result(found[2], "failed", reason="403"),                                              # not restarted
        result(found[3], "unknown", reason="lost answer"),                                     # may have been: unchanged
        result(found[4], "skipped"),
        {"service_principal_id": "sp-x", "action": "failed", "message": "could not list"},      # a read error: no job
    ]
    assert counts_after(before, results, found) == {"scim": {"Active": 12, "Quarantine": 3}}
    # read again (entra_sync_verify_after): the read wins, for the unknown outcome too, matched by tenant
    read_again = [job("q2", "Quarantine"), job("q4", "Active", tenant=T2)]
    assert counts_after(before, results, found, read_again) == {"scim": {"Active": 12, "Quarantine": 3}}
    assert counts_after(before, results[1:2], found, [job("q2", "Paused")]) == {"scim": {"Active": 10, "Paused": 1, "Quarantine": 4}}
    # a job read again without its tenant still matches
    unnamed = dict(job("q2", "Paused"), tenant_id=None)
    assert counts_after(before, results[1:2], found, [unnamed]) == {"scim": {"Active": 10, "Paused": 1, "Quarantine": 4}}
    assert FilterModule().filters()["counts_after"] is counts_after


def test_counts_after_never_goes_below_zero_and_counts_from_the_status_discovery_found():
    found = [job("q1", "Quarantine")]
    # the result was decided on a status read again (older than max_status_age): the count before is discovery's
    restarted = dict(result(found[0], "restarted"), status_code="Paused")
    assert counts_after({"scim": {"Quarantine": 1}}, [restarted], found) == {"scim": {"Active": 1}}
    # a result with no job counted before (a different template in the counts) moves nothing
    assert counts_after({"aws": {"Active": 1}}, [restarted], found) == {"aws": {"Active": 1}}
    # without the found jobs, the result's own status is the one counted before
    assert counts_after({"scim": {"Paused": 1}}, [restarted], []) == {"scim": {"Active": 1}}
    assert counts_after({}, [], []) == {}


def test_found_jobs_returns_every_job_or_only_the_candidates_with_the_counts():
    jobs = [job_from_dict(job("q1", "Quarantine")), job_from_dict(job("a1", "Active")),
            job_from_dict(job("f1", "Active", last_execution_state="Failed"))]
    every = found_jobs(jobs, None, "2026-01-01T00:00:00.000000Z", T1)
    assert set(every) == {"jobs_found", "job_counts", "remedy_counts", "jobs"}
    assert [item["job_id"] for item in every["jobs"]] == ["q1", "a1", "f1"]
    assert every["jobs"][0]["status_read_at"] == "2026-01-01T00:00:00.000000Z" and every["jobs"][0]["tenant_id"] == T1
    picked = found_jobs(jobs, ["quarantined", "failed"], "2026-01-01T00:00:00.000000Z", T1)
    assert set(picked) == {"jobs_found", "job_counts", "remedy_counts", "restart_candidates", "left_alone"}
    assert [item["job_id"] for item in picked["restart_candidates"]] == ["q1", "f1"]
    assert picked["jobs_found"] == 3 and picked["job_counts"] == {"scim": {"Active": 2, "Quarantine": 1}}
    assert found_jobs(jobs, ["paused"], "t", T1)["restart_candidates"] == []


def test_found_jobs_diagnose_every_job_and_hold_back_what_a_restart_cannot_fix():
    deletes = job_from_dict(dict(job("d1", "Quarantine"), quarantine_reason="TooManyDeletes"))
    escrow = job_from_dict(dict(job("e1", "Quarantine"), quarantine_reason="EncounteredBaseEscrowThreshold"))
    pruned = job_from_dict(dict(job("p1", "Paused"), escrows_pruned=True))
    healthy = job_from_dict(job("a1", "Active"))
    jobs = [deletes, escrow, pruned, healthy]
    every = found_jobs(jobs, None, "t", T1)
    assert [item["remedy"] for item in every["jobs"]] == ["approve_deletes", "restart", "clean_up_errors", "none"]
    assert every["remedy_counts"] == {"restart": 1, "credentials": 0, "fix_target": 0, "approve_deletes": 1, "support": 0, "clean_up_errors": 1}
    assert all(item["remedy_reason"] for item in every["jobs"])
    # restart_if alone: every quarantine is a candidate; the escrows-pruned job never is (the modules leave it alone).
    picked = found_jobs(jobs, ["quarantined", "paused"], "t", T1)
    assert [item["job_id"] for item in picked["restart_candidates"]] == ["d1", "e1"]
    assert [item["job_id"] for item in picked["left_alone"]] == ["p1"]
    # restart_remedies: only what a restart fixes; the others are left alone with their remedy.
    picked = found_jobs(jobs, ["quarantined", "paused"], "t", T1, ("restart",))
    assert [item["job_id"] for item in picked["restart_candidates"]] == ["e1"]
    assert [(item["job_id"], item["remedy"]) for item in picked["left_alone"]] == [("d1", "approve_deletes"), ("p1", "clean_up_errors")]
    # clean_up_errors in restart_remedies is the override for the escrows-pruned job.
    picked = found_jobs(jobs, ["paused"], "t", T1, ("restart", "clean_up_errors"))
    assert [item["job_id"] for item in picked["restart_candidates"]] == ["p1"]
