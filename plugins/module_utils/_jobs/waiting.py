# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Waiting for restarted jobs to become healthy: the pure decisions (healthy, relapsed, backoff) and the poll loop.

Only GETs are sent while waiting; nothing is ever POSTed again. Many jobs are waited on together: one loop keeps
each job's next poll time and sends the polls that are due through the bounded pool (concurrency.run_bounded), so a
thousand waiting jobs never hold a thousand threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import Job, parse_datetime, status_phrase

__all__ = [
    "BACKOFF_FACTOR",
    "DEFAULT_INTERVAL",
    "DEFAULT_TIMEOUT",
    "MAX_INTERVAL",
    "MAX_TIMEOUT",
    "MIN_INTERVAL",
    "Watch",
    "WaitPolicy",
    "backoff_delays",
    "is_healthy",
    "judge",
    "next_delay",
    "observe",
    "relapsed",
    "report",
    "wait_for",
]

DEFAULT_TIMEOUT = 300
MAX_TIMEOUT = 86400
DEFAULT_INTERVAL = 5.0
MIN_INTERVAL = 0.2
MAX_INTERVAL = 30.0
BACKOFF_FACTOR = 1.5
# Errors that no later poll will cure: stop waiting on that job.
FATAL_STATUSES = (400, 401, 403, 404)


