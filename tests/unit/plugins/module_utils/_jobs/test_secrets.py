# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The credentials of a job, pure: the input check, the bodies, the plan, the result and diff; never a value shown."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import GraphError, InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job
from ansible_collections.entra.sync.plugins.module_utils._jobs.secrets import (
    SECRET_KEYS,
    CredentialOutcome,
    CredentialPlan,
    check_credentials,
    credentials_diff,
    credentials_result,
    hidden_values,
    is_refusal,
    plan_credentials,
    secrets_body,
    validate_body,
)

TOKEN = "tok-5e8a1c9f-secret"
SP_ID = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
JOB_ID = "scim.0123456789abcdef0123456789abcdef"
PAIRS = (("BaseAddress", "https://scim.example.com/v2"), ("SecretToken", TOKEN))


@pytest.mark.parametrize("given, expected", [
    ({"BaseAddress": "https://scim.example.com/v2", "SecretToken": TOKEN}, PAIRS),
    ({"baseaddress": "https://scim.example.com/v2", " SECRETTOKEN ": TOKEN + "\n"}, PAIRS),
    ({"SyncAll": True, "SkipOutOfScopeDeletions": False, "TokenExpiration": 3600}, (("SyncAll", "true"), ("SkipOutOfScopeDeletions", "false"),
                                                                                    ("TokenExpiration", "3600"))),
    ({"SyncNotificationSettings": {"Enabled": False, "DeleteThresholdEnabled": False}},
     (("SyncNotificationSettings", '{"DeleteThresholdEnabled":false,"Enabled":false}'),)),
    ({"SyncNotificationSettings": '{"Enabled":false}'}, (("SyncNotificationSettings", '{"Enabled":false}'),)),
])
def test_check_credentials_accepts(given, expected):
    assert check_credentials(given) == expected


@pytest.mark.parametrize("given, words", [
    ("SecretToken=" + TOKEN, ["must be a dictionary", "got a str"]),
    (["SecretToken"], ["must be a dictionary", "got a list"]),
    ({}, ["credentials is empty", "use_saved_credentials"]),
    ({"Token": TOKEN}, ["unknown key 'Token'", "BaseAddress, ClientIdentifier", "SecretToken", "Nothing was sent"]),
    ({"Token": TOKEN, "Url2": "x"}, ["unknown keys 'Token', 'Url2'"]),
    ({"SecretToken": ""}, ["SecretToken has no value"]),
    ({"SecretToken": "  \n"}, ["SecretToken has no value"]),
    ({"SecretToken": None}, ["SecretToken has no value"]),
    ({"SecretToken": {"value": TOKEN}}, ["SecretToken must be a string, not a dictionary", "SyncNotificationSettings"]),
    ({"Password": [TOKEN]}, ["Password must be a string, not a list"]),
    ({"SecretToken": TOKEN, "secrettoken": TOKEN}, ["SecretToken is given twice"]),
    ({"None": TOKEN}, ["unknown key 'None'"]),
    ({"SecretToken": "", "Nope": TOKEN, "UserName": "u"}, ["SecretToken has no value", "unknown key 'Nope'"]),
])
def test_check_credentials_refuses_with_one_message_naming_keys_never_values(given, words):
    with pytest.raises(InputError) as caught:
        check_credentials(given)
    message = str(caught.value)
    for word in words:
        assert word in message
    assert TOKEN not in message


def test_known_keys_are_graphs_enum_without_none():
    assert len(SECRET_KEYS) == len(set(SECRET_KEYS)) == 44
    assert "None" not in SECRET_KEYS and {"BaseAddress", "SecretToken", "UserName", "Password", "ClientSecret"} <= set(SECRET_KEYS)


def test_bodies():
    assert validate_body(PAIRS) == {"useSavedCredentials": False, "credentials": [
        {"key": "BaseAddress", "value": "https://scim.example.com/v2"}, {"key": "SecretToken", "value": TOKEN}]}
    assert validate_body(()) == {"useSavedCredentials": True}
    assert secrets_body(PAIRS) == {"value": validate_body(PAIRS)["credentials"]}


def test_hidden_values_skip_flags_and_put_longer_values_first():
    assert hidden_values(PAIRS + (("SyncAll", "true"), ("Domain", "ab"))) == ["https://scim.example.com/v2", TOKEN]


@pytest.mark.parametrize("status, refusal", [(400, True), (409, True), (422, True), (401, False), (403, False), (404, False),
                                             (405, False), (429, False), (500, False), (503, False), (None, False)])
def test_is_refusal(status, refusal):
    assert is_refusal(status) is refusal


