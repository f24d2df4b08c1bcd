"""The entra.sync.sync_jobs inventory plugin against the sandbox: real `ansible-inventory --list` and `ansible-playbook` runs.

Hosts are the sandbox's jobs, groups by template and status, caching, a 5xx on one service principal's jobs,
several tenants, unsafe remote text, and the errors a user sees.
"""

import json
import os
import re
import subprocess
from collections import defaultdict

import entra_int_harness as HARNESS  # tests/integration/conftest.py
from ansible.release import __version__ as ansible_version

BIN_DIR, RUN_TIMEOUT, playbook_env, sp_guid = HARNESS.BIN_DIR, HARNESS.RUN_TIMEOUT, HARNESS.playbook_env, HARNESS.sp_guid
write_source, run_inventory, list_ok = HARNESS.write_inventory_source, HARNESS.run_inventory, HARNESS.list_inventory
ANSIBLE_CORE = tuple(int(part) for part in ansible_version.split(".")[:2])
HOST_RE = re.compile(r"^[a-z0-9_]+__[A-Za-z0-9._-]+$")
TEMPLATED = "{{ lookup('env','HOME') }}"


def graph_calls(entries):
    return [entry for entry in entries if entry["kind"] not in ("token", "managed_identity")]


def test_hosts_are_the_seeded_jobs_with_groups_by_template_and_status(tenant, tmp_path):
    sandbox = tenant.sandbox
    tenant_id = sandbox.tenant_id
    truth = {(job["service_principal_id"], job["job_id"]): job for job in tenant.admin.jobs(tenant_id)}
    assert len(truth) > 20
    source = write_source(tmp_path, {
        "keyed_groups": [{"key": "entra_sync_template_id", "prefix": "template"}, {"key": "entra_sync_status_code", "prefix": "status"}],
        "compose": {"job_label": "entra_sync_template_id ~ '/' ~ entra_sync_status_code"},
    })
    inventory = list_ok(sandbox, source)

    # one host per job the sandbox seeded, each with the sandbox's values
    assert len(inventory.hostvars) == len(truth)
    assert set(inventory.by_key()) == set(truth)
    for name, hostvars in inventory.hostvars.items():
        assert HOST_RE.match(name), name
        expected = truth[(hostvars["entra_sync_service_principal_id"], hostvars["entra_sync_job_id"])]
        assert name.endswith("__" + expected["job_id"])
        assert hostvars["entra_sync_tenant_id"] == tenant_id
        assert hostvars["entra_sync_service_principal_name"] == expected["display_name"]
        assert hostvars["entra_sync_app_id"] == expected["app_id"]
        assert hostvars["entra_sync_template_id"] == expected["template_id"]
        assert hostvars["entra_sync_status_code"] == expected["status_code"]
        assert hostvars["entra_sync_schedule_state"] == expected["schedule_state"]
        assert hostvars["entra_sync_last_execution_state"] == expected["last_execution_state"]
        if expected["status_code"] == "Quarantine":
            wire = tenant.admin.job(expected["service_principal_id"], expected["job_id"])["graph"]["status"]["quarantine"]
            assert hostvars["entra_sync_quarantine_reason"] == (wire["reason"] or None)  # "" on the wire is null
        assert isinstance(hostvars["entra_sync_count_successive_complete_failures"], int)
        assert hostvars["job_label"] == "%s/%s" % (expected["template_id"], expected["status_code"])
    assert inventory.read_errors == []

    # keyed groups: exactly the jobs of each template and of each status
    by_template, by_status = defaultdict(set), defaultdict(set)
    names = inventory.by_key()
    for key, job in truth.items():
        by_template[job["template_id"]].add(names[key])
        by_status[job["status_code"]].add(names[key])
    assert len(by_template) > 1 and len(by_status) > 1
    for template_id, hosts in by_template.items():
        assert inventory.group("template_" + template_id) == hosts, template_id
    for status_code, hosts in by_status.items():
        assert inventory.group("status_" + status_code) == hosts, status_code
    # default groups: the restart_if conditions
    assert inventory.group("quarantined") == by_status["Quarantine"]
    failed = {names[key] for key, job in truth.items() if job["last_execution_state"] == "Failed"}
    assert inventory.group("failed") == failed

    # filters: template and status (case-insensitive), and the service principal $filter sent to Graph
    prefix = sorted(job["display_name"] for job in truth.values())[0][:4]
    tenant.clear()
    source = write_source(tmp_path, {"template_ids": ["SCIM"], "status_codes": ["quarantine", "Active"],
                                     "service_principal_filter": "startswith(displayName,'%s')" % prefix, "concurrency": 4},
                          name="filtered.sync_jobs.yaml")
    filtered = list_ok(sandbox, source)
    expected = {key for key, job in truth.items() if job["template_id"] == "scim" and job["status_code"] in ("Quarantine", "Active")
                and job["display_name"].startswith(prefix)}
    assert set(filtered.by_key()) == expected
    sp_lists = [entry for entry in tenant.log() if entry["method"] == "GET" and entry["path"].rstrip("/").endswith("/servicePrincipals")]
    assert sp_lists and all("startswith" in json.dumps(entry) for entry in sp_lists)


