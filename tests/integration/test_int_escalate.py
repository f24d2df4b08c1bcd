"""entra.sync.escalate, run by real ansible-playbook from the installed collection, posting to a real HTTPS receiver.

The event is what the event source emits (the EDA tests feed it from a running rulebook); here each delivery case is
run on its own: the three formats, a receiver that refuses and then takes it, one that never does, and bad settings.
"""

import json

SP = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
JOB = "scim.0123456789abcdef0123456789abcdef"
FIELDS = ("tenant_id", "service_principal_id", "service_principal_name", "job_id", "template_id", "status_code",
          "quarantine_reason", "error_code", "reason", "remedy", "remedy_reason", "disables_at", "relapses", "episode")


def event(relapses=2):
    job = {
        "service_principal_id": SP, "service_principal_name": "Contoso SCIM app", "app_id": "app", "job_id": JOB,
        "template_id": "scim", "status_code": "Quarantine", "quarantine_reason": "EncounteredQuarantineException",
        "quarantine_error_code": "SystemForCrossDomainIdentityManagementServiceIncompatible",
        "quarantine_error_message": "the target answered 500", "quarantine_tenant_actionable": False,
        "quarantine": {"reason": "EncounteredQuarantineException", "current_began": "2026-11-30T09:04:30Z",
                       "error": {"code": "SystemForCrossDomainIdentityManagementServiceIncompatible", "tenant_actionable": False}},
        "remedy": "restart", "remedy_reason": "a restart clears a transient fault", "disables_at": "2026-12-28T09:04:30Z",
        "tenant_id": "contoso.onmicrosoft.com", "status_read_at": "2026-11-30T09:04:34.451298Z",
    }
    reason = ("quarantined (EncounteredQuarantineException) %d times within the relapse window, more than the 1 automatic "
              "restart(s) allowed: restarting again would loop" % relapses)
    return {"entra_sync": {"type": "unhealthy", "conditions": ["quarantined"], "previous_conditions": [], "entered": ["quarantined"],
                           "job": job, "relapses": relapses, "observed_at": "2026-11-30T09:04:34.451298Z",
                           "episode": "2026-11-30T09:04:30Z", "heal": {"action": "escalate", "reason": reason}}}


def escalate(run_playbook, sandbox, tmp_path, webhooks, hook, **settings):
    variables = {"ansible_eda": {"event": event()}, "entra_sync_heal_escalation_file": str(tmp_path / "escalations.jsonl"),
                 "entra_sync_heal_webhook_ca_path": webhooks.ca_path, "entra_sync_heal_webhook_delay": 1}
    if hook:
        variables["entra_sync_heal_webhook_url"] = webhooks.url(hook)
    variables.update(settings)
    return run_playbook(sandbox, "entra.sync.escalate", extra_vars=variables, verbosity=3)


def lines(tmp_path):
    path = tmp_path / "escalations.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def assert_no_secret(texts, webhooks):
    for text in texts:
        assert webhooks.token not in text


def test_generic_posts_the_escalation_json_once_and_records_it(run_playbook, sandbox, tmp_path, webhooks):
    run = escalate(run_playbook, sandbox, tmp_path, webhooks, "generic")
    assert run.rc == 0, run.describe()
    posts = webhooks.posts("generic")
    assert len(posts) == 1 and posts[0]["content_type"].startswith("application/json")
    body = posts[0]["body"]
    assert {name: body[name] for name in FIELDS} == {
        "tenant_id": "contoso.onmicrosoft.com", "service_principal_id": SP, "service_principal_name": "Contoso SCIM app",
        "job_id": JOB, "template_id": "scim", "status_code": "Quarantine", "quarantine_reason": "EncounteredQuarantineException",
        "error_code": "SystemForCrossDomainIdentityManagementServiceIncompatible", "reason": event()["entra_sync"]["heal"]["reason"],
        "remedy": "restart", "remedy_reason": "a restart clears a transient fault", "disables_at": "2026-12-28T09:04:30Z",
        "relapses": 2, "episode": "2026-11-30T09:04:30Z"}
    [line] = lines(tmp_path)
    assert line["webhook"] == {"delivered": True, "status": 202, "attempts": 1, "error": None}
    assert {name: line[name] for name in FIELDS} == {name: body[name] for name in FIELDS}
    assert_no_secret([run.output, json.dumps(posts), (tmp_path / "escalations.jsonl").read_text()], webhooks)


