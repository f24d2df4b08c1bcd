"""Self-heal where it runs for months: the state file across a restart of the rulebook, escalations that reach a
webhook, and entra.sync.self_heal_controller with run_job_template against a controller API on loopback.

Real ansible-rulebook, the installed collection, the sandbox's counters; the webhook and the controller are the
recording HTTPS servers of the sandbox package (entra_sandbox.webhooks, entra_sandbox.controller).
"""

import json
import os
import stat

import entra_eda_harness as HARNESS  # pylint: disable=import-error

from entra_sandbox.controller import FakeController

FIELDS = ("tenant_id", "service_principal_id", "service_principal_name", "job_id", "template_id", "status_code",
          "quarantine_reason", "error_code", "reason", "remedy", "remedy_reason", "disables_at", "relapses", "episode")


def _polls_after(fleet, name, since, count):
    return lambda: len(fleet.job_reads(name, since=since)) >= count


def _secrets(sandbox, *more):
    return [sandbox.env["AZURE_CLIENT_SECRET"]] + sandbox.admin.issued()["access_tokens"] + list(more)


def _assert_no_secret(texts, secrets):
    for secret in secrets:
        for text in texts:
            assert secret not in text


def _policy(tmp_path, webhooks, hook, **more):
    policy = {"entra_sync_heal_interval": 2, "entra_sync_heal_relapse_window": 3600,
              "entra_sync_heal_escalation_file": str(tmp_path / "escalations.jsonl"),
              "entra_sync_heal_state_file": str(tmp_path / "state" / "heal.json"),
              "entra_sync_heal_webhook_url": webhooks.url(hook), "entra_sync_heal_webhook_ca_path": webhooks.ca_path}
    policy.update(more)
    return policy


def test_a_restarted_rulebook_escalates_a_relapse_once_to_the_webhook_and_does_not_restart_it_again(fresh_sandbox, rulebooks, tmp_path, webhooks):
    fleet = HARNESS.Fleet(fresh_sandbox, ["a-relapse", "z-sentinel"])
    policy = _policy(tmp_path, webhooks, "generic")
    first = rulebooks(policy, name="first")
    first.wait_for("the first discovery", fleet.discovered)
    fleet.quarantine("a-relapse")
    first.wait_for("the restart", lambda: fleet.restarts()["a-relapse"] == 1)
    saved = tmp_path / "state" / "heal.json"
    first.wait_for("the state file to hold the quarantine entry", lambda: saved.exists() and '"entries":[' in saved.read_text())
    assert first.stop() in HARNESS.CLEAN_STOP, first.output()[-4000:]
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    document = json.loads(saved.read_text())
    [(key, job)] = document["jobs"].items()
    assert key == "%s/%s" % (fleet.ids["a-relapse"][0].lower(), fleet.ids["a-relapse"][1]) and len(job["entries"]) == 1

    # The activation restarts: a new ansible-rulebook, the same state file. The job relapses.
    second = rulebooks(policy, name="second")
    since = HARNESS.last_seq(fresh_sandbox)
    second.wait_for("a discovery", _polls_after(fleet, "z-sentinel", since, 1))
    fleet.quarantine("a-relapse")
    second.wait_for("the escalation to reach the webhook", lambda: webhooks.posts("generic"))
    relapsed_at = HARNESS.last_seq(fresh_sandbox)
    second.wait_for("three more polls", _polls_after(fleet, "a-relapse", relapsed_at, 3))
    assert fleet.restarts() == {"a-relapse": 1, "z-sentinel": 0}, "escalated, not restarted again"
    [post] = webhooks.posts("generic")  # once per quarantine episode
    body = post["body"]
    assert set(FIELDS) <= set(body)
    assert body["relapses"] == 2 and body["job_id"] == fleet.ids["a-relapse"][1] and body["status_code"] == "Quarantine"
    assert body["remedy"] == "restart" and body["remedy_reason"] and body["disables_soon"] is False
    assert "2 times within the relapse window" in body["reason"] and body["service_principal_name"] == "a-relapse"
    [line] = HARNESS.escalations(tmp_path / "escalations.jsonl")
    assert line["relapses"] == 2 and line["webhook"] == {"delivered": True, "status": 202, "attempts": 1, "error": None}
    assert second.stop() in HARNESS.CLEAN_STOP
    outputs = [first.output(), second.output(), json.dumps(body), saved.read_text(), (tmp_path / "escalations.jsonl").read_text()]
    assert not any("Traceback" in text for text in outputs[:2])
    _assert_no_secret(outputs, _secrets(fresh_sandbox, webhooks.token))


