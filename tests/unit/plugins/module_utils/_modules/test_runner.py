# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module runners' pure parts (targets, ranges, the shared argspec) and SyncApi's POSTs to many jobs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import GraphError, InputError
from ansible_collections.entra.sync.plugins.module_utils._graph.sync_api import SyncApi, job_path
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import JobTarget
from ansible_collections.entra.sync.plugins.module_utils._modules.module_specs import job_options
from ansible_collections.entra.sync.plugins.module_utils._modules.runner import check_restart_ranges, parse_targets, restart_listed
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._graph.test_batch import envelope
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._graph.test_graph import response, scripted

SP = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
SP2 = "9b1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
JOB = "scim.0123456789abcdef0123456789abcdef"
JOB2 = "aws.0123456789abcdef0123456789abcdef"


def params(**given):
    return dict({"jobs": None, "service_principal_id": None, "job_id": None}, **given)


def test_parse_targets_one_job():
    assert parse_targets(params(service_principal_id=SP, job_id=JOB)) == ("one", [JobTarget(SP, JOB)], [])


def test_parse_targets_a_whole_service_principal():
    assert parse_targets(params(service_principal_id=SP)) == ("service_principal", SP, [])


def test_parse_targets_a_list_drops_duplicates_with_a_note():
    kind, targets, notes = parse_targets(params(jobs=[{"service_principal_id": SP, "job_id": JOB}] * 2))
    assert kind == "list" and targets == [JobTarget(SP, JOB)] and len(notes) == 1


@pytest.mark.parametrize("given", [{"service_principal_id": "not-a-guid", "job_id": JOB}, {"service_principal_id": SP, "job_id": "bad id/"}])
def test_parse_targets_refuses_bad_ids_before_any_request(given):
    with pytest.raises(InputError):
        parse_targets(params(**given))


@pytest.mark.parametrize("age, rate, fragment", [(-1, None, "max_status_age"), (86401, None, "max_status_age"),
                                                 (300, 0.0001, "write_rate"), (300, 10_000.0, "write_rate")])
def test_check_restart_ranges_names_the_option(age, rate, fragment):
    with pytest.raises(InputError, match=fragment):
        check_restart_ranges({"max_status_age": age, "write_rate": rate, "canary_size": 0, "jobs": None})


@pytest.mark.parametrize("canary, jobs, fragment", [(-1, [], "canary_size -1 is out of range"), (5, None, "canary_size needs jobs")])
def test_check_restart_ranges_refuses_a_canary_it_cannot_keep(canary, jobs, fragment):
    with pytest.raises(InputError, match=fragment):
        check_restart_ranges({"max_status_age": 300, "write_rate": None, "canary_size": canary, "jobs": jobs})


@pytest.mark.parametrize("age, rate", [(0, None), (86400, None), (300, 5.0)])
def test_check_restart_ranges_accepts_the_bounds(age, rate):
    check_restart_ranges({"max_status_age": age, "write_rate": rate, "canary_size": 0, "jobs": None})
    check_restart_ranges({"max_status_age": age, "write_rate": rate, "canary_size": 5, "jobs": []})


def test_job_options_shared_and_own():
    spec = job_options(state={"type": "str"})
    assert set(spec) == {"service_principal_id", "job_id", "jobs", "concurrency", "state"}
    assert spec["concurrency"]["default"] == 10


def test_pause_many_in_batch_mode_sends_one_envelope_and_reports_when_it_left(clock):
    client, script = scripted([envelope(("0", 204, None), ("1", 204, None))])
    sent = []
    answers = SyncApi(client, batch="all").pause_many([(SP, JOB), (SP2, JOB2)], 4, sent.append)
    assert answers == [(None, None), (None, None)]
    assert sent == [[0, 1]]
    items = script.calls[0]["json"]["requests"]
    assert [(item["method"], item["url"]) for item in items] == [("POST", job_path(SP, JOB) + "/pause"), ("POST", job_path(SP2, JOB2) + "/pause")]


