"""Every quarantine diagnosed: each row of the remedy table (graph-facts.md, "Quarantine: what fixes which") against the
sandbox, through sync_job_info, the sync_jobs inventory, the fleet report and the self-heal event source; a paused,
escrows-pruned job is neither started nor restarted unless overridden."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import entra_int_harness as HARNESS

INFO = "entra.sync.sync_job_info"
RESTART = "entra.sync.sync_job_restart"
SYNC_JOB = "entra.sync.sync_job"
SCIM_FAILURE = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
SCIM_UNAVAILABLE = "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"


def _error(code, actionable=True):
    return {"quarantine_error": {"code": code, "message": "from the service", "tenant_actionable": actionable}}


def _quarantine(reason, template="scim", days=None, **extra):
    spec = {"quarantine_reason": reason, "template_id": template}
    if days is not None:
        spec["quarantine_days"] = days
    spec.update(extra)
    return ("Quarantine", spec)


# name -> (the job as the sandbox holds it, its remedy, heal.action of the event its first discovery gives)
ROWS = {
    "healthy": ("Active", "none", None),
    "escrow-proportion": (_quarantine("EncounteredEscrowProportionThreshold", days=3), "restart", "restart"),
    "escrow-base": (_quarantine("EncounteredBaseEscrowThreshold", days=10), "restart", "restart"),
    "escrow-total": (_quarantine("EncounteredTotalEscrowThreshold", days=25), "restart", "restart"),
    "scim-token": (_quarantine("EncounteredQuarantineException", days=5, **_error(SCIM_FAILURE)), "credentials", "escalate"),
    "cloud-sync-expired": (_quarantine("EncounteredQuarantineException", "AD2AADProvisioning", 6, **_error("AzureActiveDirectoryExpiredCredentials")),
                           "credentials", "escalate"),
    "cloud-sync-invalid": (_quarantine("EncounteredEscrowProportionThreshold", "AD2AADProvisioning", 6,
                                       **_error("AzureActiveDirectoryInvalidCredential")), "credentials", "escalate"),
    "scim-unreachable": (_quarantine("EncounteredQuarantineException", days=2, **_error(SCIM_UNAVAILABLE)), "fix_target", "escalate"),
    "no-agents": (_quarantine("EncounteredQuarantineException", "AD2AADProvisioning", 4, **_error("HybridIdentityServiceNoAgentsAssigned")),
                  "fix_target", "escalate"),
    "no-active-agents": (_quarantine("EncounteredQuarantineException", "AD2AADProvisioning", 4, **_error("HybridIdentityServiceNoActiveAgents")),
                         "fix_target", "escalate"),
    "agent-resource": (_quarantine("EncounteredQuarantineException", "AD2AADProvisioning", 4, **_error("HybridIdentityServiceInvalidResource")),
                       "fix_target", "escalate"),
    "cross-tenant": (_quarantine("EncounteredQuarantineException", "Azure2Azure", 8, **_error("AzureDirectoryB2BManagementPolicyCheckFailure")),
                     "fix_target", "escalate"),
    "deletes": (_quarantine("TooManyDeletes", "AD2AADProvisioning", 27), "approve_deletes", "escalate"),
    "on-demand": (_quarantine("QuarantinedOnDemand", days=1), "support", "escalate"),
    "ingestion": (_quarantine("IngestionInterrupted", days=1), "support", "escalate"),
    "unknown": (_quarantine("Unknown", days=1), "support", "escalate"),
    "empty-reason": (_quarantine("", days=1), "support", "escalate"),
    "exception-transient": (_quarantine("EncounteredQuarantineException", days=1, **_error("SomeTransientError", actionable=False)),
                            "restart", "restart"),
    "exception-actionable": (_quarantine("EncounteredQuarantineException", days=1, **_error("SomeNewError", actionable=True)),
                             "credentials", "escalate"),
    "escrows-pruned": (("Paused", {"escrows_pruned": True, "last_execution_state": "Failed"}), "clean_up_errors", "escalate"),
}
NAMES = list(ROWS)
RESTARTABLE = {name for name, row in ROWS.items() if row[1] == "restart"}
FOR_A_PERSON = {name for name, row in ROWS.items() if row[1] not in ("none", "restart")}
SOON = {"escrow-total", "deletes"}  # disabled within 7 days (25 and 27 days into quarantine)
PREFIX = {"AD2AADProvisioning": "AD2AADProvisioning", "Azure2Azure": "Azure2Azure"}


def make_rows(tenant):
    """One service principal per row; returns {name: (service principal id, job id)}."""
    layout = {}
    for index, name in enumerate(NAMES, start=1):
        job = ROWS[name][0]
        if isinstance(job, tuple):
            spec = dict(job[1])
            spec["id"] = "%s.%s" % (PREFIX.get(spec.get("template_id"), "scim"), HARNESS.job_hex(index))
            job = (job[0], spec)
        layout[index] = [job]
    ids = tenant.make_fleet(layout)
    return {name: ids[(index, 0)] for index, name in enumerate(NAMES, start=1)}


def by_job(jobs, ids, key="job_id"):
    names = {job_id: name for name, (_sp, job_id) in ids.items()}
    return {names[job[key]]: job for job in jobs if job[key] in names}


def expected_disables_at(tenant, ids, name):
    """seriesBegan (as the sandbox holds it) + 28 days, to the second."""
    began = tenant.admin.job(*ids[name])["summary"]["series_began"]
    if began is None:
        return None
    return (datetime.fromtimestamp(int(began), UTC) + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_disables_at(tenant, ids, jobs):
    for name, job in jobs.items():
        expected = expected_disables_at(tenant, ids, name)
        if expected is None or ROWS[name][1] in ("none", "clean_up_errors"):
            assert job["disables_at"] is None, name
        else:
            assert job["disables_at"] == expected, (name, job["disables_at"], expected)


def test_sync_job_info_diagnoses_every_row(tenant, run_tasks):
    ids = make_rows(tenant)
    run = run_tasks(tenant.sandbox, [
        {"module": INFO, "args": {}},
        {"module": INFO, "args": {"restart_if": ["quarantined", "paused"], "restart_remedies": ["restart"]}},
    ])
    assert run.rc == 0, run.describe()
    every, picked = run.results
    jobs = by_job(every["jobs"], ids)
    assert {name: job["remedy"] for name, job in jobs.items()} == {name: row[1] for name, row in ROWS.items()}
    assert all(job["remedy_reason"] for job in jobs.values())
    assert "ForceDeletes" in jobs["deletes"]["remedy_reason"] and SCIM_FAILURE in jobs["scim-token"]["remedy_reason"]
    assert "transient" in jobs["exception-transient"]["remedy_reason"] and jobs["escrows-pruned"]["escrows_pruned"] is True
    check_disables_at(tenant, ids, jobs)
    assert every["remedy_counts"] == {"restart": 4, "credentials": 4, "fix_target": 5, "approve_deletes": 1, "support": 4, "clean_up_errors": 1}
    # restart_remedies [restart]: only what a restart fixes is a candidate; the rest is left alone with its remedy.
    assert set(by_job(picked["restart_candidates"], ids)) == RESTARTABLE
    assert set(by_job(picked["left_alone"], ids)) == FOR_A_PERSON
    assert tenant.graph_writes(tenant.log()) == []


def test_the_inventory_groups_jobs_by_remedy(tenant, tmp_path):
    ids = make_rows(tenant)
    source = HARNESS.write_inventory_source(tmp_path, {
        "hostnames": "id",
        "keyed_groups": [{"key": "entra_sync_remedy", "prefix": "remedy"}],
        "groups": {"soon_disabled": "entra_sync_disables_at is not none and (entra_sync_disables_at | to_datetime('%Y-%m-%dT%H:%M:%SZ')"
                                    " - now(utc=true).replace(tzinfo=none)).days < 7"},
    })
    inventory = HARNESS.list_inventory(tenant.sandbox, source)
    hosts = {name: inventory.by_key()[ids[name]] for name in NAMES}
    jobs = {name: {key[len("entra_sync_"):]: value for key, value in inventory.hostvars[host].items()} for name, host in hosts.items()}
    assert {name: job["remedy"] for name, job in jobs.items()} == {name: row[1] for name, row in ROWS.items()}
    assert all(job["remedy_reason"] for job in jobs.values())
    check_disables_at(tenant, ids, jobs)
    for remedy in ("none", "restart", "credentials", "fix_target", "approve_deletes", "support", "clean_up_errors"):
        assert inventory.group("remedy_" + remedy) == {hosts[name] for name, row in ROWS.items() if row[1] == remedy}, remedy
    assert inventory.group("soon_disabled") == {hosts[name] for name in SOON}


def test_the_fleet_restarts_what_a_restart_fixes_and_reports_what_to_do_for_the_rest(tenant, run_playbook, tmp_path):
    ids = make_rows(tenant)
    report_dir = tmp_path / "report"
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs",
                       {"entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 1, "entra_sync_restart_if": ["quarantined", "paused"]})
    assert run.rc == 0, run.describe()
    restarted = {name for name, key in ids.items() if tenant.restarts().get(key)}
    assert restarted == RESTARTABLE
    assert tenant.admin.counters()["totals"]["starts"] == 0
    report = json.loads((report_dir / "report.json").read_text())
    assert report["restart_remedies"] == ["restart"]
    assert report["remedy_counts"] == {"restart": 4, "credentials": 4, "fix_target": 5, "approve_deletes": 1, "support": 4, "clean_up_errors": 1}
    to_do = by_job(report["to_do"], ids)
    assert set(to_do) == FOR_A_PERSON
    assert {name: entry["remedy"] for name, entry in to_do.items()} == {name: ROWS[name][1] for name in FOR_A_PERSON}
    check_disables_at(tenant, ids, to_do)
    # Soonest deadline first, the ones within 7 days marked; a job with no deadline (escrows pruned) last.
    deadlines = [entry["disables_at"] for entry in report["to_do"]]
    assert deadlines == sorted(deadlines, key=lambda value: (value is None, value or ""))
    assert report["to_do"][0]["job_id"] == ids["deletes"][1] and report["to_do"][0]["disables_soon"] is True
    assert {name for name, entry in to_do.items() if entry["disables_soon"]} == SOON & FOR_A_PERSON
    markdown = (report_dir / "report.md").read_text()
    assert "## What to do: jobs not restarted" in markdown and "**SOON** " + to_do["deletes"]["disables_at"] in markdown
    assert "| approve_deletes | 1 |" in markdown
    assert "credentials, disabled" in run.stdout and "jobs left for a person" in run.stdout


def test_a_run_with_only_credentials_quarantines_restarts_nothing_and_says_so(tenant, run_playbook, tmp_path):
    tenant.make_fleet({1: [_quarantine("EncounteredQuarantineException", days=3, **_error(SCIM_FAILURE))],
                       2: [_quarantine("EncounteredQuarantineException", "AD2AADProvisioning", 9,
                                       **_error("AzureActiveDirectoryExpiredCredentials"))], 3: ["Active"]})
    run = run_playbook(tenant.sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(tmp_path / "report")})
    assert run.rc == 0, run.describe()
    assert tenant.restarts() == {} and tenant.graph_writes(tenant.log()) == []
    assert "nothing to restart: a restart cannot fix what they need" in run.stdout, run.describe()
    assert "nothing restarted: 2 jobs left for a person (remedies: credentials)" in run.stdout, run.describe()
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["summary"]["restarted"] == 0 and [entry["remedy"] for entry in report["to_do"]] == ["credentials", "credentials"]


# ---- the self-heal event source -------------------------------------------------------------------------------------

SOURCE_RUN = r"""
import asyncio, json, runpy, sys
module = runpy.run_path(sys.argv[1])
wanted = int(sys.argv[2])

