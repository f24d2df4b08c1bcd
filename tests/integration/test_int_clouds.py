"""National clouds: each asks for its own `.default` scope (the sandbox pretends to be that cloud and checks the
audience), AWX's AZURE_CLOUD_ENVIRONMENT names map onto them, a token of another cloud is refused clearly, and
`china` is refused before any request by graph_token and the graph_auth role too."""

import json

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
}


@pytest.fixture(scope="module", params=["usgov", "usgovdod"])
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
    # usgov through AWX's name for it; DoD has no AWX name, so its own.
    awx_name = {"usgov": "AzureUSGovernment", "usgovdod": "usgovdod"}[cloud]
    wrong = {"usgov": "AzureCloud", "usgovdod": "usgov"}[cloud]
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


def test_china_is_refused_before_any_request_by_graph_token_and_the_role(tenant, runner, tmp_path):
    playbook = tmp_path / "china.yml"
    play = _role_play([], role_vars={"graph_auth_cloud": "china"})
    play[0]["tasks"] = [
        {"name": "graph_token in china", TOKEN: {"cloud": "china"}, "register": "direct", "ignore_errors": True},
        {"name": "graph_token with AWX's name", TOKEN: {"cloud": "AzureChinaCloud"}, "register": "awx", "ignore_errors": True},
        {"name": "check", "ansible.builtin.assert": {"that": [
            "direct is failed and 'synchronization job API as unavailable' in direct.msg and 'graph_endpoint' in direct.msg",
            "awx is failed and 'synchronization job API as unavailable' in awx.msg",
        ]}},
    ] + play[0]["tasks"]
    playbook.write_text(json.dumps(play))
    # graph_endpoint is the deliberate way through (see test_int_errors): without it China is refused. The sign-in
    # host still points at the sandbox, so a token request would show in its log.
    run = runner.run_playbook(tenant.sandbox, playbook, env={"ENTRA_SYNC_GRAPH_ENDPOINT": None})
    assert run.rc != 0, run.describe()
    assert "ok: [localhost]" in run.stdout.split("TASK [check]")[1], "the asserts on graph_token passed:\n" + run.describe()
    role_part = run.stdout.split("TASK [entra.sync.graph_auth : Report a sign-in failure]")[1]
    assert "unavailable in the China cloud" in role_part and "graph_endpoint" in role_part, run.describe()
    assert tenant.log() == [], "a request was sent for a refused cloud"
