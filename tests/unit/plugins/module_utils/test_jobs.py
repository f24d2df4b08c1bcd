# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the pure jobs domain: validation, scope, status model, decisions, targets, summary."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.entra.sync.plugins.module_utils.exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils.jobs import (
    ACTIONS,
    MAX_JOB_ID_LENGTH,
    RESET_SCOPE_FLAGS,
    RESET_SCOPE_ORDER,
    RESTART_CONDITIONS,
    Decision,
    Job,
    JobTarget,
    build_reset_scope,
    decide_restart,
    describe_status,
    matching_conditions,
    normalize_job_targets,
    parse_datetime,
    parse_job,
    parse_reset_scope,
    restart_body,
    status_diff,
    summarize,
    validate_conditions,
    validate_job_id,
    validate_service_principal_id,
)

SP_ID = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
OTHER_SP_ID = "11111111-2222-4333-8444-555555555555"
JOB_ID = "AD2AADProvisioning.fd1c9b9e8077402c8bc03a7186c8f976"
OTHER_JOB_ID = "scim.0123456789abcdef0123456789abcdef"

# The Cloud Sync example from Microsoft's docs (graph-sync-api-notes.md section 1.7).
ACTIVE_JOB = {
    "id": JOB_ID,
    "templateId": "AD2AADProvisioning",
    "schedule": {"expiration": None, "interval": "PT2M", "state": "Active"},
    "status": {
        "countSuccessiveCompleteFailures": 0,
        "escrowsPruned": False,
        "code": "Active",
        "lastSuccessfulExecutionWithExports": None,
        "quarantine": None,
        "steadyStateFirstAchievedTime": "2019-11-08T15:48:05.7360238Z",
        "steadyStateLastAchievedTime": "2019-11-20T16:17:24.7957721Z",
        "troubleshootingUrl": "",
        "lastExecution": {
            "activityIdentifier": "2dea06a7-2960-420d-931e-f6c807ebda24",
            "countEntitled": 0,
            "countEscrowed": 15,
            "state": "Succeeded",
            "error": None,
            "timeBegan": "2019-11-20T16:15:21.116098Z",
            "timeEnded": "2019-11-20T16:17:24.7488681Z",
        },
        "lastSuccessfulExecution": {
            "activityIdentifier": None,
            "countExported": 5,
            "state": "Succeeded",
            "error": None,
            "timeBegan": "0001-01-01T00:00:00Z",
            "timeEnded": "2019-11-20T14:09:46.8855027Z",
        },
        "progress": [],
        "synchronizedEntryCountByType": [
            {"key": "group to Group", "value": 33},
            {"key": "user to User", "value": 3},
        ],
    },
    "synchronizationJobSettings": [{"name": "QuarantineTooManyDeletesThreshold", "value": "500"}],
}

# The v1.0 Get page sample: code Paused, schedule Disabled, a quarantine object with empty strings.
PAUSED_WITH_QUARANTINE_JOB = {
    "id": "SfSandboxOutDelta.e4bbf44533ea4eabb17027f3a92e92aa",
    "templateId": "SfSandboxOutDelta",
    "schedule": {"expiration": None, "interval": "P10675199DT2H48M5.4775807S", "state": "Disabled"},
    "status": {
        "code": "Paused",
        "countSuccessiveCompleteFailures": 0,
        "escrowsPruned": False,
        "lastExecution": None,
        "lastSuccessfulExecution": None,
        "quarantine": {
            "currentBegan": "",
            "nextAttempt": "",
            "reason": "",
            "seriesBegan": "",
            "seriesCount": 2,
            "error": {"code": "SalesforceInvalidCredentials", "message": "bad credentials", "tenantActionable": True},
        },
        "steadyStateLastAchievedTime": "0001-01-01T00:00:00Z",
        "troubleshootingUrl": None,
    },
}


