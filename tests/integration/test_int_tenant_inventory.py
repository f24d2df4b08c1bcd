"""The sync_jobs inventory plugin's tenant mode (host_per: tenant) against a sandbox of three tenants: real
`ansible-inventory --list` and `ansible-playbook` runs.

One host per tenant with its counts and no secret; a tenant whose sign-in fails is a host with the reason while the
others are listed; and graph_token, run per tenant host with forks, gets the inventory's sign-in: one token request
per tenant in the whole run, each task with its own tenant's token.
"""

import json
import os
import subprocess

import entra_int_harness as HARNESS  # tests/integration/conftest.py
import pytest

from entra_sandbox.pytest_plugin import reset_sandbox, start_sandbox

SEED = 16
SERVICE_PRINCIPALS = 40  # with SEED, every tenant has quarantined jobs


def write_source(tmp_path, config, name="tenants.sync_jobs.yml"):
    return HARNESS.write_inventory_source(tmp_path, config, name)


@pytest.fixture(scope="module")
def three_tenants(tmp_path_factory):
    """A sandbox of its own: the session's has two tenants."""
    with start_sandbox(tmp_path_factory, "three_tenants", seed=SEED, tenants=3, service_principals=SERVICE_PRINCIPALS) as running:
        yield running


@pytest.fixture
def sandbox3(three_tenants):  # pylint: disable=redefined-outer-name  # fixtures name each other this way
    return reset_sandbox(three_tenants)


def tenant_ids(sandbox):
    return [entry["id"] for entry in sandbox.config["tenants"]]


def counts_of(jobs):
    counts = {}
    for job in jobs:
        by_status = counts.setdefault(job["template_id"], {})
        by_status[job["status_code"]] = by_status.get(job["status_code"], 0) + 1
    return counts


def token_requests(sandbox):
    return sandbox.admin.counters()["token_requests"]


def no_credential_in(sandbox, text):
    """The app secrets and access tokens of the run found in text (none, always)."""
    issued = sandbox.admin.issued()["access_tokens"]
    secrets = [app["client_secret"] for app in sandbox.config["apps"].values() if app.get("client_secret")]
    return [value for value in secrets + issued if value and value in text]


def test_one_host_per_tenant_with_its_counts_and_no_secret(sandbox3, tmp_path):
    first, second, third = tenant_ids(sandbox3)
    readonly = sandbox3.app("readonly")
    source = write_source(tmp_path, {
        "host_per": "tenant",
        "tenants": [{"tenant_id": first, "name": "fabrikam"}, second,
                    {"tenant_id": third, "client_id": readonly["client_id"], "client_secret": readonly["client_secret"]}],
        "status_codes": ["Quarantine", "Paused"],
        "keyed_groups": [{"key": "entra_sync_client_id | default('shared_app')", "prefix": "app"}],
    })
    sandbox3.admin.reset_counters()
    listed = tmp_path / "listed.json"  # -vvv writes its own lines to stdout
    inventory = HARNESS.list_inventory(sandbox3, source, listed, extra_args=["-vvv", "--output", str(listed)])

    assert inventory.group("entra_tenants") == {"fabrikam", second, third}
    names = {"fabrikam": first, second: second, third: third}
    for name, tenant_id in names.items():
        hostvars = inventory.hostvars[name]
        jobs = [job for job in sandbox3.admin.jobs(tenant_id) if job["status_code"] in ("Quarantine", "Paused")]
        assert jobs, tenant_id  # the seeded fleet has some of each
        assert hostvars["entra_sync_tenant_id"] == tenant_id
        assert hostvars["entra_sync_jobs_found"] == len(jobs)
        assert hostvars["entra_sync_job_counts"] == counts_of(jobs)
        assert hostvars["entra_sync_service_principals_read"] == SERVICE_PRINCIPALS
        assert hostvars["entra_sync_inventory_error"] is None
    assert inventory.hostvars[third]["entra_sync_client_id"] == readonly["client_id"]
    assert "entra_sync_client_id" not in inventory.hostvars["fabrikam"]  # the environment's is not copied
    assert inventory.group("app_shared_app") == {"fabrikam", second}
    assert "quarantined" not in inventory.data and "paused" not in inventory.data  # no per-job host nor condition group
    assert no_credential_in(sandbox3, inventory.proc.stdout + inventory.proc.stderr) == []
    assert no_credential_in(sandbox3, listed.read_text()) == []
    # one sign-in per tenant (with the app each one names)
    requests = token_requests(sandbox3)
    assert {tenant: sum(by_client.values()) for tenant, by_client in requests.items()} == {first: 1, second: 1, third: 1}


