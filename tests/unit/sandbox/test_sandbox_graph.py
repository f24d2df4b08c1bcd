"""Graph endpoints over HTTPS with requests: listing, paging, jobs, restart/start/pause, permissions, errors."""

from urllib.parse import quote


def _job_path(sp_id, job_id, action=""):
    # Dots are quoted as %2E to prove the sandbox decodes path segments.
    path = "/servicePrincipals/%s/synchronization/jobs/%s" % (sp_id, quote(job_id, safe="").replace(".", "%2E"))
    return path + ("/" + action if action else "")


def _pick(sandbox, status_code, **match):
    for job in sandbox.admin.jobs(sandbox.tenant_id):
        if job["status_code"] == status_code and all(job[k] == v for k, v in match.items()):
            return job
    raise AssertionError("no %s job in the fleet" % status_code)


def _assert_error_shape(response, status, code):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert response.headers["request-id"] == error["innerError"]["request-id"]
    return error


def test_list_select_and_paging(fresh_sandbox):
    token = fresh_sandbox.token()
    first = fresh_sandbox.graph("GET", "/servicePrincipals?$select=id,appId,displayName", token=token).json()
    assert len(first["value"]) == 100 and set(first["value"][0]) == {"id", "appId", "displayName"}
    seen = [sp["id"] for sp in first["value"]]
    link = first["@odata.nextLink"]
    assert link.startswith(fresh_sandbox.base_url + "/v1.0/servicePrincipals?") and "$skiptoken=" in link
    while link:
        page = fresh_sandbox.graph("GET", link, token=token).json()
        seen += [sp["id"] for sp in page["value"]]
        assert set(page["value"][0]) == {"id", "appId", "displayName"}
        link = page.get("@odata.nextLink")
    assert len(seen) == len(set(seen)) == 300
    assert len(fresh_sandbox.graph("GET", "/servicePrincipals?$top=999", token=token).json()["value"]) == 300
    _assert_error_shape(fresh_sandbox.graph("GET", "/servicePrincipals?$top=1000", token=token), 400, "Request_BadRequest")
    _assert_error_shape(fresh_sandbox.graph("GET", "/servicePrincipals?$select=nope", token=token), 400, "Request_BadRequest")


def test_filters(fresh_sandbox):
    token = fresh_sandbox.token()
    some = fresh_sandbox.graph("GET", "/servicePrincipals?$top=3", token=token).json()["value"][2]
    by_app = fresh_sandbox.graph("GET", "/servicePrincipals", token=token, params={"$filter": "appId eq '%s'" % some["appId"]}).json()
    assert [sp["id"] for sp in by_app["value"]] == [some["id"]]
    by_name = fresh_sandbox.graph("GET", "/servicePrincipals", token=token,
                                  params={"$filter": "displayName eq '%s'" % some["displayName"]}).json()
    assert [sp["id"] for sp in by_name["value"]] == [some["id"]]
    prefix = fresh_sandbox.graph("GET", "/servicePrincipals", token=token, params={"$filter": "startswith(displayName,'box')"}).json()
    assert prefix["value"] and all(sp["displayName"].startswith("Box") for sp in prefix["value"])
    bad = fresh_sandbox.graph("GET", "/servicePrincipals", token=token, params={"$filter": "tags/any(t:t eq 'x')"})
    _assert_error_shape(bad, 400, "Request_UnsupportedQuery")


def test_get_list_restart_start_pause(fresh_sandbox):
    job = _pick(fresh_sandbox, "Quarantine")
    token = fresh_sandbox.token()
    listed = fresh_sandbox.graph("GET", "/servicePrincipals/%s/synchronization/jobs" % job["service_principal_id"], token=token).json()
    assert job["job_id"] in [item["id"] for item in listed["value"]]
    got = fresh_sandbox.graph("GET", _job_path(job["service_principal_id"], job["job_id"]), token=token).json()
    assert got["id"] == job["job_id"] and got["status"]["code"] == "Quarantine" and got["status"]["quarantine"] is not None

    restart = fresh_sandbox.graph("POST", _job_path(job["service_principal_id"], job["job_id"], "restart"), token=token,
                                  json={"criteria": {"resetScope": " watermark ,Escrows, QUARANTINESTATE"}})
    assert restart.status_code == 204 and restart.content == b""
    after = fresh_sandbox.graph("GET", _job_path(job["service_principal_id"], job["job_id"]), token=token).json()["status"]
    assert after["code"] == "Active" and after["quarantine"] is None and after["countSuccessiveCompleteFailures"] == 0

    assert fresh_sandbox.graph("POST", _job_path(job["service_principal_id"], job["job_id"], "pause"), token=token).status_code == 204
    paused = fresh_sandbox.graph("GET", _job_path(job["service_principal_id"], job["job_id"]), token=token).json()
    assert paused["status"]["code"] == "Paused" and paused["schedule"]["state"] == "Paused"
    assert fresh_sandbox.graph("POST", _job_path(job["service_principal_id"], job["job_id"], "start"), token=token).status_code == 204
    summary = fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]
    assert (summary["status_code"], summary["restarts"], summary["starts"], summary["pauses"]) == ("Active", 1, 1, 1)
    assert summary["last_reset_scope"] == " watermark ,Escrows, QUARANTINESTATE"
    assert fresh_sandbox.admin.counters()["totals"]["restarts"] == 1