def quarantined_job(reason="EncounteredEscrowProportionThreshold", last_state="Failed", code="Quarantine"):
    return {
        "id": OTHER_JOB_ID,
        "templateId": "scim",
        "schedule": {"interval": "PT40M", "state": "Active"},
        "status": {
            "code": code,
            "countSuccessiveCompleteFailures": 7,
            "quarantine": {
                "currentBegan": "2024-05-01T10:00:00.0000000Z",
                "nextAttempt": "2024-05-02T10:00:00Z",
                "reason": reason,
                "seriesBegan": "2024-04-30T10:00:00Z",
                "seriesCount": 3,
                "error": None,
            },
            "lastExecution": {
                "state": last_state,
                "error": {"code": "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable", "message": "401 from the app"},
                "timeBegan": "2024-05-01T09:58:00Z",
                "timeEnded": "2024-05-01T10:00:00Z",
            },
        },
    }


def job_with(code=None, schedule_state=None, last_state=None, quarantine_reason=None):
    raw = {"id": OTHER_JOB_ID, "templateId": "scim", "schedule": {"state": schedule_state}, "status": {"code": code}}
    if last_state is not None:
        raw["status"]["lastExecution"] = {"state": last_state}
    if quarantine_reason is not None:
        raw["status"]["quarantine"] = {"reason": quarantine_reason}
    return parse_job(raw, {"id": SP_ID})


# ---------------------------------------------------------------------------------------------------
# service principal ids

@pytest.mark.parametrize("value", [SP_ID, SP_ID.upper(), "00000000-0000-0000-0000-000000000000"])
def test_service_principal_id_accepts_guids_and_lowercases(value):
    assert validate_service_principal_id(value) == value.lower()


@pytest.mark.parametrize(
    "value, hint",
    [
        (f" {SP_ID}", "whitespace"),
        (f"{SP_ID}\n", "whitespace"),
        (f"{{{SP_ID}}}", "braces"),
        ("Contoso SCIM app", "not the display name"),
        ("8a1b2c3d4e5f4a6b9c8d7e6f5a4b3c2d", "not a GUID"),
        ("8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2g", "not a GUID"),
        (SP_ID + "/synchronization", "not a GUID"),
        ("８a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d", "not a GUID"),
    ],
)
def test_service_principal_id_refuses_non_guids(value, hint):
    with pytest.raises(InputError) as raised:
        validate_service_principal_id(value)
    message = str(raised.value)
    assert message.startswith(f"service_principal_id {value!r} is not a GUID")
    assert hint in message
    assert "not the appId" in message
    assert "00000000-0000-0000-0000-000000000000" in message


@pytest.mark.parametrize("value", [None, ""])
def test_service_principal_id_refuses_empty(value):
    with pytest.raises(InputError, match="service_principal_id is empty"):
        validate_service_principal_id(value)


@pytest.mark.parametrize("value", [123, ["a"], {"id": SP_ID}, True])
def test_service_principal_id_refuses_non_strings(value):
    with pytest.raises(InputError, match="is not a GUID string"):
        validate_service_principal_id(value)


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


@pytest.mark.parametrize("huge", ["x" * 100_000, "x/" * 50_000, " " * 100_000])
def test_messages_truncate_huge_inputs(huge):
    for validate in (validate_service_principal_id, validate_job_id):
        with pytest.raises(InputError) as raised:
            validate(huge)
        assert len(str(raised.value)) < 600
        assert "(100000 characters)" in str(raised.value)
    with pytest.raises(InputError) as raised:
        validate_service_principal_id(list(range(100_000)))
    assert len(str(raised.value)) < 600


def test_validator_names_the_field_it_was_given():
    with pytest.raises(InputError, match=r"^jobs\[4\]\.job_id "):
        validate_job_id("a/b", "jobs[4].job_id")


# ---------------------------------------------------------------------------------------------------
# job ids

