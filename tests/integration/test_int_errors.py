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


def test_china_is_not_refused_and_a_tenant_of_another_cloud_is_told_to_check_cloud(tenant, run_tasks):
    """cloud: china signs in for China's Graph like any cloud (no refusal before the request): this sandbox is a global
    tenant, so the sign-in gets Microsoft's AADSTS500011 and the hint to check the cloud; nothing is restarted."""
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    env = {"ENTRA_SYNC_GRAPH_ENDPOINT": None}
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "cloud": "china"}},
        {"module": INFO, "args": {"service_principal_id": sp_id, "cloud": "AzureChinaCloud"}},
    ], env=env)
    assert run.rc == 0, run.describe()
    for result in run.results:
        assert result["failed"] is True, result
        assert "AADSTS500011" in result["msg"] and "https://microsoftgraph.chinacloudapi.cn" in result["msg"], result["msg"]
        assert "check that cloud matches" in result["msg"], result["msg"]
        assert "unavailable" not in result["msg"].lower(), result["msg"]
    scopes = [entry["body"]["scope"] for entry in tenant.log() if entry["kind"] == "token"]
    assert scopes and set(scopes) == {"https://microsoftgraph.chinacloudapi.cn/.default"}, scopes
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
