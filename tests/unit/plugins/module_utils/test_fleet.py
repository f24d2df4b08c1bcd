# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the fleet runner: read, decide, restart (or not), one result per job in input order."""

from __future__ import annotations

import random
import threading
import time

import pytest

from ansible_collections.entra.sync.plugins.module_utils.auth import AuthError
from ansible_collections.entra.sync.plugins.module_utils.fleet import Outcome, Restarter, RestartPlan, run_bounded
from ansible_collections.entra.sync.plugins.module_utils.graph import GraphError
from ansible_collections.entra.sync.plugins.module_utils.jobs import JobTarget, summarize

SP_ID = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
OTHER_SP_ID = "11111111-2222-4333-8444-555555555555"
SCIM_JOB = "scim.0123456789abcdef0123456789abcdef"
AD_JOB = "AD2AADProvisioning.fd1c9b9e8077402c8bc03a7186c8f976"
RESULT_KEYS = {"service_principal_id", "job_id", "template_id", "status_code", "action", "reason", "reset_scope"}


def raw_job(job_id, code="Active", schedule="Active", last="Succeeded", quarantine_reason=None):
    status = {"code": code, "lastExecution": {"state": last, "timeBegan": "2024-01-01T00:00:00Z"}, "quarantine": None}
    if quarantine_reason:
        status["quarantine"] = {"reason": quarantine_reason, "currentBegan": "2024-01-01T00:00:00Z"}
    return {"id": job_id, "templateId": job_id.split(".")[0], "schedule": {"state": schedule, "interval": "PT40M"}, "status": status}


QUARANTINED = raw_job(SCIM_JOB, code="Quarantine", last="Failed", quarantine_reason="EncounteredEscrowProportionThreshold")
ACTIVE = raw_job(AD_JOB)


class FakeApi:
    """The three SyncApi calls the fleet uses; records restarts; errors scripted per job id."""

    def __init__(self, jobs, read_errors=None, restart_errors=None, list_error=None, jitter=0.0):
        self.jobs = jobs  # {(sp, job_id): raw}
        self.read_errors = read_errors or {}
        self.restart_errors = restart_errors or {}
        self.list_error = list_error
        self.jitter = jitter
        self.restarts = []
        self.reads = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def _enter(self):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        if self.jitter:
            time.sleep(random.uniform(0, self.jitter))

    def _leave(self):
        with self.lock:
            self.in_flight -= 1

    def get_job(self, service_principal_id, job_id):
        self._enter()
        try:
            with self.lock:
                self.reads.append((service_principal_id, job_id))
            if job_id in self.read_errors:
                raise self.read_errors[job_id]
            return self.jobs[(service_principal_id, job_id)]
        finally:
            self._leave()

    def list_jobs(self, service_principal_id):
        if self.list_error is not None:
            raise self.list_error
        return [raw for (sp_id, dummy), raw in self.jobs.items() if sp_id == service_principal_id]

    def restart(self, service_principal_id, job_id, body):
        self._enter()
        try:
            with self.lock:
                self.restarts.append((service_principal_id, job_id, body))
            if job_id in self.restart_errors:
                raise self.restart_errors[job_id]
        finally:
            self._leave()


def plan(*conditions, reset_scope=None, check_mode=False):
    return RestartPlan(conditions=tuple(conditions) or ("always",), reset_scope=reset_scope, check_mode=check_mode)


def one(api, restart_plan, job_id, sp_id=SP_ID):
    outcome = Restarter(api, restart_plan).restart_target(JobTarget(sp_id, job_id))
    assert isinstance(outcome, Outcome)
    assert set(outcome.result) == RESULT_KEYS
    return outcome


# ---------------------------------------------------------------------------------------------------
# One job


def test_restarted_when_a_condition_matches():
    api = FakeApi({(SP_ID, SCIM_JOB): QUARANTINED})
    outcome = one(api, plan("quarantined", reset_scope="Escrows, Watermark, QuarantineState"), SCIM_JOB)
    assert outcome.result == {
        "service_principal_id": SP_ID,
        "job_id": SCIM_JOB,
        "template_id": "scim",
        "status_code": "Quarantine",
        "action": "restarted",
        "reason": outcome.result["reason"],
        "reset_scope": "Escrows, Watermark, QuarantineState",
    }
    assert "quarantined" in outcome.result["reason"]
    assert api.restarts == [(SP_ID, SCIM_JOB, {"criteria": {"resetScope": "Escrows, Watermark, QuarantineState"}})]
    assert outcome.found == {
        "status_code": "Quarantine",
        "schedule_state": "Active",
        "quarantine_reason": "EncounteredEscrowProportionThreshold",
        "last_execution_state": "Failed",
    }


def test_no_scope_sends_empty_criteria():
    api = FakeApi({(SP_ID, AD_JOB): ACTIVE})
    outcome = one(api, plan("always"), AD_JOB)
    assert outcome.result["action"] == "restarted"
    assert outcome.result["reset_scope"] is None
    assert api.restarts == [(SP_ID, AD_JOB, {"criteria": {}})]


