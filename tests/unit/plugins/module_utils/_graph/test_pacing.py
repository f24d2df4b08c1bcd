# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Pacer: acts only on evidence of an empty bucket, spaces by Retry-After, widens under pressure, eases off."""

from __future__ import annotations

import heapq
import random

import pytest

from ansible_collections.entra.sync.plugins.module_utils._graph import pacing
from ansible_collections.entra.sync.plugins.module_utils._graph.pacing import Pacer, rate_for_spacing, spacing_for_rate


def saturate(pacer, retry_after=0.05):
    """The first wave against a bucket with no burst: every answer a 429. Returns whether any asked to pause all."""
    return [pacer.answered(True, retry_after, pacer.stamp()) for _round in range(pacing.PACE_EVIDENCE)]


def test_the_pacer_does_nothing_until_throttled(clock):
    pacer = Pacer()
    for _round in range(50):
        assert pacer.answered(False) is False
    pacer.take(5)
    assert clock.sleeps == [] and not pacer.active and pacer.rate is None


def test_429s_below_the_evidence_change_nothing(clock):
    pacer = Pacer()
    pauses = [pacer.answered(True, 0.3) for _round in range(pacing.PACE_EVIDENCE - 1)]
    pauses += [pacer.answered(True, 5.0)]
    assert pauses[:-1] == [False] * (pacing.PACE_EVIDENCE - 1)
    assert not pacer.active


@pytest.mark.parametrize("seed", range(5))
def test_random_refusals_at_ten_percent_never_slow_a_long_run(clock, seed):
    """The chaos profile: 10% of answers are 429 at random, Retry-After 0.05-0.6 s. None of it is a bucket."""
    rng = random.Random(seed)
    pacer = Pacer()
    pauses = 0
    for _round in range(20000):
        pacer.take()
        pauses += pacer.answered(rng.random() < 0.10, rng.uniform(0.05, 0.6), pacer.stamp())
        clock.now += 0.005
    assert clock.sleeps == [] and pauses == 0 and not pacer.active


@pytest.mark.parametrize("seed", range(3))
def test_random_item_refusals_of_a_long_running_source_never_pace_it(clock, seed):
    """The week soak's finding: 10% of the items of every $batch envelope refused at random, 200,000 answers (an hour
    of a source reading 1,000 jobs a second in envelopes of 20). With evidence at 10 of 20 this paced about once in
    half an hour, at a pace random Retry-Afters set, which then took minutes to ease."""
    rng = random.Random(seed)
    pacer = Pacer()
    for _envelope in range(10000):
        pacer.take(20)
        sent_at = pacer.stamp()
        clock.now += 0.01
        for _item in range(20):
            pacer.answered(rng.random() < 0.10, rng.uniform(0.05, 0.6), sent_at)
    assert not pacer.active and clock.sleeps == []


def test_a_saturated_bucket_sets_the_spacing_from_its_retry_after(clock):
    pacer = Pacer()
    assert saturate(pacer, 0.05) == [False] * pacing.PACE_EVIDENCE
    spacing = 0.05 * pacing.PACE_START
    assert pacer.spacing == pytest.approx(spacing)
    assert pacer.rate == rate_for_spacing(spacing)
    pacer.take()          # first slot: now
    pacer.take()          # next slot: one spacing later
    pacer.take(3)         # a batch of three goes when its last slot is due
    assert clock.sleeps == [pytest.approx(spacing), pytest.approx(3 * spacing)]


def test_a_long_retry_after_with_evidence_pauses_every_worker_instead_of_pacing(clock):
    pacer = Pacer()
    pauses = saturate(pacer, 5.0)
    assert pauses[-1] is True and not any(pauses[:-1])
    assert not pacer.active


def test_paced_requests_still_refused_widen_the_spacing_within_a_cap(clock):
    pacer = Pacer()
    before = pacer.stamp()
    saturate(pacer, 0.01)
    first = pacer.spacing
    for _round in range(5):
        pacer.answered(True, 0.01, before)   # sent before the pacing began: the same overload, no new information
    assert pacer.spacing == first
    for ok in range(pacing.PACE_WINDOW):
        # Each widening lowers the share of refusals a little (the bucket's doing): widen again, up to the cap.
        clock.now += 0.01
        for _answer in range(ok):
            pacer.answered(False, sent_at=pacer.stamp())
        for _answer in range(pacing.PACE_WINDOW - ok):
            pacer.answered(True, 0.01, pacer.stamp())
    assert pacer.spacing == pytest.approx(0.01 * pacing.PACE_CAP)


