"""A job's credentials over HTTPS: PUT/GET .../synchronization/secrets, POST .../validateCredentials, the target's rule
(admin API), and a credential quarantine that a restart lifts only once the saved credentials are accepted."""

from urllib.parse import quote

import pytest

REFUSED = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
UNAVAILABLE = "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"
GOOD = {"BaseAddress": "https://scim.target.test/v2", "SecretToken": "new-token-1f7c"}


def _job(sandbox, status_code="Active"):
    for job in sandbox.admin.jobs(sandbox.tenant_id):
        if job["status_code"] == status_code:
            return job
    raise AssertionError("no %s job" % status_code)


def _paths(job):
    sp = "/servicePrincipals/%s/synchronization" % job["service_principal_id"]
    return sp + "/secrets", sp + "/jobs/%s/validateCredentials" % quote(job["job_id"], safe="")


def _pairs(values):
    return [{"key": key, "value": value} for key, value in values.items()]


def _error(response, status, code):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and set(error["innerError"]) >= {"date", "request-id", "client-request-id"}
    return error


def test_put_saves_the_whole_set_and_get_reads_it_back_masked(fresh_sandbox):
    job = _job(fresh_sandbox)
    secrets, _validate = _paths(job)
    assert fresh_sandbox.graph("GET", secrets).json()["value"] == []
    assert fresh_sandbox.graph("PUT", secrets, json={"value": _pairs(GOOD)}).status_code == 204
    read = fresh_sandbox.graph("GET", secrets).json()
    assert read["value"] == [{"key": "BaseAddress", "value": "*"}, {"key": "SecretToken", "value": "*"}]
    assert read["@odata.context"].endswith("/synchronization/secrets")
    # A PUT replaces the set: what it leaves out is gone.
    assert fresh_sandbox.graph("PUT", secrets, json={"value": [{"key": "SecretToken", "value": "other"}]}).status_code == 204
    state = fresh_sandbox.admin.credentials(job["service_principal_id"])
    assert (state["saved"], state["puts"]) == ({"SecretToken": "other"}, 2)


@pytest.mark.parametrize("body, code, words", [
    (None, "BadRequest", "Empty Payload"),
    ({"credentials": [{"key": "SecretToken", "value": "x"}]}, "BadRequest", "property 'credentials' does not exist"),
    ({}, "BadRequest", "'value'"),
    ({"value": {"key": "SecretToken"}}, "BadRequest", "collection"),
    ({"value": [{"key": "Token", "value": "x"}]}, "BadRequest", "Requested value 'Token' was not found"),
    ({"value": [{"key": "secrettoken", "value": "x"}]}, "BadRequest", "Requested value 'secrettoken'"),
    ({"value": [{"key": "SecretToken", "value": 5}]}, "BadRequest", "Edm.String"),
    ({"value": [{"key": "SecretToken", "value": "x", "expires": "2026"}]}, "BadRequest", "property 'expires' does not exist"),
])
def test_put_body_errors(fresh_sandbox, body, code, words):
    secrets, _validate = _paths(_job(fresh_sandbox))
    response = fresh_sandbox.graph("PUT", secrets, **({"json": body} if body is not None else {}))
    assert words in _error(response, 400, code)["message"]
    assert fresh_sandbox.admin.credentials(_job(fresh_sandbox)["service_principal_id"])["puts"] == 0


def test_secrets_methods_and_permissions(fresh_sandbox):
    job = _job(fresh_sandbox)
    secrets, validate = _paths(job)
    body = {"value": _pairs(GOOD)}
    _error(fresh_sandbox.graph("POST", secrets, json=body), 405, "Request_BadRequest")
    _error(fresh_sandbox.graph("PUT", secrets, app="readonly", json=body), 401, "UnknownError")
    assert fresh_sandbox.graph("GET", secrets, app="readonly").status_code == 200
    _error(fresh_sandbox.graph("POST", validate, app="readonly", json={"useSavedCredentials": True}), 401, "UnknownError")
    _error(fresh_sandbox.graph("PUT", secrets, app="noperm", json=body), 401, "UnknownError")
    _error(fresh_sandbox.graph("PUT", "/servicePrincipals/00000000-0000-4000-8000-000000000000/synchronization/secrets", json=body),
           404, "Request_ResourceNotFound")
    unknown = validate.replace(quote(job["job_id"], safe=""), "scim.00000000000000000000000000000000")
    _error(fresh_sandbox.graph("POST", unknown, json={"useSavedCredentials": True}), 404, "itemNotFound")
    _error(fresh_sandbox.graph("GET", validate), 405, "Request_BadRequest")


