"""entra.sync.sync_job_restart wait: a restarted job that recovers is healthy; one that relapses fails the task in time."""

import time

RESTART = "entra.sync.sync_job_restart"
WAIT_KEYS = {"healthy", "relapsed", "status_code_after", "quarantine_reason_after", "schedule_state_after", "waited_seconds",
             "polls", "reason"}


def _jobs_arg(ids, keys):
    return [{"service_principal_id": ids[key][0], "job_id": ids[key][1]} for key in keys]


def _polls(tenant, job_id):
    return [e for e in tenant.log() if e["method"] == "GET" and e["path"].endswith("/" + job_id)]


def test_restarted_quarantined_job_becomes_healthy(tenant, run_task):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    args = {"service_principal_id": sp_id, "job_id": job_id, "restart_if": ["quarantined"],
            "wait": True, "wait_timeout": 10, "wait_interval": 0.2}
    run = run_task(tenant.sandbox, RESTART, args)
    assert run.rc == 0, run.describe()
    result = run.result
    assert result["action"] == "restarted" and result["changed"] is True
    wait = result["wait"]
    assert set(wait) == WAIT_KEYS
    assert wait["healthy"] is True and wait["relapsed"] is False
    assert (wait["status_code_after"], wait["quarantine_reason_after"]) == ("Active", None)
    assert wait["polls"] == 1 and 0.2 <= wait["waited_seconds"] < 5
    assert result["unhealthy"] == []
    assert tenant.restarts() == {(sp_id, job_id): 1}
    assert len(tenant.restart_posts(tenant.log())) == 1
    # one read before the restart, one poll after
    assert len(_polls(tenant, job_id)) == 2


def test_relapsing_job_is_unhealthy_and_fails_the_task_within_wait_timeout(tenant, run_task):
    ids = tenant.make_fleet({1: [("Quarantine", {"relapse": True}), "Quarantine", "Active"]})
    keys = [(1, 0), (1, 1), (1, 2)]
    started = time.monotonic()
    args = {"jobs": _jobs_arg(ids, keys), "restart_if": ["quarantined"], "wait": True, "wait_timeout": 3, "wait_interval": 0.2}
    run = run_task(tenant.sandbox, RESTART, args)
    elapsed = time.monotonic() - started
    assert run.rc == 0, run.describe()  # the task failed; ignore_errors keeps the play going
    result = run.result
    assert result["failed"] is True
    relapsing, recovered, skipped = result["results"]
    # the restarts themselves succeeded: the action stays restarted and the task reports a change
    assert [r["action"] for r in result["results"]] == ["restarted", "restarted", "skipped"]
    assert result["changed"] is True
    assert result["summary"]["restarted"] == 2 and result["summary"]["failed"] == 0

    assert relapsing["wait"]["healthy"] is False
    assert relapsing["wait"]["status_code_after"] == "Quarantine"
    assert relapsing["wait"]["quarantine_reason_after"] == "EncounteredQuarantineException"
    # the sandbox stamps a relapse with its real time, so it is seen as a relapse at the first poll, long before the timeout
    assert relapsing["wait"]["relapsed"] is True
    assert relapsing["wait"]["polls"] == 1 and relapsing["wait"]["waited_seconds"] < 2.5
    assert recovered["wait"]["healthy"] is True
    assert skipped["wait"] is None

    assert [(u["service_principal_id"], u["job_id"]) for u in result["unhealthy"]] == [ids[(1, 0)]]
    assert result["unhealthy"][0]["status_code_after"] == "Quarantine"
    assert "1 of 2 restarted jobs did not become healthy" in result["msg"] and ids[(1, 0)][1] in result["msg"]
    # bounded by wait_timeout (3 s) plus ansible-playbook's own start-up
    assert elapsed < 3 + 25, elapsed
    # waiting only reads: each job restarted exactly once
    assert tenant.restarts() == {ids[(1, 0)]: 1, ids[(1, 1)]: 1}
    assert [e for e in tenant.graph_posts(tenant.log()) if not e["path"].endswith("/restart")] == []
    assert len(_polls(tenant, ids[(1, 0)][1])) == 1 + relapsing["wait"]["polls"]


def test_wait_is_ignored_in_check_mode(tenant, run_task):
    ids = tenant.make_fleet({1: [("Quarantine", {"relapse": True})]})
    sp_id, job_id = ids[(1, 0)]
    args = {"service_principal_id": sp_id, "job_id": job_id, "wait": True, "wait_timeout": 3, "wait_interval": 0.2}
    run = run_task(tenant.sandbox, RESTART, args, check=True)
    assert run.rc == 0, run.describe()
    assert run.result["action"] == "would_restart" and "wait" not in run.result and "unhealthy" not in run.result
    assert tenant.graph_posts(tenant.log()) == []
    assert len(_polls(tenant, job_id)) == 1


def test_without_wait_the_result_has_no_wait_keys(tenant, run_task):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    run = run_task(tenant.sandbox, RESTART, {"jobs": _jobs_arg(ids, [(1, 0)])})
    assert run.rc == 0, run.describe()
    assert "unhealthy" not in run.result and "wait" not in run.result["results"][0]


def test_wait_options_are_checked_before_any_request(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "wait": True, "wait_timeout": 0}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "wait": True, "wait_interval": 0.01}},
    ])
    timeout_bad, interval_bad = run.results
    assert timeout_bad["failed"] is True and "wait_timeout" in timeout_bad["msg"]
    assert interval_bad["failed"] is True and "wait_interval" in interval_bad["msg"]
    assert [e for e in tenant.log() if e["kind"] != "token"] == []
