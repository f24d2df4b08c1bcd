"""entra.sync.restart_jobs over tenant hosts: three sandbox tenants as hosts of a static inventory (group
entra_tenants), each signing in with its own credentials (the env's app, a certificate, a secret in its host
variables), side by side with forks; one report with a section per tenant; a failed tenant; stop_on_tenant_failure;
slices run with --limit and merged with entra.sync.merge_reports."""

import json

import entra_int_harness as HARNESS
import pytest
import yaml

from entra_sandbox.testing import SandboxProcess

PLAYBOOK = "entra.sync.restart_jobs"
MERGE = "entra.sync.merge_reports"
HOSTS = ("alpha", "bravo")  # the third tenant's host is named by its tenant id (entra_sync_tenant_id's default)
QUICK = {"entra_sync_canary_size": 1, "entra_sync_canary_wait_interval": 0.2}
# What differs between two runs of the same fleet: the run's clock (its times, and its steps' times in the timeline).
TIMES = ("started_at", "finished_at", "timeline")


@pytest.fixture(scope="module")
def three_tenants(tmp_path_factory):
    """A sandbox of its own with three tenants (the session one has two)."""
    with SandboxProcess(tmp_path_factory.mktemp("three-tenants"), seed=16, tenants=3, service_principals=3) as running:
        yield running


class Fleet:
    """Three tenants, each with 3 service principals of one quarantined and one active job; the jobs of each tenant
    are its own (ids unique across tenants)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.tenant_ids = [entry["id"] for entry in sandbox.config["tenants"]]
        self.tenant_of = {}  # (sp_id, job_id) -> tenant id
        self.quarantined = {}  # tenant id -> {(sp_id, job_id)}
        fleet = {}
        for number, tenant_id in enumerate(self.tenant_ids):
            service_principals = []
            for index in range(1, 4):
                sp_id = HARNESS.sp_guid(number * 100 + index)
                jobs = [("scim.%s" % HARNESS.job_hex(number * 100 + index), "Quarantine"), ("scim.%s" % HARNESS.job_hex(number * 100 + index + 50), "Active")]
                for job_id, code in jobs:
                    self.tenant_of[(sp_id, job_id)] = tenant_id
                    if code == "Quarantine":
                        self.quarantined.setdefault(tenant_id, set()).add((sp_id, job_id))
                service_principals.append({"id": sp_id, "displayName": "Tenant %d App %d" % (number, index), "jobs": [
                    dict({"id": job_id, "template_id": "scim", "status_code": code},
                         **({"quarantine_reason": "EncounteredQuarantineException"} if code == "Quarantine" else {}))
                    for job_id, code in jobs]})
            fleet[tenant_id] = service_principals
        self.fleet = fleet
        self.reset()

    def reset(self):
        self.sandbox.admin.reset(fleet={"seed": 16, "service_principals": 3}, faults={}, throttle={}, token_lifetime=3600)
        self.sandbox.admin.set_fleet(tenants=self.fleet)
        self.sandbox.reload_config()
        self.sandbox.admin.clear_log()
        self.sandbox.admin.reset_counters()

    def apps(self):
        """The app each tenant signs in with: alpha the env's (secret), bravo the certificate app, the third the env's
        app with the secret in its host variables."""
        full, cert = self.sandbox.app("full")["client_id"], self.sandbox.app("cert")["client_id"]
        return dict(zip(self.tenant_ids, (full, cert, full), strict=True))

    def inventory(self, path, third_secret=None):
        cert = self.sandbox.app("cert")
        hosts = {
            HOSTS[0]: {"entra_sync_tenant_id": self.tenant_ids[0]},
            HOSTS[1]: {"entra_sync_tenant_id": self.tenant_ids[1], "entra_sync_client_id": cert["client_id"],
                       "entra_sync_client_certificate_path": cert["certificate_path"], "entra_sync_auth_method": "certificate"},
            self.tenant_ids[2]: {"entra_sync_client_id": self.sandbox.app("full")["client_id"], "entra_sync_auth_method": "client_secret",
                                 "entra_sync_client_secret": third_secret or self.sandbox.app("full")["client_secret"]},
        }
        path.write_text(yaml.safe_dump({"entra_tenants": {"hosts": hosts}}))
        return str(path)

    def restarts_by_tenant(self):
        """{tenant id: {(sp_id, job_id): restarts}} from the sandbox's counters."""
        out = {}
        for key, entry in self.sandbox.admin.counters()["jobs"].items():
            sp_id, job_id = key.split("/", 1)
            if entry["restarts"]:
                out.setdefault(self.tenant_of[(sp_id, job_id)], {})[(sp_id, job_id)] = entry["restarts"]
        return out


