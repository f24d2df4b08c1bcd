"""TLS beyond test_int_auth.py: verification is on by default (no CA given means the system trust, which does not hold
the sandbox's per-run CA); ca_path wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (which requests would otherwise let
override it); the graph_auth role, the fleet playbook and the inventory plugin fail clearly on a wrong CA, and work and
warn with validate_certs false.

test_int_auth.py already covers: a wrong ca_path fails naming ca_path and validate_certs, at sign-in and at Graph (with
a given token), and validate_certs false works and warns for sync_job_info.
"""

import json
import os
import subprocess

import entra_int_harness as HARNESS  # tests/integration/conftest.py
import trustme

RESTART = "entra.sync.sync_job_restart"
INFO = "entra.sync.sync_job_info"


def _other_ca(tmp_path):
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def _names_the_fix(message):
    return "ca_path" in message and "validate_certs" in message


def test_verified_by_default_no_ca_given_fails_at_sign_in_and_at_graph(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sandbox = tenant.sandbox
    sp_id, job_id = ids[(1, 0)]
    token = sandbox.token()
    tenant.clear()
    # No ENTRA_SYNC_CA_PATH: the default trust (this machine's bundle, through REQUESTS_CA_BUNDLE as it is set here)
    # does not hold the sandbox's CA, so both the sign-in and a Graph call with a given token must fail.
    run = run_tasks(sandbox, [
        {"module": INFO, "args": {"service_principal_id": sp_id}},
        {"module": RESTART, "args": {"service_principal_id": sp_id, "job_id": job_id, "access_token": token}},
    ], env={"ENTRA_SYNC_CA_PATH": None})
    assert run.rc == 0, run.describe()
    signin, graph = run.results
    for result in run.results:
        assert result["failed"] is True, result
        assert _names_the_fix(result["msg"]), result["msg"]
    assert graph["action"] == "failed"
    assert tenant.admin.counters()["totals"].get("restarts", 0) == 0
    assert tenant.token_requests(tenant.log()) == [], "a token request got through unverified TLS"
    assert "sign-in" in signin["msg"].lower() or "authority" in signin["msg"].lower() or sandbox.base_url in signin["msg"], signin["msg"]


def test_ca_path_wins_over_requests_ca_bundle(tenant, run_tasks, tmp_path):
    ids = tenant.make_fleet({1: ["Quarantine", "Quarantine"]})
    sandbox = tenant.sandbox
    other_ca = _other_ca(tmp_path)
    token = sandbox.token()
    tenant.clear()
    trusting_env = {"REQUESTS_CA_BUNDLE": sandbox.ca_path, "CURL_CA_BUNDLE": sandbox.ca_path}
    wrong = run_tasks(sandbox, [
        {"module": INFO, "args": {"service_principal_id": ids[(1, 0)][0], "ca_path": other_ca}},
        {"module": INFO, "args": {"service_principal_id": ids[(1, 0)][0], "ca_path": other_ca, "access_token": token}},
    ], env=trusting_env)
    assert wrong.rc == 0, wrong.describe()
    for result in wrong.results:
        assert result["failed"] is True, "REQUESTS_CA_BUNDLE overrode ca_path: %s" % result
        assert _names_the_fix(result["msg"]), result["msg"]
    assert tenant.token_requests(tenant.log()) == []

    # and the other way round: the env bundle is wrong, ca_path is right
    right = run_tasks(sandbox, [
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 1)][0], "job_id": ids[(1, 1)][1]}},
    ], env={"REQUESTS_CA_BUNDLE": other_ca, "CURL_CA_BUNDLE": other_ca})
    assert right.rc == 0, right.describe()
    assert right.result["action"] == "restarted", right.result
    assert tenant.restarts() == {ids[(1, 1)]: 1}


def test_fleet_playbook_wrong_ca_fails_clearly_and_restarts_nothing(tenant, run_playbook, tmp_path):
    tenant.make_fleet({1: ["Quarantine", "Quarantine"]})
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_canary_size": 0},
                       env={"ENTRA_SYNC_CA_PATH": _other_ca(tmp_path)})
    assert run.rc != 0, run.describe()
    text = " ".join(run.output.split())
    assert _names_the_fix(text), text[-2000:]
    assert tenant.admin.counters()["totals"].get("restarts", 0) == 0
    assert tenant.token_requests(tenant.log()) == []


def test_validate_certs_false_works_and_warns_for_the_role_and_the_inventory(tenant, tmp_path):
    ids = tenant.make_fleet({1: ["Quarantine", "Active"]})
    sandbox = tenant.sandbox
    other_ca = _other_ca(tmp_path)
    env = HARNESS.playbook_env(sandbox, {"ENTRA_SYNC_CA_PATH": other_ca})

    play = [{"name": "tls", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [
        {"name": "sign in", "ansible.builtin.include_role": {"name": "entra.sync.graph_auth"}, "vars": {"graph_auth_validate_certs": False}},
        {"name": "use the token", INFO: {"service_principal_id": ids[(1, 0)][0], "access_token": "{{ entra_sync_access_token }}",
                                         "validate_certs": False}},
    ]}]
    playbook = tmp_path / "role.yml"
    playbook.write_text(json.dumps(play))
    proc = subprocess.run([os.path.join(HARNESS.BIN_DIR, "ansible-playbook"), str(playbook)], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=HARNESS.RUN_TIMEOUT, check=False)
    output = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 0, output[-3000:]
    assert "validate_certs is false" in output, "the role's sign-in without verification did not warn: " + output[-2000:]

    source = tmp_path / "tls.sync_jobs.yml"
    source.write_text(json.dumps({"plugin": "entra.sync.sync_jobs", "validate_certs": False}))
    env["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "true"
    inventory = subprocess.run([os.path.join(HARNESS.BIN_DIR, "ansible-inventory"), "-i", str(source), "--list"], env=env,
                               capture_output=True, text=True, timeout=HARNESS.RUN_TIMEOUT, check=False)
    assert inventory.returncode == 0, inventory.stderr[-3000:]
    hostvars = json.loads(inventory.stdout)["_meta"]["hostvars"]
    assert len(hostvars) == 2
    assert "validate_certs" in " ".join(inventory.stderr.split()), "the inventory did not warn: " + inventory.stderr[-2000:]
    assert tenant.token_requests(tenant.log()), "both signed in through the sandbox"
