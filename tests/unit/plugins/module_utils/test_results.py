# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the results: the summary, the failure message, diff mode and the unhealthy jobs."""

from __future__ import annotations

from ansible_collections.entra.sync.plugins.module_utils.results import ACTIONS, STATE_ACTIONS, summarize

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


def test_summarize_states():
    results = [{"action": "started"}, {"action": "skipped"}, {"action": "skipped"}, {"action": "bogus"}, {}]
    summary = summarize(results, STATE_ACTIONS)
    assert set(summary) == set(STATE_ACTIONS) | {"total"}
    assert (summary["started"], summary["skipped"], summary["unknown"], summary["total"]) == (1, 2, 2, 5)
    assert summarize([], STATE_ACTIONS)["total"] == 0