def test_start_many_single_requests_report_each_send(clock):
    client, script = scripted([response(204), response(204)])
    sent = []
    assert SyncApi(client).start_many([(SP, JOB), (SP2, JOB2)], 1, sent.append) == [(None, None), (None, None)]
    assert sent == [[0], [1]]
    assert [call["url"].endswith("/start") for call in script.calls] == [True, True]


def test_an_unexpected_failure_of_a_post_is_an_unknown_outcome():
    class Broken(SyncApi):
        def restart(self, service_principal_id, job_id, body):
            raise RuntimeError("boom")

    [(value, error)] = Broken(client=None).restart_many([(SP, JOB)], {"criteria": {}}, 1)
    assert value is None and isinstance(error, GraphError) and error.outcome_unknown
    assert str(error) == "unexpected RuntimeError while restarting"


class _Outcome:
    def __init__(self, target, action, healthy):
        self.result = {"service_principal_id": target.service_principal_id, "job_id": target.job_id, "action": action, "reason": "r"}
        self.healthy = healthy


class _Restarter:
    """restart_listed's restarter: each target's action and health by job id; records what was restarted and waited for."""

    plan = SimpleNamespace(check_mode=False)  # what restart_listed reads of the plan

    def __init__(self, unhealthy=()):
        self.unhealthy = set(unhealthy)
        self.calls = []

    def restart_many(self, targets, concurrency, given):
        self.calls.append(("restart", [target.job_id for target in targets], sorted(given)))
        return [_Outcome(target, "restarted", target.job_id not in self.unhealthy) for target in targets]

    def wait_healthy(self, outcomes, policy, concurrency):
        self.calls.append(("wait", [outcome.result["job_id"] for outcome in outcomes]))
        for outcome in outcomes:
            outcome.result["wait"] = {"healthy": outcome.healthy, "relapsed": False, "status_code_after": "Active",
                                      "quarantine_reason_after": None, "reason": "waited"}


def _listed(count):
    jobs = [{"service_principal_id": SP, "job_id": "scim.%032d" % index, "status_code": "Quarantine"} for index in range(count)]
    return jobs, [JobTarget(SP, job["job_id"], index) for index, job in enumerate(jobs)]


@pytest.mark.parametrize("unhealthy, restarted, held", [((), 5, 0), (("scim.%032d" % 1,), 2, 3)])
def test_restart_listed_restarts_the_others_only_after_the_canary_recovered(unhealthy, restarted, held):
    jobs, targets = _listed(5)
    restarter, common = _Restarter(unhealthy), {}
    outcomes = restart_listed(restarter, targets, {"jobs": jobs, "canary_size": 2, "trust_input_status": False, "max_status_age": 300},
                              None, 4, common)
    assert len(outcomes) == restarted and len(common["held_back"]) == held
    assert restarter.calls[:2] == [("restart", [jobs[0]["job_id"], jobs[1]["job_id"]], []), ("wait", [jobs[0]["job_id"], jobs[1]["job_id"]])]
    assert common["canary"]["size"] == 2 and common["canary"]["recovered"] is (held == 0) and common["canary"]["finished_at"].endswith("Z")
    assert held == 0 or ("did not become healthy" in common["canary"]["reason"] and common["held_back"][0]["job_id"] == jobs[2]["job_id"])


def test_restart_listed_trusts_given_statuses_of_a_list_only():
    jobs, targets = _listed(2)
    restarter = _Restarter()
    restart_listed(restarter, targets, {"jobs": jobs, "canary_size": 0, "trust_input_status": True, "max_status_age": 300}, None, 4, {})
    assert restarter.calls == [("restart", [job["job_id"] for job in jobs], [0, 1])]
    one = _Restarter()
    restart_listed(one, [JobTarget(SP, JOB)], {"jobs": None, "canary_size": 0, "trust_input_status": True, "max_status_age": 300}, None, 4, {})
    assert one.calls == [("restart", [JOB], [])]
