# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""sync_job's desired state: start only a paused or quarantined job, pause only one that is not paused.

Pure: no I/O. Microsoft warns against calling start repeatedly while a job runs (graph-facts.md), so an Active,
NotRun or NotConfigured job is never started, and a job whose status can't be read is never started either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ansible_collections.entra.sync.plugins.module_utils.exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils.jobs import Job, describe_status, parse_job

__all__ = [
    "JOB_STATES",
    "STATE_ACTIONS",
    "StateDecision",
    "decide_state",
    "expected_status",
    "summarize_states",
    "validate_state",
]

JOB_STATES = ("started", "paused")
# Every action sync_job reports; summarize_states counts each of them.
STATE_ACTIONS = ("started", "paused", "would_start", "would_pause", "skipped", "failed", "unknown")
RUNNING_WARNING = "Microsoft warns against starting a job that is running"


def validate_state(value: object) -> str:
    state = value.strip().lower() if isinstance(value, str) else value
    if state not in JOB_STATES:
        raise InputError(f"state {value!r} is not a job state: use started or paused")
    return state


@dataclass(frozen=True)
class StateDecision:
    """Whether to send POST start/pause (``act``), the action to report, and why (one line for the user).

    ``action`` is the action for a real run when ``act`` is true (``started``/``paused``), else ``skipped`` or
    ``failed``. ``check_action`` is the one to report in check mode.
    """

    act: bool
    action: str
    reason: str

    def check_action(self) -> str:
        if not self.act:
            return self.action
        return "would_start" if self.action == "started" else "would_pause"


def decide_state(job: Job | Mapping, state: str) -> StateDecision:
    """Start or pause, or leave alone, and why. Pure and total: defined for every job, unreadable ones included.

    started: POST start only when the job is quarantined (status Quarantine) or paused (status Paused, with or
    without a quarantine object, or schedule Paused). Active, NotRun and NotConfigured jobs are left alone;
    a status that is missing or unknown fails rather than risk starting a running job.
    paused: POST pause unless the job is already paused (status Paused or schedule Paused).
    """
    if not isinstance(job, Job):
        job = parse_job(job)
    state = validate_state(state)
    status = describe_status(job)
    if state == "paused":
        if job.paused:
            return StateDecision(False, "skipped", f"already paused: {status}")
        return StateDecision(True, "paused", f"{status}: pausing")
    if job.paused:
        return StateDecision(True, "started", f"{status}: paused, starting it")
    if job.quarantined:
        return StateDecision(True, "started", f"{status}: quarantined, starting it")
    if job.status_code in ("Active", "NotRun"):
        return StateDecision(False, "skipped", f"{status}: not paused or quarantined, left alone ({RUNNING_WARNING})")
    if job.status_code == "NotConfigured":
        return StateDecision(
            False, "skipped",
            f"{status}: the job is not configured (no credentials or settings yet), so there is nothing to start; "
            "finish its provisioning setup first",
        )
    return StateDecision(
        False, "failed",
        f"{status}: cannot tell whether the job is running, so it is not started ({RUNNING_WARNING})",
    )


def expected_status(job: Job, state: str) -> dict:
    """The status diff mode shows after start/pause, as expected (not read back): same keys as jobs.status_diff."""
    if state == "started":
        return {"status_code": "Active", "schedule_state": "Active", "quarantine_reason": None,
                "last_execution_state": job.last_execution_state}
    # A pause keeps the quarantine object: that is how "code Paused with a quarantine" happens.
    return {"status_code": "Paused", "schedule_state": "Paused", "quarantine_reason": job.quarantine_reason,
            "last_execution_state": job.last_execution_state}


def summarize_states(results) -> dict[str, int]:
    """Counts per sync_job action, every action present, plus total; an unknown action counts as unknown."""
    counts = dict.fromkeys(STATE_ACTIONS, 0)
    total = 0
    for result in results:
        action = result.get("action") if isinstance(result, Mapping) else getattr(result, "action", None)
        counts[action if action in STATE_ACTIONS else "unknown"] += 1
        total += 1
    counts["total"] = total
    return counts