def test_cache_second_parse_sends_no_graph_request(tenant, tmp_path):
    sandbox = tenant.sandbox
    cache_dir = tmp_path / "cache"
    config = {
        "cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(cache_dir), "cache_timeout": 600,
        "keyed_groups": [{"key": "entra_sync_template_id", "prefix": "template"}],
    }
    source = write_source(tmp_path, config)
    first = list_ok(sandbox, source)
    assert len(first.hostvars) == len(tenant.admin.jobs(sandbox.tenant_id))
    assert graph_calls(tenant.log())
    assert any(cache_dir.iterdir())

    tenant.clear()
    second = list_ok(sandbox, source)
    assert tenant.log() == []  # no Graph request and no sign-in
    assert second.hostvars == first.hostvars
    assert second.groups == first.groups

    # the cache holds the jobs before filters and groups: changing them needs no new read
    source = write_source(tmp_path, dict(config, status_codes=["Quarantine"], keyed_groups=[{"key": "entra_sync_status_code", "prefix": "status"}]))
    third = list_ok(sandbox, source)
    assert tenant.log() == []
    quarantined = {name for name, hostvars in first.hostvars.items() if hostvars["entra_sync_status_code"] == "Quarantine"}
    assert set(third.hostvars) == quarantined
    assert third.group("status_Quarantine") == quarantined

    # --flush-cache reads Graph again (ansible-inventory has the option from ansible-core 2.18 on, ansible-playbook always)
    if ANSIBLE_CORE < (2, 18):
        playbook = tmp_path / "noop.yml"
        playbook.write_text('[{"hosts": "localhost", "gather_facts": false, "tasks": []}]')
        proc = subprocess.run([os.path.join(BIN_DIR, "ansible-playbook"), "-i", str(source), "--flush-cache", str(playbook)],
                              env=playbook_env(sandbox, {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}),
                              capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
        assert proc.returncode == 0, "rc=%s\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-4000:])
    else:
        list_ok(sandbox, source, extra_args=["--flush-cache"])
    assert graph_calls(tenant.log())


def test_5xx_on_one_service_principal_is_reported_and_the_others_kept(tenant, tmp_path):
    ids = tenant.make_fleet({1: ["Active", "Quarantine"], 2: ["Active"], 3: ["Paused"]})
    sandbox = tenant.sandbox
    broken = sp_guid(2)
    tenant.admin.set_faults({"rules": [{"method": "GET", "path": "/servicePrincipals/%s/synchronization/jobs" % broken,
                                        "fault": "status", "status": 500}]})
    cache_dir = tmp_path / "cache"
    source = write_source(tmp_path, {"max_retries": 1, "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                                     "cache_connection": str(cache_dir)})
    inventory = list_ok(sandbox, source)
    expected = {ids[(1, 0)], ids[(1, 1)], ids[(3, 0)]}
    assert set(inventory.by_key()) == expected
    assert broken in inventory.proc.stderr and "could not be read" in inventory.proc.stderr, inventory.proc.stderr
    errors = inventory.read_errors
    assert [error["service_principal_id"] for error in errors] == [broken]
    assert "500" in errors[0]["message"]
    tries = [e for e in tenant.log() if e["path"].endswith("/servicePrincipals/%s/synchronization/jobs" % broken)]
    assert len(tries) == 2  # the first try and max_retries=1 retry

    # an incomplete tenant is not cached: once Graph answers again, the next parse reads it and finds every job
    tenant.admin.set_faults({})
    tenant.clear()
    again = list_ok(sandbox, source)
    assert graph_calls(tenant.log())
    assert set(again.by_key()) == set(ids.values())
    assert again.read_errors == []


def test_remote_strings_are_unsafe(tenant, tmp_path, run_playbook):
    sandbox = tenant.sandbox
    sp_id = sp_guid(7)
    tenant.admin.set_fleet(tenants={sandbox.tenant_id: [{
        "id": sp_id, "displayName": TEMPLATED + " {% raw %}", "jobs": [{"id": "scim.%032x" % 7, "template_id": "scim", "status_code": "Active"}],
    }]})
    sandbox.reload_config()
    source = write_source(tmp_path, {"compose": {"copied_name": "entra_sync_service_principal_name"}})
    inventory = list_ok(sandbox, source)
    (name, hostvars), = inventory.hostvars.items()
    assert name == "lookup_env_home_raw__scim.%032x" % 7
    assert hostvars["entra_sync_service_principal_name"] == TEMPLATED + " {% raw %}"

    playbook = tmp_path / "show.yml"
    playbook.write_text(json.dumps([{"hosts": "all", "connection": "local", "gather_facts": False, "tasks": [
        {"ansible.builtin.debug": {"msg": "NAME=[{{ entra_sync_service_principal_name }}] COPY=[{{ copied_name }}]"}},
    ]}]))
    run = run_playbook(sandbox, playbook, extra_args=["-i", str(source)])
    assert run.rc == 0, run.describe()
    home = os.path.expanduser("~")
    assert "NAME=[%s {%% raw %%}]" % TEMPLATED in run.stdout, run.stdout
    assert "COPY=[%s {%% raw %%}]" % TEMPLATED in run.stdout, run.stdout
    assert "NAME=[%s" % home not in run.stdout


def test_several_tenants_and_name_collisions(tenant, tmp_path):
    sandbox = tenant.sandbox
    first, second = (entry["id"] for entry in sandbox.config["tenants"][:2])
    same_job = "scim.%032x" % 99
    tenant.admin.set_fleet(tenants={
        first: [
            {"id": sp_guid(1), "displayName": "Workday HR", "jobs": [{"id": same_job, "template_id": "scim", "status_code": "Active"}]},
            {"id": sp_guid(2), "displayName": "Workday-HR", "jobs": [{"id": same_job, "template_id": "scim", "status_code": "Quarantine"}]},
            {"id": sp_guid(3), "displayName": "Salesforce", "jobs": [{"id": "scim.%032x" % 3, "template_id": "scim", "status_code": "Paused"}]},
        ],
        second: [
            {"id": sp_guid(11), "displayName": "Salesforce", "jobs": [{"id": "scim.%032x" % 11, "template_id": "scim", "status_code": "Active"}]},
        ],
    })
    sandbox.reload_config()
    tenant.clear()
    source = write_source(tmp_path, {"tenants": [first, {"tenant_id": second}],
                                     "keyed_groups": [{"key": "entra_sync_tenant_id", "prefix": "tenant"}]})
    inventory = list_ok(sandbox, source)
    assert set(inventory.hostvars) == {
        "workday_hr__%s__%s" % (sp_guid(1), same_job),
        "workday_hr__%s__%s" % (sp_guid(2), same_job),
        "salesforce__scim.%032x" % 3,
        "salesforce__scim.%032x" % 11,
    }
    tenants = {name: hostvars["entra_sync_tenant_id"] for name, hostvars in inventory.hostvars.items()}
    assert tenants["salesforce__scim.%032x" % 11] == second
    tenant_groups = {name: inventory.group(name) for name in inventory.groups if name.startswith("tenant_")}
    assert len(tenant_groups) == 2  # (the ids' dashes may be kept or turned into '_', as TRANSFORM_INVALID_GROUP_CHARS says)
    assert {len(hosts) for hosts in tenant_groups.values()} == {1, 3}
    assert {"salesforce__scim.%032x" % 11} in tenant_groups.values()
    assert inventory.group("quarantined") == {"workday_hr__%s__%s" % (sp_guid(2), same_job)}
    assert inventory.group("paused") == {"salesforce__scim.%032x" % 3}
    # one sign-in per tenant
    assert len(tenant.token_requests(tenant.log())) == 2

    ids = list_ok(sandbox, write_source(tmp_path, {"tenants": [first, second], "hostnames": "id"}, name="ids.sync_jobs.yml"))
    assert "%s__%s" % (sp_guid(1), same_job) in ids.hostvars
    assert len(ids.hostvars) == 4


def test_errors_are_clear_and_hold_no_secret(tenant, tmp_path):
    sandbox = tenant.sandbox
    secret = sandbox.env["AZURE_CLIENT_SECRET"]
    cases = [
        ({}, {"AZURE_CLIENT_SECRET": None}, ["No credential was given", "AZURE_CLIENT_SECRET"]),
        ({"tenants": [{"tenant_id": sandbox.tenant_id, "region": "x"}]}, {}, ["tenants[0] has unknown keys region"]),
        ({"concurrency": 0}, {}, ["concurrency 0 is out of range"]),
        ({"tenant_id": "not a tenant"}, {}, ["tenant_id 'not a tenant' is neither a GUID nor a domain name"]),
        ({"tenants": [sandbox.tenant_id, "contoso.onmicrosoft.com"]}, {"ENTRA_SYNC_ACCESS_TOKEN": "eyJ0.e30.x"}, ["valid for one tenant only"]),
        ({"client_secret": "wrong-" + secret[:4]}, {}, ["Sign-in as", "client secret is wrong"]),
        ({"client_id": sandbox.app("noperm")["client_id"], "client_secret": sandbox.app("noperm")["client_secret"]}, {},
         ["No service principal's jobs of tenant", "Synchronization.ReadWrite.All"]),
    ]
    for index, (config, env, fragments) in enumerate(cases):
        tenant.clear()
        proc = run_inventory(sandbox, write_source(tmp_path, config, name="case%d.sync_jobs.yml" % index), env=env, extra_args=["-vvvv"])
        # ansible-core 2.17 wraps a warning at the terminal's width, wherever the source's path ends: words, not lines.
        output = " ".join((proc.stdout + proc.stderr).split())
        assert proc.returncode != 0, (config, output[-3000:])
        for fragment in fragments:
            assert fragment in output, (config, fragment, output[-3000:])
        assert secret not in output
        assert sandbox.app("noperm")["client_secret"] not in output
        if index < 5:  # local checks: nothing was sent
            assert tenant.log() == [], config


def test_source_file_names(tenant, tmp_path):
    sandbox = tenant.sandbox
    source = write_source(tmp_path, {}, name="jobs.yml")
    proc = run_inventory(sandbox, source, env={"ANSIBLE_INVENTORY_ENABLED": "entra.sync.sync_jobs"})
    assert proc.returncode != 0
    assert tenant.log() == []


def test_credential_options_in_the_source_may_be_templates(tenant, tmp_path):
    sandbox = tenant.sandbox
    source = write_source(tmp_path, {"client_secret": "{{ lookup('ansible.builtin.env', 'INV_TEST_SECRET') }}"})
    env = {"AZURE_CLIENT_SECRET": None, "INV_TEST_SECRET": sandbox.env["AZURE_CLIENT_SECRET"]}
    inventory = list_ok(sandbox, source, env=env)
    assert len(inventory.hostvars) == len(tenant.admin.jobs(sandbox.tenant_id))
    # in a tenants entry too
    source = write_source(tmp_path, {"tenants": [{"tenant_id": sandbox.tenant_id,
                                                  "client_secret": "{{ lookup('ansible.builtin.env', 'INV_TEST_SECRET') }}"}]},
                          name="tenants.sync_jobs.yml")
    assert list_ok(sandbox, source, env=env).hostvars == inventory.hostvars
