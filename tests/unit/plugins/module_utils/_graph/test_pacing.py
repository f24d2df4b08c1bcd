# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Pacer: acts only on evidence of an empty bucket, spaces by Retry-After, widens under pressure, eases off."""

from __future__ import annotations

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
    for _round in range(50):
        clock.now += 0.01
        pacer.answered(True, 0.01, pacer.stamp())   # sent on a paced slot and still throttled: widen, capped
    assert pacer.spacing == pytest.approx(0.01 * pacing.PACE_CAP)


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
