"""National clouds: each asks for its own `.default` scope (the sandbox pretends to be that cloud and checks the
audience), AWX's AZURE_CLOUD_ENVIRONMENT names map onto them, a token of another cloud is refused clearly; `china`
works like the others. A sign-in or Graph host that cannot be reached is named in the error (the host, nothing else)."""

import json
import socket

import pytest

from entra_sandbox.testing import SandboxProcess

TOKEN = "entra.sync.graph_token"
RESTART = "entra.sync.sync_job_restart"
SP_ID = "00000000-0000-4000-8000-000000000c01"
JOB_ID = "scim.%032x" % 0xC10D
SCOPES = {
    "global": "https://graph.microsoft.com/.default",
    "usgov": "https://graph.microsoft.us/.default",
    "usgovdod": "https://dod-graph.microsoft.us/.default",
    "china": "https://microsoftgraph.chinacloudapi.cn/.default",
}


@pytest.fixture(scope="module", params=["usgov", "usgovdod", "china"])
def cloud_sandbox(request, tmp_path_factory):
    """A sandbox pretending to be one national cloud (its own process: the cloud is fixed per run)."""
    with SandboxProcess(tmp_path_factory.mktemp(request.param), cloud=request.param, service_principals=1) as running:
        yield running


def _one_quarantined_job(sandbox):
    sandbox.admin.set_fleet(service_principals_list=[{
        "id": SP_ID, "displayName": "Cloud App",
        "jobs": [{"id": JOB_ID, "template_id": "scim", "status_code": "Quarantine", "quarantine_reason": "EncounteredQuarantineException"}],
    }])
    sandbox.reload_config()
    sandbox.admin.clear_log()
    sandbox.admin.reset_counters()


def _role_play(tasks, role_vars=None):
    role = {"name": "sign in", "ansible.builtin.include_role": {"name": "entra.sync.graph_auth"}}
    if role_vars:
        role["vars"] = role_vars
    return [{
        "name": "cloud", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "module_defaults": {"group/entra.sync.graph": {"access_token": "{{ entra_sync_access_token | default('') }}"}},
        "tasks": [role] + tasks,
    }]


def test_national_cloud_scope_awx_name_and_a_token_of_another_cloud(cloud_sandbox, runner, tmp_path):
    cloud = cloud_sandbox.config["cloud"]
    _one_quarantined_job(cloud_sandbox)
    # usgov and china through AWX's names for them; DoD has no AWX name, so its own.
    awx_name = {"usgov": "AzureUSGovernment", "usgovdod": "usgovdod", "china": "AzureChinaCloud"}[cloud]
    wrong = {"usgov": "AzureCloud", "usgovdod": "usgov", "china": "AzureCloud"}[cloud]
    playbook = tmp_path / "cloud.yml"
    playbook.write_text(json.dumps(_role_play([
        {"name": "restart through the role's token", RESTART: {"service_principal_id": SP_ID, "job_id": JOB_ID, "restart_if": ["quarantined"]},
         "register": "restarted"},
        {"name": "a token of another cloud", TOKEN: {"cloud": wrong}, "register": "other", "ignore_errors": True, "no_log": False},
        {"name": "check", "ansible.builtin.assert": {"that": [
            "restarted.action == 'restarted'",
            "other is failed",
            "'AADSTS500011' in other.msg",
            "'check that cloud matches' in other.msg",
        ]}},
    ])))
    run = runner.run_playbook(cloud_sandbox, playbook, env={"AZURE_CLOUD_ENVIRONMENT": awx_name})
    assert run.rc == 0, run.describe()
    tokens = [entry for entry in cloud_sandbox.admin.log() if entry["kind"] == "token"]
    assert [(entry["status"], entry["body"]["scope"]) for entry in tokens] == [
        (200, SCOPES[cloud]),
        (400, SCOPES[{"AzureCloud": "global"}.get(wrong, wrong)]),
    ], tokens
    graph = [entry for entry in cloud_sandbox.admin.log() if entry["kind"] == "graph"]
    assert graph and all(entry["status"] < 400 for entry in graph), "the sandbox (pretending to be %s) accepted the token's audience" % cloud
    assert cloud_sandbox.admin.counters()["totals"]["restarts"] == 1


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_sign_in_or_graph_host_is_named_in_the_error(tenant, runner, tmp_path):
    down = "https://127.0.0.1:%d" % _closed_port()
    playbook = tmp_path / "unreachable.yml"
    playbook.write_text(json.dumps([{
        "name": "unreachable hosts", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "tasks": [
            {"name": "sign in at a host that is down", TOKEN: {"authority_host": down, "max_retries": 0, "timeout": 5},
             "register": "signin", "ignore_errors": True},
            {"name": "read jobs from a Graph host that is down", "entra.sync.sync_job_info": {
                "service_principal_id": SP_ID, "graph_endpoint": down, "max_retries": 0, "timeout": 5},
             "register": "graph", "ignore_errors": True},
            {"name": "check", "ansible.builtin.assert": {"that": [
                "signin is failed and ('Could not reach the sign-in host ' ~ down) in signin.msg",
                "graph is failed and ('the Graph host ' ~ down ~ ' could not be reached') in graph.msg",
                "(down ~ '/') not in signin.msg and (down ~ '/') not in graph.msg",
            ]}},
        ],
        "vars": {"down": down},
    }]))
    run = runner.run_playbook(tenant.sandbox, playbook, verbosity=3)
    assert run.rc == 0, run.describe()
    assert tenant.sandbox.env["AZURE_CLIENT_SECRET"] not in run.stdout + run.stderr