class Queue:
    def __init__(self):
        self.events = []
    async def put(self, event):
        self.events.append(event)

async def run():
    queue = Queue()
    task = asyncio.create_task(module["main"](queue, {"interval": 3600, "discovery_interval": 3600}))
    for _ in range(600):
        if len(queue.events) >= wanted or task.done():
            break
        await asyncio.sleep(0.1)
    task.cancel()
    print(json.dumps(queue.events))

asyncio.run(run())
"""


def first_discovery_events(sandbox, wanted):
    """The events the installed event source (run as ansible-rulebook runs it) gives on its first discovery."""
    source = os.path.join(os.environ["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0], "ansible_collections", "entra", "sync",
                          "extensions", "eda", "plugins", "event_source", "sync_job_events.py")
    env = HARNESS.playbook_env(sandbox)
    proc = subprocess.run([sys.executable, "-c", SOURCE_RUN, source, str(wanted)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [event["entra_sync"] for event in json.loads(proc.stdout)]


def test_the_event_source_gives_each_job_its_remedy_and_heals_by_it(tenant):
    ids = make_rows(tenant)
    events = first_discovery_events(tenant.sandbox, len(NAMES) - 1)
    assert all(event["type"] == "unhealthy" for event in events)
    jobs = by_job([dict(event["job"], heal=event["heal"]) for event in events], ids)
    assert set(jobs) == set(NAMES) - {"healthy"}, "a healthy job gives no event"
    assert {name: job["remedy"] for name, job in jobs.items()} == {name: ROWS[name][1] for name in jobs}
    assert {name: job["heal"]["action"] for name, job in jobs.items()} == {name: ROWS[name][2] for name in jobs}
    check_disables_at(tenant, ids, jobs)
    assert {name for name, job in jobs.items() if job["heal"]["disables_soon"]} == SOON
    # Within one step, the escalation whose job is disabled soonest comes first.
    assert events[0]["job"]["job_id"] == ids["deletes"][1] and events[0]["heal"]["action"] == "escalate"
    assert tenant.graph_writes(tenant.log()) == []
    secret = tenant.sandbox.env["AZURE_CLIENT_SECRET"]
    assert secret not in json.dumps(events)


# ---- a paused job with escrowsPruned -----------------------------------------------------------------------------

def test_a_paused_escrows_pruned_job_is_neither_started_nor_restarted_unless_overridden(tenant, run_tasks, run_playbook, tmp_path):
    ids = tenant.make_fleet({1: [("Paused", {"escrows_pruned": True})], 2: [("Paused", {"escrows_pruned": True})]})
    first, second = ({"service_principal_id": ids[(n, 0)][0], "job_id": ids[(n, 0)][1]} for n in (1, 2))
    run = run_tasks(tenant.sandbox, [
        {"module": SYNC_JOB, "args": dict(first, state="started")},
        {"module": RESTART, "args": dict(first, restart_if=["paused"])},
        {"module": RESTART, "args": dict(first, restart_if=["always"])},
    ])
    assert run.rc == 0, run.describe()
    for result in run.results:
        assert result["changed"] is False and result["action"] == "skipped", result
        assert "escrowsPruned" in result["reason"] and "allow_escrows_pruned" in result["reason"], result
        assert result["remedy"] == "clean_up_errors"
    fleet = run_playbook(tenant.sandbox, "entra.sync.restart_jobs",
                         {"entra_sync_restart_if": ["paused"], "entra_sync_report_dir": str(tmp_path / "report")})
    assert fleet.rc == 0, fleet.describe()
    counters = tenant.admin.counters()["totals"]
    assert (counters["starts"], counters["restarts"]) == (0, 0)
    # The overrides: the module's option, and clean_up_errors in the fleet's restart_remedies.
    run = run_tasks(tenant.sandbox, [
        {"module": SYNC_JOB, "args": dict(first, state="started", allow_escrows_pruned=True)},
        {"module": RESTART, "args": dict(second, restart_if=["paused"], allow_escrows_pruned=True)},
    ])
    assert run.rc == 0, run.describe()
    assert [(result["action"], result["changed"]) for result in run.results] == [("started", True), ("restarted", True)]
    tenant.make_fleet({1: [("Paused", {"escrows_pruned": True})]})
    fleet = run_playbook(tenant.sandbox, "entra.sync.restart_jobs",
                         {"entra_sync_restart_if": ["paused"], "entra_sync_restart_remedies": ["restart", "clean_up_errors"]})
    assert fleet.rc == 0, fleet.describe()
    assert tenant.admin.counters()["totals"]["restarts"] == 1