def test_refusals_that_do_not_fall_when_the_pace_falls_widen_it_no_more(clock):
    pacer = Pacer()
    saturate(pacer, 0.01)
    for _round in range(20):
        # Every paced request refused, whatever the pace: one widening, then the share did not fall.
        clock.now += 0.01
        for _answer in range(pacing.PACE_WINDOW):
            pacer.answered(True, 0.01, pacer.stamp())
    assert pacer.spacing == pytest.approx(0.01 * pacing.PACE_START * pacing.PACE_WIDEN)


@pytest.mark.parametrize("spacing, asked, share, before, last, expected", [
    (0.011, 0.01, 0.5, None, pacing.STARTED, 0.0121),     # first pressure after pacing began: widen
    (0.0121, 0.01, 0.3, 0.5, pacing.WIDENED, 0.013),      # the share fell with the pace: widen, within the cap
    (0.0121, 0.01, 0.5, 0.5, pacing.WIDENED, 0.0121),     # it did not fall: random refusals, keep the pace
    (0.0121, 0.01, 0.6, 0.3, pacing.WIDENED, 0.0121),     # it rose: not the pace's doing either
    (0.0104, 0.01, 0.6, 0.3, pacing.EASED, 0.01144),      # rose after easing: the bucket again, widen
    (0.013, 0.01, 0.9, None, pacing.EASED, 0.013),        # at the cap: the Retry-After's pace is the slowest
    (0.2, 0.01, 0.9, None, pacing.STARTED, 0.2),          # never narrows
])
def test_widen_to_follows_the_share_of_refusals(spacing, asked, share, before, last, expected):
    assert pacing.widen_to(spacing, asked, share, before, last) == pytest.approx(expected)


@pytest.mark.parametrize("answers, expected", [
    ([], 0.0),
    ([(False, None), (True, None), (True, 5.0)], 0.0),                    # no short Retry-After: nothing to pace by
    ([(True, 0.003)] * 10, 0.003),
    ([(True, 0.001), (True, 0.002), (True, 0.003), (True, 0.0025)], 0.003),  # the bucket's waits: its interval
    ([(True, 0.002)] * 8 + [(True, 0.45), (True, 0.3)], 0.002),          # a random refusal's long wait is left out
    ([(True, 0.05), (True, 0.04), (True, 0.12), (False, None)], 0.12),   # within three medians: the bucket's
])
def test_the_spacing_asked_for_is_the_buckets_wait_not_a_random_refusals(answers, expected):
    assert pacing.asked_spacing(answers) == pytest.approx(expected)


class Bucket:
    """Graph's token bucket for one kind of request (the sandbox's rule: tokens refill at `rate`, up to `burst`)."""

    def __init__(self, rate, burst):
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, float(burst), 0.0

    def wait(self, now):
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


def poll_for_ten_minutes(clock, seed, noise=0.10, workers=10, jobs=1000, rate=350.0, latency=0.005):
    """Polls of `jobs` reads, back to back for 600 simulated seconds, by `workers` sharing one Pacer, against a bucket
    of `rate` reads/s, `noise` of the answers a random 429 (Retry-After 0.05 to 0.6 s, the chaos profile's), each
    refused read waiting its Retry-After as the client does. Returns (seconds per poll, widest spacing seen)."""
    rng = random.Random(seed)
    pacer, bucket = Pacer(), Bucket(rate, burst=20)
    ready = [(0.0, worker) for worker in range(workers)]
    read, poll_started, polls, widest = 0, 0.0, [], 0.0
    while ready[0][0] < 600:
        clock.now, worker = heapq.heappop(ready)
        pacer.take()
        sent_at = pacer.stamp()
        retry_after = rng.uniform(0.05, 0.6) if rng.random() < noise else bucket.wait(clock.now)
        clock.now += latency
        pacer.answered(retry_after is not None, retry_after, sent_at)
        widest = max(widest, pacer.spacing)
        if retry_after is None:
            read += 1
            if read % jobs == 0:
                polls.append(clock.now - poll_started)
                poll_started = clock.now
        heapq.heappush(ready, (clock.now + (retry_after or 0.0), worker))
    return polls, widest