@pytest.mark.parametrize(
    "value",
    [
        JOB_ID,
        OTHER_JOB_ID,
        "dataBricks.f5532fc709734b1a90e8a1fa9fd03a82.8442fd39-2183-419c-8732-74b6ce866bd5",
        "AD2AADProvisioning.c5357aa6263a46c8b990a7c935e24722.dcec0328-273b-4c51-9edb-5e22f2ae12c0",
        "Azure2Azure.0123456789abcdef0123456789abcdef",
        "some_job-1",
        "...",
        "a..b",
    ],
)
def test_job_id_accepts_opaque_ids(value):
    assert validate_job_id(value) == value


@pytest.mark.parametrize(
    "value, shown",
    [
        ("scim.abc/../../users", "'/'"),
        ("scim.abc/restart", "'/'"),
        ("scim.abc?x=1", "'?'"),
        ("scim.abc%2Frestart", "'%'"),
        ("scim.abc#frag", "'#'"),
        (" scim.abc", "' '"),
        ("scim.abc\n", "'\\n'"),
        ("scim.abc\t", "'\\t'"),
        ("scim.ab c", "' '"),
        ("scim.abcé", "'é'"),
        ("scim.abc\u200b", "'\\u200b'"),
        ("scim.ａｂｃ", "'ａ'"),
        ("scim.abc\\x", "'\\\\'"),
    ],
)
def test_job_id_refuses_path_changing_and_foreign_characters(value, shown):
    with pytest.raises(InputError) as raised:
        validate_job_id(value)
    message = str(raised.value)
    assert message.startswith(f"job_id {value!r} is not a synchronization job id")
    assert shown in message.split(": ", maxsplit=1)[0]
    assert "A-Z and a-z, the digits 0-9, '.', '_' and '-'" in message
    assert "scim.0123456789abcdef0123456789abcdef" in message


def test_job_id_length_is_capped():
    assert validate_job_id("a" * MAX_JOB_ID_LENGTH) == "a" * MAX_JOB_ID_LENGTH
    with pytest.raises(InputError, match="is too long for a job id"):
        validate_job_id("a" * (MAX_JOB_ID_LENGTH + 1))


def test_job_id_percent_hint_says_pass_it_unencoded():
    with pytest.raises(InputError, match="pass the id unencoded"):
        validate_job_id("scim.abc%2Fx")


@pytest.mark.parametrize("value", [".", ".."])
def test_job_id_refuses_dot_segments(value):
    with pytest.raises(InputError, match="is a path segment, not a job id"):
        validate_job_id(value)


@pytest.mark.parametrize("value, match", [(None, "job_id is empty"), ("", "job_id is empty"), (42, "is not a string"), (["x"], "is not a string")])
def test_job_id_refuses_empty_and_non_strings(value, match):
    with pytest.raises(InputError, match=match):
        validate_job_id(value)


# ---------------------------------------------------------------------------------------------------
# reset scope

def test_scope_flags_are_the_documented_values():
    assert RESET_SCOPE_FLAGS == {
        "None": 0,
        "ConnectorDataStore": 1,
        "Escrows": 2,
        "Watermark": 4,
        "QuarantineState": 8,
        "Full": 15,
        "ForceDeletes": 32,
    }
    assert RESET_SCOPE_FLAGS["Full"] == sum(RESET_SCOPE_FLAGS[name] for name in ("ConnectorDataStore", "Escrows", "Watermark", "QuarantineState"))
    assert set(RESET_SCOPE_ORDER) == set(RESET_SCOPE_FLAGS) - {"None"}
    assert [RESET_SCOPE_FLAGS[name] for name in RESET_SCOPE_ORDER] == sorted(RESET_SCOPE_FLAGS[name] for name in RESET_SCOPE_ORDER)


@pytest.mark.parametrize("names", [None, [], ()])
def test_no_scope_means_empty_criteria(names):
    assert build_reset_scope(names) == (None, [])
    assert restart_body(None) == {"criteria": {}}


