# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the one read -> decide -> send path (restart.py, state.py): one result per job in input order."""

from __future__ import annotations

import random
import threading
import time

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph.concurrency import run_bounded
from ansible_collections.entra.sync.plugins.module_utils._graph.sync_api import SyncApi
from ansible_collections.entra.sync.plugins.module_utils._jobs.results import summarize
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import JobTarget
from ansible_collections.entra.sync.plugins.module_utils._service.restart import Outcome, Restarter, RestartPlan

SP_ID = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
OTHER_SP_ID = "11111111-2222-4333-8444-555555555555"
SCIM_JOB = "scim.0123456789abcdef0123456789abcdef"
AD_JOB = "AD2AADProvisioning.fd1c9b9e8077402c8bc03a7186c8f976"
RESULT_KEYS = {"service_principal_id", "job_id", "template_id", "status_code", "action", "reason", "reset_scope", "remedy", "remedy_reason",
               "disables_at"}


def raw_job(job_id, code="Active", schedule="Active", last="Succeeded", quarantine_reason=None):
    status = {"code": code, "lastExecution": {"state": last, "timeBegan": "2024-01-01T00:00:00Z"}, "quarantine": None}
    if quarantine_reason:
        status["quarantine"] = {"reason": quarantine_reason, "currentBegan": "2024-01-01T00:00:00Z"}
    return {"id": job_id, "templateId": job_id.split(".")[0], "schedule": {"state": schedule, "interval": "PT40M"}, "status": status}


QUARANTINED = raw_job(SCIM_JOB, code="Quarantine", last="Failed", quarantine_reason="EncounteredEscrowProportionThreshold")
ACTIVE = raw_job(AD_JOB)


class FakeApi(SyncApi):
    """A SyncApi whose single calls (get_job, list_jobs, restart) are scripted; records restarts; errors per job id."""

    def __init__(self, jobs, read_errors=None, restart_errors=None, list_error=None, jitter=0.0):
        super().__init__(client=None)
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
    outcome = Restarter(api, restart_plan).restart_many([JobTarget(sp_id, job_id)])[0]
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
        "remedy": "restart",
        "remedy_reason": outcome.result["remedy_reason"],
        "disables_at": None,
    }
    assert "quarantined" in outcome.result["reason"]
    assert "EncounteredEscrowProportionThreshold" in outcome.result["remedy_reason"]
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
    outcomes = Restarter(api, plan("quarantined")).restart_many(targets, concurrency=8)
    assert [outcome.result["job_id"] for outcome in outcomes] == [target.job_id for target in targets]
    expected_actions = ["restarted" if int(target.job_id.split(".")[1], 16) % 3 == 0 else "skipped" for target in targets]
    assert [outcome.result["action"] for outcome in outcomes] == expected_actions
    # Each quarantined job restarted exactly once, none of the others.
    restarted = [job_id for dummy, job_id, dummy2 in api.restarts]
    assert sorted(restarted) == sorted(t.job_id for t, action in zip(targets, expected_actions, strict=True) if action == "restarted")
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
    outcomes = Restarter(api, plan("always")).restart_many(targets, concurrency=4)
    actions = [outcome.result["action"] for outcome in outcomes]
    assert actions == ["restarted", "failed", "restarted", "unknown", "restarted", "restarted", "failed", "restarted", "restarted"]
    summary = summarize([outcome.result for outcome in outcomes])
    assert summary["restarted"] == 6 and summary["failed"] == 2 and summary["unknown"] == 1 and summary["total"] == 9


def test_check_mode_over_a_fleet_sends_nothing():
    jobs = fleet(12)
    api = FakeApi(jobs)
    targets = [JobTarget(sp_id, job_id) for sp_id, job_id in jobs]
    outcomes = Restarter(api, plan("always", check_mode=True)).restart_many(targets, concurrency=8)
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
    outcomes = Restarter(api, plan("quarantined")).restart_service_principal(SP_ID, template_ids=["SCIM"], concurrency=4)
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
    assert Restarter(api, plan("always")).restart_service_principal(SP_ID, template_ids=["aws"]) == []
    assert api.restarts == []


def test_restart_service_principal_list_failure_propagates():
    api = FakeApi({}, list_error=GraphError("HTTP 403", status=403))
    with pytest.raises(GraphError):
        Restarter(api, plan("always")).restart_service_principal(SP_ID)
    assert api.restarts == []


