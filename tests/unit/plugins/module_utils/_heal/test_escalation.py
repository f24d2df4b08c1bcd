"""What entra.sync.escalate records and posts: the record, the three formats, the post's outcome, the URL never shown."""

import json

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._heal.escalation import (
    RECORD_KEYS,
    check_webhook_url,
    escalation_record,
    scrub_url,
    webhook_outcome,
    webhook_payload,
)

URL = "https://prod-01.example.invalid/workflows/abc123/triggers/manual/paths/invoke?api-version=1&sig=S3CR3T-sig"


def event(**job):
    base = {"service_principal_id": "sp-1", "service_principal_name": "Contoso SCIM", "job_id": "scim.1", "template_id": "scim",
            "status_code": "Quarantine", "quarantine_reason": "TooManyDeletes", "tenant_id": "contoso",
            "quarantine": {"reason": "TooManyDeletes", "error": {"code": "TooManyDeletes", "message": "held", "tenant_actionable": False}}}
    base.update(job)
    return {"entra_sync": {"type": "unhealthy", "job": base, "relapses": 1, "episode": "2026-11-30T09:00:00Z",
                           "observed_at": "2026-11-30T09:00:05Z", "heal": {"action": "escalate", "reason": "a person decides"}}}


def test_the_record_holds_every_field_a_person_needs_and_nothing_else():
    record = escalation_record(event(remedy="approve_deletes", remedy_reason="release the deletes", disables_at="2026-12-28T09:00:00Z"),
                               "2026-11-30T09:00:06Z")
    assert tuple(record) == RECORD_KEYS
    assert record["error_code"] == "TooManyDeletes" and record["error_message"] == "held" and record["tenant_actionable"] is False
    expected = ("approve_deletes", "release the deletes", "2026-12-28T09:00:00Z")
    assert (record["remedy"], record["remedy_reason"], record["disables_at"]) == expected
    assert (record["reason"], record["relapses"], record["episode"]) == ("a person decides", 1, "2026-11-30T09:00:00Z")
    assert escalation_record(event()["entra_sync"], None)["job_id"] == "scim.1", "the entra_sync part alone is enough"


def test_an_event_without_remedy_fields_gives_them_as_null():
    record = escalation_record(event(), "now")
    assert (record["remedy"], record["remedy_reason"], record["disables_at"], record["disables_soon"]) == (None, None, None, False)


def test_a_job_disabled_soon_says_so_first():
    data = event(disables_at="2026-12-03T09:00:00Z")
    data["entra_sync"]["heal"]["disables_soon"] = True
    record = escalation_record(data, "now")
    assert record["disables_soon"] is True
    assert webhook_payload(record, "slack")["text"].startswith("DISABLED SOON (2026-12-03T09:00:00Z): ")
    assert webhook_payload(record, "teams")["attachments"][0]["content"]["body"][0]["text"].startswith("DISABLED SOON")


@pytest.mark.parametrize("bad", [None, "text", {"entra_sync": "x"}, {"other": {}}])
def test_something_that_is_not_an_event_says_what_to_pass(bad):
    with pytest.raises(InputError, match="ansible_eda.event"):
        escalation_record(bad, "now")


def test_generic_is_the_record_teams_an_adaptive_card_slack_block_kit():
    record = escalation_record(event(service_principal_name="x" * 300), "now")
    assert webhook_payload(record, "generic") == record and webhook_payload(record, None) == record
    teams = webhook_payload(record, "Teams")
    card = teams["attachments"][0]["content"]
    assert teams["type"] == "message" and card["type"] == "AdaptiveCard"
    assert {fact["title"] for fact in card["body"][1]["facts"]} >= {"Why", "Quarantine", "Relapses", "Tenant", "Job"}
    slack = webhook_payload(record, "slack")
    assert len(slack["blocks"][0]["text"]["text"]) <= 150, "Slack refuses a longer header"
    assert all(len(block["fields"]) <= 10 for block in slack["blocks"][1:])
    json.dumps([teams, slack])


def test_an_unknown_format_names_the_choices():
    with pytest.raises(InputError, match="'email' is not one of generic, teams, slack"):
        webhook_payload({}, "email")


@pytest.mark.parametrize("url, ok", [("", ""), (None, ""), (URL, URL)])
def test_a_webhook_url_is_https_or_none(url, ok):
    assert check_webhook_url(url) == ok


@pytest.mark.parametrize("url", ["http://hooks.example.invalid/S3CR3T", "https://", "hooks.example.invalid/S3CR3T", 5])
def test_another_url_is_refused_without_showing_it(url):
    with pytest.raises(InputError) as caught:
        check_webhook_url(url)
    assert "S3CR3T" not in str(caught.value) and "https://" in str(caught.value)


def test_the_outcome_says_delivered_or_why_not_without_the_url():
    assert webhook_outcome({"status": 202, "attempts": 1}, URL) == {"delivered": True, "status": 202, "attempts": 1, "error": None}
    assert webhook_outcome({"skipped": True}, URL) is None and webhook_outcome(None, URL) is None
    failed = webhook_outcome({"status": 503, "attempts": 3, "msg": "Status code was 503: " + URL}, URL)
    assert failed == {"delivered": False, "status": 503, "attempts": 4, "error": "Status code was 503: ********"}
    refused = webhook_outcome({"status": 404, "attempts": 1, "msg": "Not found"}, URL)
    assert refused["attempts"] == 1, "a final answer ends the loop: no retry ran out"
    assert webhook_outcome({"status": -1, "msg": "Request failed"}, URL)["attempts"] == 1


@pytest.mark.parametrize("text", [URL, "POST " + URL.split("://")[1], "path /workflows/abc123/triggers/manual/paths/invoke?api-version=1&sig=S3CR3T-sig",
                                  "query api-version=1&sig=S3CR3T-sig failed"])
def test_scrub_masks_the_url_its_path_and_its_query(text):
    assert "S3CR3T" not in scrub_url(text, URL)