@pytest.mark.parametrize(
    "names, expected",
    [
        (["Watermark", "Escrows", "QuarantineState"], "Escrows, Watermark, QuarantineState"),
        (["QuarantineState", "Watermark"], "Watermark, QuarantineState"),
        (["watermark", "ESCROWS", "quarantinestate"], "Escrows, Watermark, QuarantineState"),
        ("Watermark, Escrows, QuarantineState", "Escrows, Watermark, QuarantineState"),
        ("Watermark,Escrows", "Escrows, Watermark"),
        (["Watermark, Escrows"], "Escrows, Watermark"),
        ([" Watermark", " Escrows "], "Escrows, Watermark"),
        (["Watermark", "watermark", "WATERMARK"], "Watermark"),
        (("Escrows",), "Escrows"),
        (["ForceDeletes"], "ForceDeletes"),
        (["ForceDeletes", "QuarantineState"], "QuarantineState, ForceDeletes"),
    ],
)
def test_scope_is_canonical_deduplicated_and_ordered(names, expected):
    assert build_reset_scope(names) == (expected, [])


def test_scope_body_carries_the_string():
    scope, _warnings = build_reset_scope(["Watermark", "Escrows", "QuarantineState"])
    assert restart_body(scope) == {"criteria": {"resetScope": "Escrows, Watermark, QuarantineState"}}
    assert restart_body(scope) is not restart_body(scope)


@pytest.mark.parametrize("names", [["None"], "none", ["Watermark", "NONE"]])
def test_scope_none_is_refused_pointing_to_sync_job(names):
    with pytest.raises(InputError) as raised:
        build_reset_scope(names)
    assert "entra.sync.sync_job" in str(raised.value)
    assert "state: started" in str(raised.value)


@pytest.mark.parametrize("names", [["Watermarks"], "Watermark, Bogus", ["QuarantineStates"], ["Escrow"]])
def test_scope_unknown_name_lists_the_valid_ones(names):
    with pytest.raises(InputError) as raised:
        build_reset_scope(names)
    message = str(raised.value)
    assert "is not a restart scope" in message
    for name in RESET_SCOPE_ORDER:
        assert name in message


@pytest.mark.parametrize("names", ["", [""], ["Watermark", ""], "Watermark,,Escrows", "Watermark,", ["  "]])
def test_scope_empty_name_is_refused(names):
    with pytest.raises(InputError, match="reset_scope has an empty name") as raised:
        build_reset_scope(names)
    assert "omit reset_scope" in str(raised.value)


@pytest.mark.parametrize("names", [42, {"Watermark": True}, [4], ["Watermark", None]])
def test_scope_wrong_types_are_refused(names):
    with pytest.raises(InputError):
        build_reset_scope(names)


@pytest.mark.parametrize("names", [["ConnectorDataStore"], ["connectordatastore", "Watermark"], "Escrows, ConnectorDataStore"])
def test_connector_data_store_needs_the_opt_in(names):
    with pytest.raises(InputError) as raised:
        build_reset_scope(names)
    message = str(raised.value)
    assert "allow_connector_data_store: true" in message
    assert "Microsoft Support" in message
    assert "for all users" in message


def test_connector_data_store_with_the_opt_in():
    assert build_reset_scope(["Watermark", "ConnectorDataStore"], allow_connector_data_store=True) == ("ConnectorDataStore, Watermark", [])


def test_full_is_refused_without_the_opt_in_because_it_contains_connector_data_store():
    with pytest.raises(InputError) as raised:
        build_reset_scope(["Full"])
    message = str(raised.value)
    assert "Full includes ConnectorDataStore" in message
    assert "allow_connector_data_store: true" in message
    assert "[Escrows, Watermark, QuarantineState]" in message


def test_full_with_the_opt_in_warns():
    scope, warnings = build_reset_scope(["full"], allow_connector_data_store=True)
    assert scope == "Full"
    assert len(warnings) == 1
    assert "Full includes ConnectorDataStore" in warnings[0]


