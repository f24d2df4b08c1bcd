"""AWX/AAP: ansible-runner runs a playbook with the env vars and extra vars AWX's credential injectors would give it.

(a) the custom credential type shipped in extensions/awx/ (certificate through a file injector), injected the way
    AWX's inject_credential does it (awx_plugins ... injectors: jinja2 ImmutableSandboxedEnvironment, empty inputs
    left out of the namespace, one mkstemp file per `template.<name>` under private_data_dir/env, referenced as
    `tower.filename.<name>`);
(b) AWX's built-in "Microsoft Azure Resource Manager" credential (its azure_rm injector: AZURE_CLIENT_ID, AZURE_SECRET,
    AZURE_TENANT, AZURE_SUBSCRIPTION_ID, AZURE_CLOUD_ENVIRONMENT), with no custom type at all.

The playbook signs in once with entra.sync.graph_auth and restarts the jobs given as extra vars. What AWX would set
through "Extra Environment Variables" (the sandbox's sign-in host and CA) comes in through envvars.
"""

import json
import os
import stat
import sys
import tempfile
from types import SimpleNamespace

import ansible_runner
import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CREDENTIAL_TYPE = os.path.join(ROOT, "extensions", "awx", "entra_sync_credential_type.yml")
BIN_DIR = os.path.dirname(sys.executable)

PLAYBOOK = [{
    "name": "Restart provisioning jobs (AWX job template)",
    "hosts": "localhost",
    "connection": "local",
    "gather_facts": False,
    "module_defaults": {"group/entra.sync.graph": {"access_token": "{{ entra_sync_access_token | default('') }}"}},
    "tasks": [
        {"name": "Sign in once", "ansible.builtin.include_role": {"name": "entra.sync.graph_auth"}},
        {"name": "Restart", "entra.sync.sync_job_restart": {"jobs": "{{ entra_sync_jobs }}", "restart_if": ["quarantined"]},
         "register": "restarted"},
        {"name": "Check", "ansible.builtin.assert": {"that": ["restarted.summary.restarted == entra_sync_jobs | length"]}},
    ],
}]


