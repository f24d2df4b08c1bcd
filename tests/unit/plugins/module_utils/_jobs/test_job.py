# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the job model: parsing Graph's job JSON tolerantly, and describing its status."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import (
    RESTART_CONDITIONS,
    Decision,
    decide_restart,
    matching_conditions,
)
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import Job, describe_status, parse_datetime, parse_job, status_diff, status_phrase
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._jobs.job_samples import (
    ACTIVE_JOB,
    JOB_ID,
    PAUSED_WITH_QUARANTINE_JOB,
    SP_ID,
    job_with,
    quarantined_job,
)


def test_parse_the_documented_active_job():
    sp = {"id": SP_ID, "displayName": "Contoso Cloud Sync", "appId": "1a2b3c4d-0000-4000-8000-000000000001"}
    job = parse_job(ACTIVE_JOB, sp)
    assert job.to_dict() == {
        "service_principal_id": SP_ID,
        "service_principal_name": "Contoso Cloud Sync",
        "app_id": "1a2b3c4d-0000-4000-8000-000000000001",
        "job_id": JOB_ID,
        "template_id": "AD2AADProvisioning",
        "status_code": "Active",
        "schedule_state": "Active",
        "schedule_interval": "PT2M",
        "quarantine_reason": None,
        "quarantine_error_code": None,
        "quarantine_error_message": None,
        "quarantine_tenant_actionable": None,
        "quarantine": None,
        "last_execution_state": "Succeeded",
        "last_execution_error": None,
        "last_execution_time_began": "2019-11-20T16:15:21.116098Z",
        "last_execution_time_ended": "2019-11-20T16:17:24.7488681Z",
        "last_successful_execution_time": "2019-11-20T14:09:46.8855027Z",
        "count_successive_complete_failures": 0,
        "escrows_pruned": False,
        "steady_state_last_achieved_time": "2019-11-20T16:17:24.7957721Z",
        "troubleshooting_url": None,
        "synchronized_entry_counts": {"group to Group": 33, "user to User": 3},
    }
    assert not (job.quarantined or job.failed or job.entry_errors or job.paused)
    assert matching_conditions(job) == ()


def test_parse_does_not_modify_its_input():
    raw = copy.deepcopy(ACTIVE_JOB)
    parse_job(raw, {"id": SP_ID})
    assert raw == ACTIVE_JOB