def test_full_absorbs_its_members_but_not_force_deletes():
    scope, warnings = build_reset_scope(["Watermark", "Full", "ForceDeletes", "ConnectorDataStore"], allow_connector_data_store=True)
    assert scope == "Full, ForceDeletes"
    assert len(warnings) == 1


@pytest.mark.parametrize(
    "scope, expected",
    [
        (None, []),
        ("", []),
        ("  ", []),
        ("Watermark, Escrows, QuarantineState", ["Watermark", "Escrows", "QuarantineState"]),
        ("full,forcedeletes", ["Full", "ForceDeletes"]),
        ("Watermark, watermark", ["Watermark"]),
    ],
)
def test_parse_reset_scope(scope, expected):
    assert parse_reset_scope(scope) == expected


def test_parse_reset_scope_refuses_unknown_names():
    with pytest.raises(InputError):
        parse_reset_scope("Watermark, Bogus")


SCOPE_NAMES = [name for name in RESET_SCOPE_FLAGS if name != "None"]
CASE_CHANGES = st.sampled_from([str, str.lower, str.upper, str.swapcase])


@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.tuples(st.sampled_from(SCOPE_NAMES), CASE_CHANGES), max_size=8), as_string=st.booleans())
def test_scope_round_trips(names, as_string):
    spelled = [change(name) for name, change in names]
    given_names = ", ".join(spelled) if as_string and spelled else spelled
    scope, warnings = build_reset_scope(given_names, allow_connector_data_store=True)
    if not spelled:
        assert scope is None
        return
    parsed = parse_reset_scope(scope)
    flags = {name for name, _change in names}
    # Same flags on the wire: the service ORs the names.
    assert _flag_value(parsed) == _flag_value(flags)
    assert parsed == [name for name in RESET_SCOPE_ORDER if name in parsed]
    assert build_reset_scope(parsed, allow_connector_data_store=True) == (scope, warnings)
    assert bool(warnings) == ("Full" in flags)


def _flag_value(names):
    value = 0
    for name in names:
        value |= RESET_SCOPE_FLAGS[name]
    return value


# ---------------------------------------------------------------------------------------------------
# conditions

def test_restart_conditions():
    assert RESTART_CONDITIONS == ("always", "quarantined", "failed", "entry_errors", "paused")


@pytest.mark.parametrize(
    "values, expected",
    [
        (["always"], ["always"]),
        (["quarantined", "failed", "quarantined"], ["quarantined", "failed"]),
        (["Paused", " entry_errors "], ["paused", "entry_errors"]),
        ("quarantined,failed", ["quarantined", "failed"]),
        (("failed",), ["failed"]),
    ],
)
def test_validate_conditions(values, expected):
    assert validate_conditions(values) == expected


@pytest.mark.parametrize("values", [None, [], (), ""])
def test_conditions_must_not_be_empty(values):
    with pytest.raises(InputError, match="restart_if is empty") as raised:
        validate_conditions(values)
    assert "quarantined" in str(raised.value)


@pytest.mark.parametrize("values", [["quarantine"], ["failed", "error"], [None], [1], ["entry-errors"]])
def test_unknown_conditions_list_the_valid_ones(values):
    with pytest.raises(InputError) as raised:
        validate_conditions(values)
    message = str(raised.value)
    assert "is not a condition" in message
    for condition in RESTART_CONDITIONS:
        assert condition in message


# ---------------------------------------------------------------------------------------------------
# parsing jobs

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


# ---------------------------------------------------------------------------------------------------
# the restart decision

def test_always_restarts_whatever_the_status():
    for raw in (ACTIVE_JOB, PAUSED_WITH_QUARANTINE_JOB, quarantined_job(), None):
        decision = decide_restart(parse_job(raw), ["always"])
        assert decision.restart is True
        assert decision.reason.startswith("restart_if always: ")
        assert decision.matched == ("always",)


def test_always_wins_over_other_conditions():
    assert decide_restart(parse_job(ACTIVE_JOB), ["quarantined", "always"]).restart is True