@pytest.mark.parametrize("pairs, use_saved, test_only, check_mode, save, why", [
    (PAIRS, False, False, False, True, ""),
    (PAIRS, False, True, False, False, "test_only"),
    (PAIRS, False, False, True, False, "check mode"),
    (PAIRS, False, True, True, False, "check mode"),
    ((), True, False, False, False, "saved credentials were tested"),
    ((), True, True, True, False, "saved credentials were tested"),
])
def test_plan_always_tests_and_saves_only_given_credentials_outside_test_only_and_check_mode(
        pairs, use_saved, test_only, check_mode, save, why):
    plan = plan_credentials(pairs, use_saved, test_only, check_mode)
    assert (plan.pairs, plan.save) == (pairs, save)
    assert why in plan.not_saved


@pytest.mark.parametrize("pairs, use_saved, words", [
    ((), False, "give credentials"),
    (PAIRS, True, "not both"),
])
def test_plan_refuses(pairs, use_saved, words):
    with pytest.raises(InputError, match=words):
        plan_credentials(pairs, use_saved, False, False)


QUARANTINED = parse_job({"id": JOB_ID, "templateId": "scim", "status": {"code": "Quarantine", "quarantine": {
    "reason": "EncounteredQuarantineException", "error": {"code": "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
                                                          "message": "401", "tenantActionable": True}}}}, SP_ID)
SAVE = CredentialPlan(PAIRS, True)
REFUSED = GraphError("refused", status=400, code="SystemForCrossDomainIdentityManagementCredentialValidationFailure")


@pytest.mark.parametrize("plan, outcome, expected", [
    (SAVE, CredentialOutcome(QUARANTINED, True, True, True),
     {"tested": True, "accepted": True, "saved": True, "changed": True, "reason": "then saved (BaseAddress, SecretToken)"}),
    (SAVE, CredentialOutcome(QUARANTINED, True, False, False, REFUSED, "x"),
     {"tested": True, "accepted": False, "saved": False, "changed": False, "error_code": REFUSED.code, "status": 400,
      "reason": "refused the given credentials: nothing was saved"}),
    (SAVE, CredentialOutcome(QUARANTINED, True, True, None, GraphError("lost", outcome_unknown=True), "x"),
     {"saved": None, "changed": True, "reason": "may have been saved"}),
    (SAVE, CredentialOutcome(None, False, None, False, GraphError("nf", status=404, code="itemNotFound"), "x"),
     {"tested": False, "accepted": None, "template_id": None, "status_code": None, "error_code": "itemNotFound",
      "reason": "status unknown; the job could not be read"}),
    (CredentialPlan(PAIRS, False, "check mode: tested, not saved"), CredentialOutcome(QUARANTINED, True, True, False),
     {"saved": False, "changed": False, "reason": "tested and accepted; check mode: tested, not saved"}),
    (CredentialPlan((), False, "the saved credentials were tested; nothing to save"), CredentialOutcome(QUARANTINED, True, False, False, REFUSED, "x"),
     {"secret_keys": [], "reason": "refused the saved credentials"}),
])
def test_result(plan, outcome, expected):
    result = credentials_result(SP_ID, JOB_ID, plan, outcome, {"auth_method": "client_secret"})
    for key, value in expected.items():
        if key == "reason":
            assert value in result["reason"], result["reason"]
        else:
            assert result[key] == value, (key, result)
    assert result["auth_method"] == "client_secret" and result["service_principal_id"] == SP_ID
    if outcome.job is not None:
        assert result["status_code"] == "Quarantine" and result["quarantine_reason"] == "EncounteredQuarantineException"
        assert result["quarantine_error_code"] == "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
        assert result["remedy"] == "credentials" and "secret token" in result["remedy_reason"]
    else:
        assert (result["remedy"], result["remedy_reason"], result["disables_at"]) == (None, None, None)
    assert TOKEN not in repr(result)


@pytest.mark.parametrize("plan, outcome, after", [
    (SAVE, CredentialOutcome(QUARANTINED, True, True, True), "BaseAddress, SecretToken (new values)\n"),
    (CredentialPlan(PAIRS, False, "check mode: tested, not saved"), CredentialOutcome(QUARANTINED, True, True, False),
     "BaseAddress, SecretToken (new values, not saved: check mode: tested, not saved)\n"),
    (SAVE, CredentialOutcome(QUARANTINED, True, False, False), "(unchanged)\n"),
])
def test_diff_names_keys_only(plan, outcome, after):
    diff = credentials_diff(SP_ID, plan, outcome)
    assert diff["after"] == after and "masked" in diff["before"] and SP_ID in diff["before_header"]
    assert TOKEN not in repr(diff)