def test_plan_body():
    assert plan("always").body == {"criteria": {}}
    assert plan("always", reset_scope="Watermark").body == {"criteria": {"resetScope": "Watermark"}}


# ---------------------------------------------------------------------------------------------------
# wait after the restarts (fake clock; GETs only)

class SequenceApi(FakeApi):
    """get_job answers from a per-job script once the job was restarted (the read before the restart uses .jobs)."""

    def __init__(self, jobs, after_restart, **kwargs):
        super().__init__(jobs, **kwargs)
        self.after_restart = {key: list(answers) for key, answers in after_restart.items()}
        self.posts = []

    def get_job(self, service_principal_id, job_id):
        restarted = any(r[:2] == (service_principal_id, job_id) for r in self.restarts)
        script = self.after_restart.get(job_id)
        if restarted and script:
            with self.lock:
                self.reads.append((service_principal_id, job_id))
                answer = script.pop(0) if len(script) > 1 else script[0]
            if isinstance(answer, Exception):
                raise answer
            return answer
        return super().get_job(service_principal_id, job_id)

    def start(self, service_principal_id, job_id):
        self.posts.append(("start", service_principal_id, job_id))
        if job_id in self.restart_errors:
            raise self.restart_errors[job_id]

    def pause(self, service_principal_id, job_id):
        self.posts.append(("pause", service_principal_id, job_id))
        if job_id in self.restart_errors:
            raise self.restart_errors[job_id]


class Clock:
    """A fake monotonic clock that starts at the real one (restarts record time.monotonic()) and only moves on sleep."""

    def __init__(self):
        self.now = time.monotonic()

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def wait_policy(timeout=10, interval=1):
    from ansible_collections.entra.sync.plugins.module_utils._jobs.waiting import WaitPolicy
    return WaitPolicy(timeout=timeout, interval=interval)


RELAPSED = raw_job(SCIM_JOB, code="Quarantine", last="Failed", quarantine_reason="EncounteredQuarantineException")
RELAPSED["status"]["quarantine"]["currentBegan"] = "2999-01-01T00:00:00Z"  # began after the restart


def test_wait_healthy_reports_each_restarted_job_and_never_posts_again():
    third = "scim.dddddddddddddddddddddddddddddddd"
    jobs = {(SP_ID, SCIM_JOB): QUARANTINED, (SP_ID, AD_JOB): ACTIVE,
            (SP_ID, third): raw_job(third, code="Quarantine", quarantine_reason="Unknown")}
    api = SequenceApi(jobs, {SCIM_JOB: [QUARANTINED, raw_job(SCIM_JOB)], third: [RELAPSED]})
    restarter = Restarter(api, plan("quarantined"))
    outcomes = restarter.restart_many([JobTarget(SP_ID, SCIM_JOB), JobTarget(SP_ID, AD_JOB), JobTarget(SP_ID, third)], 4)
    assert len(api.restarts) == 2
    clock = Clock()
    restarter.wait_healthy(outcomes, wait_policy(), 4, clock=clock, sleep=clock.sleep)
    assert len(api.restarts) == 2, "waiting must never restart again"
    healthy, skipped, relapsed = (o.result for o in outcomes)
    assert skipped["action"] == "skipped" and skipped["wait"] is None
    assert healthy["action"] == "restarted" and healthy["wait"]["healthy"] is True and healthy["wait"]["polls"] == 2
    assert healthy["wait"]["status_code_after"] == "Active" and healthy["wait"]["quarantine_reason_after"] is None
    assert relapsed["action"] == "restarted" and relapsed["wait"]["healthy"] is False and relapsed["wait"]["relapsed"] is True
    assert relapsed["wait"]["polls"] == 1
    assert set(healthy["wait"]) == {"healthy", "relapsed", "status_code_after", "quarantine_reason_after",
                                    "schedule_state_after", "waited_seconds", "polls", "reason"}


def test_wait_healthy_times_out_on_a_job_that_stays_quarantined():
    api = SequenceApi({(SP_ID, SCIM_JOB): QUARANTINED}, {SCIM_JOB: [QUARANTINED]})
    restarter = Restarter(api, plan("quarantined"))
    outcomes = restarter.restart_many([JobTarget(SP_ID, SCIM_JOB)], 1)
    clock = Clock()
    start = clock.now
    restarter.wait_healthy(outcomes, wait_policy(timeout=5, interval=1), 1, clock=clock, sleep=clock.sleep)
    wait = outcomes[0].result["wait"]
    assert wait["healthy"] is False and wait["relapsed"] is False and wait["status_code_after"] == "Quarantine"
    assert "wait_timeout 5 s" in wait["reason"]
    assert clock.now - start <= 5.0 + 1e-9