def test_quarantined_job_matches_quarantined():
    decision = decide_restart(parse_job(quarantined_job(last_state="Succeeded")), ["quarantined"])
    assert decision == Decision(True, "status Quarantine (EncounteredEscrowProportionThreshold) matches restart_if quarantined", ("quarantined",))


def test_several_matches_are_all_reported():
    decision = decide_restart(parse_job(quarantined_job()), ["failed", "quarantined"])
    assert decision.restart is True
    assert decision.matched == ("failed", "quarantined")
    assert decision.reason == (
        "last run Failed matches restart_if failed; "
        "status Quarantine (EncounteredEscrowProportionThreshold) matches restart_if quarantined"
    )


def test_active_job_is_left_alone():
    decision = decide_restart(parse_job(ACTIVE_JOB), ["quarantined"])
    assert decision == Decision(False, "status Active, last run Succeeded: matches none of restart_if [quarantined]")


def test_decision_accepts_raw_graph_json():
    assert decide_restart(quarantined_job(), ["quarantined"]).restart is True


@pytest.mark.parametrize(
    "job, conditions, restart, reason",
    [
        (job_with("Quarantine"), ["quarantined"], True, "status Quarantine matches restart_if quarantined"),
        (job_with("Active", last_state="Failed"), ["failed"], True, "last run Failed matches restart_if failed"),
        (job_with("Active", last_state="EntryLevelErrors"), ["entry_errors"], True, "last run EntryLevelErrors matches restart_if entry_errors"),
        (job_with("Active", last_state="EntryLevelErrors"), ["failed"], False,
         "status Active, last run EntryLevelErrors: matches none of restart_if [failed]"),
        (job_with("Paused"), ["paused"], True, "status Paused matches restart_if paused"),
        (job_with("Active", schedule_state="Paused"), ["paused"], True, "schedule Paused matches restart_if paused"),
        (job_with("Active", schedule_state="Disabled"), ["paused"], False,
         "status Active, schedule Disabled: matches none of restart_if [paused]"),
        (job_with("Paused", quarantine_reason="TooManyDeletes"), ["quarantined"], False,
         "status Paused, quarantine reason TooManyDeletes: matches none of restart_if [quarantined]"),
        (job_with("NotRun"), ["quarantined", "failed", "entry_errors", "paused"], False,
         "status NotRun: matches none of restart_if [quarantined, failed, entry_errors, paused]"),
        (job_with("NotConfigured", schedule_state="Disabled"), ["paused"], False,
         "status NotConfigured, schedule Disabled: matches none of restart_if [paused]"),
        (job_with(), ["quarantined"], False, "status unknown: matches none of restart_if [quarantined]"),
        (job_with("quarantine", last_state="failed"), ["failed"], True, "last run Failed matches restart_if failed"),
    ],
)
def test_decision_table(job, conditions, restart, reason):
    decision = decide_restart(job, conditions)
    assert (decision.restart, decision.reason) == (restart, reason)


def test_decision_refuses_bad_conditions():
    with pytest.raises(InputError):
        decide_restart(parse_job(ACTIVE_JOB), [])
    with pytest.raises(InputError):
        decide_restart(parse_job(ACTIVE_JOB), ["sometimes"])


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


# ---------------------------------------------------------------------------------------------------
# job lists

def test_targets_keep_order_and_drop_duplicates():
    items = [
        {"service_principal_id": SP_ID, "job_id": JOB_ID},
        {"service_principal_id": OTHER_SP_ID, "job_id": JOB_ID},
        {"service_principal_id": SP_ID, "job_id": OTHER_JOB_ID},
        {"service_principal_id": SP_ID.upper(), "job_id": JOB_ID},
        {"service_principal_id": OTHER_SP_ID, "job_id": JOB_ID, "status_code": "Quarantine"},
    ]
    targets, notes = normalize_job_targets(items)
    assert targets == [JobTarget(SP_ID, JOB_ID), JobTarget(OTHER_SP_ID, JOB_ID), JobTarget(SP_ID, OTHER_JOB_ID)]
    assert [target.index for target in targets] == [0, 1, 2]
    assert notes == [
        f"jobs[3] duplicates jobs[0] ({SP_ID}/{JOB_ID}): processed once",
        f"jobs[4] duplicates jobs[1] ({OTHER_SP_ID}/{JOB_ID}): processed once",
    ]