def test_teams_gets_an_adaptive_card_and_slack_block_kit(run_playbook, sandbox, tmp_path, webhooks):
    assert escalate(run_playbook, sandbox, tmp_path, webhooks, "teams", entra_sync_heal_webhook_format="teams").rc == 0
    assert escalate(run_playbook, sandbox, tmp_path, webhooks, "slack", entra_sync_heal_webhook_format="slack").rc == 0
    [teams] = webhooks.posts("teams")
    attachment = teams["body"]["attachments"][0]
    assert teams["body"]["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and "Contoso SCIM app" in card["body"][0]["text"]
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Job"] == JOB and facts["Relapses"] == "2" and facts["Disables at"] == "2026-12-28T09:04:30Z"
    assert facts["Remedy"].startswith("restart")
    [slack] = webhooks.posts("slack")
    blocks = slack["body"]["blocks"]
    assert blocks[0]["type"] == "header" and "Contoso SCIM app" in slack["body"]["text"]
    texts = [field["text"] for block in blocks[1:] for field in block["fields"]]
    assert "*Job*\n" + JOB in texts and any(text.startswith("*Why*\nquarantined") for text in texts)
    assert [line["webhook"]["delivered"] for line in lines(tmp_path)] == [True, True]


def test_a_busy_webhook_is_retried_until_it_takes_the_escalation(run_playbook, sandbox, tmp_path, webhooks):
    webhooks.answer("busy", [503, 429])
    run = escalate(run_playbook, sandbox, tmp_path, webhooks, "busy")
    assert run.rc == 0, run.describe()
    assert [post["status"] for post in webhooks.posts("busy")] == [503, 429, 202]
    assert lines(tmp_path)[0]["webhook"] == {"delivered": True, "status": 202, "attempts": 3, "error": None}
    assert_no_secret([run.output], webhooks)


def test_a_webhook_that_keeps_failing_is_retried_then_the_escalation_is_recorded_with_the_error(run_playbook, sandbox, tmp_path, webhooks):
    webhooks.answer("down", [503] * 10)
    run = escalate(run_playbook, sandbox, tmp_path, webhooks, "down", entra_sync_heal_webhook_retries=2)
    assert run.rc != 0
    assert len(webhooks.posts("down")) == 3, "the first post and two retries"
    [line] = lines(tmp_path)
    assert line["job_id"] == JOB and line["relapses"] == 2
    assert line["webhook"]["delivered"] is False and line["webhook"]["status"] == 503 and line["webhook"]["attempts"] == 3
    assert "503" in line["webhook"]["error"]
    assert "could not be posted to the webhook after 3 attempt(s)" in run.stdout and "escalations.jsonl" in run.stdout
    assert_no_secret([run.output, (tmp_path / "escalations.jsonl").read_text()], webhooks)


def test_a_refused_post_is_not_retried(run_playbook, sandbox, tmp_path, webhooks):
    webhooks.answer("gone", [404])
    run = escalate(run_playbook, sandbox, tmp_path, webhooks, "gone")
    assert run.rc != 0 and len(webhooks.posts("gone")) == 1
    assert lines(tmp_path)[0]["webhook"]["status"] == 404


def test_without_a_webhook_the_file_is_the_record(run_playbook, sandbox, tmp_path, webhooks):
    run = escalate(run_playbook, sandbox, tmp_path, webhooks, None)
    assert run.rc == 0, run.describe()
    [line] = lines(tmp_path)
    assert line["webhook"] is None and line["job_id"] == JOB and line["reason"].startswith("quarantined")


def test_bad_settings_fail_before_anything_is_posted_or_written(run_playbook, sandbox, tmp_path, webhooks):
    run = escalate(run_playbook, sandbox, tmp_path, webhooks, "any", entra_sync_heal_webhook_format="email")
    assert run.rc != 0 and "entra_sync_heal_webhook_format 'email' is not one of generic, teams, slack" in run.output
    plain = webhooks.url("any").replace("https://", "http://")
    run = escalate(run_playbook, sandbox, tmp_path, webhooks, None, entra_sync_heal_webhook_url=plain)
    assert run.rc != 0 and "entra_sync_heal_webhook_url must be an https:// URL" in run.output
    assert webhooks.posts("any") == [] and lines(tmp_path) == []
    assert_no_secret([run.output], webhooks)
