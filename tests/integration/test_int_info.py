"""entra.sync.sync_job_info against the generated sandbox fleet (seed 42): one job, one service principal, the tenant."""

import re
from collections import Counter

INFO = "entra.sync.sync_job_info"
REQUIRED_KEYS = {
    "service_principal_id", "service_principal_name", "app_id", "job_id", "template_id", "status_code", "schedule_state",
    "quarantine_reason", "last_execution_state", "count_successive_complete_failures",
}
SNAKE_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
DATE_KEY_RE = re.compile(r"(_time|_began|_ended|_attempt|_date|_datetime)$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")
DATA_DICTS = ("synchronized_entry_counts",)  # their keys are data (e.g. "user to User"), not field names


def _check_shape(value, path="job"):
    """snake_case keys only, nothing from OData, dates as ISO strings or null (never 0001-01-01)."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert not key.startswith("@") and "odata" not in key.lower(), "%s: OData key %r" % (path, key)
            if path.rsplit(".", 1)[-1] not in DATA_DICTS:
                assert SNAKE_RE.match(key), "%s: key %r is not snake_case" % (path, key)
            if DATE_KEY_RE.search(key):
                assert item is None or (isinstance(item, str) and ISO_RE.match(item)), "%s.%s = %r" % (path, key, item)
            _check_shape(item, "%s.%s" % (path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_shape(item, "%s[%d]" % (path, index))
    elif isinstance(value, str):
        assert not value.startswith("0001-01-01"), "%s: never-date %r leaked" % (path, value)


def _keyset(jobs):
    return {(job["service_principal_id"], job["job_id"]) for job in jobs}


def test_sync_job_info_one_job_one_sp_tenant_and_filters(tenant, run_tasks):
    sandbox = tenant.sandbox
    tenant_id = sandbox.tenant_id
    truth = {(job["service_principal_id"], job["job_id"]): job for job in tenant.admin.jobs(tenant_id)}
    assert len(truth) > 20
    per_sp = Counter(sp for sp, _job in truth)
    busy_sp = max(per_sp, key=lambda sp: (per_sp[sp], sp))
    one_key = sorted(key for key, job in truth.items() if job["status_code"] == "Quarantine")[0]
    quarantined = {key for key, job in truth.items() if job["status_code"] == "Quarantine"}
    templates = {key for key, job in truth.items() if job["template_id"] in ("scim", "AD2AADProvisioning")}
    tenant.clear()

    run = run_tasks(sandbox, [
        {"module": INFO, "args": {}},
        {"module": INFO, "args": {"status_code": ["quarantine"]}, "check_mode": True},
        {"module": INFO, "args": {"template_id": ["SCIM", "AD2AADProvisioning"]}},
        {"module": INFO, "args": {"service_principal_id": busy_sp}},
        {"module": INFO, "args": {"service_principal_id": one_key[0], "job_id": one_key[1]}},
        {"module": INFO, "args": {"template_id": ["scim"], "status_code": ["Quarantine", "Paused"]}},
    ])
    assert run.rc == 0, run.describe()
    whole, by_status, by_template, one_sp, one_job, both = run.results
    for result in run.results:
        assert not result.get("failed"), result.get("msg")
        assert result["changed"] is False
        assert result["errors"] == []
        for job in result["jobs"]:
            assert REQUIRED_KEYS <= set(job), REQUIRED_KEYS - set(job)
            _check_shape(job)
            assert job["tenant_id"] == result["tenant_id"] == tenant_id, job

    # the whole tenant: every job the sandbox holds for this tenant, with the sandbox's status
    assert len(whole["jobs"]) == len(truth)
    assert _keyset(whole["jobs"]) == set(truth)
    assert whole["service_principals_read"] == sandbox.config["tenants"][0]["service_principals"]
    for job in whole["jobs"]:
        expected = truth[(job["service_principal_id"], job["job_id"])]
        assert job["status_code"] == expected["status_code"], job
        assert job["template_id"] == expected["template_id"]
        assert job["schedule_state"] == expected["schedule_state"]
        assert job["service_principal_name"] == expected["display_name"]
        assert job["app_id"] == expected["app_id"]
        assert job["last_execution_state"] == expected["last_execution_state"]
        if expected["status_code"] == "Quarantine":
            # what Graph sends (the reason can be "" on the wire: that is null)
            wire = tenant.admin.job(job["service_principal_id"], job["job_id"])["graph"]["status"]["quarantine"]
            assert job["quarantine_reason"] == (wire["reason"] or None), (job, wire)

    assert _keyset(by_status["jobs"]) == quarantined and quarantined
    assert _keyset(by_template["jobs"]) == templates and templates
    assert _keyset(both["jobs"]) == {k for k, j in truth.items() if j["template_id"] == "scim" and j["status_code"] in ("Quarantine", "Paused")}

    assert _keyset(one_sp["jobs"]) == {key for key in truth if key[0] == busy_sp}
    assert one_sp["service_principals_read"] == 1

    (job,) = one_job["jobs"]
    assert (job["service_principal_id"], job["job_id"]) == one_key
    assert job["status_code"] == "Quarantine"
    assert job["template_id"] == truth[one_key]["template_id"]

    log = tenant.log()
    # batch is on by default: a $batch envelope is a POST, and the sandbox logs each request inside it on its own.
    assert any(e["kind"] == "batch_item" for e in log)
    assert tenant.graph_writes(log) == [], "sync_job_info must only read"
    assert tenant.admin.counters()["totals"]["restarts"] == 0