def test_wait_healthy_stops_on_a_fatal_read_error_and_goes_on_after_a_transient_one():
    second = "scim.cccccccccccccccccccccccccccccccc"
    jobs = {(SP_ID, SCIM_JOB): QUARANTINED, (SP_ID, second): raw_job(second, code="Quarantine", quarantine_reason="Unknown")}
    api = SequenceApi(jobs, {SCIM_JOB: [GraphError("HTTP 404", status=404)],
                             second: [GraphError("HTTP 503", status=503), raw_job(second)]})
    restarter = Restarter(api, plan("quarantined"))
    outcomes = restarter.restart_many([JobTarget(SP_ID, SCIM_JOB), JobTarget(SP_ID, second)], 2)
    clock = Clock()
    restarter.wait_healthy(outcomes, wait_policy(), 2, clock=clock, sleep=clock.sleep)
    gone, recovered = (o.result["wait"] for o in outcomes)
    assert gone["healthy"] is False and gone["polls"] == 1 and "HTTP 404" in gone["reason"]
    assert recovered["healthy"] is True and recovered["polls"] == 2


def test_wait_healthy_skips_failed_and_unknown_restarts():
    api = SequenceApi({(SP_ID, SCIM_JOB): QUARANTINED}, {}, restart_errors={SCIM_JOB: GraphError("lost", outcome_unknown=True)})
    restarter = Restarter(api, plan("always"))
    outcomes = restarter.restart_many([JobTarget(SP_ID, SCIM_JOB)], 1)
    restarter.wait_healthy(outcomes, wait_policy(), 1, clock=Clock(), sleep=lambda s: None)
    assert outcomes[0].result["action"] == "unknown" and outcomes[0].result["wait"] is None
    assert api.reads == [(SP_ID, SCIM_JOB)]  # the read before; no poll


# ---------------------------------------------------------------------------------------------------
# StateSetter (sync_job)

def setter(api, state, check_mode=False):
    from ansible_collections.entra.sync.plugins.module_utils._service.state import StateSetter
    return StateSetter(api, state, check_mode)


PAUSED_QUARANTINED = raw_job(SCIM_JOB, code="Paused", schedule="Paused", quarantine_reason="EncounteredEscrowProportionThreshold")
STATE_KEYS = {"service_principal_id", "job_id", "template_id", "status_code", "action", "reason", "remedy", "remedy_reason", "disables_at"}


@pytest.mark.parametrize("raw, state, action, post", [
    (ACTIVE, "started", "skipped", None),
    (QUARANTINED, "started", "started", "start"),
    (PAUSED_QUARANTINED, "started", "started", "start"),
    (PAUSED_QUARANTINED, "paused", "skipped", None),
    (ACTIVE, "paused", "paused", "pause"),
])
def test_state_setter_posts_only_when_needed(raw, state, action, post):
    job_id = raw["id"]
    api = SequenceApi({(SP_ID, job_id): raw}, {})
    outcome = setter(api, state).set_targets([JobTarget(SP_ID, job_id)])[0]
    assert set(outcome.result) == STATE_KEYS
    assert outcome.result["action"] == action
    assert api.posts == ([(post, SP_ID, job_id)] if post else [])
    if post:
        assert outcome.expected["status_code"] == ("Active" if post == "start" else "Paused")
        assert outcome.found["status_code"] == raw["status"]["code"]
    else:
        assert outcome.expected is None


@pytest.mark.parametrize("raw, state, action", [(QUARANTINED, "started", "would_start"), (ACTIVE, "paused", "would_pause"),
                                                (ACTIVE, "started", "skipped")])
def test_state_setter_check_mode_sends_nothing(raw, state, action):
    api = SequenceApi({(SP_ID, raw["id"]): raw}, {})
    outcome = setter(api, state, check_mode=True).set_targets([JobTarget(SP_ID, raw["id"])])[0]
    assert outcome.result["action"] == action and api.posts == []


@pytest.mark.parametrize("error, action", [(GraphError("lost", outcome_unknown=True), "unknown"), (GraphError("HTTP 409", status=409), "failed"),
                                           (AuthError("no token"), "failed"), (RuntimeError("boom"), "unknown")])
