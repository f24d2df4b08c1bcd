"""Sign-in against the sandbox with real MSAL over TLS: graph_token per credential kind, and the graph_auth role."""

import json

import trustme

TOKEN = "entra.sync.graph_token"
RESTART = "entra.sync.sync_job_restart"
NO_CREDENTIAL_ENV = {"AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None, "ENTRA_SYNC_ACCESS_TOKEN": None}


def _quarantined_fleet(tenant, count):
    ids = tenant.make_fleet({index: ["Quarantine"] for index in range(1, count + 1)})
    return [{"service_principal_id": sp, "job_id": job} for sp, job in ids.values()]


def test_graph_token_with_a_client_secret(tenant, run_task):
    run = run_task(tenant.sandbox, TOKEN, {})
    result = run.result
    assert run.rc == 0 and not result.get("failed"), run.describe()
    assert result["auth_method"] == "client_secret"
    assert result["access_token"].count(".") == 2
    assert result["scope"] == "https://graph.microsoft.com/.default"
    assert result["expires_at"].endswith("Z") and result["expires_on"] > 0
    assert len(tenant.token_requests(tenant.log())) == 1


def test_graph_token_with_a_pem_and_a_pfx_certificate(tenant, run_tasks):
    cert = tenant.sandbox.app("cert")
    env = dict(NO_CREDENTIAL_ENV, AZURE_CLIENT_ID=cert["client_id"])
    run = run_tasks(tenant.sandbox, [
        {"module": TOKEN, "args": {"client_certificate_path": cert["certificate_path"]}},
        {"module": TOKEN, "args": {"client_certificate_path": cert["pfx_path"], "client_certificate_password": cert["pfx_password"]}},
    ], env=env)
    pem, pfx = run.results
    assert run.rc == 0, run.describe()
    assert pem["auth_method"] == "certificate" and pem["access_token"], pem
    assert pfx["auth_method"] == "certificate" and pfx["access_token"], pfx
    assert cert["pfx_password"] not in run.output
    assert len(tenant.token_requests(tenant.log())) == 2


def test_wrong_secret_and_unknown_certificate_fail_clearly_without_the_secret(tenant, run_tasks, tmp_path):
    stranger = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert("stranger.example", key_type=trustme.KeyType.RSA)
    stranger_pem = tmp_path / "stranger.pem"
    stranger_pem.write_bytes(stranger.private_key_pem.bytes() + stranger.cert_chain_pems[0].bytes())
    wrong_secret = "Wr0ng~secret.value-123456789"
    cert = tenant.sandbox.app("cert")
    run = run_tasks(tenant.sandbox, [
        {"module": TOKEN, "args": {"client_secret": wrong_secret}},
        {"module": TOKEN, "args": {"client_id": cert["client_id"], "client_certificate_path": str(stranger_pem), "auth_method": "certificate"}},
    ], verbosity=4)
    bad_secret, bad_cert = run.results
    assert bad_secret["failed"] and "AADSTS7000215" in bad_secret["msg"] and "client secret is wrong" in bad_secret["msg"], bad_secret
    assert bad_cert["failed"] and "AADSTS700027" in bad_cert["msg"] and "not registered" in bad_cert["msg"], bad_cert
    assert wrong_secret not in run.output
    assert wrong_secret not in json.dumps(run.results)


def test_role_gives_one_token_to_a_200_job_restart(tenant, runner, tmp_path):
    jobs = _quarantined_fleet(tenant, 200)
    playbook = tmp_path / "role.yml"
    playbook.write_text(json.dumps([{
        "name": "role then restarts",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "module_defaults": {"group/entra.sync.graph": {"access_token": "{{ entra_sync_access_token | default('') }}"}},
        "tasks": [
            {"name": "sign in", "ansible.builtin.include_role": {"name": "entra.sync.graph_auth"}},
            {"name": "sign in again (reuses the token)", "ansible.builtin.include_role": {"name": "entra.sync.graph_auth"}},
            {"name": "restart", RESTART: {"jobs": jobs, "restart_if": ["quarantined"], "concurrency": 20}, "register": "restarted"},
            {"name": "restart again (converged)", RESTART: {"jobs": jobs, "restart_if": ["quarantined"]}, "register": "again"},
            {"name": "check", "ansible.builtin.assert": {"that": [
                "restarted.summary.restarted == 200",
                "again.summary.skipped == 200",
                "again is not changed",
            ]}},
        ],
    }]))
    run = runner.run_playbook(tenant.sandbox, playbook, verbosity=2)
    assert run.rc == 0, run.describe()
    log = tenant.log()
    assert len(tenant.token_requests(log)) == 1, tenant.token_requests(log)
    assert set(tenant.restarts().values()) == {1} and len(tenant.restarts()) == 200
    assert tenant.sandbox.app("full")["client_secret"] not in run.output
    assert "eyJ" not in run.output, "a token reached the output"
