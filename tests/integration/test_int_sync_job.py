"""entra.sync.sync_job against the sandbox: start only paused or quarantined jobs, pause only unpaused ones, check mode, diff."""

SYNC_JOB = "entra.sync.sync_job"

# sp 1: active, quarantined, paused, paused with a quarantine object; sp 2: NotRun, NotConfigured
LAYOUT = {
    1: ["Active", "Quarantine", "Paused", ("Paused", {"quarantine_reason": "EncounteredEscrowProportionThreshold"})],
    2: ["NotRun", "NotConfigured"],
}


def _one(ids, key, state):
    return {"service_principal_id": ids[key][0], "job_id": ids[key][1], "state": state}


def _posts(tenant, action):
    return [e for e in tenant.graph_posts(tenant.log()) if e["path"].endswith("/" + action)]


def _summary(tenant, ids, key):
    return tenant.admin.job(*ids[key])["summary"]


def test_starting_an_active_job_sends_no_post(tenant, run_task):
    ids = tenant.make_fleet(LAYOUT)
    run = run_task(tenant.sandbox, SYNC_JOB, _one(ids, (1, 0), "started"))
    assert run.rc == 0, run.describe()
    result = run.result
    assert result["changed"] is False and not result.get("failed"), result
    assert result["action"] == "skipped" and result["status_code"] == "Active"
    assert "Microsoft warns against starting a job that is running" in result["reason"]
    assert tenant.graph_posts(tenant.log()) == []
    assert _summary(tenant, ids, (1, 0))["starts"] == 0


def test_pausing_a_paused_job_sends_no_post(tenant, run_tasks):
    ids = tenant.make_fleet(LAYOUT)
    run = run_tasks(tenant.sandbox, [
        {"module": SYNC_JOB, "args": _one(ids, (1, 2), "paused")},
        {"module": SYNC_JOB, "args": _one(ids, (1, 3), "paused")},
    ])
    assert run.rc == 0, run.describe()
    for result in run.results:
        assert result["changed"] is False and result["action"] == "skipped" and result["status_code"] == "Paused", result
        assert "already paused" in result["reason"]
    assert tenant.graph_posts(tenant.log()) == []


def test_starting_quarantined_and_paused_jobs_sends_one_post_each_and_converges(tenant, run_tasks):
    ids = tenant.make_fleet(LAYOUT)
    keys = [(1, 1), (1, 2), (1, 3)]
    tasks = [{"module": SYNC_JOB, "args": _one(ids, key, "started")} for key in keys]
    first = run_tasks(tenant.sandbox, tasks)
    assert first.rc == 0, first.describe()
    assert [r["action"] for r in first.results] == ["started"] * 3
    assert [r["status_code"] for r in first.results] == ["Quarantine", "Paused", "Paused"]
    assert all(r["changed"] is True for r in first.results)
    posts = _posts(tenant, "start")
    assert sorted(p["path"].split("/")[-2] for p in posts) == sorted(ids[key][1] for key in keys)
    assert all(p["status"] == 204 for p in posts)
    for key in keys:
        summary = _summary(tenant, ids, key)
        assert (summary["status_code"], summary["schedule_state"], summary["starts"]) == ("Active", "Active", 1), summary

    tenant.admin.clear_log()
    second = run_tasks(tenant.sandbox, tasks)
    assert second.rc == 0, second.describe()
    assert [r["action"] for r in second.results] == ["skipped"] * 3
    assert all(r["changed"] is False for r in second.results)
    assert tenant.graph_posts(tenant.log()) == []
    assert all(_summary(tenant, ids, key)["starts"] == 1 for key in keys)


def test_pausing_an_active_job_sends_one_post(tenant, run_tasks):
    ids = tenant.make_fleet(LAYOUT)
    run = run_tasks(tenant.sandbox, [
        {"module": SYNC_JOB, "args": _one(ids, (1, 0), "paused")},
        {"module": SYNC_JOB, "args": _one(ids, (1, 0), "paused")},
    ])
    assert run.rc == 0, run.describe()
    first, second = run.results
    assert first["action"] == "paused" and first["changed"] is True and first["status_code"] == "Active"
    assert second["action"] == "skipped" and second["changed"] is False and second["status_code"] == "Paused"
    assert len(_posts(tenant, "pause")) == 1
    summary = _summary(tenant, ids, (1, 0))
    assert (summary["status_code"], summary["pauses"]) == ("Paused", 1)