def test_a_tenant_whose_sign_in_fails_is_a_host_with_the_reason(sandbox3, tmp_path):
    first, second, third = tenant_ids(sandbox3)
    source = write_source(tmp_path, {"host_per": "tenant",
                                     "tenants": [first, {"tenant_id": second, "client_secret": "wrong-secret-value"}, third]})
    inventory = HARNESS.list_inventory(sandbox3, source)
    assert inventory.group("entra_tenants") == {first, second, third}
    broken = inventory.hostvars[second]
    assert "client secret is wrong" in broken["entra_sync_inventory_error"]
    assert broken["entra_sync_jobs_found"] is None and broken["entra_sync_job_counts"] is None
    for tenant_id in (first, third):
        assert inventory.hostvars[tenant_id]["entra_sync_jobs_found"] == len(sandbox3.admin.jobs(tenant_id))
        assert inventory.hostvars[tenant_id]["entra_sync_inventory_error"] is None
    assert "tenant %s could not be read" % second in inventory.proc.stderr
    assert [(error["tenant_id"], error["service_principal_id"]) for error in inventory.read_errors] == [(second, None)]
    output = inventory.proc.stdout + inventory.proc.stderr
    assert "wrong-secret-value" not in output and no_credential_in(sandbox3, output) == []

    # the same source in job mode fails, as it always did
    job_mode = write_source(tmp_path, {"tenants": [first, {"tenant_id": second, "client_secret": "wrong-secret-value"}]}, name="jobs.sync_jobs.yml")
    proc = HARNESS.run_inventory(sandbox3, job_mode)
    assert proc.returncode != 0 and "client secret is wrong" in proc.stderr


def test_graph_token_per_tenant_host_reuses_the_inventory_sign_in(sandbox3, runner, tmp_path):
    first, second, third = tenant_ids(sandbox3)
    readonly = sandbox3.app("readonly")
    results = tmp_path / "results.json"
    playbook = tmp_path / "per_host.yml"
    playbook.write_text(json.dumps([{
        "name": "per tenant", "hosts": "entra_tenants", "connection": "local", "gather_facts": False, "tasks": [
            {"name": "Token", "entra.sync.graph_token": {"tenant_id": "{{ entra_sync_tenant_id }}"}, "register": "tok", "no_log": True},
            {"name": "Read with it", "entra.sync.sync_job_info": {"tenant_id": "{{ entra_sync_tenant_id }}", "access_token": "{{ tok.access_token }}",
                                                                  "status_code": "Quarantine"}, "register": "info"},
            {"name": "Another app signs in itself", "entra.sync.graph_token": {
                "tenant_id": "{{ entra_sync_tenant_id }}", "client_id": readonly["client_id"], "client_secret": readonly["client_secret"]},
             "register": "other", "no_log": True},
            {"ansible.builtin.set_fact": {"checked": {
                "tenant_id": "{{ tok.tenant_id }}", "token_source": "{{ tok.token_source }}", "other_source": "{{ other.token_source }}",
                "quarantined": "{{ info.jobs | length }}", "expected": "{{ entra_sync_jobs_found }}"}}},
            {"name": HARNESS.SAVE_TASK, "ansible.builtin.debug": {"var": "saved"}, "run_once": True,
             "vars": {"saved": "{{ groups.entra_tenants | map('extract', hostvars, 'checked') | list }}"}},
        ]}]))
    tenant_source = write_source(tmp_path, {"host_per": "tenant", "tenants": [first, second, third], "status_codes": ["Quarantine"]},
                                 name="quarantined.sync_jobs.yml")
    sandbox3.admin.reset_counters()
    run = runner.run_playbook(sandbox3, playbook, extra_args=["-i", str(tenant_source), "--forks", "3", "-vv"],
                              env={"ENTRA_INT_RESULTS_FILE": str(results)})
    assert run.rc == 0, run.describe()
    checked = {entry["tenant_id"]: entry for entry in json.loads(results.read_text())}
    assert set(checked) == {first, second, third}
    for entry in checked.values():
        assert entry["token_source"] == "inventory", entry
        assert entry["other_source"] == "sign_in", entry
        assert int(entry["quarantined"]) == int(entry["expected"]) > 0  # the token read that tenant's own jobs
    requests = token_requests(sandbox3)
    full = sandbox3.app("full")["client_id"]
    # the inventory's sign-in served every graph_token task of its app: one token request per tenant in the whole run
    assert {tenant: by_client.get(full) for tenant, by_client in requests.items()} == {first: 1, second: 1, third: 1}
    assert {tenant: by_client.get(readonly["client_id"]) for tenant, by_client in requests.items()} == {first: 1, second: 1, third: 1}
    assert no_credential_in(sandbox3, run.output) == []