@pytest.fixture
def fleet(three_tenants):
    return Fleet(three_tenants)


def _run(run_playbook, fleet, inventory, extra_vars, forks=3, limit=None):
    args = ["-i", inventory, "-f", str(forks)] + (["--limit", limit] if limit else [])
    return run_playbook(fleet.sandbox, PLAYBOOK, dict(QUICK, **extra_vars), extra_args=args)


def _report(directory):
    return json.loads((directory / "report.json").read_text())


def _job_of(path):
    parts = path.split("/")
    return parts[parts.index("servicePrincipals") + 1], parts[parts.index("jobs") + 1]


def test_three_tenant_hosts_each_with_its_own_token_and_one_report(fleet, run_playbook, tmp_path):
    report_dir = tmp_path / "report"
    run = _run(run_playbook, fleet, fleet.inventory(tmp_path / "tenants.yml"), {"entra_sync_report_dir": str(report_dir)})
    assert run.rc == 0, run.describe()

    # Each tenant's quarantined jobs restarted once, by that tenant's own sign-in; nothing else.
    assert fleet.restarts_by_tenant() == {tenant: dict.fromkeys(jobs, 1) for tenant, jobs in fleet.quarantined.items()}
    log = fleet.sandbox.admin.log()
    apps = fleet.apps()
    tokens = HARNESS.Tenant.token_requests(log)
    assert sorted((entry["tenant_id"], entry["app_id"]) for entry in tokens) == sorted(apps.items()), "one token per tenant, its own app"
    graph_calls = [entry for entry in log if entry["kind"] not in ("token", "managed_identity")]
    assert graph_calls and {(entry["tenant_id"], entry["app_id"]) for entry in graph_calls} == set(apps.items())
    restart_posts = HARNESS.Tenant.restart_posts(log)
    assert len(restart_posts) == sum(len(jobs) for jobs in fleet.quarantined.values())
    for entry in restart_posts:
        assert fleet.tenant_of[_job_of(entry["path"])] == entry["tenant_id"], "a job restarted with another tenant's token: %s" % entry

    # One report: a section per tenant sorted by tenant id, checked against the sandbox's counters; the totals.
    report = _report(report_dir)
    counters = fleet.sandbox.admin.counters()
    restarted = fleet.restarts_by_tenant()
    assert report["form"] == "tenant_hosts"
    assert [section["tenant_id"] for section in report["tenants"]] == sorted(fleet.tenant_ids)
    hosts = dict(zip(fleet.tenant_ids, HOSTS + (fleet.tenant_ids[2],), strict=True))
    for section in report["tenants"]:
        tenant_id = section["tenant_id"]
        assert section["host"] == hosts[tenant_id] and section["outcome"] == "succeeded", section
        assert section["summary"]["restarted"] == len(restarted[tenant_id]) == 3, section
        assert section["jobs_found"] == 6 and section["summary"]["skipped"] == 3 and section["failed_or_unknown"] == []
        assert section["counts_before"] == {"scim": {"Active": 3, "Quarantine": 3}}
        assert section["counts_after"] == {"scim": {"Active": 6}}
        assert not section["error"] and not section["stopped"]
    assert report["summary"]["restarted"] == counters["totals"]["restarts"] == 9
    assert counters["totals"]["jobs_restarted_more_than_once"] == 0
    assert report["jobs_found"] == 18 and report["failed_tenants"] == [] and report["stopped_tenants"] == []
    assert {(entry["service_principal_id"], entry["job_id"]) for entry in report["touched"]} == set().union(*fleet.quarantined.values())
    assert all(entry["tenant_id"] == fleet.tenant_of[(entry["service_principal_id"], entry["job_id"])] for entry in report["results"])
    markdown = (report_dir / "report.md").read_text()
    for tenant_id in fleet.tenant_ids:
        assert "## Tenant %s" % tenant_id in markdown
    assert fleet.sandbox.app("full")["client_secret"] not in run.output + json.dumps(report) + markdown


