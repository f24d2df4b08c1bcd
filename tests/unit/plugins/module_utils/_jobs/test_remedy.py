# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the remedy: what fixes each job (graph-facts.md, "Quarantine: what fixes which"), as a table."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import decide_restart
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import job_from_dict, parse_job
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import (
    REMEDIES,
    Remedy,
    deadline_key,
    decide_restart_remedy,
    diagnose,
    diagnose_dict,
    disables_soon,
    validate_remedies,
)
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._jobs.job_samples import (
    ACTIVE_JOB,
    PAUSED_WITH_QUARANTINE_JOB,
    SP_ID,
)

SERIES_BEGAN = "2024-04-30T10:00:00Z"
DISABLES_AT = "2024-05-28T10:00:00Z"


def job(code="Quarantine", reason=None, error_code=None, tenant_actionable=None, escrows_pruned=False, series_began=SERIES_BEGAN,
        last_state="Failed", schedule="Active"):
    """A job as Graph sends it, with the quarantine fields the remedy reads."""
    status = {"code": code, "escrowsPruned": escrows_pruned, "lastExecution": {"state": last_state}, "quarantine": None}
    if reason is not None or error_code is not None or code == "Quarantine":
        error = None
        if error_code is not None or tenant_actionable is not None:
            error = {"code": error_code, "message": "from the service", "tenantActionable": tenant_actionable}
        status["quarantine"] = {"reason": reason, "seriesBegan": series_began, "currentBegan": series_began,
                                "nextAttempt": "2024-05-02T10:00:00Z", "seriesCount": 3, "error": error}
    raw = {"id": "scim.0123456789abcdef0123456789abcdef", "templateId": "scim", "schedule": {"state": schedule}, "status": status}
    return parse_job(raw, {"id": SP_ID})


ESCROWS = ("EncounteredEscrowProportionThreshold", "EncounteredBaseEscrowThreshold", "EncounteredTotalEscrowThreshold")
CREDENTIAL_CODES = ("SystemForCrossDomainIdentityManagementCredentialValidationFailure", "AzureActiveDirectoryInvalidCredential",
                    "AzureActiveDirectoryExpiredCredentials")
TARGET_CODES = ("SystemForCrossDomainIdentityManagementCredentialValidationUnavailable", "HybridIdentityServiceNoAgentsAssigned",
                "HybridIdentityServiceNoActiveAgents", "HybridIdentityServiceInvalidResource", "AzureDirectoryB2BManagementPolicyCheckFailure")
SUPPORT_CODES = ("AzureDirectoryServiceServerBusy", "HybridSynchronizationActiveDirectoryInternalServerError",
                 "HybridIdentityServiceAgentSignalingError", "AzureActiveDirectoryAuthenticationFailed")

