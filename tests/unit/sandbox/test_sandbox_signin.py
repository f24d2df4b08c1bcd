"""Sign-in: real MSAL against the sandbox's authority, certificates, errors, managed identity."""

import time

import jwt
import msal
import pytest
import requests


@pytest.fixture(autouse=True)
def _known_state(fresh_sandbox):
    """The session's sandbox is shared: another test file may have left faults, a throttle or short tokens behind."""
    return fresh_sandbox


def _cca(sandbox, app, credential, tenant_id=None):
    return msal.ConfidentialClientApplication(
        sandbox.app(app)["client_id"], client_credential=credential,
        authority="%s/%s" % (sandbox.base_url, tenant_id or sandbox.tenant_id), instance_discovery=False, verify=sandbox.ca_path)


def _graph_get(sandbox, token, path="/servicePrincipals?$top=1"):
    return requests.get(sandbox.base_url + "/v1.0" + path, headers={"Authorization": "Bearer " + token}, verify=sandbox.ca_path, timeout=30)


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_msal_secret_gets_a_token_graph_accepts(sandbox):
    result = _cca(sandbox, "full", sandbox.app("full")["client_secret"]).acquire_token_for_client(scopes=[sandbox.config["scope"]])
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3600, result.get("error_description")
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["tid"] == sandbox.tenant_id and claims["appid"] == sandbox.app("full")["client_id"]
    assert set(claims["roles"]) == {"Synchronization.ReadWrite.All", "Application.Read.All"}
    assert _graph_get(sandbox, result["access_token"]).status_code == 200


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_msal_certificate_pem_and_pfx(sandbox):
    cert = sandbox.app("cert")
    with open(cert["certificate_path"], encoding="utf-8") as handle:
        pem = handle.read()
    for credential in ({"private_key": pem, "thumbprint": cert["thumbprint_sha1"]},            # RS256 + x5t
                       {"private_key_pfx_path": cert["pfx_path"], "passphrase": cert["pfx_password"]}):  # PS256 + x5t#S256
        result = _cca(sandbox, "cert", credential).acquire_token_for_client(scopes=[sandbox.config["scope"]])
        assert "access_token" in result, result.get("error_description")


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_wrong_thumbprint_is_refused(sandbox):
    cert = sandbox.app("cert")
    with open(cert["certificate_path"], encoding="utf-8") as handle:
        pem = handle.read()
    result = _cca(sandbox, "cert", {"private_key": pem, "thumbprint": "00" * 20}).acquire_token_for_client(scopes=[sandbox.config["scope"]])
    assert result["error"] == "invalid_client" and "AADSTS700027" in result["error_description"]


@pytest.mark.usefixtures("no_ca_bundle_env")
def test_wrong_secret_fails_without_echo(sandbox):
    wrong = "not-the-secret-8Q~" + "x" * 20
    result = _cca(sandbox, "full", wrong).acquire_token_for_client(scopes=[sandbox.config["scope"]])
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000215]
    assert wrong not in str(result) and sandbox.app("full")["client_secret"] not in str(result)