def test_a_certificate_tenant_gives_its_certificate_to_every_module(fleet, run_playbook, tmp_path):
    # bravo comes with a ready token that has expired and no secret in the env: every module must refresh it with
    # bravo's certificate (module_defaults), as the only credential it has.
    fleet.sandbox.admin.set_token_lifetime(1)
    expired = fleet.sandbox.token(app="full", tenant_id=fleet.tenant_ids[1])
    fleet.sandbox.admin.set_token_lifetime(3600)
    inventory = tmp_path / "tenants.yml"
    fleet.inventory(inventory)
    hosts = yaml.safe_load(inventory.read_text())
    hosts["entra_tenants"]["hosts"] = {HOSTS[1]: dict(hosts["entra_tenants"]["hosts"][HOSTS[1]], entra_sync_tenant_access_token=expired)}
    inventory.write_text(yaml.safe_dump(hosts))
    fleet.sandbox.admin.clear_log()
    env = {"AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None}
    run = run_playbook(fleet.sandbox, PLAYBOOK, dict(QUICK, entra_sync_report_dir=str(tmp_path / "r")),
                       extra_args=["-i", str(inventory)], env=env)
    assert run.rc == 0, run.describe()
    log = fleet.sandbox.admin.log()
    cert_app = fleet.sandbox.app("cert")["client_id"]
    tokens = HARNESS.Tenant.token_requests(log)
    assert tokens and {(entry["tenant_id"], entry["app_id"]) for entry in tokens} == {(fleet.tenant_ids[1], cert_app)}
    assert fleet.restarts_by_tenant() == {fleet.tenant_ids[1]: dict.fromkeys(fleet.quarantined[fleet.tenant_ids[1]], 1)}
    assert expired not in run.output


def test_a_tenant_with_wrong_credentials_fails_alone_and_the_run_fails_at_the_end(fleet, run_playbook, tmp_path):
    wrong = "wrong-" + fleet.sandbox.app("full")["client_secret"]
    report_dir = tmp_path / "report"
    run = _run(run_playbook, fleet, fleet.inventory(tmp_path / "tenants.yml", third_secret=wrong), {"entra_sync_report_dir": str(report_dir)})
    assert run.rc != 0, run.describe()
    bad = fleet.tenant_ids[2]
    good = fleet.tenant_ids[:2]
    assert fleet.restarts_by_tenant() == {tenant: dict.fromkeys(fleet.quarantined[tenant], 1) for tenant in good}
    assert "1 of 3 tenants failed: %s (" % bad in run.output
    # the recap's failed hosts are the tenants to run again
    assert [line.split()[0] for line in run.stdout.split("PLAY RECAP")[-1].splitlines() if "failed=1" in line] == [bad], run.stdout[-2000:]
    assert "--limit %s" % bad in run.output
    report = _report(report_dir)
    assert report["failed_tenants"] == [bad] and report["stopped_tenants"] == []
    sections = {section["tenant_id"]: section for section in report["tenants"]}
    assert sections[bad]["outcome"] == "failed" and "secret" in sections[bad]["error"].lower()
    assert sections[bad]["jobs_found"] == 0 and sections[bad]["summary"]["restarted"] == 0
    assert all(sections[tenant]["outcome"] == "succeeded" and sections[tenant]["summary"]["restarted"] == 3 for tenant in good)
    assert report["summary"]["restarted"] == fleet.sandbox.admin.counters()["totals"]["restarts"] == 6
    assert wrong not in run.output + json.dumps(report) + (report_dir / "report.md").read_text()


def test_stop_on_tenant_failure_stops_the_others_before_their_canary(fleet, run_playbook, tmp_path):
    wrong = "wrong-" + fleet.sandbox.app("full")["client_secret"]
    report_dir = tmp_path / "report"
    # forks 1: the tenants take their steps in turn, so the failed sign-in is noted before the others reach their
    # canary (with more forks the others stop at their next step after it: the canary or a chunk).
    run = _run(run_playbook, fleet, fleet.inventory(tmp_path / "tenants.yml", third_secret=wrong),
               {"entra_sync_report_dir": str(report_dir), "entra_sync_stop_on_tenant_failure": True}, forks=1)
    assert run.rc != 0, run.describe()
    assert fleet.restarts_by_tenant() == {}, "a tenant restarted jobs after another one failed"
    bad = fleet.tenant_ids[2]
    report = _report(report_dir)
    assert report["failed_tenants"] == [bad]
    assert report["stopped_tenants"] == sorted(fleet.tenant_ids[:2])
    for section in report["tenants"]:
        if section["tenant_id"] != bad:
            assert section["outcome"] == "stopped" and "before its canary: tenant %s failed" % bad in section["stopped"], section
            assert section["summary"]["restarted"] == 0
    assert "stopped by entra_sync_stop_on_tenant_failure: " + ", ".join(sorted(fleet.tenant_ids[:2])) in run.output


def test_sliced_runs_merge_into_the_unsliced_report_and_restart_nothing_twice(fleet, run_playbook, tmp_path):
    inventory = fleet.inventory(tmp_path / "tenants.yml")
    history = tmp_path / "history"
    settings = {"entra_sync_canary_size": 0, "entra_sync_report_history": str(history)}
    slices = [",".join(HOSTS[:1]), HOSTS[1], fleet.tenant_ids[2]]
    for number, limit in enumerate(slices):
        run = _run(run_playbook, fleet, inventory, dict(settings, entra_sync_report_dir=str(tmp_path / ("slice%d" % number))), limit=limit)
        assert run.rc == 0, run.describe()
        assert [section["host"] for section in _report(tmp_path / ("slice%d" % number))["tenants"]] == [limit]
    assert fleet.restarts_by_tenant() == {tenant: dict.fromkeys(jobs, 1) for tenant, jobs in fleet.quarantined.items()}, "restarted twice"
    assert fleet.sandbox.admin.counters()["totals"]["jobs_restarted_more_than_once"] == 0

    merged_dir = tmp_path / "merged"
    fleet.sandbox.admin.clear_log()
    # the first slice by its path, the others by the folder that holds them
    (tmp_path / "later").mkdir()
    for number in (1, 2):
        (tmp_path / ("slice%d" % number)).rename(tmp_path / "later" / ("slice%d" % number))
    merge = run_playbook(fleet.sandbox, MERGE, {"entra_sync_merge_reports": [str(tmp_path / "slice0" / "report.json"), str(tmp_path / "later")],
                                                "entra_sync_report_dir": str(merged_dir), "entra_sync_report_history": str(history)})
    assert merge.rc == 0, merge.describe()
    assert fleet.sandbox.admin.log() == [], "merging reports sends no request"
    # the history: each slice's line, then the merged run's, which report.html's trend shows instead of the slices
    lines = [json.loads(line) for line in (history / "history.jsonl").read_text().splitlines()]
    assert [len(line["tenants"]) for line in lines] == [1, 1, 1, 3] and lines[3]["restarted"] == 9
    assert lines[3]["report"] == str(merged_dir / "report.html")
    page = (merged_dir / "report.html").read_text()
    assert "<title id=\"trend-title\">The last run</title>" in page, "the slices are one run in the trend"
    merged_steps = {(event["tenant_id"], event["step"]) for event in _report(merged_dir)["timeline"]}
    for tenant_id in fleet.tenant_ids:
        assert {(tenant_id, "start"), (tenant_id, "sign-in"), (tenant_id, "discovery"), (tenant_id, "chunk 1")} <= merged_steps
    assert sorted(step for tenant_id, step in merged_steps if tenant_id == "") == ["report", "start"]

    fleet.reset()  # the same fleet again, for one unsliced run
    whole = _run(run_playbook, fleet, inventory, dict(settings, entra_sync_report_dir=str(tmp_path / "whole")))
    assert whole.rc == 0, whole.describe()
    merged, unsliced = _report(merged_dir), _report(tmp_path / "whole")
    assert {key: value for key, value in merged.items() if key not in TIMES} == {key: value for key, value in unsliced.items() if key not in TIMES}
    assert merged["summary"]["restarted"] == 9
    assert (merged_dir / "report.md").read_text().count("## Tenant ") == 3


def test_merge_reports_refuses_a_tenant_in_two_slices(fleet, run_playbook, tmp_path):
    report = {"form": "tenant_hosts", "tenants": [{"tenant_id": "t1"}], "restart_if": ["quarantined"], "reset_scope": []}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(json.dumps(report))
    run = run_playbook(fleet.sandbox, MERGE, {"entra_sync_merge_reports": [str(tmp_path / "a" / "report.json"), str(tmp_path / "b" / "report.json")]})
    assert run.rc != 0 and "tenant t1 is in" in run.output and "each tenant belongs to one slice" in run.output, run.describe()
    missing = run_playbook(fleet.sandbox, MERGE, {"entra_sync_merge_reports": [str(tmp_path / "a" / "report.json"), str(tmp_path / "c.json")]})
    assert missing.rc != 0 and "no report at %s" % (tmp_path / "c.json") in missing.output, missing.describe()
    empty = run_playbook(fleet.sandbox, MERGE, {})
    assert empty.rc != 0 and "give the report.json of each slice" in empty.output, empty.describe()