def test_to_dict_is_json_and_has_no_odata_keys():
    raw = dict(ACTIVE_JOB, **{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#..."})
    shape = parse_job(raw, {"id": SP_ID}).to_dict()
    text = json.dumps(shape)
    assert "@odata" not in text
    assert all(key == key.lower() for key in shape)


@pytest.mark.parametrize(
    "service_principal, expected",
    [
        ({"id": SP_ID, "displayName": "App", "appId": "app-guid"}, (SP_ID, "App", "app-guid")),
        ({"service_principal_id": SP_ID, "service_principal_name": "App", "app_id": "app-guid"}, (SP_ID, "App", "app-guid")),
        ({"id": SP_ID, "display_name": "App"}, (SP_ID, "App", None)),
        (SP_ID, (SP_ID, None, None)),
        (None, (None, None, None)),
        ({"id": "", "displayName": None, "appId": 5}, (None, None, None)),
        (["not", "a", "dict"], (None, None, None)),
    ],
)
def test_service_principal_fields(service_principal, expected):
    job = parse_job(ACTIVE_JOB, service_principal)
    assert (job.service_principal_id, job.service_principal_name, job.app_id) == expected


def test_paused_job_with_a_quarantine_object_is_paused_not_quarantined():
    job = parse_job(PAUSED_WITH_QUARANTINE_JOB, {"id": SP_ID})
    assert job.status_code == "Paused"
    assert job.paused
    assert not job.quarantined
    assert job.schedule_state == "Disabled"
    assert job.quarantine_reason is None  # the sample's reason is ""
    assert job.to_dict()["quarantine"] == {
        "reason": None,
        "current_began": None,
        "next_attempt": None,
        "series_began": None,
        "series_count": 2,
        "error": {"code": "SalesforceInvalidCredentials", "message": "bad credentials", "tenant_actionable": True},
    }
    assert job.last_execution_state is None
    assert job.steady_state_last_achieved_time is None
    assert job.troubleshooting_url is None
    assert job.schedule_interval == "P10675199DT2H48M5.4775807S"
    assert matching_conditions(job) == ("paused",)


def test_paused_job_reports_its_quarantine_reason():
    job = parse_job(quarantined_job(code="Paused", reason="TooManyDeletes", last_state="Succeeded"))
    assert job.quarantine_reason == "TooManyDeletes"
    assert job.to_dict()["quarantine_reason"] == "TooManyDeletes"
    assert not job.quarantined
    assert decide_restart(job, ["quarantined"]).restart is False
    assert decide_restart(job, ["paused"]) == Decision(True, "status Paused, quarantine reason TooManyDeletes matches restart_if paused", ("paused",))


def test_parse_a_quarantined_job():
    job = parse_job(quarantined_job(), {"id": SP_ID})
    assert job.status_code == "Quarantine"
    assert job.quarantined and job.failed
    assert job.quarantine_reason == "EncounteredEscrowProportionThreshold"
    assert job.count_successive_complete_failures == 7
    assert job.to_dict()["quarantine"]["current_began"] == "2024-05-01T10:00:00.0000000Z"
    assert job.to_dict()["last_execution_error"] == {
        "code": "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable",
        "message": "401 from the app",
        "tenant_actionable": None,
    }
    assert matching_conditions(job) == ("quarantined", "failed")


@pytest.mark.parametrize(
    "given_code, expected",
    [
        ("quarantine", "Quarantine"),
        ("QUARANTINE", "Quarantine"),
        ("notrun", "NotRun"),
        (" Active ", "Active"),
        ("Exploded", "Exploded"),
        ("", None),
        ("   ", None),
        (None, None),
        (4, None),
        (["Active"], None),
    ],
)
def test_status_code_casing_and_unknown_values(given_code, expected):
    assert parse_job({"status": {"code": given_code}}).status_code == expected


@pytest.mark.parametrize(
    "given_reason, expected",
    [
        ("encounteredescrowproportionthreshold", "EncounteredEscrowProportionThreshold"),
        ("QuarantineOnDemand", "QuarantinedOnDemand"),
        ("SomethingNew", "SomethingNew"),
        ("", None),
    ],
)
def test_quarantine_reason_casing_and_unknown_values(given_reason, expected):
    assert parse_job({"status": {"code": "Quarantine", "quarantine": {"reason": given_reason}}}).quarantine_reason == expected


@pytest.mark.parametrize("given_state, expected", [("failed", "Failed"), ("ENTRYLEVELERRORS", "EntryLevelErrors"), ("PartiallyDone", "PartiallyDone")])
def test_execution_state_casing_and_unknown_values(given_state, expected):
    assert parse_job({"status": {"lastExecution": {"state": given_state}}}).last_execution_state == expected


def test_unknown_status_matches_no_condition_but_always():
    job = job_with(code="Exploded", schedule_state="Sideways", last_state="Mystery")
    assert matching_conditions(job) == ()
    assert decide_restart(job, ["quarantined", "failed", "entry_errors", "paused"]).restart is False
    assert decide_restart(job, ["always"]).restart is True


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0001-01-01T00:00:00Z", None),
        ("0001-01-01T00:00:00.0000000Z", None),
        ("0001-01-01T00:00:00+00:00", None),
        ("0001-01-01", None),
        ("", None),
        ("   ", None),
        (None, None),
        (0, None),
        ("yesterday", None),
        ("2024-13-01T00:00:00Z", None),
        ("2024-02-30T00:00:00Z", None),
        ("2024-05-01T25:00:00Z", None),
        ("2024-05-01T10:00:00+99:00", None),
        ("２０２４-05-01T10:00:00Z", None),
        ("2019-11-20T16:17:24.7957721Z", datetime(2019, 11, 20, 16, 17, 24, 795772, tzinfo=UTC)),
        ("2019-11-20T16:17:24Z", datetime(2019, 11, 20, 16, 17, 24, tzinfo=UTC)),
        ("2019-11-20T16:17:24.5", datetime(2019, 11, 20, 16, 17, 24, 500000, tzinfo=UTC)),
        ("2019-11-20T16:17:24+02:00", datetime(2019, 11, 20, 16, 17, 24, tzinfo=timezone(timedelta(hours=2)))),
        ("2019-11-20T16:17:24-0530", datetime(2019, 11, 20, 16, 17, 24, tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
        ("2019-11-20", datetime(2019, 11, 20, tzinfo=UTC)),
    ],
)
def test_parse_datetime(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize("never", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00.0000000Z", "", None, "not a date"])
def test_never_and_empty_dates_are_none_everywhere(never):
    raw = {
        "status": {
            "steadyStateLastAchievedTime": never,
            "lastExecution": {"timeBegan": never, "timeEnded": never},
            "lastSuccessfulExecution": {"timeEnded": never},
            "quarantine": {"currentBegan": never, "nextAttempt": never, "seriesBegan": never},
        }
    }
    shape = parse_job(raw).to_dict()
    for key in ("steady_state_last_achieved_time", "last_execution_time_began", "last_execution_time_ended", "last_successful_execution_time"):
        assert shape[key] is None
    for key in ("current_began", "next_attempt", "series_began"):
        assert shape["quarantine"][key] is None


@pytest.mark.parametrize(
    "given_count, expected",
    [(3, 3), ("12", 12), (4.0, 4), (None, 0), ("", 0), ("many", 0), (True, 0), (float("nan"), 0), (float("inf"), 0), ("9" * 5000, 0)],
)
def test_count_of_failures_is_an_int_and_zero_when_unreadable(given_count, expected):
    assert parse_job({"status": {"countSuccessiveCompleteFailures": given_count}}).count_successive_complete_failures == expected


@pytest.mark.parametrize("given_value, expected", [(True, True), (False, False), ("true", True), ("False", False), (None, None), (1, None)])
def test_escrows_pruned(given_value, expected):
    assert parse_job({"status": {"escrowsPruned": given_value}}).escrows_pruned is expected


def test_troubleshooting_url_kept_when_set():
    assert parse_job({"status": {"troubleshootingUrl": "https://aka.ms/x"}}).troubleshooting_url == "https://aka.ms/x"


def test_entry_counts_skip_malformed_pairs():
    pairs = [{"key": "user to User", "value": "5"}, {"key": "", "value": 1}, {"value": 2}, "junk", None, {"key": "x", "value": "lots"}]
    raw = {"status": {"synchronizedEntryCountByType": pairs}}
    assert parse_job(raw).to_dict()["synchronized_entry_counts"] == {"user to User": 5}
    assert parse_job({"status": {"synchronizedEntryCountByType": {"key": "a"}}}).to_dict()["synchronized_entry_counts"] == {}


def test_errors_that_say_nothing_are_none():
    raw = {"status": {"lastExecution": {"state": "Failed", "error": {"code": "", "message": None}}, "quarantine": {"error": "text"}}}
    job = parse_job(raw)
    assert job.last_execution_error is None
    assert job.quarantine.error is None


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "job",
        42,
        [],
        [ACTIVE_JOB],
        {},
        {"status": None, "schedule": None},
        {"status": "Active", "schedule": "Active"},
        {"status": [], "schedule": 5},
        {"status": {"lastExecution": "Failed", "lastSuccessfulExecution": [], "quarantine": "yes"}},
        {"id": 5, "templateId": ["scim"]},
        {"status": {"quarantine": []}},
    ],
)
def test_garbage_parses_to_an_empty_job(raw):
    job = parse_job(raw, {"id": SP_ID})
    shape = job.to_dict()
    assert shape["service_principal_id"] == SP_ID
    assert shape["status_code"] is None
    assert shape["quarantine"] is None
    assert shape["count_successive_complete_failures"] == 0
    json.dumps(shape)


def test_empty_quarantine_object_is_kept():
    job = parse_job({"status": {"code": "Quarantine", "quarantine": {}}})
    assert job.quarantine is not None
    assert job.quarantine_reason is None
    assert job.quarantined


def test_job_is_frozen_and_hashable():
    job = parse_job(quarantined_job(), {"id": SP_ID})
    with pytest.raises(AttributeError):
        job.status_code = "Active"  # type: ignore[misc]
    assert hash(job) == hash(parse_job(quarantined_job(), {"id": SP_ID}))
    assert Job() == parse_job(None)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
GRAPH_KEYS = st.sampled_from([
    "id", "templateId", "schedule", "status", "state", "interval", "code", "quarantine", "reason", "currentBegan",
    "nextAttempt", "seriesBegan", "seriesCount", "error", "message", "tenantActionable", "lastExecution",
    "lastSuccessfulExecution", "timeBegan", "timeEnded", "countSuccessiveCompleteFailures", "escrowsPruned",
    "steadyStateLastAchievedTime", "troubleshootingUrl", "synchronizedEntryCountByType", "key", "value",
    "displayName", "appId", "service_principal_id", "app_id",
])
# Graph's own keys make the generator reach the nested readers rather than only the top-level guard.
GRAPH_LIKE = st.recursive(
    JSON_SCALARS | st.sampled_from(["", "0001-01-01T00:00:00Z", "Quarantine", "Paused", "Failed", "2024-01-01T00:00:00Z"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(GRAPH_KEYS | st.text(max_size=8), children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(raw=JSON_VALUES | GRAPH_LIKE, service_principal=JSON_VALUES | GRAPH_LIKE, conditions=st.lists(st.sampled_from(RESTART_CONDITIONS), min_size=1))
def test_parse_job_never_raises(raw, service_principal, conditions):
    job = parse_job(raw, service_principal)
    shape = job.to_dict()
    json.dumps(shape)
    assert isinstance(shape["count_successive_complete_failures"], int)
    for key in ("last_execution_time_began", "last_execution_time_ended", "last_successful_execution_time", "steady_state_last_achieved_time"):
        assert shape[key] is None or parse_datetime(shape[key]) is not None
    decision = decide_restart(job, conditions)
    assert isinstance(decision.restart, bool) and decision.reason
    assert set(status_diff(job)) == {"status_code", "schedule_state", "quarantine_reason", "last_execution_state"}


def test_describe_status():
    assert describe_status(parse_job(PAUSED_WITH_QUARANTINE_JOB)) == "status Paused, schedule Disabled"
    assert describe_status(parse_job(quarantined_job())) == "status Quarantine (EncounteredEscrowProportionThreshold), last run Failed"


def test_status_diff():
    assert status_diff(parse_job(quarantined_job())) == {
        "status_code": "Quarantine",
        "schedule_state": "Active",
        "quarantine_reason": "EncounteredEscrowProportionThreshold",
        "last_execution_state": "Failed",
    }


@pytest.mark.parametrize(
    "job, expected",
    [
        (None, "status unknown"),
        (Job(), "status unknown"),
        (job_with("Active"), "status Active"),
        (job_with("Quarantine", quarantine_reason="TooManyDeletes"), "status Quarantine (TooManyDeletes)"),
        # paused with a quarantine object: the reason is named, but the job is not called quarantined
        (job_with("Paused", quarantine_reason="TooManyDeletes"), "status Paused, quarantine reason TooManyDeletes"),
    ],
)
def test_status_phrase_is_the_one_wording_of_a_status(job, expected):
    assert status_phrase(job) == expected
    if job is not None:
        assert describe_status(job).startswith(expected)


def test_to_dict_flattens_the_quarantine_error_beside_the_nested_quarantine():
    shape = parse_job(PAUSED_WITH_QUARANTINE_JOB, {"id": SP_ID}).to_dict()
    # The reason is null (an empty string on the wire); the error says what is wrong.
    assert shape["quarantine_reason"] is None
    assert (shape["quarantine_error_code"], shape["quarantine_error_message"], shape["quarantine_tenant_actionable"]) == (
        "SalesforceInvalidCredentials", "bad credentials", True)
    assert shape["quarantine"]["error"] == {"code": "SalesforceInvalidCredentials", "message": "bad credentials", "tenant_actionable": True}
    assert shape["quarantine"]["series_count"] == 2


@pytest.mark.parametrize("job", [parse_job(ACTIVE_JOB), parse_job(quarantined_job()), job_with("Quarantine", quarantine_reason="Unknown")],
                         ids=["no-quarantine", "no-error", "bare-quarantine"])
def test_quarantine_error_keys_are_null_without_a_quarantine_error(job):
    shape = job.to_dict()
    assert (shape["quarantine_error_code"], shape["quarantine_error_message"], shape["quarantine_tenant_actionable"]) == (None, None, None)


def test_quarantine_error_keys_keep_what_graph_said():
    raw = quarantined_job()
    raw["status"]["quarantine"]["error"] = {"code": "TooManyDeletes", "message": None, "tenantActionable": "false"}
    shape = parse_job(raw).to_dict()
    assert (shape["quarantine_error_code"], shape["quarantine_error_message"], shape["quarantine_tenant_actionable"]) == (
        "TooManyDeletes", None, False)
