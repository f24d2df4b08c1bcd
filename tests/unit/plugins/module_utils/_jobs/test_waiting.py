# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for waiting: healthy / relapsed, the backoff schedule, one watch's steps and the poll loop (fake clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_job, status_phrase
from ansible_collections.entra.sync.plugins.module_utils._jobs.waiting import (
    WaitPolicy,
    Watch,
    backoff_delays,
    is_healthy,
    judge,
    next_delay,
    observe,
    relapsed,
    report,
    wait_for,
)

RESTARTED_AT = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
OLD_BEGAN = "2025-05-30T08:00:00Z"
NEW_BEGAN = "2025-06-01T12:00:05.1234567Z"


def job(code="Active", reason=None, began=None, schedule="Active", empty_quarantine=False):
    status = {"code": code, "quarantine": None}
    if reason or began:
        status["quarantine"] = {"reason": reason or "", "currentBegan": began or ""}
    if empty_quarantine:
        status["quarantine"] = {"reason": "", "currentBegan": "", "nextAttempt": "", "seriesBegan": "", "seriesCount": 0}
    return parse_job({"id": "scim.x", "templateId": "scim", "schedule": {"state": schedule}, "status": status})


BEFORE = job("Quarantine", "EncounteredQuarantineException", OLD_BEGAN)


# ---- healthy / relapsed ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("candidate, healthy", [
    (job("Active"), True),
    (job("Active", empty_quarantine=True), True),  # an empty quarantine object is no quarantine
    (job("Active", "EncounteredQuarantineException", OLD_BEGAN), False),
    (job("Quarantine", "EncounteredQuarantineException", OLD_BEGAN), False),
    (job("Paused", "TooManyDeletes", OLD_BEGAN), False),
    (job("Paused", schedule="Paused"), False),
    (job("NotRun"), False),
    (job("NotConfigured"), False),
    (job(None), False),
])
def test_is_healthy(candidate, healthy):
    assert is_healthy(candidate) is healthy


def test_relapse_needs_a_new_quarantine_that_began_after_the_restart():
    assert relapsed(job("Quarantine", "EncounteredQuarantineException", NEW_BEGAN), BEFORE, RESTARTED_AT)
    # the quarantine seen before the restart: the restart has not taken effect yet
    assert not relapsed(job("Quarantine", "EncounteredQuarantineException", OLD_BEGAN), BEFORE, RESTARTED_AT)
    # same currentBegan as before, even if it looks newer than our clock (skew): not a relapse
    before_new = job("Quarantine", "EncounteredQuarantineException", NEW_BEGAN)
    assert not relapsed(job("Quarantine", "EncounteredQuarantineException", NEW_BEGAN), before_new, RESTARTED_AT)
    # began before the restart (another old quarantine): not a relapse
    assert not relapsed(job("Quarantine", "Unknown", "2025-06-01T11:59:59Z"), BEFORE, RESTARTED_AT)
    # no readable currentBegan: undecidable, keep waiting
    assert not relapsed(job("Quarantine", "Unknown", ""), BEFORE, RESTARTED_AT)
    assert not relapsed(job("Quarantine", "Unknown", "0001-01-01T00:00:00Z"), BEFORE, RESTARTED_AT)
    # not quarantined: not a relapse
    assert not relapsed(job("Paused", "Unknown", NEW_BEGAN), BEFORE, RESTARTED_AT)
    assert not relapsed(job("Active"), BEFORE, RESTARTED_AT)
    # no job read before (a job found by listing): only the time counts
    assert relapsed(job("Quarantine", "Unknown", NEW_BEGAN), None, RESTARTED_AT)


def test_judge():
    assert judge(job("Active"), BEFORE, RESTARTED_AT) == "healthy"
    assert judge(job("Quarantine", "Unknown", NEW_BEGAN), BEFORE, RESTARTED_AT) == "relapsed"
    assert judge(job("Quarantine", "Unknown", OLD_BEGAN), BEFORE, RESTARTED_AT) == "waiting"
    assert judge(job("NotRun"), BEFORE, RESTARTED_AT) == "waiting"


# ---- backoff ----------------------------------------------------------------------------------------------------------

def test_backoff_grows_by_half_and_is_capped():
    policy = WaitPolicy(timeout=300, interval=5)
    delays = backoff_delays(policy)
    assert delays[:6] == pytest.approx([5, 7.5, 11.25, 16.875, 25.3125, 30])
    assert max(delays) == 30
    assert sum(delays) == pytest.approx(300)
    assert all(delay > 0 for delay in delays)


def test_backoff_is_bounded_by_the_timeout():
    policy = WaitPolicy(timeout=3, interval=0.2)
    delays = backoff_delays(policy)
    assert sum(delays) == pytest.approx(3)
    assert delays[:4] == pytest.approx([0.2, 0.3, 0.45, 0.675])
    assert delays[-1] <= delays[-2] * 1.5  # the last pause is cut to end at the deadline
    # an interval longer than the timeout: one poll, at the deadline
    assert backoff_delays(WaitPolicy(timeout=2, interval=5)) == [2]


def test_next_delay():
    policy = WaitPolicy(timeout=100, interval=20)
    assert next_delay(None, policy) == 20
    assert next_delay(20, policy) == 30
    assert next_delay(30, policy) == 30


@pytest.mark.parametrize("timeout, interval", [(0, 5), (-1, 5), (86401, 5), (True, 5), ("60", 5), (60, 0.1), (60, 31), (60, 0), (60, None)])
def test_policy_refuses_out_of_range(timeout, interval):
    with pytest.raises(InputError):
        WaitPolicy.from_options(timeout, interval)


