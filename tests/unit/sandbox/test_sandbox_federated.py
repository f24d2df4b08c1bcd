"""Workload identity federation in the sandbox: the `federated` app, its external issuer, and what the token endpoint checks."""

import jwt
import msal
import pytest
import requests


def _app(sandbox, assertion):
    identity = sandbox.config["workload_identity"]
    return msal.ConfidentialClientApplication(
        identity["client_id"], client_credential={"client_assertion": lambda: assertion},
        authority="%s/%s" % (sandbox.base_url, sandbox.tenant_id), instance_discovery=False, verify=sandbox.ca_path)


def _last_token_entry(sandbox):
    return [entry for entry in sandbox.admin.log() if entry["kind"] == "token"][-1]


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_federated_assertion_gets_a_token_with_the_app_roles(fresh_sandbox):
    minted = fresh_sandbox.admin.workload_token(expires_in=600)
    result = _app(fresh_sandbox, minted["token"]).acquire_token_for_client(scopes=[fresh_sandbox.config["scope"]])
    assert "access_token" in result, result.get("error_description")
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["appid"] == fresh_sandbox.config["workload_identity"]["client_id"]
    assert "Synchronization.ReadWrite.All" in claims["roles"]
    logged = _last_token_entry(fresh_sandbox)["body"]
    assert logged == {"grant": "federated", "scope": fresh_sandbox.config["scope"], "assertion_jti": minted["jti"], "assertion_exp": minted["exp"]}


@pytest.mark.usefixtures("no_ca_bundle_env")
@pytest.mark.parametrize("mint, code", [
    ({"expires_in": -60}, 700024),
    ({"subject": "system:serviceaccount:other:sa"}, 70021),
    ({"audience": "api://SomethingElse"}, 70021),
    ({"issuer": "https://token.actions.githubusercontent.com"}, 70021),
])
def test_federated_assertion_refused(fresh_sandbox, mint, code):
    minted = fresh_sandbox.admin.workload_token(**mint)
    result = _app(fresh_sandbox, minted["token"]).acquire_token_for_client(scopes=[fresh_sandbox.config["scope"]])
    assert result.get("error_codes") == [code], result
    assert minted["token"] not in result["error_description"]
    assert _last_token_entry(fresh_sandbox)["body"]["error_code"] == code


def test_federated_assertion_signed_by_another_key_is_refused(fresh_sandbox):
    minted = fresh_sandbox.admin.workload_token()
    claims = jwt.decode(minted["token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-issuer-key-but-long-enough-for-hs256!", algorithm="HS256",
                        headers={"kid": jwt.get_unverified_header(minted["token"])["kid"]})
    identity = fresh_sandbox.config["workload_identity"]
    form = {"grant_type": "client_credentials", "client_id": identity["client_id"], "scope": fresh_sandbox.config["scope"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": forged}
    response = requests.post("%s/%s/oauth2/v2.0/token" % (fresh_sandbox.base_url, fresh_sandbox.tenant_id), data=form,
                             verify=fresh_sandbox.ca_path, timeout=30)
    assert response.status_code == 400 and response.json()["error_codes"] == [5002738]
