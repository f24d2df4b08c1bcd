"""$batch, throttling and injected faults, over HTTPS."""

import time

import pytest
import requests


def _quarantined(sandbox, count=1):
    jobs = [j for j in sandbox.admin.jobs(sandbox.tenant_id) if j["status_code"] == "Quarantine"]
    assert len(jobs) >= count
    return jobs[:count]


def _restart_item(item_id, job):
    return {"id": item_id, "method": "POST", "headers": {"Content-Type": "application/json"}, "body": {"criteria": {}},
            "url": "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (job["service_principal_id"], job["job_id"])}


def test_batch_runs_items_and_shuffles(fresh_sandbox):
    jobs = _quarantined(fresh_sandbox, 3)
    requests_ = [_restart_item(str(i), job) for i, job in enumerate(jobs)]
    requests_.append({"id": "get", "method": "GET", "url": "/servicePrincipals?$select=id&$top=2"})
    requests_.append({"id": "missing", "method": "GET", "url": "/servicePrincipals/00000000-0000-4000-8000-000000000000"})
    response = fresh_sandbox.graph("POST", "/$batch", json={"requests": requests_})
    assert response.status_code == 200
    by_id = {item["id"]: item for item in response.json()["responses"]}
    assert [by_id[str(i)]["status"] for i in range(3)] == [204, 204, 204]
    assert by_id["get"]["status"] == 200 and len(by_id["get"]["body"]["value"]) == 2
    assert by_id["missing"]["status"] == 404 and by_id["missing"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert fresh_sandbox.admin.counters()["totals"]["restarts"] == 3
    kinds = [entry["kind"] for entry in fresh_sandbox.admin.log()]
    assert kinds.count("batch_item") == 5 and kinds.count("batch") == 1


def test_batch_envelope_rules(fresh_sandbox):
    token = fresh_sandbox.token()
    job = _quarantined(fresh_sandbox)[0]
    too_many = [{"id": str(i), "method": "GET", "url": "/servicePrincipals?$top=1"} for i in range(21)]
    duplicate = [_restart_item("1", job), _restart_item("1", job)]
    absolute = [{"id": "1", "method": "GET", "url": fresh_sandbox.base_url + "/v1.0/servicePrincipals"}]
    no_type = [dict(_restart_item("1", job), headers={})]
    for bad in (too_many, duplicate, absolute, no_type):
        response = fresh_sandbox.graph("POST", "/$batch", token=token, json={"requests": bad})
        assert response.status_code == 400 and response.json()["error"]["code"] == "BadRequest"
    assert fresh_sandbox.admin.counters()["totals"]["restarts"] == 0


def test_batch_items_throttled_on_their_own(fresh_sandbox):
    fresh_sandbox.admin.set_throttle(writes={"rate": 1.0, "burst": 2})
    jobs = _quarantined(fresh_sandbox, 5)
    response = fresh_sandbox.graph("POST", "/$batch", json={"requests": [_restart_item(str(i), job) for i, job in enumerate(jobs)]})
    assert response.status_code == 200
    statuses = sorted(item["status"] for item in response.json()["responses"])
    assert statuses == [204, 204, 429, 429, 429]
    throttled = [item for item in response.json()["responses"] if item["status"] == 429]
    for item in throttled:
        assert 0 < float(item["headers"]["Retry-After"]) <= 3.0
        assert item["body"]["error"]["code"] == "TooManyRequests"
    assert fresh_sandbox.admin.counters()["totals"]["restarts"] == 2


def test_direct_throttle_retry_after_is_fractional(fresh_sandbox):
    fresh_sandbox.admin.set_throttle(reads={"rate": 2.0, "burst": 1})
    token = fresh_sandbox.token()
    assert fresh_sandbox.graph("GET", "/servicePrincipals?$top=1", token=token).status_code == 200
    response = fresh_sandbox.graph("GET", "/servicePrincipals?$top=1", token=token)
    assert response.status_code == 429 and "." in response.headers["Retry-After"]
    assert 0 < float(response.headers["Retry-After"]) <= 0.5
    time.sleep(float(response.headers["Retry-After"]))
    assert fresh_sandbox.graph("GET", "/servicePrincipals?$top=1", token=token).status_code == 200


def test_lost_response_applies_the_restart(fresh_sandbox):
    fresh_sandbox.admin.set_faults({"rules": [{"method": "POST", "path": "/restart$", "count": 1, "fault": "lost_response"}]})
    first, second = _quarantined(fresh_sandbox, 2)
    token = fresh_sandbox.token()
    with pytest.raises(requests.ConnectionError):
        fresh_sandbox.graph("POST", "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (first["service_principal_id"],
                            first["job_id"]), token=token, json={"criteria": {}})
    summary = fresh_sandbox.admin.job(first["service_principal_id"], first["job_id"])["summary"]
    assert summary["restarts"] == 1 and summary["status_code"] == "Active"
    # The count is used up: the next restart answers normally.
    assert fresh_sandbox.graph("POST", "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (second["service_principal_id"],
                               second["job_id"]), token=token, json={"criteria": {}}).status_code == 204
    counters = fresh_sandbox.admin.counters()
    assert counters["faults"] == {"lost_response": 1}
    assert [e["fault"] for e in fresh_sandbox.admin.log(kind="graph") if e["method"] == "POST"] == ["lost_response", None]