def test_restart_without_quarantine_state_leaves_job_quarantined(fresh_sandbox):
    job = _pick(fresh_sandbox, "Quarantine")
    response = fresh_sandbox.graph("POST", _job_path(job["service_principal_id"], job["job_id"], "restart"),
                                   json={"criteria": {"resetScope": "Watermark"}})
    assert response.status_code == 204
    assert fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]["status_code"] == "Quarantine"


def test_restart_bodies_validated(fresh_sandbox):
    job = _pick(fresh_sandbox, "Active")
    path = _job_path(job["service_principal_id"], job["job_id"], "restart")
    token = fresh_sandbox.token()
    _assert_error_shape(fresh_sandbox.graph("POST", path, token=token), 400, "BadRequest")
    _assert_error_shape(fresh_sandbox.graph("POST", path, token=token, data="{nope", headers={"Content-Type": "application/json"}),
                        400, "BadRequest")
    _assert_error_shape(fresh_sandbox.graph("POST", path, token=token, json={"criteria": "Watermark"}), 400, "BadRequest")
    _assert_error_shape(fresh_sandbox.graph("POST", path, token=token, json={"criteria": {"@odata.type": "#microsoft.graph.user"}}),
                        400, "BadRequest")
    _assert_error_shape(fresh_sandbox.graph("POST", path, token=token, json={"criteria": {}, "force": True}), 400, "BadRequest")
    error = _assert_error_shape(fresh_sandbox.graph("POST", path, token=token, json={"criteria": {"resetScope": "Watermark, Bogus"}}),
                                400, "BadRequest")
    assert "Bogus" in error["message"]
    assert fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]["restarts"] == 0
    assert fresh_sandbox.graph("POST", path, token=token, json={"criteria": {}}).status_code == 204


def test_restart_accepts_what_odata_and_the_docs_allow(fresh_sandbox):
    """Found by the msgraph-sdk conformance stage: `{}` (criteria is not documented as required) and OData type
    annotations, which the SDK writes when a model's odata_type is set, are accepted."""
    job = _pick(fresh_sandbox, "Active")
    path = _job_path(job["service_principal_id"], job["job_id"], "restart")
    token = fresh_sandbox.token()
    bodies = ({}, {"criteria": None},
              {"criteria": {"@odata.type": "#microsoft.graph.synchronizationJobRestartCriteria", "resetScope": "Watermark"}},
              {"criteria": {"@odata.type": "microsoft.graph.synchronizationJobRestartCriteria", "resetScope@odata.type":
                            "#microsoft.graph.synchronizationJobRestartScope", "resetScope": "Escrows,QuarantineState"}})
    for body in bodies:
        response = fresh_sandbox.graph("POST", path, token=token, json=body)
        assert response.status_code == 204, (body, response.text)
    summary = fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]
    assert summary["reset_scopes"] == ["", "", "Watermark", "Escrows,QuarantineState"]


def test_request_log_keeps_the_headers_that_matter_never_the_token(fresh_sandbox):
    job = _pick(fresh_sandbox, "Active")
    fresh_sandbox.admin.clear_log()
    fresh_sandbox.graph("POST", _job_path(job["service_principal_id"], job["job_id"], "restart"), json={"criteria": {}},
                        headers={"Accept": "application/json", "ConsistencyLevel": "eventual", "X-Other": "1"})
    entry = fresh_sandbox.admin.log(kind="graph")[-1]
    assert entry["headers"] == {"accept": "application/json", "content-type": "application/json", "consistencylevel": "eventual"}
    assert entry["body"] == {"criteria": {}}


