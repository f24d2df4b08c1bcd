"""entra.sync.self_heal end to end: real ansible-rulebook, the installed collection, the sandbox's counters and log."""

import json
import os
import signal
import subprocess
import time

import entra_eda_harness as HARNESS  # pylint: disable=import-error

RESTARTABLE = ["heal-%02d" % index for index in range(20)]
# First in the fleet, so their events come first and the relapse is seen early.
SPECIAL = ["a-relapse", "a-too-many-deletes", "a-tenant-actionable"]
HEALTHY = ["z-healthy", "z-sentinel"]


def _secrets(sandbox):
    issued = sandbox.admin.issued()
    return [sandbox.env["AZURE_CLIENT_SECRET"]] + issued["access_tokens"]


def _assert_no_secret(texts, sandbox):
    for secret in _secrets(sandbox):
        for text in texts:
            assert secret not in text


def test_restarts_each_quarantine_once_escalates_what_a_restart_cannot_fix_and_never_loops(fresh_sandbox, rulebooks, tmp_path):
    fleet = HARNESS.Fleet(fresh_sandbox, SPECIAL + RESTARTABLE + HEALTHY)
    escalation_file = tmp_path / "escalations.jsonl"
    interval = 30
    rulebook = rulebooks({
        "entra_sync_heal_interval": interval,
        "entra_sync_heal_relapse_window": 3600,
        "entra_sync_heal_escalation_file": str(escalation_file),
    })
    rulebook.wait_for("the first discovery", fleet.discovered)
    quarantined_at = HARNESS.last_seq(fresh_sandbox)
    # Realistic quarantines (graph-facts.md): the ones a restart fixes are escrow thresholds; an expired SCIM token needs
    # new credentials (and its job is disabled in two days); held deletes need a person.
    fleet.quarantine("a-relapse", relapse=True)
    fleet.quarantine("a-too-many-deletes", reason="TooManyDeletes")
    fleet.quarantine("a-tenant-actionable", reason="EncounteredQuarantineException",
                     error="SystemForCrossDomainIdentityManagementCredentialValidationFailure", tenant_actionable=True, days=26)
    for index, name in enumerate(RESTARTABLE):
        fleet.quarantine(name, reason=("EncounteredEscrowProportionThreshold", "EncounteredBaseEscrowThreshold",
                                       "EncounteredTotalEscrowThreshold")[index % 3])

    def settled():
        restarts = fleet.restarts()
        done = all(restarts[name] >= 1 for name in RESTARTABLE + ["a-relapse"])
        return done and len(HARNESS.escalations(escalation_file)) >= 3
    rulebook.wait_for("20 restarts and 3 escalations", settled)

    restarts = fleet.restarts()
    assert {name: restarts[name] for name in RESTARTABLE} == {name: 1 for name in RESTARTABLE}
    assert restarts["a-relapse"] == 1  # entra_sync_heal_max_restarts (default 1), then escalated
    assert restarts["a-too-many-deletes"] == 0 and restarts["a-tenant-actionable"] == 0
    assert restarts["z-healthy"] == 0 and restarts["z-sentinel"] == 0

    lines = HARNESS.escalations(escalation_file)
    by_job = {line["job_id"]: line for line in lines}
    assert len(lines) == 3 and set(by_job) == {fleet.ids[name][1] for name in SPECIAL}
    deletes = by_job[fleet.ids["a-too-many-deletes"][1]]
    assert "TooManyDeletes" in deletes["reason"] and deletes["remedy"] == "approve_deletes"
    assert "ForceDeletes" in deletes["remedy_reason"] and deletes["disables_soon"] is False
    expired = by_job[fleet.ids["a-tenant-actionable"][1]]
    assert expired["remedy"] == "credentials" and "secret token" in expired["remedy_reason"]
    assert expired["disables_at"] and expired["disables_soon"] is True, expired
    relapse = by_job[fleet.ids["a-relapse"][1]]
    assert relapse["relapses"] == 2 and "2 times" in relapse["reason"] and relapse["remedy"] == "restart"

    # Within three polls: every restart POST came before the source's third read of the jobs after the quarantine.
    polls = [entry["seq"] for entry in fleet.job_reads("z-sentinel", since=quarantined_at)]
    posts = fleet.restart_posts(since=quarantined_at)
    assert polls, "no poll after the quarantine"
    third_poll = polls[2] if len(polls) > 2 else HARNESS.last_seq(fresh_sandbox) + 1
    assert all(posts[name][0] < third_poll for name in RESTARTABLE), (polls, posts)

    assert rulebook.stop() in HARNESS.CLEAN_STOP, rulebook.output()[-4000:]
    output = rulebook.output()
    assert "Traceback" not in output
    _assert_no_secret([output, escalation_file.read_text()], fresh_sandbox)


