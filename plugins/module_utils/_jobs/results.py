# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the modules report: the actions, the summary, the failure message, diff mode and the unhealthy jobs.

Pure: no I/O. A result is the dict one job gets in ``results``; an outcome is restart.Outcome (its ``result``,
the status ``found`` before and, for sync_job, the status ``expected`` after).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "ACTIONS",
    "FAILED_ACTIONS",
    "REMEDY_KEYS",
    "STATE_ACTIONS",
    "failure_message",
    "job_result",
    "restart_diff",
    "state_diff",
    "summarize",
    "unhealthy_jobs",
]

# Every action sync_job_restart reports.
ACTIONS = ("restarted", "would_restart", "skipped", "failed", "unknown")
# Every action sync_job reports.
STATE_ACTIONS = ("started", "paused", "would_start", "would_pause", "skipped", "failed", "unknown")
# The actions that fail the task.
FAILED_ACTIONS = ("failed", "unknown")
_RESTART_ACTIONS = ("restarted", "would_restart")
# How many failures a message names; the rest are in the results.
_LISTED_AT_MOST = 3


# What fixes the job (remedy.Remedy.to_dict()): in every result, None when the job could not be read.
REMEDY_KEYS = ("remedy", "remedy_reason", "disables_at")


def job_result(service_principal_id: str, job_id: str, action: str, reason: str, job: object = None, extra: Mapping | None = None,
               remedy: Mapping | None = None) -> dict:
    """The one result dict of a job; ``extra`` adds the module's own keys (reset_scope for restarts), ``remedy`` the
    job's remedy, remedy_reason and disables_at."""
    result = {
        "service_principal_id": service_principal_id,
        "job_id": job_id,
        "template_id": job.template_id if job else None,
        "status_code": job.status_code if job else None,
        "action": action,
        "reason": reason,
    }
    result.update({key: (remedy or {}).get(key) for key in REMEDY_KEYS})
    result.update(extra or {})
    return result


def summarize(results: Iterable, actions: tuple[str, ...] = ACTIONS) -> dict[str, int]:
    """Counts per action, every one of ``actions`` present, plus total.

    A result is a dict with an ``action`` key or an object with an ``action`` attribute. A result without a
    known action is counted as unknown: its outcome is not known, and the summary must still add up.
    """
    counts = dict.fromkeys(actions, 0)
    total = 0
    for result in results:
        action = result.get("action") if isinstance(result, Mapping) else getattr(result, "action", None)
        counts[action if isinstance(action, str) and action in actions else "unknown"] += 1
        total += 1
    counts["total"] = total
    return counts


def _listed(items: list, describe: Callable) -> str:
    shown = "; ".join(describe(item) for item in items[:_LISTED_AT_MOST])
    more = " (and %d more, see results)" % (len(items) - _LISTED_AT_MOST) if len(items) > _LISTED_AT_MOST else ""
    return shown + more


def failure_message(results: list, unhealthy: Iterable = ()) -> str:
    """The task's message when jobs failed, have an unknown outcome, or (with wait) did not become healthy."""
    parts = []
    bad = [result for result in results if result["action"] in FAILED_ACTIONS]
    if bad:
        parts.append("%d of %d jobs failed or have an unknown outcome: %s" % (
            len(bad), len(results), _listed(bad, lambda r: "%s/%s %s: %s" % (r["service_principal_id"], r["job_id"], r["action"], r["reason"]))))
    if unhealthy:
        restarted = sum(1 for result in results if result["action"] == "restarted")
        parts.append("%d of %d restarted jobs did not become healthy: %s" % (
            len(unhealthy), restarted, _listed(list(unhealthy), lambda u: "%s/%s: %s" % (u["service_principal_id"], u["job_id"], u["reason"]))))
    return ". ".join(parts)


def _diff(outcomes: Iterable, after_of: Callable) -> dict:
    """Diff mode's before/after, keyed "<service principal id>/<job id>", for the outcomes ``after_of`` gives a status."""
    before, after = {}, {}
    for outcome in outcomes:
        expected = after_of(outcome) if outcome.found is not None else None
        if expected is None:
            continue
        key = "%s/%s" % (outcome.result["service_principal_id"], outcome.result["job_id"])
        before[key] = outcome.found
        after[key] = expected
    return {"before": before, "after": after}


def _after_restart(outcome) -> dict | None:
    result = outcome.result
    if result["action"] not in _RESTART_ACTIONS:
        return None
    return dict(outcome.found, restart_requested=True, reset_scope=result["reset_scope"])


def restart_diff(outcomes: Iterable) -> dict:
    """sync_job_restart's diff: each restarted (or would-be restarted) job's status, and the restart asked for."""
    return _diff(outcomes, _after_restart)


def state_diff(outcomes: Iterable) -> dict:
    """sync_job's diff: each started or paused (or would-be) job's status, and the status expected after."""
    return _diff(outcomes, lambda outcome: outcome.expected)


def canary_verdict(results: list) -> str:
    """Why a canary did not recover, '' when it did: each of its jobs was restarted (or needed no restart) and became
    healthy. The jobs after it are restarted only on ''."""
    return failure_message(results, unhealthy_jobs(results))


def held_back_note(held_back: list) -> str:
    """The end of a failed task's message when a canary held jobs back ('' when it held none)."""
    return ". The canary did not recover: %d other jobs were not restarted (held_back)" % len(held_back) if held_back else ""


def unhealthy_jobs(results: Iterable) -> list[dict]:
    """The restarted jobs whose wait did not end healthy, in result order."""
    return [
        {
            "service_principal_id": result["service_principal_id"],
            "job_id": result["job_id"],
            "status_code_after": result["wait"]["status_code_after"],
            "quarantine_reason_after": result["wait"]["quarantine_reason_after"],
            "relapsed": result["wait"]["relapsed"],
            "reason": result["wait"]["reason"],
        }
        for result in results
        if result.get("wait") and not result["wait"]["healthy"]
    ]