def test_appid_addressing_and_not_found(fresh_sandbox):
    job = _pick(fresh_sandbox, "Active")
    token = fresh_sandbox.token()
    listed = fresh_sandbox.graph("GET", "/servicePrincipals(appId='%s')/synchronization/jobs" % job["app_id"], token=token)
    assert job["job_id"] in [item["id"] for item in listed.json()["value"]]
    missing_sp = "/servicePrincipals/00000000-0000-4000-8000-000000000000/synchronization/jobs"
    _assert_error_shape(fresh_sandbox.graph("GET", missing_sp, token=token), 404, "Request_ResourceNotFound")
    _assert_error_shape(fresh_sandbox.graph("GET", _job_path(job["service_principal_id"], "scim.0123"), token=token), 404, "itemNotFound")
    _assert_error_shape(fresh_sandbox.graph("GET", "/servicePrincipals/%s/synchronization/nope" % job["service_principal_id"],
                                            token=token), 400, "BadRequest")


def test_permissions(fresh_sandbox):
    job = _pick(fresh_sandbox, "Quarantine")
    get_path = _job_path(job["service_principal_id"], job["job_id"])
    error = _assert_error_shape(fresh_sandbox.graph("GET", get_path, app="noperm"), 401, "UnknownError")
    assert error["message"] == ""
    assert fresh_sandbox.graph("GET", "/servicePrincipals?$top=1", app="noperm").status_code == 200
    assert fresh_sandbox.graph("GET", get_path, app="readonly").status_code == 200
    _assert_error_shape(fresh_sandbox.graph("POST", get_path + "/restart", app="readonly", json={"criteria": {}}), 401, "UnknownError")
    _assert_error_shape(fresh_sandbox.graph("GET", "/servicePrincipals", app="ownedby"), 403, "Authorization_RequestDenied")
    owned = set(fresh_sandbox.config["tenants"][0]["owned_by_ownedby"])
    mine = next(j for j in fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id) if j["service_principal_id"] in owned)
    other = next(j for j in fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id) if j["service_principal_id"] not in owned)
    assert fresh_sandbox.graph("GET", _job_path(mine["service_principal_id"], mine["job_id"]), app="ownedby").status_code == 200
    _assert_error_shape(fresh_sandbox.graph("GET", _job_path(other["service_principal_id"], other["job_id"]), app="ownedby"),
                        401, "UnknownError")
    assert fresh_sandbox.admin.counters()["totals"]["restarts"] == 0


def test_missing_or_bad_token(sandbox):
    response = sandbox.graph("GET", "/servicePrincipals", token="abc")
    _assert_error_shape(response, 401, "InvalidAuthenticationToken")
    assert "WWW-Authenticate" in response.headers


def test_job_json_quirks_present_in_fleet(fresh_sandbox):
    token = fresh_sandbox.token()
    jobs = fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id)
    assert any(job["job_id"].count(".") == 2 for job in jobs)
    assert {job["status_code"] for job in jobs} >= {"Active", "Quarantine", "Paused"}
    rendered = [fresh_sandbox.graph("GET", _job_path(j["service_principal_id"], j["job_id"]), token=token).json() for j in jobs[:40]]
    statuses = [job["status"] for job in rendered]
    assert any(s["troubleshootingUrl"] is None for s in statuses) and any(s["troubleshootingUrl"] == "" for s in statuses)
    assert any("0001-01-01T00:00:00Z" in str(s) for s in statuses)


def test_explicit_fleet_and_force_deletes(fresh_sandbox):
    fresh_sandbox.admin.set_fleet(service_principals_list=[
        {"displayName": "Cloud Sync corp.contoso.com", "jobs": [
            {"template_id": "AD2AADProvisioning", "status_code": "Quarantine", "quarantine_reason": "TooManyDeletes"}]},
        {"displayName": "Plain app"},
    ])
    listed = fresh_sandbox.graph("GET", "/servicePrincipals").json()["value"]
    assert [sp["displayName"] for sp in listed] == ["Cloud Sync corp.contoso.com", "Plain app"]
    job = fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id)[0]
    assert job["quarantine_reason"] == "TooManyDeletes" and job["held_deletes"] > 0
    path = _job_path(job["service_principal_id"], job["job_id"], "restart")
    assert fresh_sandbox.graph("POST", path, json={"criteria": {"resetScope": "Escrows, Watermark"}}).status_code == 204
    assert fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]["status_code"] == "Quarantine"
    assert fresh_sandbox.graph("POST", path, json={"criteria": {"resetScope": "ForceDeletes"}}).status_code == 204
    summary = fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]
    assert summary["status_code"] == "Active" and summary["held_deletes"] == 0
    assert summary["reset_scopes"] == ["Escrows, Watermark", "ForceDeletes"]
    assert fresh_sandbox.admin.jobs(fresh_sandbox.config["tenants"][1]["id"]) == []