def test_goes_on_through_an_outage_and_beside_a_fleet_run_restarts_no_job_twice(fresh_sandbox, rulebooks, tmp_path):
    shared = ["shared-%d" % index for index in range(8)]
    fleet = HARNESS.Fleet(fresh_sandbox, shared + HEALTHY)
    rulebook = rulebooks({"entra_sync_heal_interval": 2, "entra_sync_heal_timeout": 2, "entra_sync_heal_max_retries": 0,
                          "entra_sync_heal_escalation_file": str(tmp_path / "escalations.jsonl")})
    rulebook.wait_for("the first discovery", fleet.discovered)
    rulebook.wait_for("a poll", lambda: fleet.job_reads("z-sentinel"))

    # The service unreachable for 10 seconds: requests time out, the source reports scan_error and goes on.
    os.kill(fresh_sandbox.process.pid, signal.SIGSTOP)
    try:
        time.sleep(10)
    finally:
        os.kill(fresh_sandbox.process.pid, signal.SIGCONT)
    resumed_at = HARNESS.last_seq(fresh_sandbox)
    rulebook.wait_for("a scan_error", lambda: "entra.sync self-heal: poll failed" in rulebook.output())
    rulebook.wait_for("polls after the outage", lambda: len(fleet.job_reads("z-sentinel", since=resumed_at)) >= 2)

    # A fleet run started at the same moment as the rulebook sees the same quarantined jobs.
    for name in shared:
        fleet.quarantine(name)
    env = HARNESS.base_env(fresh_sandbox, tmp_path, PATH=HARNESS.MAIN_BIN + os.pathsep + os.environ.get("PATH", ""),
                           ANSIBLE_PYTHON_INTERPRETER=os.path.join(HARNESS.MAIN_BIN, "python"))
    extra = {"entra_sync_canary_size": 0, "entra_sync_restart_if": ["quarantined"], "entra_sync_verify_after": False}
    run = subprocess.run([os.path.join(HARNESS.MAIN_BIN, "ansible-playbook"), "entra.sync.restart_jobs", "-e", json.dumps(extra)],
                         env=env, capture_output=True, text=True, timeout=300, check=False, cwd=str(tmp_path))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]

    def heal_runs_done():
        # One heal run per shared job, each of which restarted it or found it restarted already.
        return rulebook.output().count("PLAY RECAP") >= len(shared)
    rulebook.wait_for("the rulebook's runs for the shared jobs", heal_runs_done)
    restarts = fleet.restarts()
    assert {name: restarts[name] for name in shared} == {name: 1 for name in shared}
    assert rulebook.process.poll() is None  # still running after the outage and the overlap

    assert rulebook.stop() in HARNESS.CLEAN_STOP
    assert "Traceback" not in rulebook.output()
    _assert_no_secret([rulebook.output(), run.stdout, run.stderr], fresh_sandbox)


def test_bad_arguments_stop_the_source_with_one_clear_error_and_send_nothing(fresh_sandbox, rulebooks):
    before = HARNESS.last_seq(fresh_sandbox)
    rulebook = rulebooks({"entra_sync_heal_interval": 0})
    status = rulebook.process.wait(120)
    output = rulebook.output()
    assert status != 0
    assert "interval 0 is below the minimum" in output
    assert HARNESS.last_seq(fresh_sandbox) == before


