# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure retry verdicts of the Graph client, one table row per rule, and the words of the errors they end in."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._graph.batch import BatchCall
from ansible_collections.entra.sync.plugins.module_utils._graph.messages import Answer, error_for
from ansible_collections.entra.sync.plugins.module_utils._graph.retry import (
    FAIL,
    FIRST_TRY,
    PACED_REFUSALS,
    REFRESH,
    RETRY,
    TOKEN_REFRESHES,
    UNKNOWN,
    UNKNOWN_OUTCOME,
    Tries,
    Verdict,
    is_write,
    judge,
    resend_is_safe,
    retry_delay,
)
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._graph.test_graph import response, scripted

MAX = 3
SPENT = Tries(MAX, 0, 0)
IAT = "InvalidAuthenticationToken"

# (what it is, status, code, write, tries, paced, sent_nothing) -> (action, counted, gave_up)
VERDICTS = [
    # a connection failure (no answer)
    ("read lost", None, "", False, FIRST_TRY, False, False, (RETRY, True, False)),
    ("read lost, attempts spent", None, "", False, SPENT, False, False, (FAIL, False, True)),
    ("write lost after it left", None, "", True, FIRST_TRY, False, False, (UNKNOWN, False, False)),
    ("write that never left", None, "", True, FIRST_TRY, False, True, (RETRY, True, False)),
    ("write that never left, attempts spent", None, "", True, SPENT, False, True, (FAIL, False, True)),
    # a 2xx whose body cannot be read
    ("read with an unreadable body", 200, "", False, FIRST_TRY, False, False, (RETRY, True, False)),
    ("read with an unreadable body, attempts spent", 200, "", False, SPENT, False, False, (FAIL, False, True)),
    ("write with an unreadable body (it was processed)", 200, "", True, FIRST_TRY, False, False, (FAIL, False, False)),
    # throttled or unavailable: nothing was processed
    ("read 429", 429, "TooManyRequests", False, FIRST_TRY, False, False, (RETRY, True, False)),
    ("write 429", 429, "TooManyRequests", True, FIRST_TRY, False, False, (RETRY, True, False)),
    ("write 503", 503, "ServiceUnavailable", True, FIRST_TRY, False, False, (RETRY, True, False)),
    ("write 429, attempts spent", 429, "TooManyRequests", True, SPENT, False, False, (FAIL, False, True)),
    ("read 503, attempts spent", 503, "ServiceUnavailable", False, SPENT, False, False, (FAIL, False, True)),
    # paced: a 429 is the pace's miss and spends no attempt, up to PACED_REFUSALS
    ("paced 429", 429, "TooManyRequests", True, FIRST_TRY, True, False, (RETRY, False, False)),
    ("paced 429, attempts spent", 429, "TooManyRequests", True, SPENT, True, False, (RETRY, False, False)),
    ("paced 429, refusals spent", 429, "TooManyRequests", True, Tries(0, 0, PACED_REFUSALS), True, False, (RETRY, True, False)),
    ("paced 429, all spent", 429, "TooManyRequests", True, Tries(MAX, 0, PACED_REFUSALS), True, False, (FAIL, False, True)),
    ("paced 503 spends an attempt", 503, "ServiceUnavailable", True, FIRST_TRY, True, False, (RETRY, True, False)),
    # server errors: a read goes again, a write may have been processed
    ("read 500", 500, "InternalServerError", False, FIRST_TRY, False, False, (RETRY, True, False)),
    ("read 502", 502, "BadGateway", False, FIRST_TRY, False, False, (RETRY, True, False)),
    ("read 504, attempts spent", 504, "GatewayTimeout", False, SPENT, False, False, (FAIL, False, True)),
    ("write 500", 500, "InternalServerError", True, FIRST_TRY, False, False, (UNKNOWN, False, False)),
    ("write 504", 504, "GatewayTimeout", True, FIRST_TRY, False, False, (UNKNOWN, False, False)),
    # a rejected token: refused before processing, so even a write gets a new token and goes again
    ("read 401 rejected token", 401, IAT, False, FIRST_TRY, False, False, (REFRESH, False, False)),
    ("write 401 rejected token", 401, IAT, True, SPENT, False, False, (REFRESH, False, False)),
    ("401 after every refresh", 401, IAT, False, Tries(0, TOKEN_REFRESHES, 0), False, False, (FAIL, False, False)),
    ("401 of another kind is a permission problem", 401, "UnknownError", True, FIRST_TRY, False, False, (FAIL, False, False)),
    # client errors: the answer, never sent again
    ("read 400", 400, "BadRequest", False, FIRST_TRY, False, False, (FAIL, False, False)),
    ("write 403", 403, "Authorization_RequestDenied", True, FIRST_TRY, False, False, (FAIL, False, False)),
    ("read 404", 404, "Request_ResourceNotFound", False, FIRST_TRY, True, False, (FAIL, False, False)),
    ("write 409", 409, "Conflict", True, FIRST_TRY, False, False, (FAIL, False, False)),
]


@pytest.mark.parametrize("status, code, write, tries, paced, sent_nothing, expected", [row[1:] for row in VERDICTS], ids=[row[0] for row in VERDICTS])
def test_verdicts(status, code, write, tries, paced, sent_nothing, expected):
    assert judge(status, code, write, tries, MAX, paced, sent_nothing) == Verdict(*expected)