@pytest.mark.parametrize("seed", range(2))
def test_a_saturated_bucket_under_random_refusals_keeps_its_pace_for_ten_minutes(clock, seed):
    """The soak's finding: 1,000-job polls against the 350 reads/s bucket with 10% random 429s. The old rule let each
    random refusal's long Retry-After set the pace and kept widening it: 7 reads/s, a poll every 2 minutes and more."""
    polls, widest = poll_for_ten_minutes(clock, seed)
    assert polls[-1] < 2 * polls[0], "the polls got slower: %s" % polls
    assert 1000 / polls[-1] > 350 / 2
    assert widest <= pacing.PACE_CAP * 1.5 / 350


def test_the_same_bucket_without_random_refusals_is_read_at_its_rate(clock):
    polls, _widest = poll_for_ten_minutes(clock, seed=0, noise=0.0)
    assert 1000 / polls[-1] == pytest.approx(350, rel=0.05)


def test_a_stray_429_while_paced_does_not_widen(clock):
    pacer = Pacer()
    saturate(pacer, 0.05)
    paced = pacer.spacing
    for _round in range(pacing.PACE_WINDOW):
        pacer.answered(False)
    clock.now += 0.01
    pacer.answered(True, 0.05, pacer.stamp())
    assert pacer.spacing == paced


def test_the_spacing_eases_off_when_paced_requests_go_through(clock):
    pacer = Pacer()
    saturate(pacer, 0.4)
    paced = pacer.spacing
    pacer.take()
    assert pacer.spacing == paced, "the latest answers are still 429s: keep the spacing"
    for _round in range(pacing.PACE_WINDOW):
        pacer.answered(False)
    clock.now += pacing.PACE_QUIET + 0.1
    pacer.take()
    assert pacer.spacing == pytest.approx(paced * pacing.PACE_EASE)
    pacer.take()
    assert pacer.spacing == pytest.approx(paced * pacing.PACE_EASE), "no answers to the new pace yet: no second step"
    for _round in range(200):
        clock.now += 0.001
        for _answer in range(pacing.PACE_WINDOW // 2):
            pacer.answered(False, sent_at=pacer.stamp())
        clock.now += pacing.PACE_QUIET + 0.1
        pacer.take()
    assert pacer.spacing == 0.0 and not pacer.active


def test_a_starting_rate_paces_from_the_first_request_and_eases_like_a_learned_one(clock):
    pacer = Pacer(spacing=spacing_for_rate(20))
    assert pacer.active and pacer.rate == 20.0
    pacer.take()
    pacer.take()
    assert clock.sleeps == [pytest.approx(0.05)]
    for _answer in range(pacing.PACE_WINDOW // 2):
        clock.now += 0.001
        pacer.answered(False, sent_at=pacer.stamp())
    clock.now += pacing.PACE_QUIET + 0.1
    pacer.take()
    assert pacer.spacing == pytest.approx(0.05 * pacing.PACE_EASE)


@pytest.mark.parametrize("rate, spacing", [(None, 0.0), (0, 0.0), (20, 0.05), (0.5, 2.0)])
def test_rate_and_spacing_convert(rate, spacing):
    assert spacing_for_rate(rate) == pytest.approx(spacing)
    if spacing:
        assert rate_for_spacing(spacing) == pytest.approx(rate)
    else:
        assert rate_for_spacing(spacing) is None


def test_a_fast_bucket_stays_paced_when_the_pace_eases(clock):
    """The read bucket allows 350 per second: its spacing (about 3 ms) eases off step by step, not to nothing at once."""
    pacer = Pacer()
    saturate(pacer, 1 / 350)
    clock.now += 0.001
    for _answer in range(pacing.PACE_WINDOW // 2):
        pacer.answered(False, sent_at=pacer.stamp())
    clock.now += pacing.PACE_QUIET + 0.1
    pacer.take()
    assert pacer.active and pacer.spacing == pytest.approx(1 / 350 * pacing.PACE_START * pacing.PACE_EASE)
