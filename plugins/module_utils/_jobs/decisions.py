# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The two decisions about one job: restart it or not (restart_if), and start or pause it or not (sync_job's state).

Pure: no I/O. Microsoft warns against calling start repeatedly while a job runs (graph-facts.md), so an Active,
NotRun or NotConfigured job is never started, and a job whose status can't be read is never started either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import Job, describe_status, last_run_phrase, parse_job, schedule_phrase, status_phrase
from ansible_collections.entra.sync.plugins.module_utils._jobs.scope import parse_reset_scope
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import show_value

__all__ = [
    "ESCROWS_PRUNED_WARNING",
    "JOB_STATES",
    "RESTART_CONDITIONS",
    "Decision",
    "StateDecision",
    "decide_restart",
    "decide_state",
    "expected_status",
    "matching_conditions",
    "status_after_restart",
    "validate_choices",
    "validate_conditions",
    "validate_state",
]


# ---------------------------------------------------------------------------------------------------
# restart_if: restart or leave alone

RESTART_CONDITIONS = ("always", "quarantined", "failed", "entry_errors", "paused")


def validate_choices(values: object, valid: tuple[str, ...], option: str, what: str, empty_hint: str) -> list[str]:
    """A list option of names (or a comma-separated string) as a deduplicated list in the user's order, lower case, or
    InputError naming ``option`` and the valid names: restart_if, restart_remedies."""
    if isinstance(values, str):
        values = values.split(",") if values.strip() else []
    listed = ", ".join(valid)
    if not isinstance(values, (list, tuple)) or not values:
        raise InputError(f"{option} is empty: give one or more of {listed} ({empty_hint})")
    chosen = []
    for value in values:
        name = value.strip().lower() if isinstance(value, str) else value
        if name not in valid:
            raise InputError(f"{option} {show_value(value)} is not a {what}: the valid ones are {listed}")
        if name not in chosen:
            chosen.append(name)
    return chosen


def validate_conditions(values: object) -> list[str]:
    """restart_if as a deduplicated list in the user's order, or InputError."""
    return validate_choices(values, RESTART_CONDITIONS, "restart_if", "condition", "always restarts whatever the status")


def _paused_phrase(job: Job) -> str:
    return status_phrase(job) if job.status_code == "Paused" else schedule_phrase(job)


# The status conditions are Job properties of the same name; this says which fact a match reports.
_MATCHED_FACT = {
    "quarantined": status_phrase,
    "failed": last_run_phrase,
    "entry_errors": last_run_phrase,
    "paused": _paused_phrase,
}


def matching_conditions(job: Job) -> tuple[str, ...]:
    """The status conditions (all but 'always') that the job matches, in RESTART_CONDITIONS order."""
    return tuple(condition for condition in _MATCHED_FACT if getattr(job, condition))


@dataclass(frozen=True)
class Decision:
    """Whether to restart a job, why (one line for the user), and which restart_if conditions matched."""

    restart: bool
    reason: str
    matched: tuple[str, ...] = ()


# Microsoft's words for a Paused job with escrowsPruned (graph-facts.md): starting or restarting it blindly is wrong.
ESCROWS_PRUNED_WARNING = ("the initial cycle hit the error threshold, pruned escrows and paused (escrowsPruned), "
                          "waiting for the customer to clean up the errors")


def _left_for_cleanup(decision: Decision) -> Decision:
    # Not restarted, so nothing counts as matched (restart is true exactly when a condition matched); the reason names them.
    return Decision(False, f"{decision.reason}, but {ESCROWS_PRUNED_WARNING}: left alone (allow_escrows_pruned overrides)")


def decide_restart(job: Job | Mapping, conditions: object, allow_escrows_pruned: bool = False) -> Decision:
    """Restart or leave alone, and why. Pure; defined for every job, including an unreadable one.

    ``job`` may also be raw Graph job JSON. ``conditions`` is restart_if; InputError if it is invalid. A Paused job with
    escrowsPruned is left alone, whatever matched, unless ``allow_escrows_pruned``.
    """
    if not isinstance(job, Job):
        job = parse_job(job)
    wanted = validate_conditions(conditions)
    if "always" in wanted:
        decision = Decision(True, f"restart_if always: {describe_status(job)}", ("always",))
    else:
        matched = tuple(condition for condition in wanted if getattr(job, condition))
        if not matched:
            return Decision(False, f"{describe_status(job)}: matches none of restart_if [{', '.join(wanted)}]")
        reasons = [f"{_MATCHED_FACT[condition](job)} matches restart_if {condition}" for condition in matched]
        decision = Decision(True, "; ".join(reasons), matched)
    if job.awaiting_cleanup and not allow_escrows_pruned:
        return _left_for_cleanup(decision)
    return decision


# The scopes that lift a quarantine (graph-facts.md); empty criteria do too (the admin center's restart).
_LIFTING_SCOPES = ("QuarantineState", "Full")


def status_after_restart(job: Job, reset_scope: str | None) -> str | None:
    """The status code an accepted restart leaves the job in, as expected (not read back): the fleet report's counts
    after a run that does not read the restarted jobs again. Pure.

    A restart makes the job run a full cycle again, so it is Active, unless the job is quarantined and the scope
    does not lift the quarantine (QuarantineState, Full, or empty criteria), or it is not configured (nothing to run).
    """
    names = parse_reset_scope(reset_scope)
    lifts = not names or any(name in _LIFTING_SCOPES for name in names)
    if job.status_code == "NotConfigured" or (job.quarantined and not lifts):
        return job.status_code
    return "Active"


# ---------------------------------------------------------------------------------------------------
# sync_job's state: start, pause or leave alone

JOB_STATES = ("started", "paused")
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


def decide_state(job: Job | Mapping, state: str, allow_escrows_pruned: bool = False) -> StateDecision:
    """Start or pause, or leave alone, and why. Pure and total: defined for every job, unreadable ones included.

    started: POST start only when the job is quarantined (status Quarantine) or paused (status Paused, with or
    without a quarantine object, or schedule Paused). Active, NotRun and NotConfigured jobs are left alone;
    a status that is missing or unknown fails rather than risk starting a running job.
    A Paused job with escrowsPruned is not started unless ``allow_escrows_pruned``.
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
    if job.awaiting_cleanup and not allow_escrows_pruned:
        return StateDecision(False, "skipped", f"{status}: {ESCROWS_PRUNED_WARNING}: left alone (allow_escrows_pruned overrides)")
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
    """The status diff mode shows after start/pause, as expected (not read back): same keys as job.status_diff."""
    if state == "started":
        return {"status_code": "Active", "schedule_state": "Active", "quarantine_reason": None,
                "last_execution_state": job.last_execution_state}
    # A pause keeps the quarantine object: that is how "code Paused with a quarantine" happens.
    return {"status_code": "Paused", "schedule_state": "Paused", "quarantine_reason": job.quarantine_reason,
            "last_execution_state": job.last_execution_state}
