# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pacer: spaces the requests of one kind (reads or writes) once Graph shows that its bucket for them is empty.

A 429 alone says little: a busy front end or a fault refuses one request now and then, and slowing every worker for
it would cost far more than the one retry. What marks an empty token bucket is many 429s among the latest answers of
one kind. Only then does the pacer act: a short Retry-After (the wait for one more token) becomes the spacing between
two requests of that kind, so the workers go out one after the other at the rate the service allows instead of all
retrying at once; a long one (a window-style limit) tells the caller to pause every worker. While paced, the spacing
widens a little when paced requests are still refused often, and eases off when they are not.

Random refusals must not slow a run for good. So the spacing the evidence asked for is the MEDIAN of its short
Retry-Afters (an empty bucket's waits, not the long ones a random refusal asks for), the spacing never widens past
PACE_CAP times it, and after a widening that did not lower the share of refusals (refusals that do not fall when
the pace falls are not the bucket's doing) it does not widen again until the pace has eased.
"""

import threading
import time
from collections import deque
from statistics import median

# A Retry-After up to this long is read as the wait for one more token: the spacing the bucket needs.
PACE_MAX = 0.5
# A request refused while paced costs a slot and its Retry-After: start a little slower than the bucket, not at it.
PACE_START = 1.1
PACE_WIDEN = 1.1
# The widest spacing, times the one the evidence asked for: the pace never falls below what the service's own
# Retry-After asks for (with this margin for jittered arrivals), whatever random refusals come on top.
PACE_CAP = 1.3
# Evidence of an empty bucket: at least PACE_EVIDENCE 429s among the latest PACE_WINDOW answers of one kind. Random
# refusals at 10% reach it about once in 5 billion windows (20 of 20 did once in 140,000: about once in half an hour
# for a source reading 1,000 jobs a second, and the pace it set then took minutes to ease); a saturated bucket reaches
# it within its first two waves.
PACE_WINDOW = 40
PACE_EVIDENCE = 20
# The bucket's waits spread between zero and one token interval; a wait over this many times their median is not one.
PACE_OUTLIER = 3
# While paced, judged by the answers to requests sent since the last change of pace (at least PACE_JUDGE of them):
# widen when at least PACE_PRESSURE of them were 429s (x PACE_WIDEN) and the last widening lowered their share (or
# the last change was not a widening); ease off (x PACE_EASE) after PACE_QUIET seconds, once half a window has come
# back with no more than PACE_CALM (a refusal in ten: the share a busy front end refuses anyway). Easing is slow and
# widening quick because every refusal while paced costs a slot and a Retry-After, and a burst of them burns the
# retries of the requests refused.
PACE_JUDGE = PACE_WINDOW // 2
PACE_PRESSURE = PACE_EVIDENCE // 2
PACE_CALM = PACE_JUDGE // 10
PACE_QUIET = 3.0
PACE_EASE = 0.95
# Below this spacing (5,000 requests per second) pacing is dropped: no bucket of Graph allows that much.
PACE_FLOOR = 0.0002
# The range a given starting rate (requests per second) may take.
MIN_WRITE_RATE = 0.01
MAX_WRITE_RATE = 1000.0
# How the last change of pace went (it decides whether pressure may widen again).
STARTED, WIDENED, EASED = "started", "widened", "eased"


def spacing_for_rate(rate):
    """The spacing in seconds for `rate` requests per second (None or 0: no spacing)."""
    return 1.0 / rate if rate else 0.0


def rate_for_spacing(spacing):
    """Requests per second for a spacing (None when not paced), rounded for display and for passing on."""
    return round(1.0 / spacing, 3) if spacing else None


def asked_spacing(answers):
    """The spacing a window of (throttled, retry_after) answers asks for: the median of its short Retry-Afters, or 0.

    A saturated bucket answers most refusals with about the wait for one more token; the few random refusals among
    them ask for longer waits, which the median leaves out (the longest would let one of them set the pace).
    """
    waits = [wait for throttled, wait in answers if throttled and wait is not None and 0 < wait <= PACE_MAX]
    if not waits:
        return 0.0
    typical = median(waits)
    return max(wait for wait in waits if wait <= PACE_OUTLIER * typical)


def widen_to(spacing, asked, refused_share, share_before, last_change):
    """The spacing after pressure at `spacing` (pure): wider within the cap, or the same when widening did not help.

    refused_share: the share of 429s among the answers at this pace; share_before: the share that made the last
    widening; last_change: STARTED, WIDENED or EASED.
    """
    if last_change == WIDENED and share_before is not None and refused_share >= share_before:
        # The pace fell and the refusals did not: they are not the bucket's doing (a busy front end, faults).
        return spacing
    return max(spacing, min(spacing * PACE_WIDEN, PACE_CAP * asked))


class Pacer:
    """The pacing of one kind of request for one client; thread-safe."""

    def __init__(self, spacing=0.0):
        # A spacing given up front (a rate learned by an earlier run) is a starting point: it eases off like a learned one.
        self.spacing = float(spacing or 0.0)
        self._next = 0.0
        self._changed_at = time.monotonic() if self.spacing else None
        self._asked = self.spacing
        self._last_change, self._share_before = STARTED, None
        self._recent = deque(maxlen=PACE_WINDOW)
        self._lock = threading.Lock()

    @property
    def active(self):
        return self.spacing > 0

    @property
    def rate(self):
        """Requests per second this pacer allows now (None: not paced)."""
        return rate_for_spacing(self.spacing)

    def stamp(self):
        """The time to give answered() for a request about to leave."""
        return time.monotonic()

    def answered(self, throttled, retry_after=None, sent_at=None):
        """Record one answer of this kind (throttled: it was a 429). True when every worker should pause for its Retry-After.

        The caller waits the Retry-After of its own 429 in any case; this decides whether the others wait too (a long
        Retry-After with evidence of an empty bucket) and adjusts the spacing (a short one with evidence).
        """
        with self._lock:
            if self.spacing and sent_at is not None and self._changed_at is not None and sent_at <= self._changed_at:
                # Sent before the last change of pace: what it says is already known.
                return False
            self._recent.append((bool(throttled), retry_after))
            if not throttled:
                return False
            pressure = self._refusals()
            short = retry_after is not None and 0 < retry_after <= PACE_MAX
            if pressure >= PACE_EVIDENCE and not short:
                return True
            if pressure >= PACE_EVIDENCE and not self.spacing:
                # An empty bucket: the spacing its Retry-Afters ask for is the pace, and its ceiling (PACE_CAP) for good.
                self._asked = asked_spacing(self._recent)
                self._change(self._asked * PACE_START, STARTED)
                return False
            if self.spacing and short and pressure >= PACE_PRESSURE and len(self._recent) >= PACE_JUDGE:
                share = pressure / len(self._recent)
                wanted = widen_to(self.spacing, self._asked, share, self._share_before, self._last_change)
                if wanted > self.spacing:
                    self._share_before = share
                    self._change(wanted, WIDENED)
            return False

    def _refusals(self):
        """How many of the answers since the last change of pace were 429s."""
        return sum(1 for refused, _wait in self._recent if refused)

    def _change(self, spacing, how):
        # The latest answers were to the old pace: judge the new one by its own.
        self.spacing = spacing
        self._last_change = how
        self._changed_at = time.monotonic()
        self._recent.clear()

    def take(self, count=1):
        """Wait for `count` slots (a batch of `count` items goes out when its last slot is due)."""
        if not self.spacing or count < 1:
            return
        with self._lock:
            now = time.monotonic()
            if now - self._changed_at > PACE_QUIET and len(self._recent) >= PACE_JUDGE and self._refusals() <= PACE_CALM:
                self._change(self.spacing * PACE_EASE, EASED)
                if self.spacing < PACE_FLOOR:
                    self.spacing, self._asked, self._changed_at, self._share_before = 0.0, 0.0, None, None
                    return
            start = max(now, self._next)
            self._next = start + self.spacing * count
            due = start + self.spacing * (count - 1)
        if due > now:
            time.sleep(due - now)