@dataclass(frozen=True)
class WaitPolicy:
    """How long to wait for each job (from its restart) and how often to look: interval, x factor, capped."""

    timeout: float = DEFAULT_TIMEOUT
    interval: float = DEFAULT_INTERVAL
    factor: float = BACKOFF_FACTOR
    cap: float = MAX_INTERVAL

    @classmethod
    def from_options(cls, timeout, interval):
        """From wait_timeout / wait_interval, or InputError saying what to fix."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 1 <= timeout <= MAX_TIMEOUT:
            raise InputError(f"wait_timeout {timeout!r} is out of range: give the seconds to wait for each job, 1 to {MAX_TIMEOUT}")
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            raise InputError(
                f"wait_interval {interval!r} is out of range: give the seconds before the first poll, {MIN_INTERVAL} to {MAX_INTERVAL:g} "
                f"(later polls back off x{BACKOFF_FACTOR:g} up to {MAX_INTERVAL:g} s)"
            )
        return cls(timeout=float(timeout), interval=float(interval))


def next_delay(previous: float | None, policy: WaitPolicy) -> float:
    """The pause before the next poll: the initial interval first, then x factor, never above the cap."""
    if previous is None:
        return min(policy.interval, policy.cap)
    return min(previous * policy.factor, policy.cap)


def backoff_delays(policy: WaitPolicy) -> list[float]:
    """Every pause of a full wait that never sees a healthy job; they add up to exactly policy.timeout.

    The last pause is cut short so that the last poll happens at the deadline, not after it.
    """
    delays: list[float] = []
    elapsed = 0.0
    delay = None
    while elapsed < policy.timeout:
        delay = next_delay(delay, policy)
        step = min(delay, policy.timeout - elapsed)
        delays.append(step)
        elapsed += step
    return delays


# ---------------------------------------------------------------------------------------------------
# What a poll tells

def _no_quarantine(job: Job) -> bool:
    quarantine = job.quarantine
    # Graph may send an empty quarantine object (empty-string reason and dates) on a job that is not quarantined.
    return quarantine is None or (quarantine.reason is None and quarantine.current_began is None)


def is_healthy(job: Job) -> bool:
    """Status code Active and no quarantine: the job left quarantine and runs on its schedule."""
    return job.status_code == "Active" and _no_quarantine(job)


def relapsed(job: Job, before: Job | None, restarted_at: datetime) -> bool:
    """Back in quarantine after the restart: a quarantine that began after the restart was sent.

    A quarantine whose currentBegan is the one seen before the restart is the old one (the restart has not
    taken effect yet): not a relapse. Without a readable currentBegan nothing can be said: not a relapse
    (the wait goes on until wait_timeout).
    """
    if job.status_code != "Quarantine" or job.quarantine is None:
        return False
    began = parse_datetime(job.quarantine.current_began)
    if began is None:
        return False
    if before is not None and before.quarantine is not None and before.quarantine.current_began == job.quarantine.current_began:
        return False
    return began > restarted_at


def judge(job: Job, before: Job | None, restarted_at: datetime) -> str:
    """healthy, relapsed or waiting."""
    if is_healthy(job):
        return "healthy"
    if relapsed(job, before, restarted_at):
        return "relapsed"
    return "waiting"


# ---------------------------------------------------------------------------------------------------
# One job being waited on

@dataclass(frozen=True)
class Watch:
    """One restarted job being waited on. ``started`` and ``due`` are monotonic seconds; ``restarted_at`` is UTC.

    ``verdict`` is None while waiting, then healthy, relapsed, timeout or error.
    """

    key: object
    before: Job | None
    restarted_at: datetime
    started: float
    due: float
    delay: float | None = None
    polls: int = 0
    last: Job | None = None
    error: str | None = None
    verdict: str | None = None
    finished: float | None = None

    @classmethod
    def begin(cls, key, before, restarted_at, started, policy):
        first = next_delay(None, policy)
        return cls(key=key, before=before, restarted_at=restarted_at, started=started, due=started + min(first, policy.timeout), delay=first)

    @property
    def done(self) -> bool:
        return self.verdict is not None


def observe(watch: Watch, now: float, policy: WaitPolicy, job: Job | None = None, error: str | None = None, fatal: bool = False) -> Watch:
    """The watch after one poll that returned ``job`` (or failed with ``error``) at monotonic time ``now``. Pure."""
    polls = watch.polls + 1
    if job is None:
        watch = replace(watch, polls=polls, error=error)
        if fatal:
            return replace(watch, verdict="error", finished=now)
    else:
        watch = replace(watch, polls=polls, last=job, error=None)
        verdict = judge(job, watch.before, watch.restarted_at)
        if verdict != "waiting":
            return replace(watch, verdict=verdict, finished=now)
    deadline = watch.started + policy.timeout
    if now >= deadline:
        return replace(watch, verdict="timeout", finished=now)
    delay = next_delay(watch.delay, policy)
    return replace(watch, delay=delay, due=min(now + delay, deadline))


def report(watch: Watch, policy: WaitPolicy) -> dict:
    """The ``wait`` entry of a restarted job's result."""
    job = watch.last
    waited = round(max(0.0, (watch.finished or watch.started) - watch.started), 1)
    verdict = watch.verdict
    if verdict == "healthy":
        why = f"Active and out of quarantine after {waited:g} s ({watch.polls} polls)"
    elif verdict == "relapsed":
        began = job.quarantine.current_began if job and job.quarantine else None
        why = f"relapsed: back in quarantine ({job.quarantine_reason}) since {began}, after the restart"
    elif verdict == "error":
        why = f"stopped waiting: reading the job failed: {watch.error}"
    else:
        why = f"not healthy within wait_timeout {policy.timeout:g} s: {status_phrase(job)}"
        if watch.error:
            why += f"; the last poll failed: {watch.error}"
    return {
        "healthy": verdict == "healthy",
        "relapsed": verdict == "relapsed",
        "status_code_after": job.status_code if job else None,
        "quarantine_reason_after": job.quarantine_reason if job else None,
        "schedule_state_after": job.schedule_state if job else None,
        "waited_seconds": waited,
        "polls": watch.polls,
        "reason": why,
    }


# ---------------------------------------------------------------------------------------------------
# The poll loop

def wait_for(watches, poll, policy, run_many, clock=time.monotonic, sleep=time.sleep):
    """Poll every watch until each is done; returns the finished watches in the given order.

    ``poll(watch)`` returns ``(job, error_text, fatal)``: a parsed Job, or None with the error. ``run_many(items,
    worker)`` runs ``worker`` over the items that are due (bounded, order kept). Only reads: never sends a POST.
    """
    watches = list(watches)
    while True:
        pending = [index for index, watch in enumerate(watches) if not watch.done]
        if not pending:
            return watches
        now = clock()
        due = [index for index in pending if watches[index].due <= now]
        if not due:
            sleep(max(0.0, min(watches[index].due for index in pending) - now))
            continue
        polled = run_many(due, lambda index: poll(watches[index]))
        for index, (job, error, fatal) in zip(due, polled, strict=True):
            watches[index] = observe(watches[index], clock(), policy, job=job, error=error, fatal=fatal)