def test_reset_status_malformed_and_token_expired(fresh_sandbox):
    job = _quarantined(fresh_sandbox)[0]
    restart = "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (job["service_principal_id"], job["job_id"])
    fresh_sandbox.admin.set_faults({"rules": [
        {"method": "POST", "path": "/restart$", "count": 1, "fault": "reset"},
        {"method": "POST", "path": "/restart$", "count": 1, "fault": "status", "status": 503, "retry_after": 0.25},
        {"method": "GET", "path": "/servicePrincipals$", "count": 1, "fault": "malformed"},
        {"method": "GET", "path": "/servicePrincipals$", "count": 1, "fault": "token_expired"},
    ]})
    token = fresh_sandbox.token()
    with pytest.raises(requests.ConnectionError):
        fresh_sandbox.graph("POST", restart, token=token, json={"criteria": {}})
    unavailable = fresh_sandbox.graph("POST", restart, token=token, json={"criteria": {}})
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "0.250"
    assert fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]["restarts"] == 0
    malformed = fresh_sandbox.graph("GET", "/servicePrincipals", token=token)
    assert malformed.status_code == 200
    with pytest.raises(ValueError):
        malformed.json()
    expired = fresh_sandbox.graph("GET", "/servicePrincipals", token=token)
    assert expired.status_code == 401 and expired.json()["error"]["message"] == "Lifetime validation failed, the token is expired."
    assert fresh_sandbox.graph("GET", "/servicePrincipals", token=token).status_code == 200
    assert fresh_sandbox.admin.counters()["faults"] == {"reset": 1, "status_503": 1, "malformed": 1, "token_expired": 1}


def test_batch_only_rule_gives_item_429(fresh_sandbox):
    fresh_sandbox.admin.set_faults({"rules": [{"method": "POST", "path": "/restart$", "batch_only": True, "count": 1,
                                               "fault": "status", "status": 429}]})
    jobs = _quarantined(fresh_sandbox, 2)
    body = fresh_sandbox.graph("POST", "/$batch", json={"requests": [_restart_item("a", jobs[0]), _restart_item("b", jobs[1])]}).json()
    statuses = {item["id"]: item["status"] for item in body["responses"]}
    assert statuses == {"a": 429, "b": 204}
    assert float(next(item for item in body["responses"] if item["id"] == "a")["headers"]["Retry-After"]) > 0


def test_latency(fresh_sandbox):
    token = fresh_sandbox.token()
    fresh_sandbox.admin.set_faults({"latency_ms": 150})
    started = time.monotonic()
    assert fresh_sandbox.graph("GET", "/servicePrincipals?$top=1", token=token).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_relapse_and_admin_set_job(fresh_sandbox):
    job = next(j for j in fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id) if j["status_code"] == "Active")
    fresh_sandbox.admin.set_job(job["service_principal_id"], job["job_id"], status_code="Quarantine", relapse=True)
    restart = "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (job["service_principal_id"], job["job_id"])
    assert fresh_sandbox.graph("POST", restart, json={"criteria": {}}).status_code == 204
    summary = fresh_sandbox.admin.job(job["service_principal_id"], job["job_id"])["summary"]
    assert summary["status_code"] == "Quarantine" and summary["restarts"] == 1


