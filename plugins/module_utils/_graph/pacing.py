# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pacer: spaces the requests of one kind (reads or writes) once Graph shows that its bucket for them is empty.

A 429 alone says little: a busy front end or a fault refuses one request now and then, and slowing every worker for
it would cost far more than the one retry. What marks an empty token bucket is many 429s among the latest answers of
one kind. Only then does the pacer act: a short Retry-After (the wait for one more token) becomes the spacing between
two requests of that kind, so the workers go out one after the other at the rate the service allows instead of all
retrying at once; a long one (a window-style limit) tells the caller to pause every worker. While paced, the spacing
widens a little when paced requests are still refused often, and eases off when they are not, so random 429s never
keep a run slow for good.
"""

import threading
import time
from collections import deque

# A Retry-After up to this long is read as the wait for one more token: the spacing the bucket needs.
PACE_MAX = 0.5
# A request refused while paced costs a slot and its Retry-After: start a little slower than the bucket, not at it.
PACE_START = 1.1
PACE_WIDEN = 1.1
PACE_CAP = 1.3
# Evidence of an empty bucket: at least PACE_EVIDENCE 429s among the latest PACE_WINDOW answers of one kind. Random
# refusals at 10% reach it about once in 140,000 windows; a saturated bucket reaches it within its first wave.
PACE_WINDOW = 20
PACE_EVIDENCE = 10
# While paced, judged by the answers to requests sent since the last change of pace: widen when at least
# PACE_PRESSURE of them were 429s (x PACE_WIDEN); ease off (x PACE_EASE) after PACE_QUIET seconds, once half a window
# has come back with no more than PACE_CALM. Easing is slow and widening quick because every refusal while paced costs
# a slot and a Retry-After, and a burst of them burns the retries of the requests refused.
PACE_PRESSURE = PACE_EVIDENCE // 2
PACE_CALM = 0
PACE_QUIET = 3.0
PACE_EASE = 0.95
# Below this spacing (5,000 requests per second) pacing is dropped: no bucket of Graph allows that much.
PACE_FLOOR = 0.0002
# The range a given starting rate (requests per second) may take.
MIN_WRITE_RATE = 0.01
MAX_WRITE_RATE = 1000.0


def spacing_for_rate(rate):
    """The spacing in seconds for `rate` requests per second (None or 0: no spacing)."""
    return 1.0 / rate if rate else 0.0


def rate_for_spacing(spacing):
    """Requests per second for a spacing (None when not paced), rounded for display and for passing on."""
    return round(1.0 / spacing, 3) if spacing else None


class Pacer:
    """The pacing of one kind of request for one client; thread-safe."""

    def __init__(self, spacing=0.0):
        # A spacing given up front (a rate learned by an earlier run) is a starting point: it eases off like a learned one.
        self.spacing = float(spacing or 0.0)
        self._next = 0.0
        self._changed_at = time.monotonic() if self.spacing else None
        self._longest = self.spacing
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
            self._recent.append(bool(throttled))
            if not throttled:
                return False
            pressure = sum(self._recent)
            if retry_after is not None and 0 < retry_after <= PACE_MAX:
                self._longest = max(self._longest, retry_after)
            if pressure < PACE_EVIDENCE and not (self.spacing and pressure >= PACE_PRESSURE):
                return False
            if retry_after is None or not 0 < retry_after <= PACE_MAX:
                return pressure >= PACE_EVIDENCE
            if not self.spacing:
                # Each Retry-After is the wait for the next token, so the longest among the evidence is closest to the
                # bucket's interval.
                wanted = self._longest * PACE_START
            else:
                # Paced requests still refused often: arrivals jitter, so leave a little more room, within a cap.
                wanted = min(self.spacing * PACE_WIDEN, PACE_CAP * self._longest)
            if wanted > self.spacing:
                self._change(wanted)
            return False

    def _change(self, spacing):
        # The latest answers were to the old pace: judge the new one by its own.
        self.spacing = spacing
        self._changed_at = time.monotonic()
        self._recent.clear()

    def take(self, count=1):
        """Wait for `count` slots (a batch of `count` items goes out when its last slot is due)."""
        if not self.spacing or count < 1:
            return
        with self._lock:
            now = time.monotonic()
            if now - self._changed_at > PACE_QUIET and len(self._recent) >= PACE_WINDOW // 2 and sum(self._recent) <= PACE_CALM:
                self._change(self.spacing * PACE_EASE)
                if self.spacing < PACE_FLOOR:
                    self.spacing, self._longest, self._changed_at = 0.0, 0.0, None
                    return
            start = max(now, self._next)
            self._next = start + self.spacing * count
            due = start + self.spacing * (count - 1)
        if due > now:
            time.sleep(due - now)