def test_validate_against_the_targets_rule(fresh_sandbox):
    job = _job(fresh_sandbox)
    secrets, validate = _paths(job)
    sp = job["service_principal_id"]
    # No rule: any credentials pass.
    assert fresh_sandbox.graph("POST", validate, json={"useSavedCredentials": False, "credentials": _pairs(GOOD)}).status_code == 204
    fresh_sandbox.admin.set_credentials(sp, accepts=GOOD)
    bad = dict(GOOD, SecretToken="expired-token")
    error = _error(fresh_sandbox.graph("POST", validate, json={"useSavedCredentials": False, "credentials": _pairs(bad)}), 400, REFUSED)
    assert "expired-token" not in error["message"]
    wrong_url = dict(GOOD, BaseAddress="https://elsewhere.test/scim")
    _error(fresh_sandbox.graph("POST", validate, json={"useSavedCredentials": False, "credentials": _pairs(wrong_url)}), 400, UNAVAILABLE)
    assert fresh_sandbox.graph("POST", validate, json={"useSavedCredentials": False, "credentials": _pairs(GOOD)}).status_code == 204
    # The saved set: nothing known saved yet (typed in before the run) is refused once the target has a rule.
    _error(fresh_sandbox.graph("POST", validate, json={"useSavedCredentials": True}), 400, REFUSED)
    assert fresh_sandbox.graph("PUT", secrets, json={"value": _pairs(GOOD)}).status_code == 204
    assert fresh_sandbox.graph("POST", validate, json={"useSavedCredentials": True}).status_code == 204
    fresh_sandbox.admin.set_credentials(sp, reachable=False)
    _error(fresh_sandbox.graph("POST", validate, json={"useSavedCredentials": True}), 400, UNAVAILABLE)
    state = fresh_sandbox.admin.credentials(sp)
    assert (state["validations"], state["puts"]) == (7, 1)


@pytest.mark.parametrize("body, words", [
    ({"useSavedCredentials": False}, "'credentials' must hold"),
    ({"useSavedCredentials": False, "credentials": []}, "'credentials' must hold"),
    ({"useSavedCredentials": "yes"}, "Edm.Boolean"),
    ({"useSavedCredentials": True, "token": "x"}, "parameter 'token' in the request payload is not a valid parameter"),
    ({"credentials": [{"key": "Nope", "value": "x"}]}, "Requested value 'Nope'"),
])
def test_validate_body_errors(fresh_sandbox, body, words):
    _secrets, validate = _paths(_job(fresh_sandbox))
    assert words in _error(fresh_sandbox.graph("POST", validate, json=body), 400, "BadRequest")["message"]


def test_validate_accepts_the_sdks_optional_parameters(fresh_sandbox):
    _secrets, validate = _paths(_job(fresh_sandbox))
    body = {"useSavedCredentials": False, "templateId": "scim", "applicationIdentifier": "x",
            "credentials": [dict(pair, **{"@odata.type": "#microsoft.graph.synchronizationSecretKeyStringValuePair"}) for pair in _pairs(GOOD)]}
    assert fresh_sandbox.graph("POST", validate, json=body).status_code == 204


def test_credential_quarantine_lifts_only_once_accepted_credentials_are_saved(fresh_sandbox):
    job = _job(fresh_sandbox)
    secrets, _validate = _paths(job)
    sp, job_id = job["service_principal_id"], job["job_id"]
    restart = "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (sp, quote(job_id, safe=""))
    fresh_sandbox.admin.set_credentials(sp, saved={"BaseAddress": GOOD["BaseAddress"], "SecretToken": "old"})
    # The target revokes the old token: the next cycle quarantines the job with the target's error.
    fresh_sandbox.admin.set_credentials(sp, accepts=GOOD, cycle=True)
    graph_job = fresh_sandbox.admin.job(sp, job_id)["graph"]
    quarantine = graph_job["status"]["quarantine"]
    assert graph_job["status"]["code"] == "Quarantine" and quarantine["reason"] == "EncounteredQuarantineException"
    assert (quarantine["error"]["code"], quarantine["error"]["tenantActionable"]) == (REFUSED, True)
    # A restart alone: the first cycle runs with the old token and quarantines the job again.
    assert fresh_sandbox.graph("POST", restart, json={"criteria": {"resetScope": "QuarantineState"}}).status_code == 204
    assert fresh_sandbox.admin.job(sp, job_id)["summary"]["status_code"] == "Quarantine"
    # Saved, then restarted: the job leaves quarantine.
    assert fresh_sandbox.graph("PUT", secrets, json={"value": _pairs(GOOD)}).status_code == 204
    assert fresh_sandbox.admin.job(sp, job_id)["summary"]["status_code"] == "Quarantine"  # saving alone lifts nothing
    assert fresh_sandbox.graph("POST", restart, json={"criteria": {"resetScope": "QuarantineState"}}).status_code == 204
    after = fresh_sandbox.admin.job(sp, job_id)
    assert after["summary"]["status_code"] == "Active" and after["graph"]["status"]["quarantine"] is None
    assert after["summary"]["restarts"] == 2


def test_validate_and_put_in_batch(fresh_sandbox):
    job = _job(fresh_sandbox)
    secrets, validate = _paths(job)
    requests = [{"id": "1", "method": "POST", "url": validate, "headers": {"Content-Type": "application/json"},
                 "body": {"useSavedCredentials": False, "credentials": _pairs(GOOD)}},
                {"id": "2", "method": "PUT", "url": secrets, "headers": {"Content-Type": "application/json"}, "body": {"value": _pairs(GOOD)}}]
    answer = fresh_sandbox.graph("POST", "/$batch", json={"requests": requests}).json()
    assert sorted((item["id"], item["status"]) for item in answer["responses"]) == [("1", 204), ("2", 204)]


def test_admin_errors(fresh_sandbox):
    sp = _job(fresh_sandbox)["service_principal_id"]
    with pytest.raises(RuntimeError, match="400"):
        fresh_sandbox.admin.set_credentials(sp, accepts={"SecretToken": 5})
    with pytest.raises(RuntimeError, match="400"):
        fresh_sandbox.admin.set_credentials(sp, token="x")
    with pytest.raises(RuntimeError, match="404"):
        fresh_sandbox.admin.credentials("00000000-0000-4000-8000-000000000000")