def test_log_never_holds_secrets(fresh_sandbox):
    token = fresh_sandbox.token()
    fresh_sandbox.graph("GET", "/servicePrincipals?$top=1", token=token)
    text = str(fresh_sandbox.admin.log())
    assert fresh_sandbox.app("full")["client_secret"] not in text and token not in text
    with open(fresh_sandbox.state_dir + "/server.out", encoding="utf-8") as handle:
        assert fresh_sandbox.app("full")["client_secret"] not in handle.read()
    assert fresh_sandbox.app("full")["client_secret"] not in fresh_sandbox.stderr()


def test_batch_item_lost_response_drops_the_whole_batch_after_the_effects(fresh_sandbox):
    fresh_sandbox.admin.set_faults({"rules": [{"method": "POST", "path": "/restart$", "batch_only": True, "count": 1,
                                               "fault": "lost_response"}]})
    jobs = _quarantined(fresh_sandbox, 2)
    with pytest.raises(requests.ConnectionError):
        fresh_sandbox.graph("POST", "/$batch", json={"requests": [_restart_item("a", jobs[0]), _restart_item("b", jobs[1])]})
    assert fresh_sandbox.admin.counters()["totals"]["restarts"] == 2


def test_paging_is_per_tenant_and_filter_survives_next_link(fresh_sandbox):
    token = fresh_sandbox.token()
    first = fresh_sandbox.graph("GET", "/servicePrincipals", token=token,
                                params={"$filter": "startswith(displayName,'c')", "$top": "5", "$select": "displayName"}).json()
    link = first["@odata.nextLink"]
    assert "$filter=startswith(displayName,'c')" in link.replace("%20", " ")
    second = fresh_sandbox.graph("GET", link, token=token).json()
    assert all(sp["displayName"].lower().startswith("c") for sp in first["value"] + second["value"])
    other_tenant = fresh_sandbox.token(tenant_id=fresh_sandbox.config["tenants"][1]["id"])
    response = fresh_sandbox.graph("GET", link, token=other_tenant)
    assert response.status_code == 400


def test_the_relapse_delay_is_set_through_the_admin_api_and_reset_restores_it(fresh_sandbox):
    job = next(j for j in fresh_sandbox.admin.jobs(fresh_sandbox.tenant_id) if j["status_code"] == "Active")
    sp_id, job_id = job["service_principal_id"], job["job_id"]
    fresh_sandbox.admin.set_job(sp_id, job_id, status_code="Quarantine", quarantine_reason="EncounteredQuarantineException",
                                quarantine_error={"code": "AzureActiveDirectoryExpiredCredentials", "tenant_actionable": True})
    assert fresh_sandbox.admin.set_relapse_delay(0.5) == {"seconds": 0.5}
    restart = "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (sp_id, job_id)
    assert fresh_sandbox.graph("POST", restart, json={"criteria": {}}).status_code == 204
    read = "/servicePrincipals/%s/synchronization/jobs/%s" % (sp_id, job_id)
    assert fresh_sandbox.graph("GET", read).json()["status"]["code"] == "Active"
    time.sleep(0.6)
    status = fresh_sandbox.graph("GET", read).json()["status"]
    assert status["code"] == "Quarantine" and status["quarantine"]["error"]["code"] == "AzureActiveDirectoryExpiredCredentials"
    assert fresh_sandbox.admin.relapse_delay() == 0.5
    for bad in (-1, "soon", None):
        with pytest.raises(RuntimeError, match="-> 400"):
            fresh_sandbox.admin.set_relapse_delay(bad)
    fresh_sandbox.admin.reset()
    assert fresh_sandbox.admin.relapse_delay() == 0.0
