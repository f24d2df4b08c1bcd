"""Workload identity from GitHub Actions, against the sandbox's stand-in for GitHub's OIDC token service: with only
ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN, AZURE_CLIENT_ID and AZURE_TENANT_ID set (beside the
sandbox's endpoints and CA), a module asks GitHub for a fresh assertion at each sign-in and signs in as the `federated`
app; the request token and the assertions never reach the -vvvv output. Also: a certificate sign-in carries the
SHA-256 thumbprint (x5t#S256), not MSAL's deprecated SHA-1 one."""

import jwt
import requests

TOKEN = "entra.sync.graph_token"
RESTART = "entra.sync.sync_job_restart"
AUDIENCE = "api://AzureADTokenExchange"
# The session sandbox's env signs in with the `full` app's secret: these runs must not see it.
NO_CREDENTIAL = {"AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None, "ENTRA_SYNC_ACCESS_TOKEN": None,
                 "AZURE_FEDERATED_TOKEN_FILE": None, "AZURE_CLIENT_CERTIFICATE_PATH": None}


def _admin_get(sandbox, path):
    response = requests.get(sandbox.config["admin_url"] + path, verify=sandbox.config["ca_path"], timeout=60)
    response.raise_for_status()
    return response.json()


def test_github_actions_request_url_signs_in_with_a_fresh_assertion(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sandbox = tenant.sandbox
    github = _admin_get(sandbox, "/github-oidc")
    assert github["requests"] == []
    env = dict(NO_CREDENTIAL, AZURE_CLIENT_ID=github["client_id"], ACTIONS_ID_TOKEN_REQUEST_URL=github["request_url"],
               ACTIONS_ID_TOKEN_REQUEST_TOKEN=github["request_token"])
    sp_id, job_id = ids[(1, 0)]
    run = run_tasks(sandbox, [
        {"module": TOKEN, "args": {}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "restart_if": ["quarantined"]}},
        {"module": TOKEN, "args": {}, "environment": {"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "not-the-job-token"}},
    ], env=env, verbosity=4)
    token, restart, refused = run.results
    assert not token.get("failed") and token["auth_method"] == "federated_token", token
    assert restart["action"] == "restarted" and restart["auth_method"] == "federated_token", restart
    assert refused["failed"] is True and "ACTIONS_ID_TOKEN_REQUEST_TOKEN" in refused["msg"], refused
    assert tenant.restarts() == {(sp_id, job_id): 1}

    # One GitHub request per sign-in (each module run is a new process), each with Entra's audience, and the
    # token endpoint saw federated grants: a fresh assertion each time, none copied.
    requests_seen = _admin_get(sandbox, "/github-oidc")["requests"]
    assert [(entry["status"], entry["audience"]) for entry in requests_seen] == [(200, AUDIENCE), (200, AUDIENCE), (401, AUDIENCE)]
    assert len({entry["jti"] for entry in requests_seen[:2]}) == 2
    grants = [(entry["status"], entry["body"]["grant"]) for entry in tenant.token_requests(tenant.log())]
    assert grants == [(200, "federated"), (200, "federated")], grants

    # Neither the request token nor an assertion reaches the output, even at -vvvv.
    assert github["request_token"] not in run.output, "the GitHub request token reached the -vvvv output"
    for assertion in _admin_get(sandbox, "/issued")["workload_tokens"]:
        assert assertion not in run.output and assertion.split(".")[1] not in run.output, "an assertion reached the output"


def test_certificate_sign_in_carries_the_sha256_thumbprint(tenant, run_tasks):
    sandbox = tenant.sandbox
    cert_app = sandbox.config["apps"]["cert"]
    env = dict(NO_CREDENTIAL, AZURE_CLIENT_ID=cert_app["client_id"], AZURE_CLIENT_CERTIFICATE_PATH=cert_app["certificate_path"])
    run = run_tasks(sandbox, [{"module": TOKEN, "args": {}}], env=env)
    assert not run.result.get("failed") and run.result["auth_method"] == "certificate", run.result
    headers = [jwt.get_unverified_header(assertion) for assertion in _admin_get(sandbox, "/issued")["assertions"]
               if jwt.decode(assertion, options={"verify_signature": False}).get("iss") == cert_app["client_id"]]
    assert headers, "the certificate sign-in sent no client assertion"
    assert headers[-1]["alg"] == "PS256" and "x5t#S256" in headers[-1], headers[-1]
    assert "x5t" not in headers[-1], headers[-1]
