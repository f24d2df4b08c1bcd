# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the results: the summary, the failure message, diff mode and the unhealthy jobs."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._jobs.results import (
    ACTIONS,
    FAILED_ACTIONS,
    STATE_ACTIONS,
    canary_verdict,
    failure_message,
    held_back_note,
    restart_diff,
    state_diff,
    summarize,
    unhealthy_jobs,
)
from ansible_collections.entra.sync.plugins.module_utils._service.restart import Outcome


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


def test_summarize_states():
    results = [{"action": "started"}, {"action": "skipped"}, {"action": "skipped"}, {"action": "bogus"}, {}]
    summary = summarize(results, STATE_ACTIONS)
    assert set(summary) == set(STATE_ACTIONS) | {"total"}
    assert (summary["started"], summary["skipped"], summary["unknown"], summary["total"]) == (1, 2, 2, 5)
    assert summarize([], STATE_ACTIONS)["total"] == 0


# ---------------------------------------------------------------------------------------------------
# one summarize for both modules

@pytest.mark.parametrize("actions", [ACTIONS, STATE_ACTIONS])
def test_summarize_counts_each_modules_actions_and_adds_up(actions):
    results = [{"action": action} for action in actions] + [{"action": "restarted" if actions is STATE_ACTIONS else "started"}]
    summary = summarize(results, actions)
    assert set(summary) == set(actions) | {"total"}
    # Every known action once; the other module's action is not known here: unknown.
    assert summary["unknown"] == 2
    assert all(summary[action] == 1 for action in actions if action != "unknown")
    assert summary["total"] == len(results) == sum(summary[action] for action in actions)


def test_summarize_defaults_to_the_restart_actions():
    assert summarize([{"action": "restarted"}]) == summarize([{"action": "restarted"}], ACTIONS)


# ---------------------------------------------------------------------------------------------------
# the failure message

def result(job_id, action, reason="why", **extra):
    return dict({"service_principal_id": SP, "job_id": job_id, "action": action, "reason": reason}, **extra)


SP = "8a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"


def test_failure_message_names_failed_and_unknown_jobs():
    results = [result("a", "restarted"), result("b", "failed", "403"), result("c", "unknown", "timed out")]
    assert failure_message(results) == f"2 of 3 jobs failed or have an unknown outcome: {SP}/b failed: 403; {SP}/c unknown: timed out"


def test_failure_message_lists_three_and_counts_the_rest():
    results = [result(f"job{index}", "failed") for index in range(5)]
    message = failure_message(results)
    assert message.startswith("5 of 5 jobs failed")
    assert f"{SP}/job2 failed" in message and f"{SP}/job3" not in message
    assert message.endswith("(and 2 more, see results)")


def test_failure_message_adds_the_unhealthy_jobs():
    results = [result("a", "restarted"), result("b", "restarted"), result("c", "failed", "403")]
    unhealthy = [{"service_principal_id": SP, "job_id": "b", "reason": "relapsed"}]
    assert failure_message(results, unhealthy) == (
        f"1 of 3 jobs failed or have an unknown outcome: {SP}/c failed: 403. 1 of 2 restarted jobs did not become healthy: {SP}/b: relapsed"
    )


def test_no_failure_no_message():
    assert failure_message([result("a", "restarted"), result("b", "skipped")]) == ""
    assert set(FAILED_ACTIONS) <= set(ACTIONS) and set(FAILED_ACTIONS) <= set(STATE_ACTIONS)


# ---------------------------------------------------------------------------------------------------
# diff mode and the unhealthy jobs

FOUND = {"status_code": "Quarantine", "schedule_state": "Active", "quarantine_reason": "TooManyDeletes", "last_execution_state": "Failed"}


def test_restart_diff_shows_the_jobs_restarted_or_that_would_be():
    outcomes = [
        Outcome(result("a", "restarted", reset_scope="Watermark"), FOUND),
        Outcome(result("b", "would_restart", reset_scope=None), FOUND),
        Outcome(result("c", "skipped", reset_scope=None), FOUND),
        Outcome(result("d", "failed", reset_scope=None)),
    ]
    diff = restart_diff(outcomes)
    assert diff["before"] == {f"{SP}/a": FOUND, f"{SP}/b": FOUND}
    assert diff["after"] == {
        f"{SP}/a": dict(FOUND, restart_requested=True, reset_scope="Watermark"),
        f"{SP}/b": dict(FOUND, restart_requested=True, reset_scope=None),
    }


def test_state_diff_shows_the_expected_status():
    expected = {"status_code": "Active", "schedule_state": "Active", "quarantine_reason": None, "last_execution_state": "Failed"}
    outcomes = [
        Outcome(result("a", "started"), FOUND, expected=expected),
        Outcome(result("b", "skipped"), FOUND),
        Outcome(result("c", "failed"), None, expected=expected),
    ]
    assert state_diff(outcomes) == {"before": {f"{SP}/a": FOUND}, "after": {f"{SP}/a": expected}}
    assert state_diff([]) == restart_diff([]) == {"before": {}, "after": {}}


def test_unhealthy_jobs_are_the_waits_that_did_not_end_healthy():
    def wait(healthy, relapsed=False):
        return {"healthy": healthy, "relapsed": relapsed, "status_code_after": "Quarantine" if not healthy else "Active",
                "quarantine_reason_after": None, "reason": "r"}

    results = [result("a", "restarted", wait=wait(True)), result("b", "restarted", wait=wait(False, True)), result("c", "skipped"),
               result("d", "restarted", wait=None)]
    assert unhealthy_jobs(results) == [{
        "service_principal_id": SP, "job_id": "b", "status_code_after": "Quarantine", "quarantine_reason_after": None,
        "relapsed": True, "reason": "r",
    }]


def _wait(healthy):
    return {"healthy": healthy, "relapsed": not healthy, "status_code_after": "Active" if healthy else "Quarantine",
            "quarantine_reason_after": None, "reason": "r"}


@pytest.mark.parametrize("canary, recovered", [
    ([result("a", "restarted", wait=_wait(True)), result("b", "skipped", wait=None)], True),  # a job healthy meanwhile needs none
    ([], True),
    ([result("a", "restarted", wait=_wait(True)), result("b", "restarted", wait=_wait(False))], False),
    ([result("a", "failed")], False),
    ([result("a", "unknown")], False),  # a restart whose answer was lost may have been sent: not a recovery
])
def test_canary_verdict_is_empty_only_when_every_job_recovered(canary, recovered):
    reason = canary_verdict(canary)
    assert (reason == "") is recovered
    assert recovered or ("b" in reason or "a" in reason)


def test_held_back_note_counts_the_jobs_not_restarted():
    assert held_back_note([]) == ""
    assert held_back_note([{"job_id": "x"}] * 3) == ". The canary did not recover: 3 other jobs were not restarted (held_back)"