REFUSED_CODE = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
SCIM_BASE = "https://scim.target.test/v2"


def test_rotates_a_credential_quarantine_when_credentials_are_configured_and_escalates_it_when_not(fresh_sandbox, rulebooks, tmp_path):
    fleet = HARNESS.Fleet(fresh_sandbox, ["c-rotate", "c-refused", "c-unconfigured", "z-sentinel"])
    good, wrong = "good-token-%s" % os.urandom(6).hex(), "stale-token-%s" % os.urandom(6).hex()
    token_file = tmp_path / "scim-token.txt"
    token_file.write_text(good + "\n")
    escalation_file = tmp_path / "escalations.jsonl"
    rotate_sp, rotate_job = fleet.ids["c-rotate"]
    refused_sp, _refused_job = fleet.ids["c-refused"]
    # Keyed by job id and by service principal id; a value may be a lookup, which the playbook evaluates.
    credentials = {
        rotate_job: {"BaseAddress": SCIM_BASE, "SecretToken": "{{ lookup('ansible.builtin.file', '%s') }}" % token_file},
        refused_sp.upper(): {"BaseAddress": SCIM_BASE, "SecretToken": wrong},
    }
    rulebook = rulebooks({"entra_sync_heal_interval": 5, "entra_sync_heal_escalation_file": str(escalation_file),
                          "entra_sync_heal_credentials": credentials})
    rulebook.wait_for("the first discovery", fleet.discovered)
    # The target of each c- app now wants a new token: the next cycle quarantines the job (remedy credentials).
    for name in ("c-rotate", "c-refused", "c-unconfigured"):
        sp_id, _job_id = fleet.ids[name]
        fresh_sandbox.admin.set_credentials(sp_id, saved={"BaseAddress": SCIM_BASE, "SecretToken": "old"},
                                            accepts={"BaseAddress": SCIM_BASE, "SecretToken": good}, cycle=True)

    def settled():
        rotated = fresh_sandbox.admin.job(rotate_sp, rotate_job)["summary"]
        return rotated["restarts"] >= 1 and rotated["status_code"] == "Active" and len(HARNESS.escalations(escalation_file)) >= 2
    rulebook.wait_for("one rotation and two escalations", settled)

    assert fresh_sandbox.admin.credentials(rotate_sp)["saved"] == {"BaseAddress": SCIM_BASE, "SecretToken": good}
    assert fresh_sandbox.admin.credentials(rotate_sp)["puts"] == 1
    assert fresh_sandbox.admin.job(rotate_sp, rotate_job)["summary"]["reset_scopes"] == ["QuarantineState"]
    assert fresh_sandbox.admin.credentials(refused_sp)["puts"] == 0
    restarts = fleet.restarts()
    assert (restarts["c-refused"], restarts["c-unconfigured"], restarts["z-sentinel"]) == (0, 0, 0)
    by_job = {line["job_id"]: line for line in HARNESS.escalations(escalation_file)}
    assert set(by_job) == {fleet.ids["c-refused"][1], fleet.ids["c-unconfigured"][1]}
    refused = by_job[fleet.ids["c-refused"][1]]
    assert refused["error_code"] == REFUSED_CODE and "credential rotation failed" in refused["reason"]
    unconfigured = by_job[fleet.ids["c-unconfigured"][1]]
    # The record's error_code is the quarantine's (since the webhook record); only a failed rotation has its own reason.
    assert unconfigured["remedy"] == "credentials" and unconfigured["error_code"] == REFUSED_CODE
    assert "remedy credentials" in unconfigured["reason"] and "credential rotation failed" not in unconfigured["reason"]

    assert rulebook.stop() in HARNESS.CLEAN_STOP, rulebook.output()[-4000:]
    output = rulebook.output()
    assert "Traceback" not in output
    texts = [output, escalation_file.read_text()]
    assert all(good not in text and wrong not in text for text in texts)
    _assert_no_secret(texts, fresh_sandbox)
