"""Errors a user must be able to act on: bad input and refused clouds fail before any request; missing permissions
are named."""

RESTART = "entra.sync.sync_job_restart"
INFO = "entra.sync.sync_job_info"


def test_bad_ids_fail_before_any_request(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": {"service_principal_id": "not-a-guid", "job_id": job_id}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": "scim.abc/../../restart"}},
        {"module": RESTART, "args": {"jobs": [{"service_principal_id": sp_id, "job_id": job_id},
                                              {"service_principal_id": sp_id, "job_id": "a/b"}]}},
        {"module": INFO, "args": {"service_principal_id": "My App"}},
    ])
    assert run.rc == 0, run.describe()
    bad_sp, bad_job, bad_in_list, bad_info = run.results
    for result in run.results:
        assert result["failed"] is True, result
        assert result.get("changed") is False, result
    assert "not-a-guid" in bad_sp["msg"] and "GUID" in bad_sp["msg"], bad_sp["msg"]
    assert "job_id" in bad_job["msg"] or "job id" in bad_job["msg"].lower(), bad_job["msg"]
    assert "/" in bad_job["msg"] or "A-Za-z0-9" in bad_job["msg"] or "letters" in bad_job["msg"], bad_job["msg"]
    assert "a/b" in bad_in_list["msg"], bad_in_list["msg"]
    assert "GUID" in bad_info["msg"], bad_info["msg"]
    assert tenant.log() == [], "a request was sent for bad input: %s" % tenant.log()
    assert tenant.admin.counters()["token_requests"] == {}


def test_china_cloud_is_refused_before_any_request(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    # graph_endpoint is what lets a user through on purpose: without it, China is refused. The sign-in host still
    # points at the sandbox, so a token request would show in its log.
    env = {"ENTRA_SYNC_GRAPH_ENDPOINT": None}
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "cloud": "china"}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "cloud": "AzureChinaCloud"}},
        {"module": INFO, "args": {"service_principal_id": sp_id, "cloud": "china"}},
    ], env=env)
    assert run.rc == 0, run.describe()
    for result in run.results:
        assert result["failed"] is True, result
        msg = result["msg"]
        assert "china" in msg.lower(), msg
        assert "unavailable" in msg.lower(), msg  # the reason, not just "refused"
        assert "graph_endpoint" in msg, msg  # and the way out
    assert tenant.log() == []
    assert tenant.admin.counters()["totals"]["restarts"] == 0


def test_noperm_app_is_told_which_permission_is_missing(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    app = tenant.sandbox.app("noperm")
    env = {"AZURE_CLIENT_ID": app["client_id"], "AZURE_CLIENT_SECRET": app["client_secret"]}
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id}},
        {"module": RESTART, "args": {"jobs": [{"service_principal_id": sp_id, "job_id": job_id}]}},
        {"module": INFO, "args": {"service_principal_id": sp_id}},
    ], env=env)
    assert run.rc == 0, run.describe()
    one, listed, info = run.results
    for result in run.results:
        assert result["failed"] is True, result
        assert "Synchronization.ReadWrite.All" in result["msg"], result["msg"]
    assert one["action"] == "failed" and "Synchronization.ReadWrite.All" in one["reason"]
    assert listed["results"][0]["action"] == "failed" and "Synchronization.ReadWrite.All" in listed["results"][0]["reason"]
    assert info["jobs"] == [] if "jobs" in info else True
    log = tenant.log()
    assert any(e["status"] == 401 for e in log if e["kind"] == "graph"), log
    assert tenant.graph_posts(log) == []
    assert tenant.admin.counters()["totals"]["restarts"] == 0
