"""auth_method azure_cli through real ansible-playbook against the sandbox, with the `az` stand-in of tests/tools/az_standin.

The stand-in keeps az's files in AZURE_CONFIG_DIR and answers with az's documented output and error texts; it signs in
with real MSAL as the Azure CLI's public client (`az login --use-device-code`, the sandbox playing the person).
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest

STANDIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "az_standin")
CODE_RE = re.compile(r"enter the code ([A-Z0-9]{6,12})")


@pytest.fixture
def az(tenant, tmp_path):
    """An az (the stand-in) with its own config dir, the sandbox registered as its active cloud, signed in to nothing."""
    sandbox = tenant.sandbox
    ids = tenant.make_fleet({1: ["Quarantine"]})
    sandbox.admin.set_device_flow(interval=1, expires_in=120, slow_down=0)
    env = {
        "AZURE_CONFIG_DIR": str(tmp_path / "azure"),
        "REQUESTS_CA_BUNDLE": sandbox.ca_path,  # az trusts this variable; the collection passes ca_path itself
        "PATH": os.pathsep.join([os.path.abspath(STANDIN_DIR), os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
        "AZURE_CLIENT_ID": None, "AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None,
    }
    full_env = dict(os.environ)
    full_env.update({name: value for name, value in env.items() if value is not None})
    for name in [name for name, value in env.items() if value is None]:
        full_env.pop(name, None)

    def run_az(*args):
        return subprocess.run(["az"] + list(args), env=full_env, capture_output=True, text=True, timeout=120, check=False)

    assert run_az("cloud", "register", "--name", "SandboxCloud", "--endpoint-active-directory", sandbox.base_url).returncode == 0
    assert run_az("cloud", "set", "--name", "SandboxCloud").returncode == 0
    return {"tenant": tenant, "sandbox": sandbox, "ids": ids, "env": env, "full_env": full_env, "run": run_az}


def az_login(az, user="appadmin", tenant_id=None):
    """`az login --use-device-code` as an administrator runs it; the sandbox approves the code it prints as `user`."""
    sandbox = az["sandbox"]
    proc = subprocess.Popen(["az", "login", "--use-device-code", "--tenant", tenant_id or sandbox.tenant_id, "--allow-no-subscriptions"],
                            env=az["full_env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    match = CODE_RE.search(line)
    assert match, line
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not [c for c in sandbox.admin.device_codes() if c["user_code"] == match.group(1) and c["polls"]]:
        time.sleep(0.2)
    sandbox.admin.device_login(match.group(1), user)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    return json.loads(stdout)


def _job(az):
    sp_id, job_id = az["ids"][(1, 0)]
    return {"auth_method": "azure_cli", "service_principal_id": sp_id, "job_id": job_id}


def test_signed_in_az_gives_the_token_and_modules_use_it(az, run_tasks):
    accounts = az_login(az)
    assert accounts[0]["user"]["name"] == az["sandbox"].config["delegated"]["users"]["appadmin"]["upn"]
    run = run_tasks(az["sandbox"], [{"module": "entra.sync.graph_token", "args": {"auth_method": "azure_cli"}},
                                    {"module": "entra.sync.sync_job_restart", "args": _job(az)}], env=az["env"])
    token, restart = run.results
    assert token["auth_method"] == "azure_cli" and token["expires_on"] > time.time() + 600, run.describe()
    assert restart["action"] == "restarted", restart
    assert az["tenant"].restarts() == {az["ids"][(1, 0)]: 1}


def test_az_without_a_role_gets_the_roles_message(az, run_task):
    az_login(az, user="noroles")
    run = run_task(az["sandbox"], "entra.sync.sync_job_restart", _job(az), env=az["env"])
    assert run.result["failed"] and "HTTP 403" in run.result["msg"] and "Cloud Application Administrator" in run.result["msg"], run.describe()


@pytest.mark.parametrize(
    "case, words",
    [
        ("not_installed", "no `az` was found on PATH"),
        ("not_logged_in", "The Azure CLI is not signed in. Run `az login --tenant"),
        ("other_tenant", "The Azure CLI is not signed in to tenant"),
        ("unknown_cloud", "cloud 'marscloud' is not known"),
        ("client_secret", "takes no application credential, but client_secret is set"),
    ],
)
def test_az_problems_are_refused_before_anything_is_sent(az, run_task, case, words):
    sandbox = az["sandbox"]
    env = dict(az["env"])
    args = {"auth_method": "azure_cli"}
    if case != "not_logged_in":
        az_login(az)
    if case == "not_installed":
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"])
    elif case == "other_tenant":
        args["tenant_id"] = sandbox.config["tenants"][1]["id"]
    elif case == "unknown_cloud":
        args["cloud"] = "marscloud"
    elif case == "client_secret":
        args["client_secret"] = "unused-Secret~3"
    sandbox.admin.clear_log()
    run = run_task(sandbox, "entra.sync.graph_token", args, env=env)
    assert run.result["failed"] and words in run.result["msg"], run.describe()
    assert sandbox.admin.log() == []
    assert "Secret~" not in run.output