def test_job_ids_differing_in_case_are_different_jobs():
    targets, notes = normalize_job_targets([
        {"service_principal_id": SP_ID, "job_id": "scim.abc"},
        {"service_principal_id": SP_ID, "job_id": "scim.ABC"},
    ])
    assert len(targets) == 2 and notes == []


def test_sync_job_info_results_feed_targets_directly():
    info_results = [parse_job(raw, {"id": SP_ID, "displayName": "App"}).to_dict() for raw in (ACTIVE_JOB, quarantined_job())]
    targets, notes = normalize_job_targets(info_results)
    assert [(target.service_principal_id, target.job_id) for target in targets] == [(SP_ID, JOB_ID), (SP_ID, OTHER_JOB_ID)]
    assert notes == []


def test_target_index_is_not_part_of_identity():
    assert JobTarget(SP_ID, JOB_ID, 0) == JobTarget(SP_ID, JOB_ID, 9)
    assert JobTarget(SP_ID, JOB_ID).label == f"{SP_ID}/{JOB_ID}"


@pytest.mark.parametrize(
    "items, match",
    [
        ([], r"^jobs is empty: "),
        ((), r"^jobs is empty: "),
        (None, "is not a list"),
        ({"service_principal_id": SP_ID, "job_id": JOB_ID}, "is not a list"),
        ("sp/job", "is not a list"),
        ([{"service_principal_id": SP_ID, "job_id": JOB_ID}, "x"], r"^jobs\[1\] 'x' is not a dict"),
        ([{"service_principal_id": SP_ID}], r"^jobs\[0\] has no job_id"),
        ([{"job_id": JOB_ID}], r"^jobs\[0\] has no service_principal_id"),
        ([{"service_principal_id": SP_ID, "job_id": JOB_ID}, {"service_principal_id": "App", "job_id": JOB_ID}],
         r"^jobs\[1\]\.service_principal_id 'App' is not a GUID"),
        ([{"service_principal_id": SP_ID, "job_id": "a/../b"}], r"^jobs\[0\]\.job_id 'a/\.\./b' is not a synchronization job id"),
        ([{"service_principal_id": SP_ID, "job_id": None}], r"^jobs\[0\]\.job_id is empty"),
    ],
)
def test_bad_job_lists_say_which_item(items, match):
    with pytest.raises(InputError, match=match):
        normalize_job_targets(items)


# ---------------------------------------------------------------------------------------------------
# summary

def test_summary_has_every_action_and_total():
    assert summarize([]) == {"restarted": 0, "would_restart": 0, "skipped": 0, "failed": 0, "unknown": 0, "total": 0}
    assert ACTIONS == ("restarted", "would_restart", "skipped", "failed", "unknown")


def test_summary_counts_actions():
    class Result:
        action = "failed"

    results = [{"action": "restarted"}, {"action": "restarted"}, {"action": "skipped"}, Result(), {"action": "unknown"}]
    assert summarize(results) == {"restarted": 2, "would_restart": 0, "skipped": 1, "failed": 1, "unknown": 1, "total": 5}


def test_summary_counts_results_without_a_known_action_as_unknown():
    results = [{"action": "exploded"}, {}, None, {"action": ["restarted"]}, {"action": "would_restart"}]
    summary = summarize(results)
    assert summary["unknown"] == 4
    assert summary["would_restart"] == 1
    assert summary["total"] == sum(summary[action] for action in ACTIONS)


def test_summary_accepts_a_generator():
    assert summarize({"action": "skipped"} for _index in range(3))["skipped"] == 3