def test_skipped_when_no_condition_matches():
    api = FakeApi({(SP_ID, AD_JOB): ACTIVE})
    outcome = one(api, plan("quarantined", "failed"), AD_JOB)
    assert outcome.result["action"] == "skipped"
    assert outcome.result["status_code"] == "Active"
    assert "restart_if" in outcome.result["reason"]
    assert api.restarts == []
    assert api.reads == [(SP_ID, AD_JOB)]


@pytest.mark.parametrize("conditions", [("always",), ("quarantined",), ("failed", "paused")])
def test_check_mode_never_restarts(conditions):
    api = FakeApi({(SP_ID, SCIM_JOB): QUARANTINED})
    outcome = one(api, plan(*conditions, check_mode=True), SCIM_JOB)
    assert outcome.result["action"] == "would_restart"
    assert api.restarts == []


def test_check_mode_still_skips():
    api = FakeApi({(SP_ID, AD_JOB): ACTIVE})
    assert one(api, plan("quarantined", check_mode=True), AD_JOB).result["action"] == "skipped"


def test_failed_on_a_graph_error():
    error = GraphError("POST ... failed: HTTP 401 UnknownError (the token lacks Synchronization.ReadWrite.All)", status=401, code="UnknownError")
    api = FakeApi({(SP_ID, SCIM_JOB): QUARANTINED}, restart_errors={SCIM_JOB: error})
    outcome = one(api, plan("quarantined"), SCIM_JOB)
    assert outcome.result["action"] == "failed"
    assert "Synchronization.ReadWrite.All" in outcome.result["reason"]
    assert outcome.result["status_code"] == "Quarantine"
    assert len(api.restarts) == 1


def test_unknown_when_the_outcome_is_unknown():
    error = GraphError("POST ...: the request was sent but no answer came back (ReadTimeout)", outcome_unknown=True)
    api = FakeApi({(SP_ID, SCIM_JOB): QUARANTINED}, restart_errors={SCIM_JOB: error})
    outcome = one(api, plan("quarantined"), SCIM_JOB)
    assert outcome.result["action"] == "unknown"
    assert "ReadTimeout" in outcome.result["reason"]
    assert len(api.restarts) == 1


def test_failed_on_an_auth_error_during_restart():
    api = FakeApi({(SP_ID, SCIM_JOB): QUARANTINED}, restart_errors={SCIM_JOB: AuthError("The access_token has expired")})
    outcome = one(api, plan("always"), SCIM_JOB)
    assert outcome.result["action"] == "failed"
    assert "expired" in outcome.result["reason"]


@pytest.mark.parametrize("error", [GraphError("GET ... failed: HTTP 404", status=404), AuthError("Sign-in as app failed")])
def test_read_failure_is_failed_without_a_restart(error):
    api = FakeApi({(SP_ID, SCIM_JOB): QUARANTINED}, read_errors={SCIM_JOB: error})
    outcome = one(api, plan("always"), SCIM_JOB)
    assert outcome.result["action"] == "failed"
    assert outcome.result["reason"].startswith("reading the job failed: ")
    assert str(error) in outcome.result["reason"]
    assert outcome.result["job_id"] == SCIM_JOB
    assert outcome.result["template_id"] is None
    assert outcome.result["status_code"] is None
    assert outcome.found is None
    assert api.restarts == []


def test_a_read_without_a_job_id_keeps_the_target_ids():
    api = FakeApi({(SP_ID, SCIM_JOB): {}})
    outcome = one(api, plan("always"), SCIM_JOB)
    assert outcome.result["job_id"] == SCIM_JOB
    assert all(job_id == SCIM_JOB for dummy, job_id, dummy2 in api.restarts)


# ---------------------------------------------------------------------------------------------------
# Many jobs


def fleet(count):
    jobs = {}
    for index in range(count):
        job_id = "scim.%032x" % index
        if index % 3 == 0:
            jobs[(SP_ID, job_id)] = raw_job(job_id, code="Quarantine", quarantine_reason="TooManyDeletes")
        else:
            jobs[(SP_ID, job_id)] = raw_job(job_id)
    return jobs


def test_results_keep_input_order_under_concurrency():
    jobs = fleet(48)
    api = FakeApi(jobs, jitter=0.004)
    targets = [JobTarget(sp_id, job_id, index) for index, (sp_id, job_id) in enumerate(reversed(list(jobs)))]
    outcomes = Restarter(api, plan("quarantined")).restart_targets(targets, concurrency=8)
    assert [outcome.result["job_id"] for outcome in outcomes] == [target.job_id for target in targets]
    expected_actions = ["restarted" if int(target.job_id.split(".")[1], 16) % 3 == 0 else "skipped" for target in targets]
    assert [outcome.result["action"] for outcome in outcomes] == expected_actions
    # Each quarantined job restarted exactly once, none of the others.
    restarted = [job_id for dummy, job_id, dummy2 in api.restarts]
    assert sorted(restarted) == sorted(t.job_id for t, action in zip(targets, expected_actions) if action == "restarted")
    assert len(set(restarted)) == len(restarted)
    assert 1 < api.peak <= 8