def test_a_verdict_never_sends_a_write_again_that_may_have_been_processed():
    for status in (None, 200, 500, 502, 504):
        for tries in (FIRST_TRY, SPENT):
            assert judge(status, "", True, tries, MAX).action != RETRY
    assert not resend_is_safe(None, True) and resend_is_safe(None, True, sent_nothing=True)


def test_no_retries_allowed():
    assert judge(429, "TooManyRequests", False, FIRST_TRY, 0) == Verdict(FAIL, False, True)
    assert judge(429, "TooManyRequests", False, FIRST_TRY, 0, paced=True) == Verdict(RETRY, False, False)


def test_tries_after_each_verdict():
    tries = Tries(1, 1, 1)
    assert tries.after(Verdict(RETRY, True, False)) == Tries(2, 1, 1)
    assert tries.after(Verdict(RETRY, False, False)) == Tries(1, 1, 2)
    assert tries.after(Verdict(REFRESH, False, False)) == Tries(1, 2, 1)
    assert tries.after(Verdict(FAIL, False, True)) == tries
    assert tries.after(UNKNOWN_OUTCOME) == tries


def test_a_request_that_keeps_failing_ends():
    """Following the verdicts of a request that always gets the same answer always reaches a failure."""
    for status, code, paced in [(429, "TooManyRequests", True), (401, IAT, False), (None, "", False), (503, "", True)]:
        tries, rounds = FIRST_TRY, 0
        while (verdict := judge(status, code, False, tries, MAX, paced)).action in (RETRY, REFRESH):
            tries, rounds = tries.after(verdict), rounds + 1
        assert verdict.action == FAIL and rounds <= MAX + PACED_REFUSALS + TOKEN_REFRESHES


def test_writes_are_the_methods_that_change_something():
    assert [is_write(method) for method in ("GET", "POST", "PUT", "PATCH", "DELETE")] == [False, True, True, True, True]


def test_retry_delay_prefers_the_services_retry_after():
    class Fixed:
        @staticmethod
        def uniform(low, high):
            return high

    assert retry_delay(2.5, 4, Fixed) == 2.5
    assert retry_delay(0.0, 4, Fixed) == 0.0
    assert retry_delay(None, 2, Fixed) == 2.0


# ---- the words of the failures ---------------------------------------------------------------------------------------

TOKEN = "eyJ0eXAi.SECRET-TOKEN.sig"


def test_a_lost_write_is_unknown_and_says_it_is_not_sent_again():
    error = error_for(Answer.lost("ReadTimeout"), UNKNOWN_OUTCOME, "POST", "/x/restart", FIRST_TRY)
    assert error.outcome_unknown and error.status is None
    assert str(error) == ("POST /x/restart: the request was sent but no answer came back (ReadTimeout); it may or may not have been "
                          "processed, so it is not sent again. Check the job's status before retrying.")


def test_a_lost_read_says_how_often_it_was_tried():
    error = error_for(Answer.lost("ConnectionError"), Verdict(FAIL, False, True), "GET", "/x", Tries(2, 0, 0))
    assert str(error) == "GET /x failed after 3 attempts: ConnectionError." and not error.outcome_unknown


def test_an_unreadable_body_is_named():
    error = error_for(Answer.of(200), Verdict(FAIL, False, True), "GET", "/x", Tries(2, 0, 0))
    assert str(error) == "GET /x returned a body that is not JSON (HTTP 200)." and error.status == 200


def test_an_http_failure_gives_up_or_is_unknown_and_never_shows_the_token():
    body = {"error": {"code": "TooManyRequests", "message": "token %s refused" % TOKEN, "innerError": {"request-id": "r-1"}}}
    gave_up = error_for(Answer.of(429, body, "1"), Verdict(FAIL, False, True), "POST", "/x", Tries(1, 0, 0), TOKEN)
    assert "gave up after 2 attempts" in str(gave_up) and TOKEN not in str(gave_up) and "********" in str(gave_up)
    assert (gave_up.status, gave_up.code, gave_up.request_id, gave_up.outcome_unknown) == (429, "TooManyRequests", "r-1", False)
    unknown = error_for(Answer.of(502, None), UNKNOWN_OUTCOME, "POST", "/x", FIRST_TRY, TOKEN)
    assert unknown.outcome_unknown and "may have been processed" in str(unknown) and "gave up" not in str(unknown)


def test_an_answer_reads_retry_after_only_on_errors():
    assert Answer.of(429, None, "2").retry_after == 2.0
    assert Answer.of(200, None, "2").retry_after is None
    assert Answer.lost("x", sent_nothing=True).sent_nothing


# ---- the same verdicts for a refused $batch envelope -------------------------------------------------------------------

def test_a_refused_envelope_judges_each_item_by_its_own_verdict(clock):
    """A 502 envelope: its read goes again (singly, as the only one left), its write may have been processed."""
    refused = response(502, {"error": {"code": "BadGateway", "message": "upstream"}})
    client, script = scripted([refused, response(200, {"id": "job"})])
    answers = client.batch([BatchCall("GET", "/a"), BatchCall("POST", "/b/restart", {})])
    assert answers[0] == ({"id": "job"}, None)
    assert answers[1][1].outcome_unknown and answers[1][1].status == 502
    assert [call["method"] for call in script.calls] == ["POST", "GET"], "the restart was not sent twice"
    assert client.stats()["retries"] == 1