def test_policy_from_options():
    assert WaitPolicy.from_options(3, 0.2) == WaitPolicy(timeout=3.0, interval=0.2)
    assert WaitPolicy.from_options(300, 5) == WaitPolicy()


# ---- one watch -----------------------------------------------------------------------------------------------------

POLICY = WaitPolicy(timeout=10, interval=1)


def begin(started=100.0, before=BEFORE):
    return Watch.begin("k", before, RESTARTED_AT, started, POLICY)


def test_watch_polls_follow_the_backoff_until_the_deadline():
    watch = begin()
    assert watch.due == 101.0
    times = []
    while not watch.done:
        times.append(watch.due)
        watch = observe(watch, watch.due, POLICY, job=job("Quarantine", "Unknown", OLD_BEGAN))
    # 1, 1.5, 2.25, 3.375 -> cumulative 1, 2.5, 4.75, 8.125, then the deadline at 10
    assert [t - 100 for t in times] == pytest.approx([1, 2.5, 4.75, 8.125, 10])
    assert watch.verdict == "timeout" and watch.polls == 5
    rep = report(watch, POLICY)
    assert rep == {
        "healthy": False, "relapsed": False, "status_code_after": "Quarantine", "quarantine_reason_after": "Unknown",
        "schedule_state_after": "Active", "waited_seconds": 10.0, "polls": 5,
        "reason": "not healthy within wait_timeout 10 s: status Quarantine (Unknown)",
    }


def test_watch_healthy_stops():
    watch = observe(begin(), 101.0, POLICY, job=job("Active"))
    assert watch.done and watch.verdict == "healthy"
    rep = report(watch, POLICY)
    assert rep["healthy"] is True and rep["relapsed"] is False and rep["polls"] == 1 and rep["waited_seconds"] == 1.0
    assert rep["status_code_after"] == "Active" and rep["quarantine_reason_after"] is None


def test_watch_relapse_stops_early():
    watch = observe(begin(), 101.0, POLICY, job=job("Quarantine", "EncounteredQuarantineException", NEW_BEGAN))
    assert watch.verdict == "relapsed"
    rep = report(watch, POLICY)
    assert rep["healthy"] is False and rep["relapsed"] is True and "relapsed" in rep["reason"] and NEW_BEGAN in rep["reason"]


def test_watch_transient_error_keeps_waiting_and_a_fatal_one_stops():
    watch = observe(begin(), 101.0, POLICY, error="503 Service Unavailable")
    assert not watch.done and watch.error == "503 Service Unavailable"
    watch = observe(watch, watch.due, POLICY, job=job("Active"))
    assert watch.verdict == "healthy" and watch.error is None and watch.polls == 2
    stopped = observe(begin(), 101.0, POLICY, error="404 not found", fatal=True)
    assert stopped.verdict == "error"
    rep = report(stopped, POLICY)
    assert rep["healthy"] is False and rep["status_code_after"] is None and "404 not found" in rep["reason"]


def test_watch_times_out_with_the_last_error():
    watch = observe(begin(), 110.5, POLICY, error="timed out")
    assert watch.verdict == "timeout"
    assert "the last poll failed: timed out" in report(watch, POLICY)["reason"]


# ---- the loop --------------------------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_for_many_jobs_on_one_clock():
    clock = FakeClock()
    policy = WaitPolicy(timeout=20, interval=2)
    # job a: healthy on its 2nd poll; b: relapses on its 1st; c: never healthy
    scripts = {
        "a": [job("Quarantine", "Unknown", OLD_BEGAN), job("Active")],
        "b": [job("Quarantine", "Unknown", NEW_BEGAN)],
        "c": [job("Quarantine", "Unknown", OLD_BEGAN)] * 50,
    }
    polled = []
    batches = []

    def poll(watch):
        polled.append((watch.key, clock.now))
        return scripts[watch.key].pop(0), None, False

    def run_many(items, worker):
        batches.append(len(items))
        return [worker(item) for item in items]

    watches = [Watch.begin(key, BEFORE, RESTARTED_AT, 0.0, policy) for key in "abc"]
    done = wait_for(watches, poll, policy, run_many, clock=clock, sleep=clock.sleep)
    assert [w.key for w in done] == ["a", "b", "c"]
    assert [w.verdict for w in done] == ["healthy", "relapsed", "timeout"]
    assert [w.polls for w in done] == [2, 1, len(backoff_delays(policy))]
    assert batches[0] == 3  # the first polls of all three are due together: one batch through the pool
    assert clock.now == pytest.approx(20)
    assert [t for key, t in polled if key == "c"] == pytest.approx([sum(backoff_delays(policy)[:n + 1]) for n in range(done[2].polls)])


def test_wait_for_nothing():
    assert wait_for([], lambda watch: None, POLICY, lambda items, worker: [], clock=lambda: 0.0, sleep=lambda s: None) == []


@pytest.mark.parametrize("last, words", [
    (job("Paused", "TooManyDeletes", OLD_BEGAN, schedule="Paused"), "status Paused, quarantine reason TooManyDeletes"),
    (job(None), "status unknown"),
    (None, "status unknown"),
])
def test_timeout_report_words_the_status_as_the_decisions_do(last, words):
    watch = replace(begin(), polls=3, last=last, verdict="timeout", finished=110.0)
    assert report(watch, POLICY)["reason"] == f"not healthy within wait_timeout 10 s: {words}"
    if last is not None:
        assert status_phrase(last) == words
