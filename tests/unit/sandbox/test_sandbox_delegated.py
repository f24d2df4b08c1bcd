"""Delegated sign-in in the sandbox: MSAL's device flow and refresh tokens, user tokens, delegated authorization."""

import threading

import jwt
import msal
import pytest
import requests

from entra_sandbox.delegated import (
    APPLICATION_ADMINISTRATOR,
    GRAPH_CLI_CLIENT_ID,
    HYBRID_IDENTITY_ADMINISTRATOR,
    DeviceCode,
    poll_answer,
    sync_access_denied,
)

SCOPE = "https://graph.microsoft.com/Synchronization.ReadWrite.All"


@pytest.fixture(autouse=True)
def _known_state(fresh_sandbox):
    fresh_sandbox.admin.set_device_flow(interval=1, expires_in=900, slow_down=0)
    return fresh_sandbox


def _pca(sandbox, client_id=GRAPH_CLI_CLIENT_ID):
    return msal.PublicClientApplication(client_id, authority="%s/%s" % (sandbox.base_url, sandbox.tenant_id),
                                        instance_discovery=False, verify=sandbox.ca_path)


def _sign_in(sandbox, user="appadmin", action="approve", scopes=(SCOPE,), app=None):
    """Run MSAL's device flow; a thread plays the person, acting once the code has been polled twice."""
    app = app or _pca(sandbox)
    flow = app.initiate_device_flow(scopes=list(scopes))
    assert "user_code" in flow, flow

    def person():
        while [code for code in sandbox.admin.device_codes() if code["user_code"] == flow["user_code"]][0]["polls"] < 2:
            threading.Event().wait(0.2)
        sandbox.admin.device_login(flow["user_code"], user, action)

    helper = threading.Thread(target=person)
    helper.start()
    result = app.acquire_token_by_device_flow(flow)
    helper.join()
    return app, flow, result


def _graph(sandbox, token, method, path):
    return requests.request(method, sandbox.base_url + "/v1.0" + path, headers={"Authorization": "Bearer " + token},
                            json={"criteria": {}} if method == "POST" else None, verify=sandbox.ca_path, timeout=30)


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_device_flow_approved_gives_a_user_token_and_a_silent_refresh(sandbox):
    app, flow, result = _sign_in(sandbox)
    assert "access_token" in result, result
    assert flow["message"].startswith("To sign in, use a web browser to open the page")
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["scp"] == "Synchronization.ReadWrite.All" and claims["idtyp"] == "user"
    assert APPLICATION_ADMINISTRATOR in claims["wids"] and claims["oid"] == sandbox.config["delegated"]["users"]["appadmin"]["oid"]
    account = app.get_accounts()[0]
    assert account["username"] == sandbox.config["delegated"]["users"]["appadmin"]["upn"]
    again = app.acquire_token_silent([SCOPE], account=account, force_refresh=True)
    assert again and again["token_source"] == "identity_provider" and again["access_token"] != result["access_token"]
    code = [code for code in sandbox.admin.device_codes() if code["user_code"] == flow["user_code"]][0]
    assert code["state"] == "redeemed" and code["polls"] >= 3 and code["early_polls"] == 0


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_declined_and_slow_down(sandbox):
    _app, _flow, result = _sign_in(sandbox, action="decline")
    assert result["error"] == "authorization_declined"
    sandbox.admin.set_device_flow(slow_down=1)
    _app, flow, result = _sign_in(sandbox)
    assert "access_token" in result, result
    code = [code for code in sandbox.admin.device_codes() if code["user_code"] == flow["user_code"]][0]
    assert code["slow_downs_sent"] == 1 and code["early_polls"] == 0  # MSAL added 5 s to its interval


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_confidential_app_cannot_use_the_device_flow(sandbox):
    flow = _pca(sandbox, sandbox.app("full")["client_id"]).initiate_device_flow(scopes=[SCOPE])
    assert flow["error"] == "invalid_client" and "AADSTS7000218" in flow["error_description"]


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_delegated_authorization_needs_the_scope_and_a_role_or_ownership(sandbox):
    sp, job = next((j["service_principal_id"], j["job_id"]) for j in sandbox.admin.jobs(sandbox.tenant_id) if j["template_id"] == "scim")
    restart = "/servicePrincipals/%s/synchronization/jobs/%s/restart" % (sp, job)
    token = _sign_in(sandbox, user="noroles")[2]["access_token"]
    denied = _graph(sandbox, token, "POST", restart)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
    sandbox.admin.set_user("noroles", owns=[sp])
    assert _graph(sandbox, token, "POST", restart).status_code == 204
    reader = _sign_in(sandbox, scopes=("https://graph.microsoft.com/Synchronization.Read.All",))[2]["access_token"]
    assert _graph(sandbox, reader, "POST", restart).status_code == 401  # the scope is missing: what Graph answers
    assert _graph(sandbox, reader, "GET", restart[:-len("/restart")]).status_code == 200


def test_poll_answers_follow_rfc_8628():
    code = DeviceCode("d", "U", "t", "c", "s", expires_at=100.0, interval=5, slow_downs_left=0)
    assert poll_answer(code, 10.0) == "authorization_pending"
    assert poll_answer(code, 12.0) == "slow_down" and code.interval == 10 and code.early_polls == 1
    assert poll_answer(code, 22.5) == "authorization_pending"
    code.state = "approved"
    assert poll_answer(code, 33.0) == "approved" and poll_answer(code, 44.0) == "bad_verification_code"
    late = DeviceCode("d", "U", "t", "c", "s", expires_at=100.0, interval=5, slow_downs_left=0)
    assert poll_answer(late, 100.0) == "expired_token"


def test_role_rules():
    assert sync_access_denied([APPLICATION_ADMINISTRATOR], False, ["scim"]) is None
    assert sync_access_denied([], True, ["scim"]) is None
    assert sync_access_denied([], False, ["scim"])
    assert sync_access_denied([HYBRID_IDENTITY_ADMINISTRATOR], False, ["AD2AADProvisioning"]) is None
    assert sync_access_denied([HYBRID_IDENTITY_ADMINISTRATOR], False, ["scim"])