# (id, job, restart_if, remedy, words the reason must hold, disables_at)
TABLE = [
    # healthy: no condition of restart_if holds
    ("active", parse_job(ACTIVE_JOB), ["quarantined"], "none", ["nothing to fix", "status Active"], None),
    ("failed-not-wanted", job("Active", last_state="Failed"), ["quarantined"], "none", ["matches none of restart_if"], None),
    ("paused-not-wanted", job("Paused", last_state="Succeeded"), ["quarantined"], "none", ["status Paused"], None),
    ("unreadable", parse_job(None), ["quarantined"], "none", ["status unknown"], None),
    # another restart_if condition holds: restart
    ("failed-wanted", job("Active", last_state="Failed"), ["failed"], "restart", ["matches restart_if failed", "restart the job"], None),
    ("paused-wanted", job("Paused", last_state="Succeeded"), ["paused"], "restart", ["matches restart_if paused"], None),
    ("always", parse_job(ACTIVE_JOB), ["always"], "restart", ["restart_if always"], None),
    # escrow thresholds: restart
    *[(reason, job(reason=reason), ["quarantined"], "restart", [reason, "fix the failing objects", "Escrows"], DISABLES_AT)
      for reason in ESCROWS],
    # credentials, whatever the reason
    *[(code, job(reason=reason, error_code=code), ["quarantined"], "credentials", [code], DISABLES_AT)
      for code in CREDENTIAL_CODES for reason in ("EncounteredQuarantineException", "EncounteredEscrowProportionThreshold", None)],
    # the target
    *[(code, job(reason="EncounteredQuarantineException", error_code=code), ["quarantined"], "fix_target", [code], DISABLES_AT)
      for code in TARGET_CODES],
    # codes Microsoft sends to support
    *[(code, job(reason="EncounteredQuarantineException", error_code=code), ["quarantined"], "support", [code, "support"], DISABLES_AT)
      for code in SUPPORT_CODES],
    # deletes: a person decides
    ("TooManyDeletes", job(reason="TooManyDeletes"), ["quarantined"], "approve_deletes", ["ForceDeletes", "don't restart until"], DISABLES_AT),
    # support: by hand, undocumented, empty; both spellings of on demand
    ("QuarantinedOnDemand", job(reason="QuarantinedOnDemand"), ["quarantined"], "support", ["by hand", "support"], DISABLES_AT),
    ("QuarantineOnDemand", job(reason="QuarantineOnDemand"), ["quarantined"], "support", ["by hand", "QuarantinedOnDemand"], DISABLES_AT),
    ("IngestionInterrupted", job(reason="IngestionInterrupted"), ["quarantined"], "support", ["IngestionInterrupted", "support"], DISABLES_AT),
    ("Unknown", job(reason="Unknown"), ["quarantined"], "support", ["reason Unknown", "support"], DISABLES_AT),
    ("empty-reason", job(reason=""), ["quarantined"], "support", ["gives no reason", "support"], DISABLES_AT),
    ("no-quarantine-object", job(reason=None), ["quarantined"], "support", ["gives no reason"], DISABLES_AT),
    ("new-reason", job(reason="SomethingNew"), ["quarantined"], "support", ["SomethingNew", "do not say"], DISABLES_AT),
    # an unknown code falls back on the reason
    ("unknown-code-escrow", job(reason="EncounteredTotalEscrowThreshold", error_code="SomeNewCode"), ["quarantined"], "restart",
     ["SomeNewCode"], DISABLES_AT),
    ("unknown-code-deletes", job(reason="TooManyDeletes", error_code="SomeNewCode"), ["quarantined"], "approve_deletes", ["SomeNewCode"], DISABLES_AT),
    ("unknown-code-no-reason", job(reason="", error_code="SomeNewCode"), ["quarantined"], "support", ["SomeNewCode"], DISABLES_AT),
    # an exception with no known code: restart unless the tenant can act, then credentials; transient either way
    ("exception", job(reason="EncounteredQuarantineException"), ["quarantined"], "restart", ["only when the fault was transient"], DISABLES_AT),
    ("exception-not-actionable", job(reason="EncounteredQuarantineException", error_code="SomeNewCode", tenant_actionable=False),
     ["quarantined"], "restart", ["only when the fault was transient", "SomeNewCode"], DISABLES_AT),
    ("exception-actionable", job(reason="EncounteredQuarantineException", error_code="SomeNewCode", tenant_actionable=True),
     ["quarantined"], "credentials", ["only when the fault was transient", "tenant actionable"], DISABLES_AT),
    # a quarantine is diagnosed whatever restart_if says
    ("quarantine-not-wanted", job(reason="TooManyDeletes"), ["failed"], "approve_deletes", ["TooManyDeletes"], DISABLES_AT),
    ("quarantine-always", job(reason="QuarantinedOnDemand"), ["always"], "support", ["by hand"], DISABLES_AT),
    # Paused with escrowsPruned: clean up first, whatever else it carries
    ("escrows-pruned", job("Paused", escrows_pruned=True), ["quarantined"], "clean_up_errors", ["escrowsPruned", "clean"], None),
    ("escrows-pruned-wanted", job("Paused", escrows_pruned=True), ["paused", "always"], "clean_up_errors", ["escrowsPruned"], None),
    ("escrows-pruned-quarantine", job("Paused", reason="TooManyDeletes", escrows_pruned=True), ["quarantined"], "clean_up_errors", [], None),
    ("escrows-pruned-active", job("Active", escrows_pruned=True, last_state="Succeeded"), ["quarantined"], "none", [], None),
    ("escrows-pruned-quarantined", job(reason="EncounteredBaseEscrowThreshold", escrows_pruned=True), ["quarantined"], "restart", [], DISABLES_AT),
    # Paused with a quarantine that says something: its fix applies (a job disabled after four weeks keeps it)
    ("paused-with-quarantine", job("Paused", reason="TooManyDeletes", last_state="Succeeded"), ["quarantined"], "approve_deletes", [], DISABLES_AT),
    ("paused-with-code", job("Paused", reason="", error_code=CREDENTIAL_CODES[0]), ["quarantined"], "credentials", [], DISABLES_AT),
    # the quirky sample: Paused, schedule Disabled, reason and dates empty strings, a code no table knows
    ("quirky-sample", parse_job(PAUSED_WITH_QUARANTINE_JOB), ["quarantined"], "support", ["gives no reason", "SalesforceInvalidCredentials"], None),
    # dates: empty, the "never" value, an offset
    ("series-empty", job(reason="TooManyDeletes", series_began=""), ["quarantined"], "approve_deletes", [], None),
    ("series-never", job(reason="TooManyDeletes", series_began="0001-01-01T00:00:00Z"), ["quarantined"], "approve_deletes", [], None),
    ("series-offset", job(reason="TooManyDeletes", series_began="2024-04-30T12:00:00.1234567+02:00"), ["quarantined"], "approve_deletes", [],
     DISABLES_AT),
]


@pytest.mark.parametrize("case, job, conditions, remedy, words, disables_at", TABLE, ids=[f"{row[0]}-{i}" for i, row in enumerate(TABLE)])
def test_remedy_table(case, job, conditions, remedy, words, disables_at):
    diagnosis = diagnose(job, conditions)
    assert diagnosis.remedy == remedy, (case, diagnosis)
    assert diagnosis.disables_at == disables_at, case
    for word in words:
        assert word in diagnosis.remedy_reason, (case, diagnosis.remedy_reason)
    # One line, said to a person.
    assert diagnosis.remedy_reason and "\n" not in diagnosis.remedy_reason


