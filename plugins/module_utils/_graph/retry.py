# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retry verdicts for one Graph request or one $batch item: pure, no I/O, no sleeping.

One rule: a request is sent again only when the service cannot have acted on it. A read is idempotent, so any
transient failure sends it again. A write goes again after 429/503 (the service says it did not process it), after
a 401 for a rejected token (refused before processing), or when it never left the machine; a server error or a lost
answer after it left is an unknown outcome, never sent again.

judge() is the verdict; backoff_delay() and retry_delay() are the waiting, kept apart from it the way amazon.aws keeps
CloudRetry.found apart from BackoffIterator.
"""

import random
from collections import namedtuple

RETRY_ON_ANY = (429, 503)
RETRY_ON_READ = (500, 502, 504)
# The service answered with an error after the request reached it: it may have acted before failing.
UNKNOWN_AFTER_WRITE = (500, 502, 504)
# How often one request may get a new token after 401 InvalidAuthenticationToken before the 401 is its answer.
TOKEN_REFRESHES = 2
# 429s per request that do not count against max_retries while that kind of request is paced.
PACED_REFUSALS = 10
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0

RETRY = "retry"
REFRESH = "refresh"
FAIL = "fail"
UNKNOWN = "unknown"


class Verdict(namedtuple("Verdict", ["action", "counted", "gave_up"])):
    """What to do with one answer.

    action: RETRY (send again), REFRESH (get a new token, then send again), FAIL, or UNKNOWN (fail: it may have
    been processed). counted: a RETRY spends an attempt (False: a paced refusal). gave_up: a FAIL that would have
    gone again had attempts been left.
    """

    __slots__ = ()


class Tries(namedtuple("Tries", ["attempts", "refreshes", "paced_refusals"])):
    """What one request has spent so far: counted retries, token refreshes, paced refusals."""

    __slots__ = ()

    def after(self, verdict):
        """What the request has spent once the verdict is followed."""
        if verdict.action == REFRESH:
            return self._replace(refreshes=self.refreshes + 1)
        if verdict.action == RETRY and verdict.counted:
            return self._replace(attempts=self.attempts + 1)
        if verdict.action == RETRY:
            return self._replace(paced_refusals=self.paced_refusals + 1)
        return self


FIRST_TRY = Tries(0, 0, 0)
UNKNOWN_OUTCOME = Verdict(UNKNOWN, False, False)


def is_write(method):
    return method in WRITE_METHODS


def resend_is_safe(status, write, sent_nothing=False):
    """True when sending again cannot make the service act twice.

    status None: no answer came back (sent_nothing: the request never left the machine). A 2xx here is one whose body
    could not be read: a read may go again; a write was processed.
    """
    if status is None:
        return not write or sent_nothing
    if status in RETRY_ON_ANY:
        return True
    return not write and (status in RETRY_ON_READ or 200 <= status < 300)


def outcome_unknown(status, write, sent_nothing=False):
    """True when a write may have been processed although no answer says so."""
    return write and not sent_nothing and (status is None or status in UNKNOWN_AFTER_WRITE)


def judge(status, code, write, tries, max_retries, paced=False, sent_nothing=False):
    """The verdict on one answer to one request (or one $batch item).

    status: the HTTP status, None when no answer came back; code: Graph's error code; write: not a GET;
    tries: a Tries; paced: that kind of request is paced, so a 429 is the pace's miss, not the request's failure
    (up to PACED_REFUSALS per request); sent_nothing: the request never left the machine.
    """
    if status == 401 and code == "InvalidAuthenticationToken" and tries.refreshes < TOKEN_REFRESHES:
        # Rejected before processing, so resending (even a write) is safe. A fresh token can meet an expiry check that
        # lags behind; a credential that keeps getting rejected fails after TOKEN_REFRESHES.
        return Verdict(REFRESH, False, False)
    if status == 429 and paced and tries.paced_refusals < PACED_REFUSALS:
        return Verdict(RETRY, False, False)
    safe = resend_is_safe(status, write, sent_nothing)
    if safe and tries.attempts < max_retries:
        return Verdict(RETRY, True, False)
    if outcome_unknown(status, write, sent_nothing):
        return UNKNOWN_OUTCOME
    return Verdict(FAIL, False, safe)


def backoff_delay(attempt, rng=random):
    """Exponential backoff with jitter for when the service gives no Retry-After."""
    return min(BACKOFF_MAX, BACKOFF_BASE * (2 ** attempt)) * rng.uniform(0.5, 1.0)


def retry_delay(retry_after, attempt, rng=random):
    """How long to wait before sending again: the service's Retry-After, else the backoff for this attempt."""
    return retry_after if retry_after is not None else backoff_delay(attempt, rng)
