"""Auth and transport: no secret or token in output, access_token passthrough, TLS settings."""

import re

import trustme

RESTART = "entra.sync.sync_job_restart"
INFO = "entra.sync.sync_job_info"
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+")


def _assert_no_secret(run, secret, label):
    output = run.output
    assert secret not in output, "%s: the client secret appears in the -vvvv output" % label
    found = JWT_RE.findall(output)
    assert "eyJ" not in output, "%s: a JWT (token) appears in the -vvvv output: %s" % (label, [t[:12] + "..." for t in found])
    assert not re.search(r"Bearer [A-Za-z0-9._-]{8,}", output), "%s: a Bearer value appears in the output" % label


def test_no_secret_or_token_in_vvvv_output(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine", "Quarantine"], 2: ["Active"]})
    sandbox = tenant.sandbox
    secret = sandbox.env["AZURE_CLIENT_SECRET"]
    assert len(secret) >= 16

    ok = run_tasks(sandbox, [
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "restart_if": ["quarantined"]}},
        {"module": INFO, "args": {"service_principal_id": ids[(2, 0)][0]}},
    ], verbosity=4, diff=True)
    assert ok.rc == 0, ok.describe()
    assert ok.results[0]["summary"]["restarted"] == 2, ok.results[0]
    assert tenant.admin.counters()["totals"]["restarts"] == 2
    assert tenant.token_requests(tenant.log()), "the run signed in (so there was a token to leak)"
    _assert_no_secret(ok, secret, "restarting run")

    # Failures: a rejected token (401 InvalidAuthenticationToken on every Graph call, after a sign-in with the
    # secret), a graph_endpoint with a path, and a wrong secret that contains the real one.
    tenant.clear()
    tenant.admin.set_faults({"rules": [{"method": "*", "path": "/synchronization/", "count": 1000, "fault": "token_expired"}]})
    bad = run_tasks(sandbox, [
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "job_id": ids[(1, 0)][1]}},
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "restart_if": ["always"]}},
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "job_id": ids[(1, 0)][1],
                                     "graph_endpoint": sandbox.base_url + "/v1.0"}},
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "job_id": ids[(1, 0)][1],
                                     "client_secret": secret + "X"}},
    ], verbosity=4)
    assert bad.rc == 0, bad.describe()
    rejected, rejected_sp, bad_endpoint, wrong_secret = bad.results
    for result in bad.results:
        assert result["failed"] is True, result
    assert "401" in rejected["msg"] or "InvalidAuthenticationToken" in rejected["msg"], rejected["msg"]
    assert "graph_endpoint" in bad_endpoint["msg"], bad_endpoint["msg"]
    assert "secret" in wrong_secret["msg"].lower(), wrong_secret["msg"]
    log = tenant.log()
    assert any(e["status"] == 401 and e["fault"] == "token_expired" for e in log), "the 401 path was exercised"
    assert any(e["kind"] == "token" and e["status"] != 200 for e in log), "the wrong-secret sign-in was exercised"
    assert tenant.admin.counters()["totals"]["restarts"] == 0
    _assert_no_secret(bad, secret, "failing run")


def test_access_token_passthrough_makes_no_token_request(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine", "Active"]})
    sandbox = tenant.sandbox
    token = sandbox.token()
    tenant.clear()
    env = {"AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None}
    run = run_tasks(sandbox, [
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0], "job_id": ids[(1, 0)][1],
                                     "access_token": token}},
        {"module": INFO, "args": {"service_principal_id": ids[(1, 0)][0], "access_token": token}},
    ], env=env, verbosity=2)
    assert run.rc == 0, run.describe()
    restart, info = run.results
    assert restart["action"] == "restarted" and restart["auth_method"] == "access_token", restart
    assert info["auth_method"] == "access_token" and len(info["jobs"]) == 2, info
    log = tenant.log()
    assert tenant.token_requests(log) == [], "a token request was sent although access_token was given"
    assert tenant.admin.counters()["token_requests"] == {}
    assert len(log) >= 3  # the Graph calls were made with the given token
    assert tenant.restarts() == {ids[(1, 0)]: 1}
    assert token not in run.output