def test_not_run_and_not_configured_jobs_are_not_started(tenant, run_tasks):
    ids = tenant.make_fleet(LAYOUT)
    run = run_tasks(tenant.sandbox, [
        {"module": SYNC_JOB, "args": _one(ids, (2, 0), "started")},
        {"module": SYNC_JOB, "args": _one(ids, (2, 1), "started")},
    ])
    assert run.rc == 0, run.describe()
    assert [(r["action"], r["status_code"]) for r in run.results] == [("skipped", "NotRun"), ("skipped", "NotConfigured")]
    assert tenant.graph_posts(tenant.log()) == []


def test_check_mode_sends_nothing_and_diff_shows_before_and_expected_after(tenant, run_tasks):
    ids = tenant.make_fleet(LAYOUT)
    run = run_tasks(tenant.sandbox, [
        {"module": SYNC_JOB, "args": _one(ids, (1, 1), "started")},
        {"module": SYNC_JOB, "args": _one(ids, (1, 0), "paused")},
        {"module": SYNC_JOB, "args": _one(ids, (1, 0), "started")},
    ], check=True, diff=True)
    assert run.rc == 0, run.describe()
    start, pause, skip = run.results
    assert start["action"] == "would_start" and start["changed"] is True
    assert pause["action"] == "would_pause" and pause["changed"] is True
    assert skip["action"] == "skipped" and skip["changed"] is False
    key = "%s/%s" % ids[(1, 1)]
    assert start["diff"]["before"][key]["status_code"] == "Quarantine"
    assert start["diff"]["before"][key]["quarantine_reason"] == "EncounteredQuarantineException"
    assert start["diff"]["after"][key] == {"status_code": "Active", "schedule_state": "Active", "quarantine_reason": None,
                                           "last_execution_state": start["diff"]["before"][key]["last_execution_state"]}
    assert pause["diff"]["after"]["%s/%s" % ids[(1, 0)]]["status_code"] == "Paused"
    assert skip["diff"] == {"before": {}, "after": {}}
    log = tenant.log()
    assert tenant.graph_posts(log) == []
    assert any(e["method"] == "GET" for e in log)
    assert _summary(tenant, ids, (1, 1))["status_code"] == "Quarantine"


def test_jobs_list_processed_in_order_with_a_summary(tenant, run_task):
    ids = tenant.make_fleet(LAYOUT)
    keys = [(1, 3), (1, 0), (1, 1), (2, 0), (1, 2)]
    jobs = [{"service_principal_id": ids[k][0], "job_id": ids[k][1], "status_code": "ignored"} for k in keys]
    run = run_task(tenant.sandbox, SYNC_JOB, {"jobs": jobs, "state": "started", "concurrency": 3})
    assert run.rc == 0, run.describe()
    result = run.result
    assert [(r["service_principal_id"], r["job_id"]) for r in result["results"]] == [ids[k] for k in keys]
    assert [r["action"] for r in result["results"]] == ["started", "skipped", "started", "skipped", "started"]
    assert result["summary"] == {"started": 3, "paused": 0, "would_start": 0, "would_pause": 0, "skipped": 2,
                                 "failed": 0, "unknown": 0, "total": 5}
    assert result["changed"] is True
    assert len(_posts(tenant, "start")) == 3


def test_a_lost_start_is_unknown_and_not_sent_again(tenant, run_task):
    ids = tenant.make_fleet(LAYOUT)
    tenant.admin.set_faults({"rules": [{"method": "POST", "path": "/start$", "count": 1, "fault": "lost_response"}]})
    run = run_task(tenant.sandbox, SYNC_JOB, _one(ids, (1, 1), "started"))
    assert run.rc == 0, run.describe()  # the task failed; ignore_errors keeps the play going
    result = run.result
    assert result["failed"] is True and result["action"] == "unknown", result
    assert len(_posts(tenant, "start")) == 1
    assert _summary(tenant, ids, (1, 1))["starts"] == 1


def test_bad_input_fails_before_any_request(tenant, run_tasks):
    ids = tenant.make_fleet(LAYOUT)
    run = run_tasks(tenant.sandbox, [
        {"module": SYNC_JOB, "args": {"service_principal_id": "not-a-guid", "job_id": ids[(1, 0)][1], "state": "started"}},
        {"module": SYNC_JOB, "args": {"service_principal_id": ids[(1, 0)][0], "state": "started"}},
        {"module": SYNC_JOB, "args": _one(ids, (1, 0), "running")},
    ])
    bad_guid, no_job, bad_state = run.results
    assert bad_guid["failed"] is True and "is not a GUID" in bad_guid["msg"]
    assert no_job["failed"] is True and "job_id" in no_job["msg"]
    assert bad_state["failed"] is True and "state" in bad_state["msg"]
    assert [e for e in tenant.log() if e["kind"] != "token"] == []