def test_every_remedy_is_reachable():
    assert {diagnose(row[1], row[2]).remedy for row in TABLE} == set(REMEDIES)


@pytest.mark.parametrize("case, job, conditions, remedy, words, disables_at", TABLE, ids=[f"{row[0]}-{i}" for i, row in enumerate(TABLE)])
def test_the_dict_diagnoses_as_the_job(case, job, conditions, remedy, words, disables_at):
    """sync_job_info's dict, through JSON, read back (the inventory, the fleet filters): the same answer."""
    again = json.loads(json.dumps(job.to_dict()))
    assert diagnose_dict(again, conditions) == diagnose(job, conditions).to_dict(), case
    # The flat copies alone (no nested quarantine error) are enough too.
    flat = copy.deepcopy(again)
    if flat.get("quarantine"):
        flat["quarantine"]["error"] = None
    assert diagnose(job_from_dict(flat), conditions).remedy == remedy, case


def test_codes_are_compared_case_insensitively():
    diagnosis = diagnose(job(reason="", error_code=" hybrididentityservicenoactiveagents "))
    assert diagnosis.remedy == "fix_target"
    assert "HybridIdentityServiceNoActiveAgents" in diagnosis.remedy_reason


def test_default_conditions_are_the_fleet_default():
    assert diagnose(job("Active", last_state="Failed")).remedy == "none"
    assert diagnose(job(reason="TooManyDeletes")).remedy == "approve_deletes"


def test_bad_conditions_are_refused():
    with pytest.raises(InputError):
        diagnose(parse_job(ACTIVE_JOB), ["sometimes"])


def test_to_dict_has_the_three_keys():
    assert Remedy("support", "why", None).to_dict() == {"remedy": "support", "remedy_reason": "why", "disables_at": None}


NOW = datetime(2024, 5, 21, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("disables_at, soon", [
    ("2024-05-28T10:00:00Z", True),   # exactly 7 days
    ("2024-05-28T10:00:01Z", False),
    ("2024-05-01T00:00:00Z", True),   # passed
    ("2024-06-30T00:00:00Z", False),
    (None, False),
    ("", False),
    ("not a date", False),
    (datetime(2024, 5, 22, tzinfo=UTC), True),
])
def test_disables_soon(disables_at, soon):
    assert disables_soon(disables_at, NOW) is soon


def test_deadline_key_puts_the_soonest_first_and_unknown_last():
    values = [None, "2024-06-30T00:00:00Z", "2024-05-28T10:00:00Z", "", "2024-05-28T09:00:00+00:00"]
    assert sorted(values, key=deadline_key)[:3] == ["2024-05-28T09:00:00+00:00", "2024-05-28T10:00:00Z", "2024-06-30T00:00:00Z"]


@pytest.mark.parametrize("values, expected", [
    (["restart"], ("restart",)),
    (["Restart", " credentials ", "restart"], ("restart", "credentials")),
    ("restart,clean_up_errors", ("restart", "clean_up_errors")),
])
def test_validate_remedies(values, expected):
    assert validate_remedies(values) == expected


@pytest.mark.parametrize("values", [[], "", None, ["reboot"], [1], ["fix-target"]])
def test_validate_remedies_refuses(values):
    with pytest.raises(InputError, match="restart_remedies") as raised:
        validate_remedies(values)
    assert "approve_deletes" in str(raised.value)


@pytest.mark.parametrize("job, remedies, allow, restart", [
    (job(reason="EncounteredBaseEscrowThreshold"), None, False, True),
    (job(reason="EncounteredBaseEscrowThreshold"), ("restart",), False, True),
    (job(reason="TooManyDeletes"), None, False, True),              # restart_if alone decides without restart_remedies
    (job(reason="TooManyDeletes"), ("restart",), False, False),
    (job(reason="TooManyDeletes"), ("restart", "approve_deletes"), False, True),
    (job(reason="", error_code=CREDENTIAL_CODES[0]), ("restart",), False, False),
    (job("Paused", escrows_pruned=True), ("restart", "clean_up_errors"), False, False),  # still needs allow_escrows_pruned
    (job("Paused", escrows_pruned=True), ("restart", "clean_up_errors"), True, True),
    (job("Paused", escrows_pruned=True), ("restart",), True, False),
    (parse_job(ACTIVE_JOB), ("restart",), False, False),
])
def test_decide_restart_remedy(job, remedies, allow, restart):
    conditions = ["quarantined", "paused"]
    decision, diagnosis = decide_restart_remedy(job, conditions, remedies, allow)
    assert decision.restart is restart
    assert diagnosis == diagnose(job, conditions)
    if remedies is not None and decide_restart(job, conditions, allow).restart and not restart and diagnosis.remedy not in remedies:
        assert f"its remedy is {diagnosis.remedy}, not one of restart_remedies" in decision.reason
        assert diagnosis.remedy_reason in decision.reason
