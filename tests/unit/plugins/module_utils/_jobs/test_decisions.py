# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the decisions: restart_if (restart or not) and sync_job's state (start, pause or not)."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import (
    JOB_STATES,
    RESTART_CONDITIONS,
    Decision,
    StateDecision,
    decide_restart,
    decide_state,
    expected_status,
    validate_conditions,
    validate_state,
)
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._jobs.job_samples import (
    ACTIVE_JOB,
    PAUSED_WITH_QUARANTINE_JOB,
    job_with,
    quarantined_job,
)


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
def test_restart_decision_table(job, conditions, restart, reason):
    decision = decide_restart(job, conditions)
    assert (decision.restart, decision.reason) == (restart, reason)


def test_decision_refuses_bad_conditions():
    with pytest.raises(InputError):
        decide_restart(parse_job(ACTIVE_JOB), [])
    with pytest.raises(InputError):
        decide_restart(parse_job(ACTIVE_JOB), ["sometimes"])


# ---------------------------------------------------------------------------------------------------
# sync_job's state

def raw(code, schedule="Active", quarantine_reason=None, last="Succeeded"):
    status = {"code": code, "lastExecution": {"state": last} if last else None, "quarantine": None}
    if quarantine_reason:
        status["quarantine"] = {"reason": quarantine_reason, "currentBegan": "2024-03-01T10:00:00Z"}
    return {"id": "scim.0123456789abcdef0123456789abcdef", "templateId": "scim", "schedule": {"state": schedule}, "status": status}


# (status code, schedule state, quarantine reason) -> (act, action) for started, then for paused
TABLE = [
    # running jobs: never started (Microsoft warns against it); paused
    (("Active", "Active", None), (False, "skipped"), (True, "paused")),
    (("NotRun", "Active", None), (False, "skipped"), (True, "paused")),
    (("NotRun", "Disabled", None), (False, "skipped"), (True, "paused")),
    # quarantined: started; paused
    (("Quarantine", "Active", "EncounteredQuarantineException"), (True, "started"), (True, "paused")),
    (("Quarantine", "Active", None), (True, "started"), (True, "paused")),
    # paused, with or without a quarantine object: started; already paused
    (("Paused", "Paused", None), (True, "started"), (False, "skipped")),
    (("Paused", "Paused", "EncounteredEscrowProportionThreshold"), (True, "started"), (False, "skipped")),
    (("Paused", "Active", "TooManyDeletes"), (True, "started"), (False, "skipped")),
    # schedule paused with another code: paused
    (("Active", "Paused", None), (True, "started"), (False, "skipped")),
    (("Quarantine", "Paused", "Unknown"), (True, "started"), (False, "skipped")),
    # not configured: nothing to start; pausing is allowed
    (("NotConfigured", "Disabled", None), (False, "skipped"), (True, "paused")),
    # status unreadable or unknown: never started blindly; paused
    ((None, None, None), (False, "failed"), (True, "paused")),
    (("SomethingNew", "Active", None), (False, "failed"), (True, "paused")),
]


@pytest.mark.parametrize("status, started, paused", TABLE, ids=["-".join(str(x) for x in row[0]) for row in TABLE])
def test_state_decision_table(status, started, paused):
    code, schedule, reason = status
    job = parse_job(raw(code, schedule, reason))
    for state, (act, action) in (("started", started), ("paused", paused)):
        decision = decide_state(job, state)
        assert (decision.act, decision.action) == (act, action), (state, decision)
        assert decision.reason


def test_starting_a_running_job_says_why():
    decision = decide_state(raw("Active"), "started")
    assert decision == StateDecision(False, "skipped", decision.reason)
    assert "Microsoft warns against starting a job that is running" in decision.reason
    assert "status Active" in decision.reason


def test_unknown_status_fails_with_the_reason():
    decision = decide_state({}, "started")
    assert decision.action == "failed" and "status unknown" in decision.reason


def test_paused_with_quarantine_reason_is_named():
    decision = decide_state(raw("Paused", "Paused", "TooManyDeletes"), "paused")
    assert decision.action == "skipped" and "already paused" in decision.reason and "TooManyDeletes" in decision.reason


def test_raw_and_parsed_jobs_give_the_same_decision():
    for code in ("Active", "Paused", "Quarantine", "NotRun"):
        assert decide_state(raw(code), "started") == decide_state(parse_job(raw(code)), "started")


@pytest.mark.parametrize("act, action, check", [
    (True, "started", "would_start"),
    (True, "paused", "would_pause"),
    (False, "skipped", "skipped"),
    (False, "failed", "failed"),
])
def test_check_action(act, action, check):
    assert StateDecision(act, action, "x").check_action() == check


@pytest.mark.parametrize("value, expected", [("started", "started"), (" Paused ", "paused"), ("STARTED", "started")])
def test_validate_state(value, expected):
    assert validate_state(value) == expected


@pytest.mark.parametrize("value", ["present", "", None, 1, "stopped"])
def test_validate_state_refuses(value):
    with pytest.raises(InputError, match="started or paused"):
        validate_state(value)
    with pytest.raises(InputError):
        decide_state(raw("Active"), value)


def test_expected_status():
    quarantined = parse_job(raw("Quarantine", quarantine_reason="TooManyDeletes", last="Failed"))
    assert expected_status(quarantined, "started") == {
        "status_code": "Active", "schedule_state": "Active", "quarantine_reason": None, "last_execution_state": "Failed"}
    # a pause keeps the quarantine object
    assert expected_status(quarantined, "paused") == {
        "status_code": "Paused", "schedule_state": "Paused", "quarantine_reason": "TooManyDeletes", "last_execution_state": "Failed"}


def test_states():
    assert JOB_STATES == ("started", "paused")


# ---------------------------------------------------------------------------------------------------
# A Paused job with escrowsPruned waits for someone to clean up errors: neither restarted nor started unless allowed.

def _pruned(code="Paused", pruned=True):
    raw_pruned = raw(code, "Paused" if code == "Paused" else "Active")
    raw_pruned["status"]["escrowsPruned"] = pruned
    return parse_job(raw_pruned)


@pytest.mark.parametrize("job, conditions, allow, restart", [
    (_pruned(), ["paused"], False, False),
    (_pruned(), ["always"], False, False),
    (_pruned(), ["quarantined"], False, False),
    (_pruned(), ["paused"], True, True),
    (_pruned(), ["always"], True, True),
    (_pruned(pruned=False), ["paused"], False, True),
    (_pruned(pruned=None), ["paused"], False, True),
    (_pruned("Quarantine"), ["quarantined"], False, True),  # quarantined, not paused by the service: restart_if decides
])
def test_escrows_pruned_restart_table(job, conditions, allow, restart):
    decision = decide_restart(job, conditions, allow_escrows_pruned=allow)
    assert decision.restart is restart
    if job.awaiting_cleanup and not allow and decide_restart(job, conditions, allow_escrows_pruned=True).restart:
        assert "escrowsPruned" in decision.reason and "allow_escrows_pruned" in decision.reason


@pytest.mark.parametrize("job, allow, act", [(_pruned(), False, False), (_pruned(), True, True), (_pruned(pruned=False), False, True)])
def test_escrows_pruned_start_table(job, allow, act):
    decision = decide_state(job, "started", allow_escrows_pruned=allow)
    assert decision.act is act
    assert decision.action == ("started" if act else "skipped")
    if not act:
        assert "waiting for the customer to clean up the errors" in decision.reason
    assert decide_state(job, "paused", allow_escrows_pruned=allow).act is False  # already paused either way