def test_static_inventory_with_a_vaulted_secret_signs_in_per_host(sandbox3, runner, tmp_path):
    """The documented static form (docs/tenants.md): hosts in entra_tenants, the app's secret in a vaulted group_vars
    file and nowhere else. No sign-in while parsing, so each host's graph_token task signs in itself."""
    first, second, _third = tenant_ids(sandbox3)
    secret = sandbox3.app("full")["client_secret"]
    inventory = tmp_path / "tenants"
    (inventory / "group_vars" / "entra_tenants").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(json.dumps({"entra_tenants": {
        "vars": {"entra_sync_client_id": sandbox3.app("full")["client_id"]},
        "hosts": {first: {}, "second": {"entra_sync_tenant_id": second}}}}))
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text("integration-vault-password\n")
    encrypted = subprocess.run([os.path.join(HARNESS.BIN_DIR, "ansible-vault"), "encrypt_string", "--vault-password-file", str(vault_pass),
                                "--stdin-name", "entra_sync_client_secret"],
                               input=secret, capture_output=True, text=True, check=True, timeout=HARNESS.RUN_TIMEOUT)
    (inventory / "group_vars" / "entra_tenants" / "vault.yml").write_text(encrypted.stdout)
    listed = HARNESS.run_inventory(sandbox3, inventory, extra_args=["--vault-password-file", str(vault_pass)])
    assert listed.returncode == 0 and "$ANSIBLE_VAULT" in listed.stdout, listed.stderr
    assert no_credential_in(sandbox3, listed.stdout + listed.stderr) == []

    results = tmp_path / "results.json"
    playbook = tmp_path / "static.yml"
    playbook.write_text(json.dumps([{
        "name": "per tenant", "hosts": "entra_tenants", "connection": "local", "gather_facts": False, "tasks": [
            {"name": "Token", "entra.sync.graph_token": {"tenant_id": "{{ entra_sync_tenant_id | default(inventory_hostname) }}",
                                                         "client_id": "{{ entra_sync_client_id }}", "client_secret": "{{ entra_sync_client_secret }}"},
             "register": "tok", "no_log": True},
            {"ansible.builtin.set_fact": {"checked": {"tenant_id": "{{ tok.tenant_id }}", "token_source": "{{ tok.token_source }}"}}},
            {"name": HARNESS.SAVE_TASK, "ansible.builtin.debug": {"var": "saved"}, "run_once": True,
             "vars": {"saved": "{{ groups.entra_tenants | map('extract', hostvars, 'checked') | list }}"}},
        ]}]))
    sandbox3.admin.reset_counters()
    run = runner.run_playbook(sandbox3, playbook, extra_args=["-i", str(inventory), "--forks", "2", "--vault-password-file", str(vault_pass)],
                              env={"ENTRA_INT_RESULTS_FILE": str(results), "AZURE_CLIENT_SECRET": None})
    assert run.rc == 0, run.describe()
    assert sorted((entry["tenant_id"], entry["token_source"]) for entry in json.loads(results.read_text())) == sorted(
        [(first, "sign_in"), (second, "sign_in")])
    assert {tenant: sum(by_client.values()) for tenant, by_client in token_requests(sandbox3).items()} == {first: 1, second: 1}
    assert no_credential_in(sandbox3, run.output) == []