def test_state_setter_post_errors(error, action):
    api = SequenceApi({(SP_ID, SCIM_JOB): QUARANTINED}, {}, restart_errors={SCIM_JOB: error})
    outcome = setter(api, "started").set_targets([JobTarget(SP_ID, SCIM_JOB)])[0]
    assert outcome.result["action"] == action
    assert len(api.posts) == 1
    if isinstance(error, RuntimeError):
        assert outcome.result["reason"] == "unexpected RuntimeError while starting"


def test_state_setter_read_failure_sends_nothing():
    api = SequenceApi({}, {}, read_errors={SCIM_JOB: GraphError("HTTP 404", status=404)})
    outcome = setter(api, "paused").set_targets([JobTarget(SP_ID, SCIM_JOB)])[0]
    assert outcome.result["action"] == "failed" and "reading the job failed" in outcome.result["reason"] and api.posts == []


def test_state_setter_over_a_list_keeps_order():
    jobs = {(SP_ID, "scim.%032x" % n): raw_job("scim.%032x" % n, code="Paused" if n % 2 else "Active") for n in range(20)}
    api = SequenceApi(jobs, {}, jitter=0.002)
    targets = [JobTarget(SP_ID, job_id) for dummy, job_id in jobs]
    outcomes = setter(api, "started").set_targets(targets, 8)
    assert [o.result["job_id"] for o in outcomes] == [t.job_id for t in targets]
    assert [o.result["action"] for o in outcomes] == ["started" if n % 2 else "skipped" for n in range(20)]
    assert len(api.posts) == 10


# ---------------------------------------------------------------------------------------------------
# The remedy: a paused, escrows-pruned job is neither restarted nor started unless allowed; restart_remedies holds back
# what a restart cannot fix.

PRUNED = dict(raw_job(SCIM_JOB, code="Paused", schedule="Paused", last="Failed"))
PRUNED["status"] = dict(PRUNED["status"], escrowsPruned=True)
DELETES = raw_job(AD_JOB, code="Quarantine", last="Failed", quarantine_reason="TooManyDeletes")


@pytest.mark.parametrize("conditions, allow, action", [
    (("paused",), False, "skipped"),
    (("always",), False, "skipped"),
    (("paused",), True, "restarted"),
])
def test_an_escrows_pruned_job_is_restarted_only_when_allowed(conditions, allow, action):
    api = FakeApi({(SP_ID, SCIM_JOB): PRUNED})
    restart_plan = RestartPlan(conditions, allow_escrows_pruned=allow)
    outcome = one(api, restart_plan, SCIM_JOB)
    assert outcome.result["action"] == action and outcome.result["remedy"] == "clean_up_errors"
    assert len(api.restarts) == (1 if action == "restarted" else 0)
    if action == "skipped":
        assert "escrowsPruned" in outcome.result["reason"] and "allow_escrows_pruned" in outcome.result["reason"]


@pytest.mark.parametrize("allow, action, posts", [(False, "skipped", []), (True, "started", [("start", SP_ID, SCIM_JOB)])])
def test_an_escrows_pruned_job_is_started_only_when_allowed(allow, action, posts):
    from ansible_collections.entra.sync.plugins.module_utils._service.state import StateSetter
    api = SequenceApi({(SP_ID, SCIM_JOB): PRUNED}, {})
    outcome = StateSetter(api, "started", allow_escrows_pruned=allow).set_targets([JobTarget(SP_ID, SCIM_JOB)])[0]
    assert outcome.result["action"] == action and api.posts == posts
    assert outcome.result["remedy"] == "clean_up_errors"


def test_restart_remedies_hold_back_what_a_restart_cannot_fix():
    api = FakeApi({(SP_ID, SCIM_JOB): QUARANTINED, (SP_ID, AD_JOB): DELETES})
    restart_plan = RestartPlan(("quarantined",), remedies=("restart",))
    outcomes = Restarter(api, restart_plan).restart_many([JobTarget(SP_ID, SCIM_JOB, 0), JobTarget(SP_ID, AD_JOB, 1)])
    assert [(o.result["action"], o.result["remedy"]) for o in outcomes] == [("restarted", "restart"), ("skipped", "approve_deletes")]
    assert "not one of restart_remedies [restart]" in outcomes[1].result["reason"]
    assert "ForceDeletes" in outcomes[1].result["reason"]
    assert [restart[1] for restart in api.restarts] == [SCIM_JOB]
