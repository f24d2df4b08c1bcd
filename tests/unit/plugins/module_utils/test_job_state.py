# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for sync_job's decision: start only a paused or quarantined job, pause only one not paused."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils.exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils.job_state import (
    JOB_STATES,
    STATE_ACTIONS,
    StateDecision,
    decide_state,
    expected_status,
    summarize_states,
    validate_state,
)
from ansible_collections.entra.sync.plugins.module_utils.jobs import parse_job


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
def test_decision_table(status, started, paused):
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


def test_summarize_states():
    results = [{"action": "started"}, {"action": "skipped"}, {"action": "skipped"}, {"action": "bogus"}, {}]
    summary = summarize_states(results)
    assert set(summary) == set(STATE_ACTIONS) | {"total"}
    assert (summary["started"], summary["skipped"], summary["unknown"], summary["total"]) == (1, 2, 2, 5)
    assert summarize_states([])["total"] == 0


def test_states():
    assert JOB_STATES == ("started", "paused")