def test_assertion_checks_audience_and_issuer(sandbox):
    cert = sandbox.app("cert")
    with open(cert["certificate_path"], "rb") as handle:
        key = handle.read()
    token_url = "%s/%s/oauth2/v2.0/token" % (sandbox.base_url, sandbox.tenant_id)
    x5t = jwt.utils.base64url_encode(bytes.fromhex(cert["thumbprint_sha1"])).decode()
    now = int(time.time())

    def attempt(**claims):
        body = dict({"aud": token_url, "iss": cert["client_id"], "sub": cert["client_id"], "exp": now + 300, "iat": now}, **claims)
        assertion = jwt.encode(body, key, algorithm="RS256", headers={"x5t": x5t})
        form = {"grant_type": "client_credentials", "client_id": cert["client_id"], "scope": sandbox.config["scope"],
                "client_assertion": assertion, "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
        response = requests.post(token_url, data=form, verify=sandbox.ca_path, timeout=30)
        assert assertion not in response.text
        return response

    assert attempt().status_code == 200
    assert attempt(aud="https://login.microsoftonline.com/x/oauth2/v2.0/token").json()["error_codes"] == [700021]
    assert attempt(sub="someone-else").json()["error_codes"] == [700023]
    assert attempt(exp=now - 10).json()["error_codes"] == [700024]


def test_token_for_another_cloud_or_bad_scope_is_refused(sandbox):
    token_url = "%s/%s/oauth2/v2.0/token" % (sandbox.base_url, sandbox.tenant_id)
    full = sandbox.app("full")
    for scope, code in (("https://graph.microsoft.us/.default", 500011), ("https://graph.microsoft.com/User.Read", 1002012)):
        form = {"grant_type": "client_credentials", "client_id": full["client_id"], "client_secret": full["client_secret"], "scope": scope}
        response = requests.post(token_url, data=form, verify=sandbox.ca_path, timeout=30)
        assert response.status_code == 400 and response.json()["error_codes"] == [code]


def test_unknown_tenant_and_client(sandbox):
    response = requests.get("%s/%s/v2.0/.well-known/openid-configuration" % (sandbox.base_url, "11111111-1111-4111-8111-111111111111"),
                            verify=sandbox.ca_path, timeout=30)
    assert response.status_code == 400 and response.json()["error_codes"] == [90002]
    form = {"grant_type": "client_credentials", "client_id": "22222222-2222-4222-8222-222222222222", "client_secret": "x",
            "scope": sandbox.config["scope"]}
    response = requests.post("%s/%s/oauth2/v2.0/token" % (sandbox.base_url, sandbox.tenant_id), data=form, verify=sandbox.ca_path, timeout=30)
    assert response.status_code == 400 and response.json()["error_codes"] == [700016]


def test_expired_token_is_refused_by_graph(fresh_sandbox):
    fresh_sandbox.admin.set_token_lifetime(1)
    token = fresh_sandbox.token("full")
    time.sleep(1.1)
    response = _graph_get(fresh_sandbox, token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert response.json()["error"]["message"] == "Lifetime validation failed, the token is expired."


def test_token_of_second_tenant_sees_its_own_fleet(sandbox):
    second = sandbox.config["tenants"][1]["id"]
    token = sandbox.token("full", tenant_id=second)
    assert jwt.decode(token, options={"verify_signature": False})["tid"] == second
    ids_second = {sp["id"] for sp in _graph_get(sandbox, token, "/servicePrincipals?$top=5").json()["value"]}
    ids_first = {sp["id"] for sp in _graph_get(sandbox, sandbox.token("full"), "/servicePrincipals?$top=5").json()["value"]}
    assert ids_first.isdisjoint(ids_second)


def test_managed_identity_with_msal(sandbox, monkeypatch):
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", sandbox.base_url)
    session = requests.Session()
    session.trust_env = False  # so REQUESTS_CA_BUNDLE does not replace our CA
    session.verify = sandbox.ca_path
    system = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=session)
    result = system.acquire_token_for_client(resource="https://graph.microsoft.com")
    assert "access_token" in result, result
    assert _graph_get(sandbox, result["access_token"]).status_code == 200
    user_id = sandbox.config["managed_identity"]["user_assigned"]["client_id"]
    user = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id=user_id), http_client=session)
    claims = jwt.decode(user.acquire_token_for_client(resource="https://graph.microsoft.com")["access_token"],
                        options={"verify_signature": False})
    assert claims["appid"] == user_id and "Synchronization.Read.All" in claims["roles"]
    response = requests.get(sandbox.base_url + "/metadata/identity/oauth2/token", params={"api-version": "2018-02-01",
                            "resource": "https://graph.microsoft.com"}, verify=sandbox.ca_path, timeout=30)
    assert response.status_code == 400  # no Metadata header