def _other_ca(tmp_path):
    """A valid PEM CA that did not sign the sandbox's certificate."""
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def test_tls_wrong_ca_fails_naming_ca_path_and_validate_certs(tenant, run_tasks, tmp_path):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sp_id, job_id = ids[(1, 0)]
    other_ca = _other_ca(tmp_path)
    run = run_tasks(tenant.sandbox, [
        {"module": INFO, "args": {"service_principal_id": sp_id, "job_id": job_id, "ca_path": other_ca}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "ca_path": other_ca}},
    ])
    assert run.rc == 0, run.describe()
    for result in run.results:
        assert result["failed"] is True, result
        assert "ca_path" in result["msg"] and "validate_certs" in result["msg"], result["msg"]
        assert "Traceback" not in result.get("module_stderr", ""), result
    assert tenant.admin.counters()["totals"]["restarts"] == 0


def test_tls_wrong_ca_at_graph_names_ca_path_and_validate_certs_false_works_and_warns(tenant, run_tasks, tmp_path):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sandbox = tenant.sandbox
    sp_id, job_id = ids[(1, 0)]
    other_ca = _other_ca(tmp_path)
    token = sandbox.token()
    tenant.clear()
    run = run_tasks(sandbox, [
        # with a given token, the first TLS handshake is the Graph client's own
        {"module": INFO, "args": {"service_principal_id": sp_id, "job_id": job_id, "ca_path": other_ca, "access_token": token}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "ca_path": other_ca, "access_token": token}},
        # no verification at all: works (sign-in and Graph) even with the wrong CA given, and warns
        {"module": INFO, "args": {"service_principal_id": sp_id, "job_id": job_id, "ca_path": other_ca, "validate_certs": False}},
    ])
    assert run.rc == 0, run.describe()
    graph_info, graph_restart, unverified = run.results
    for result in (graph_info, graph_restart):
        assert result["failed"] is True, result
        assert "ca_path" in result["msg"] and "validate_certs" in result["msg"], result["msg"]
    assert graph_restart["action"] == "failed"
    assert not unverified.get("failed"), unverified
    assert [job["job_id"] for job in unverified["jobs"]] == [job_id]
    assert any("validate_certs" in warning for warning in unverified.get("warnings", [])), unverified.get("warnings")
    assert "validate_certs is false" in run.output
    log = tenant.log()
    assert tenant.token_requests(log), "validate_certs: false signed in through the sandbox"
    assert tenant.admin.counters()["totals"]["restarts"] == 0


def test_graph_token_signs_in_on_the_controller_and_a_task_environment_goes_through_the_module(tenant, run_tasks):
    sandbox = tenant.sandbox
    secret = sandbox.env["AZURE_CLIENT_SECRET"]
    tenant.clear()
    # Without the secret in the controller's environment: only the task's `environment` carries it, and only the
    # module gets a task's environment, so that task must run the module (and sign in with it).
    run = run_tasks(sandbox, [
        {"module": "entra.sync.graph_token", "args": {"client_secret": secret}, "no_log": True},
        {"module": "entra.sync.graph_token", "args": {}, "no_log": True, "environment": {"AZURE_CLIENT_SECRET": secret}},
        {"module": "entra.sync.graph_token", "args": {}, "no_log": True},
    ], verbosity=3, env={"AZURE_CLIENT_SECRET": None})
    assert run.rc == 0, run.describe()
    here, through_module, missing = run.results
    assert here["token_source"] == "sign_in" and here["auth_method"] == "client_secret", here
    assert through_module["token_source"] == "sign_in" and through_module["auth_method"] == "client_secret", through_module
    assert missing["failed"] is True and "No credential was given" in missing["msg"], missing
    # One module run in all (-vvv shows each AnsiballZ file it puts in place): the task with its own environment.
    assert len(re.findall(r"PUT \S+ TO \S+/AnsiballZ_graph_token\.py", run.output)) == 1, run.output[-3000:]
    assert len(tenant.token_requests(tenant.log())) == 2