def test_a_failure_in_the_fleet_does_not_stop_the_others():
    jobs = fleet(9)
    ids = [job_id for dummy, job_id in jobs]
    api = FakeApi(
        jobs,
        read_errors={ids[1]: GraphError("HTTP 404", status=404)},
        restart_errors={ids[3]: GraphError("timeout", outcome_unknown=True), ids[6]: GraphError("HTTP 500", status=500)},
        jitter=0.002,
    )
    targets = [JobTarget(SP_ID, job_id, index) for index, job_id in enumerate(ids)]
    outcomes = Restarter(api, plan("always")).restart_targets(targets, concurrency=4)
    actions = [outcome.result["action"] for outcome in outcomes]
    assert actions == ["restarted", "failed", "restarted", "unknown", "restarted", "restarted", "failed", "restarted", "restarted"]
    summary = summarize([outcome.result for outcome in outcomes])
    assert summary["restarted"] == 6 and summary["failed"] == 2 and summary["unknown"] == 1 and summary["total"] == 9


def test_check_mode_over_a_fleet_sends_nothing():
    jobs = fleet(12)
    api = FakeApi(jobs)
    targets = [JobTarget(sp_id, job_id) for sp_id, job_id in jobs]
    outcomes = Restarter(api, plan("always", check_mode=True)).restart_targets(targets, concurrency=8)
    assert {outcome.result["action"] for outcome in outcomes} == {"would_restart"}
    assert api.restarts == []
    assert len(api.reads) == 12


def test_run_bounded_keeps_order_and_bounds_concurrency():
    lock = threading.Lock()
    state = {"in_flight": 0, "peak": 0}

    def worker(item):
        with lock:
            state["in_flight"] += 1
            state["peak"] = max(state["peak"], state["in_flight"])
        time.sleep(random.uniform(0, 0.004))
        with lock:
            state["in_flight"] -= 1
        return item * 2

    items = list(range(40))
    assert run_bounded(items, worker, 8) == [item * 2 for item in items]
    assert 1 < state["peak"] <= 8


@pytest.mark.parametrize("concurrency", [0, 1])
def test_run_bounded_sequential_runs_in_the_calling_thread(concurrency):
    threads = []

    def worker(item):
        threads.append(threading.current_thread())
        return item

    assert run_bounded(iter([3, 1, 2]), worker, concurrency) == [3, 1, 2]
    assert set(threads) == {threading.current_thread()}


def test_run_bounded_with_nothing():
    assert run_bounded([], lambda item: item, 8) == []


# ---------------------------------------------------------------------------------------------------
# All jobs of one service principal


def service_principal_jobs():
    return {
        (SP_ID, SCIM_JOB): QUARANTINED,
        (SP_ID, AD_JOB): raw_job(AD_JOB, code="Quarantine", quarantine_reason="TooManyDeletes"),
        (SP_ID, "scim.ffffffffffffffffffffffffffffffff"): raw_job("scim.ffffffffffffffffffffffffffffffff"),
        (OTHER_SP_ID, "scim.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"): raw_job("scim.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", code="Quarantine"),
    }


def test_restart_service_principal_with_a_template_filter():
    api = FakeApi(service_principal_jobs())
    outcomes = Restarter(api, plan("quarantined")).restart_service_principal(SP_ID, template_id="SCIM", concurrency=4)
    assert [(o.result["job_id"], o.result["action"]) for o in outcomes] == [
        (SCIM_JOB, "restarted"),
        ("scim.ffffffffffffffffffffffffffffffff", "skipped"),
    ]
    assert [(sp_id, job_id) for sp_id, job_id, dummy in api.restarts] == [(SP_ID, SCIM_JOB)]
    # Listing gave the status: no job is read again.
    assert api.reads == []
    assert all(o.result["service_principal_id"] == SP_ID for o in outcomes)


def test_restart_service_principal_without_a_filter():
    api = FakeApi(service_principal_jobs())
    outcomes = Restarter(api, plan("quarantined")).restart_service_principal(SP_ID)
    assert [o.result["job_id"] for o in outcomes] == [SCIM_JOB, AD_JOB, "scim.ffffffffffffffffffffffffffffffff"]
    assert sorted(job_id for dummy, job_id, dummy2 in api.restarts) == sorted([SCIM_JOB, AD_JOB])


def test_restart_service_principal_with_no_matching_template():
    api = FakeApi(service_principal_jobs())
    assert Restarter(api, plan("always")).restart_service_principal(SP_ID, template_id="aws") == []
    assert api.restarts == []


def test_restart_service_principal_list_failure_propagates():
    api = FakeApi({}, list_error=GraphError("HTTP 403", status=403))
    with pytest.raises(GraphError):
        Restarter(api, plan("always")).restart_service_principal(SP_ID)
    assert api.restarts == []


def test_plan_body():
    assert plan("always").body == {"criteria": {}}
    assert plan("always", reset_scope="Watermark").body == {"criteria": {"resetScope": "Watermark"}}