def _load_type():
    with open(CREDENTIAL_TYPE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def inject_custom(cred_type, inputs, private_data_dir):
    """The env AWX's inject_credential() builds for a custom credential type with these inputs."""
    namespace = {}
    for field in cred_type["inputs"]["fields"]:
        value = inputs.get(field["id"], field.get("default"))
        if value:
            namespace[field["id"]] = value
    sandbox_env = ImmutableSandboxedEnvironment()
    files = {}
    for label, template in cred_type["injectors"].get("file", {}).items():
        path = tempfile.mkstemp(dir=os.path.join(private_data_dir, "env"))[1]
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(sandbox_env.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        files[label.split(".")[1]] = path
    namespace["tower"] = SimpleNamespace(filename=SimpleNamespace(**files))
    return {name: sandbox_env.from_string(template).render(**namespace) for name, template in cred_type["injectors"]["env"].items()}


def inject_azure_rm(inputs):
    """AWX's built-in azure_rm injector (a service principal: client + tenant given)."""
    env = {"AZURE_SUBSCRIPTION_ID": inputs.get("subscription", ""), "AZURE_CLIENT_ID": inputs["client"],
           "AZURE_TENANT": inputs["tenant"], "AZURE_SECRET": inputs.get("secret", "")}
    if "cloud_environment" in inputs:
        env["AZURE_CLOUD_ENVIRONMENT"] = inputs["cloud_environment"]
    return env


def test_credential_type_passes_awx_validation():
    """What AWX checks when the type is created: known kind, fields, and injector templates that only use fields."""
    cred_type = _load_type()
    assert cred_type["kind"] == "cloud"
    ids = [field["id"] for field in cred_type["inputs"]["fields"]]
    assert set(cred_type["inputs"]["required"]) <= set(ids)
    for field in cred_type["inputs"]["fields"]:
        assert set(field) <= {"id", "label", "type", "secret", "multiline", "choices", "default", "help_text", "format"}, field
        assert field.get("secret", False) == (field["id"] in ("client_secret", "certificate", "certificate_password")), field
    namespace = dict.fromkeys(ids, "EXAMPLE")
    namespace["tower"] = SimpleNamespace(filename=SimpleNamespace(**{
        label.split(".")[1]: "EXAMPLE" for label in cred_type["injectors"]["file"]}))
    for kind, injector in cred_type["injectors"].items():
        for key, template in injector.items():
            try:
                ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template).render(namespace)
            except UndefinedError as exc:  # pragma: no cover - the failure message is the point
                pytest.fail("%s %s uses an undefined field: %s" % (kind, key, exc))
    assert not any(name.startswith("ANSIBLE_") for name in cred_type["injectors"]["env"])


def _runner_env(collections_path, extra):
    """The job's environment besides the credential: the installed collection, and AWX's "Extra Environment Variables"."""
    env = {
        "ANSIBLE_COLLECTIONS_PATH": collections_path,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "PATH": BIN_DIR + os.pathsep + os.environ.get("PATH", ""),
    }
    env.update(extra)
    return env


def _private_data_dir(tmp_path, name):
    private = tmp_path / name
    (private / "project").mkdir(parents=True)
    (private / "env").mkdir()
    (private / "project" / "restart.yml").write_text(json.dumps(PLAYBOOK))
    return private


def _run(private, env, jobs):
    return ansible_runner.run(private_data_dir=str(private), playbook="restart.yml", envvars=env,
                              extravars={"entra_sync_jobs": jobs}, quiet=True)


def _jobs(tenant, count):
    ids = tenant.make_fleet({index: ["Quarantine"] for index in range(1, count + 1)})
    return [{"service_principal_id": sp, "job_id": job} for sp, job in ids.values()]


@pytest.fixture
def awx_env_base(monkeypatch):
    """The pytest process's env must not leak a credential into the run (ansible-runner starts from os.environ)."""
    for name in list(os.environ):
        if name.startswith(("AZURE_", "ENTRA_SYNC_")):
            monkeypatch.delenv(name)
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or pytest.fail("ANSIBLE_COLLECTIONS_PATH is not set", pytrace=False)


def test_awx_custom_credential_type_with_a_certificate(tenant, tmp_path, awx_env_base):
    jobs = _jobs(tenant, 5)
    sandbox = tenant.sandbox
    cert = sandbox.app("cert")
    with open(cert["certificate_path"], encoding="utf-8") as handle:
        pem = handle.read()
    private = _private_data_dir(tmp_path, "custom")
    injected = inject_custom(_load_type(), {
        "tenant_id": sandbox.tenant_id, "client_id": cert["client_id"], "certificate": pem, "cloud": "global",
        "graph_endpoint": sandbox.base_url,
    }, str(private))
    assert injected["AZURE_CLIENT_SECRET"] == "" and injected["AZURE_CLIENT_CERTIFICATE_PASSWORD"] == ""
    assert injected["AZURE_CLIENT_CERTIFICATE_PATH"].startswith(str(private / "env"))
    env = _runner_env(awx_env_base, dict(injected, AZURE_AUTHORITY_HOST=sandbox.base_url, ENTRA_SYNC_CA_PATH=sandbox.ca_path))
    result = _run(private, env, jobs)
    stdout = result.stdout.read()
    assert result.status == "successful" and result.rc == 0, stdout
    tokens = tenant.token_requests(tenant.log())
    assert [(entry["app_id"], entry["body"]["grant"]) for entry in tokens] == [(cert["client_id"], "client_assertion")], tokens
    restarts = tenant.restarts()
    assert len(restarts) == 5 and set(restarts.values()) == {1}
    key_line = pem.splitlines()[1]
    assert key_line not in stdout and "eyJ" not in stdout


def test_awx_custom_credential_type_without_a_certificate_injects_no_path(tmp_path):
    private = tmp_path / "secret-only"
    (private / "env").mkdir(parents=True)
    injected = inject_custom(_load_type(), {"tenant_id": "contoso.onmicrosoft.com", "client_id": "x", "client_secret": "s"}, str(private))
    assert injected["AZURE_CLIENT_CERTIFICATE_PATH"] == ""  # else auto would see two credentials
    assert injected["AZURE_CLOUD_ENVIRONMENT"] == "global" and injected["ENTRA_SYNC_GRAPH_ENDPOINT"] == ""


def test_awx_builtin_azure_credential(tenant, tmp_path, awx_env_base):
    jobs = _jobs(tenant, 5)
    sandbox = tenant.sandbox
    full = sandbox.app("full")
    private = _private_data_dir(tmp_path, "builtin")
    injected = inject_azure_rm({"client": full["client_id"], "tenant": sandbox.tenant_id, "secret": full["client_secret"],
                                "subscription": "00000000-0000-0000-0000-000000000000", "cloud_environment": "AzureCloud"})
    env = _runner_env(awx_env_base, dict(injected, AZURE_AUTHORITY_HOST=sandbox.base_url, ENTRA_SYNC_CA_PATH=sandbox.ca_path,
                                         ENTRA_SYNC_GRAPH_ENDPOINT=sandbox.base_url))
    result = _run(private, env, jobs)
    stdout = result.stdout.read()
    assert result.status == "successful" and result.rc == 0, stdout
    tokens = tenant.token_requests(tenant.log())
    assert [(entry["app_id"], entry["body"]["grant"], entry["body"]["scope"]) for entry in tokens] == [
        (full["client_id"], "client_secret", "https://graph.microsoft.com/.default")], tokens
    restarts = tenant.restarts()
    assert len(restarts) == 5 and set(restarts.values()) == {1}
    assert full["client_secret"] not in stdout
    events = json.dumps(list(result.events))
    assert full["client_secret"] not in events and "eyJ" not in events, "a secret or token reached the job events"


def test_awx_fleet_job_template_publishes_where_its_counts_after_come_from(tenant, tmp_path, awx_env_base):
    """The AWX recipe of docs/fleet.md: the wrapper of entra.sync.restart_jobs; set_stats reaches the job's artifacts
    (the playbook_on_stats event's artifact_data, what AWX shows and hands to the next node of a workflow)."""
    jobs = _jobs(tenant, 3)
    sandbox = tenant.sandbox
    full = sandbox.app("full")
    private = _private_data_dir(tmp_path, "fleet")
    (private / "project" / "restart_jobs.yml").write_text("- ansible.builtin.import_playbook: entra.sync.restart_jobs\n")
    injected = inject_azure_rm({"client": full["client_id"], "tenant": sandbox.tenant_id, "secret": full["client_secret"]})
    env = _runner_env(awx_env_base, dict(injected, AZURE_AUTHORITY_HOST=sandbox.base_url, ENTRA_SYNC_CA_PATH=sandbox.ca_path,
                                         ENTRA_SYNC_GRAPH_ENDPOINT=sandbox.base_url))
    runs = {}
    for verify in (False, True):
        result = ansible_runner.run(private_data_dir=str(private), playbook="restart_jobs.yml", envvars=env, quiet=True,
                                    extravars={"entra_sync_canary_size": 0, "entra_sync_verify_after": verify,
                                               "entra_sync_report_dir": str(tmp_path / ("verified" if verify else "results"))})
        assert result.status == "successful" and result.rc == 0, result.stdout.read()
        stats = next(event for event in result.events if event["event"] == "playbook_on_stats")
        runs[verify] = stats["event_data"]["artifact_data"]
        # the same fleet again, where one job's failures persist: its restart does not hold
        ids = tenant.make_fleet({index: [("Quarantine", {"relapse": index == 2})] for index in range(1, 4)})
    first, verified = runs[False], runs[True]
    assert first["entra_sync_summary"]["restarted"] == len(jobs) == 3
    assert first["entra_sync_after_source"] == "restart_results" and first["entra_sync_quarantined_again"] == []
    assert verified["entra_sync_after_source"] == "read_again" and verified["entra_sync_summary"]["restarted"] == 3
    assert [(entry["job_id"], entry["remedy"]) for entry in verified["entra_sync_quarantined_again"]] == [(ids[(2, 0)][1], "restart")]