def test_a_corrupt_state_file_is_a_warning_and_a_fresh_start_and_a_failing_webhook_is_retried_then_recorded(
        fresh_sandbox, rulebooks, tmp_path, webhooks):
    fleet = HARNESS.Fleet(fresh_sandbox, ["b-restart", "b-too-many-deletes", "z-sentinel"])
    state = tmp_path / "state" / "heal.json"
    state.parent.mkdir(mode=0o700)
    state.write_text('{"kind": "entra.sync.sync_job_events state", "jobs": {')  # cut off mid-write by something else
    webhooks.answer("down", [503] * 20)
    rulebook = rulebooks(_policy(tmp_path, webhooks, "down", entra_sync_heal_webhook_format="teams"))
    rulebook.wait_for("the state file warning", lambda: "entra.sync self-heal WARNING (state_file)" in rulebook.output())
    assert "not valid JSON" in rulebook.output() and "Starting with no memory of earlier quarantines" in rulebook.output()
    rulebook.wait_for("the first discovery", fleet.discovered)
    fleet.quarantine("b-restart")
    fleet.quarantine("b-too-many-deletes", reason="TooManyDeletes", error="TooManyDeletes")
    rulebook.wait_for("the restart", lambda: fleet.restarts()["b-restart"] == 1)
    rulebook.wait_for("the escalation to be recorded", lambda: HARNESS.escalations(tmp_path / "escalations.jsonl"))
    [line] = HARNESS.escalations(tmp_path / "escalations.jsonl")
    assert line["job_id"] == fleet.ids["b-too-many-deletes"][1] and line["quarantine_reason"] == "TooManyDeletes"
    assert line["webhook"]["delivered"] is False and line["webhook"]["status"] == 503 and line["webhook"]["attempts"] == 4
    posts = webhooks.posts("down")
    assert len(posts) == 4 and all(post["body"]["type"] == "message" for post in posts), "the first post and 3 retries"
    assert json.loads(state.read_text())["jobs"], "the corrupt file was replaced by a good one"
    assert fleet.restarts()["b-too-many-deletes"] == 0
    assert rulebook.stop() in HARNESS.CLEAN_STOP
    _assert_no_secret([rulebook.output(), state.read_text()], _secrets(fresh_sandbox, webhooks.token))


def test_the_controller_rulebook_launches_the_heal_and_escalate_job_templates_with_the_event(fresh_sandbox, rulebooks, tmp_path, webhooks):
    fleet = HARNESS.Fleet(fresh_sandbox, ["c-restart", "c-tenant-actionable", "z-sentinel"])
    job_env = HARNESS.base_env(fresh_sandbox, tmp_path, PATH=HARNESS.MAIN_BIN + os.pathsep + os.environ.get("PATH", ""),
                               ANSIBLE_PYTHON_INTERPRETER=os.path.join(HARNESS.MAIN_BIN, "python"))
    with FakeController(str(tmp_path / "controller"), os.path.join(HARNESS.MAIN_BIN, "ansible-playbook"), job_env) as controller:
        controller.add_template("entra.sync heal", "entra.sync.heal")
        # Where AAP injects the webhook URL from a credential: the job template's side, never the activation's.
        controller.add_template("entra.sync escalate", "entra.sync.escalate", {
            "entra_sync_heal_webhook_url": webhooks.url("teams"), "entra_sync_heal_webhook_format": "teams",
            "entra_sync_heal_webhook_ca_path": webhooks.ca_path,
            "entra_sync_heal_escalation_file": str(tmp_path / "escalations.jsonl")})
        rulebook = rulebooks(
            {"entra_sync_heal_interval": 2, "entra_sync_heal_state_file": str(tmp_path / "state.json")},
            rulebook="entra.sync.self_heal_controller",
            args=["--controller-url", controller.url, "--controller-token", controller.token, "--controller-ssl-verify", controller.ca_path],
            env={"EDA_JOB_TEMPLATE_REFRESH_DELAY": 1})
        rulebook.wait_for("the first discovery", fleet.discovered)
        fleet.quarantine("c-restart")
        fleet.quarantine("c-tenant-actionable", reason="EncounteredQuarantineException",
                         error="SystemForCrossDomainIdentityManagementCredentialValidationFailure", tenant_actionable=True)
        rulebook.wait_for("the restart", lambda: fleet.restarts()["c-restart"] == 1)
        rulebook.wait_for("the escalation card", lambda: webhooks.posts("teams"))
        rulebook.wait_for("both jobs to finish", lambda: len(controller.jobs) == 2 and all(
            job["status"] in ("successful", "failed") for job in controller.jobs.values()))
        assert {job["status"] for job in controller.jobs.values()} == {"successful"}, [controller.job_output(i) for i in controller.jobs]
        launched = dict(controller.launches)
        assert set(launched) == {"entra.sync heal", "entra.sync escalate"}
        heal_event = launched["entra.sync heal"]["extra_vars"]["ansible_eda"]["event"]["entra_sync"]
        assert heal_event["job"]["job_id"] == fleet.ids["c-restart"][1] and heal_event["heal"]["action"] == "restart"
        escalate_event = launched["entra.sync escalate"]["extra_vars"]["ansible_eda"]["event"]["entra_sync"]
        assert escalate_event["job"]["job_id"] == fleet.ids["c-tenant-actionable"][1]
        [card] = webhooks.posts("teams")
        facts = {fact["title"]: fact["value"] for fact in card["body"]["attachments"][0]["content"]["body"][1]["facts"]}
        assert facts["Job"] == fleet.ids["c-tenant-actionable"][1] and "remedy credentials" in facts["Why"]
        assert facts["Remedy"].startswith("credentials")
        assert fleet.restarts() == {"c-restart": 1, "c-tenant-actionable": 0, "z-sentinel": 0}
        assert rulebook.stop() in HARNESS.CLEAN_STOP
        outputs = [rulebook.output(), json.dumps(controller.launches)] + [controller.job_output(i) for i in controller.jobs]
        _assert_no_secret(outputs, _secrets(fresh_sandbox, webhooks.token, controller.token))
        assert "Traceback" not in rulebook.output()
