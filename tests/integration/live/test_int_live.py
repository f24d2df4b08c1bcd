"""Live-tenant mode (see conftest.py here and docs/live-tenant.md): the same tests against a real tenant [graph] and
against the sandbox through the same ENTRA_SYNC_LIVE_* variables [sandbox].

Read-only unless ENTRA_SYNC_LIVE_ALLOW_RESTART=1: sign-in and listing, reading the named job, a check-mode restart of
it. The assertions that only a request log can make (no POST in check mode, exactly one restart) run where there is
one, on the sandbox; against Graph, what the modules return is checked.
"""

import json
import re
import time

import pytest

INFO = "entra.sync.sync_job_info"
RESTART = "entra.sync.sync_job_restart"
SAVE_TASK = "Save the registered results"  # the name the harness's callback looks for (conftest.py one level up)
# graph-facts.md: the documented enums, and the fields sync_job_info promises on every job.
STATUS_CODES = {"NotConfigured", "NotRun", "Active", "Paused", "Quarantine"}
SCHEDULE_STATES = {"Active", "Disabled", "Paused"}
REQUIRED_KEYS = {
    "service_principal_id", "service_principal_name", "app_id", "job_id", "template_id", "status_code", "schedule_state",
    "quarantine_reason", "last_execution_state", "count_successive_complete_failures",
}
DATE_KEY_RE = re.compile(r"(_time|_began|_ended|_attempt|_date|_datetime)$")
JOB_ID_RE = re.compile(r"^[A-Za-z0-9._-]+$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def _check_job(job):
    """A job as sync_job_info returns it, whatever tenant it came from: the documented keys and enums, ISO dates."""
    assert REQUIRED_KEYS <= set(job), "missing keys %s in %s" % (REQUIRED_KEYS - set(job), job)
    assert job["status_code"] in STATUS_CODES, job
    assert job["schedule_state"] in SCHEDULE_STATES, job
    assert job["template_id"] and JOB_ID_RE.match(job["job_id"]), job

    def dates(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                if DATE_KEY_RE.search(key):
                    assert item is None or (isinstance(item, str) and ISO_RE.match(item)), "%s.%s = %r" % (path, key, item)
                dates(item, path + "." + key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                dates(item, "%s[%d]" % (path, index))
    dates(job, job["job_id"])


def _sign_in_and_list(live, runner):
    """graph_token with the live credentials, then the tenant's jobs read with that token (sync_job_info)."""
    info_args = {"access_token": "{{ token.access_token }}"}
    if live.sp_filter:
        info_args["service_principal_filter"] = live.sp_filter
    # The token is registered in a no_log task and never saved or shown: only facts about it are.
    play = [{"name": "live sign-in", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [
        {"name": "Sign in", "entra.sync.graph_token": {}, "register": "token", "no_log": True},
        {"name": "List the jobs", INFO: info_args, "register": "listed", "ignore_errors": True},
        {"name": SAVE_TASK, "ansible.builtin.debug": {"var": "saved"}, "vars": {"saved": {
            "token": {name: "{{ token.%s }}" % name for name in ("expires_on", "token_type", "scope", "graph_endpoint", "tenant_id", "auth_method")},
            "token_segments": "{{ token.access_token.split('.') | length }}",
            "listed": "{{ listed }}",
        }}},
    ]}]
    workdir = runner.tmp_path / "live-sign-in"
    workdir.mkdir()
    (workdir / "playbook.yml").write_text(json.dumps(play))
    out_file = workdir / "results.json"
    env = dict(live.removed, ENTRA_INT_RESULTS_FILE=str(out_file))
    run = runner.run_playbook(live, workdir / "playbook.yml", env=env)
    assert run.rc == 0 and out_file.exists(), run.describe()
    saved = json.loads(out_file.read_text())

    token = saved["token"]
    assert token["token_type"] == "Bearer" and int(saved["token_segments"]) == 3, token
    assert int(token["expires_on"]) > time.time() + 60, token
    assert token["tenant_id"] == live.tenant_id and token["auth_method"] == live.auth_method, token
    if live.graph_endpoint:
        assert token["graph_endpoint"] == live.graph_endpoint.rstrip("/"), token
    assert token["scope"].startswith("https://") and token["scope"].endswith("/.default"), token  # the cloud's, not the override's

    listed = saved["listed"]
    assert not listed.get("failed"), listed.get("msg")
    assert listed["changed"] is False and listed["auth_method"] == "access_token"
    assert listed["errors"] == [], "service principals whose jobs could not be read: %s" % listed["errors"]
    assert listed["service_principals_read"] >= 1
    for job in listed["jobs"]:
        _check_job(job)
    found = {(job["service_principal_id"], job["job_id"]) for job in listed["jobs"]}
    if live.job_id and not live.sp_filter:
        assert (live.sp_id, live.job_id) in found, "the named job is not among the %d jobs listed" % len(found)

    tenant = live.observer
    if tenant is not None:  # the sandbox: what went over the wire
        log = tenant.log()
        assert len(tenant.token_requests(log)) == 1 and tenant.graph_writes(log) == [], log
        assert found == {(job["service_principal_id"], job["job_id"]) for job in tenant.admin.jobs(live.tenant_id)}
        secrets = tenant.admin.issued()["access_tokens"] + [live.client_secret or ""]
        assert not [s for s in secrets if s and s in run.output], "a token or secret reached the output"
    return listed


def test_live_sign_in_and_list_jobs(live_tenant, runner):
    _sign_in_and_list(live_tenant, runner)


def test_live_named_job_read_and_check_mode_restart(live_tenant, runner):
    live = live_tenant
    live.require_job()
    run = runner.run_tasks(live, [
        {"module": INFO, "args": live.named_job},
        {"module": RESTART, "args": dict(live.named_job, restart_if=["always"]), "check_mode": True, "diff": True},
    ], env=live.removed)
    assert run.rc == 0, run.describe()
    read, check = run.results
    assert not read.get("failed"), read.get("msg")
    (job,) = read["jobs"]
    assert (job["service_principal_id"], job["job_id"]) == (live.sp_id, live.job_id)
    _check_job(job)
    assert not check.get("failed"), check.get("msg")
    assert check["action"] == "would_restart" and check["changed"] is True, check
    assert check["status_code"] in STATUS_CODES and check["job_id"] == live.job_id, check
    assert "diff" in check or "--- before" in run.stdout, "diff mode shows the status found"

    tenant = live.observer
    if tenant is not None:
        log = tenant.log()
        assert tenant.graph_posts(log) == [], "check mode sent POSTs: %s" % tenant.graph_posts(log)
        assert tenant.admin.counters()["totals"]["restarts"] == 0
        assert [e["method"] for e in log if e["path"].endswith("/jobs/" + live.job_id)] == ["GET", "GET"]


@pytest.mark.sandbox_app("cert")  # [sandbox] signs in with ENTRA_SYNC_LIVE_CERTIFICATE_PATH here, with the secret elsewhere
def test_live_restart_named_job(live_tenant, runner):
    live = live_tenant
    live.require_restart()
    run = runner.run_task(live, RESTART, dict(live.named_job, restart_if=list(live.restart_if)), env=live.removed)
    assert run.rc == 0, run.describe()
    restart = run.result
    assert not restart.get("failed"), restart.get("msg")
    assert restart["auth_method"] == live.auth_method
    expected = "restarted" if "always" in live.restart_if else restart["action"]
    assert restart["action"] == expected and restart["action"] in ("restarted", "skipped"), restart
    assert restart["changed"] is (restart["action"] == "restarted")

    tenant = live.observer
    if tenant is not None:
        assert live.certificate_path and not live.client_secret
        assert tenant.restarts() == {(live.sp_id, live.job_id): 1}
        (post,) = tenant.restart_posts(tenant.log())
        assert post["body"] == {"criteria": {}}
        assert tenant.admin.job(live.sp_id, live.job_id)["summary"]["status_code"] == "Active"


# ---- the configuration itself (no playbook run) ------------------------------------------------------------------

def test_live_config_is_off_without_variables_and_names_what_is_missing(live_config):
    from_env, error = live_config
    assert from_env({"AZURE_TENANT_ID": "x", "PATH": "/bin"}) is None
    for environ, words in [
        ({"ENTRA_SYNC_LIVE_TENANT_ID": "t"}, ["ENTRA_SYNC_LIVE_CLIENT_ID", "CLIENT_SECRET or ENTRA_SYNC_LIVE_CERTIFICATE_PATH"]),
        ({"ENTRA_SYNC_LIVE_TENANT_ID": "t", "ENTRA_SYNC_LIVE_CLIENT_ID": "c", "ENTRA_SYNC_LIVE_CLIENT_SECRET": "s",
          "ENTRA_SYNC_LIVE_CERTIFICATE_PATH": "p"}, ["not both"]),
        ({"ENTRA_SYNC_LIVE_TENANT_ID": "t", "ENTRA_SYNC_LIVE_CLIENT_ID": "c", "ENTRA_SYNC_LIVE_CLIENT_SECRET": "s",
          "ENTRA_SYNC_LIVE_ALLOW_RESTART": "1"}, ["ENTRA_SYNC_LIVE_SP_ID", "ENTRA_SYNC_LIVE_JOB_ID"]),
        ({"ENTRA_SYNC_LIVE_TENANT_ID": "t", "ENTRA_SYNC_LIVE_CLIENT_ID": "c", "ENTRA_SYNC_LIVE_CLIENT_SECRET": "s",
          "ENTRA_SYNC_LIVE_JOB_ID": "scim.1"}, ["both ENTRA_SYNC_LIVE_SP_ID"]),
        ({"ENTRA_SYNC_LIVE_TENANTID": "t"}, ["unknown variable(s) ENTRA_SYNC_LIVE_TENANTID"]),
    ]:
        with pytest.raises(error) as caught:
            from_env(environ)
        for word in words:
            assert word in str(caught.value), (environ, str(caught.value))


def test_live_config_read_only_unless_allowed(live_config):
    from_env, _error = live_config
    base = {"ENTRA_SYNC_LIVE_TENANT_ID": "t", "ENTRA_SYNC_LIVE_CLIENT_ID": "c", "ENTRA_SYNC_LIVE_CLIENT_SECRET": "s3cr3t",
            "ENTRA_SYNC_LIVE_SP_ID": "sp", "ENTRA_SYNC_LIVE_JOB_ID": "scim.1"}
    live = from_env(base)
    assert live.allow_restart is False and live.restart_if == ("always",)
    assert live.env == {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s3cr3t"}
    assert live.removed["AZURE_CLIENT_CERTIFICATE_PATH"] is None and "AZURE_TENANT_ID" not in live.removed
    assert "s3cr3t" not in repr(live)  # the secret stays out of repr (and so out of pytest's output)
    for value, allowed in (("1", True), ("yes", True), ("0", False), ("", False)):
        assert from_env(dict(base, ENTRA_SYNC_LIVE_ALLOW_RESTART=value)).allow_restart is allowed
    quarantined_only = from_env(dict(base, ENTRA_SYNC_LIVE_RESTART_IF="quarantined, failed"))
    assert quarantined_only.restart_if == ("quarantined", "failed")
