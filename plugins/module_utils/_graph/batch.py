# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""$batch: up to BATCH_MAX requests in one POST /$batch, each item judged by the verdict of a single request.

A read goes again after any transient failure; a write only after 429/503 (the service says it did not process it)
or when the envelope never left. A write whose answer is lost (the envelope's connection dropped, a malformed
envelope, no answer for the item) fails with outcome_unknown. Writes go out one at a time (not in an envelope) once
the service has throttled writes, and everything goes out singly once the service refuses $batch itself.
"""

import json

from ansible_collections.entra.sync.plugins.module_utils._exceptions import GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph.messages import Answer, error_for
from ansible_collections.entra.sync.plugins.module_utils._graph.retry import (
    FIRST_TRY,
    REFRESH,
    RETRY,
    UNKNOWN_OUTCOME,
    backoff_delay,
    is_write,
    judge,
    resend_is_safe,
    retry_delay,
)

# Graph's limit of requests in one $batch envelope.
BATCH_MAX = 20


class BatchCall:
    """One request inside a $batch envelope: method, path (relative to /v1.0, ids already quoted), optional JSON body."""

    __slots__ = ("method", "path", "body")

    def __init__(self, method, path, body=None):
        self.method = method
        self.path = path
        self.body = body

    @property
    def write(self):
        return is_write(self.method)


def _header(headers, name):
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return value
    return None


def _item_body(raw):
    """A batch item's body: JSON (dict) as Graph sends it, or a JSON string, or nothing."""
    if isinstance(raw, str):
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw
    return raw


def envelope_item(index, call):
    item = {"id": str(index), "method": call.method, "url": call.path}
    if call.body is not None:
        item["headers"] = {"Content-Type": "application/json"}
        item["body"] = call.body
    return item


def item_answer(answer):
    """(value, Answer): the decoded body of a 2xx item, or the Answer to judge (lost when Graph sent none)."""
    if answer is None:
        return None, Answer.lost("no answer for it in $batch")
    status = answer.get("status")
    status = status if isinstance(status, int) else 0
    body = _item_body(answer.get("body"))
    if 200 <= status < 300:
        return (body if body != "" else None), None
    return None, Answer.of(status, body if isinstance(body, dict) else None, _header(answer.get("headers"), "retry-after"))


def send_batch(client, calls):
    """Send up to BATCH_MAX BatchCalls through client; return one (value, error) pair per call, in order.

    value is the item's decoded JSON body (None when empty); error a GraphError.
    """
    calls = list(calls)
    if len(calls) > BATCH_MAX:
        raise ValueError("at most %d calls per $batch" % BATCH_MAX)
    return _Batch(client, calls).run()


class _Batch:
    """One send_batch: the calls, their results so far, what each has spent, and which still wait for an answer."""

    def __init__(self, client, calls):
        self.client = client
        self.calls = calls
        self.results = [None] * len(calls)
        self.tries = [FIRST_TRY] * len(calls)
        self.pending = list(range(len(calls)))

    def run(self):
        while self.pending:
            self._send_singly_what_must_be()
            if self.pending:
                self._send_envelope()
        return self.results

    def _single(self, index):
        call = self.calls[index]
        try:
            if call.method == "GET":
                self.results[index] = self.client.request("GET", self.client.url(call.path)), None
            else:
                self.results[index] = self.client.request(call.method, self.client.url(call.path), body=call.body, want_json=False), None
        except GraphError as exc:
            self.results[index] = None, exc

    def _send_singly_what_must_be(self):
        """One call left, $batch refused, or writes paced: those go as single requests (a write then waits for its slot)."""
        everything = self.client.batch_refused or len(self.pending) == 1
        writes_paced = self.client._pacers[True].active and any(self.calls[i].write for i in self.pending)
        if not (everything or writes_paced):
            return
        single = [i for i in self.pending if everything or self.calls[i].write]
        for index in single:
            self._single(index)
        self.pending = [i for i in self.pending if i not in single]

    def _send_envelope(self):
        client, pacers = self.client, self.client._pacers
        client._wait_for_pause()
        pacers[False].take(sum(1 for i in self.pending if not self.calls[i].write))
        pacers[True].take(sum(1 for i in self.pending if self.calls[i].write))
        sent_at = pacers[True].stamp()
        token = client.credential.get_token().token
        envelope = {"requests": [envelope_item(i, self.calls[i]) for i in self.pending]}
        client._count("batch requests")
        client._count("batch items", len(self.pending))
        response, lost = client._exchange("POST", client.url("/$batch"), token, body=envelope)
        if lost is not None:
            return self._lost(lost._replace(what=lost.what + " in $batch"))
        if response.status_code != 200:
            return self._refused(response, token)
        try:
            answers = response.json().get("responses")
            if not isinstance(answers, list):
                raise ValueError("no responses")
        except (ValueError, AttributeError):
            return self._lost(Answer.lost("a $batch answer that is not JSON"))
        return self._answered(answers, token, sent_at)

    def _lost(self, lost):
        """The envelope got no usable answer: writes are unknown unless nothing was sent; the rest go again singly.

        A lost connection or an unreadable answer is the envelope's failure, not its items': it does not spend their
        attempts. They go again as single requests, each with its full retry budget, because an envelope of 20 is about
        20 times likelier than one request to meet the next connection fault.
        """
        again = []
        for index in self.pending:
            call = self.calls[index]
            if resend_is_safe(None, call.write, lost.sent_nothing):
                again.append(index)
            else:
                self.results[index] = None, error_for(lost, UNKNOWN_OUTCOME, call.method, call.path, self.tries[index])
        if again:
            self.client._count("batch envelopes lost")
            self.client._count("retries", len(again))
            self.client._wait(backoff_delay(0))
        for index in again:
            self._single(index)
        self.pending = []

    def _refused(self, response, token):
        """A non-200 envelope: its items are judged by its answer (items are answered inside a 200 envelope)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        answer = Answer.of(response.status_code, body, response.headers.get("Retry-After"))
        if answer.status == 400:
            # Graph refused the envelope itself (for example $batch not accepted for these paths): nothing was
            # processed, so every item goes again as a single request, and so does everything after it.
            self.client.batch_refused = True
            self.client._count("batch refused")
            return
        pacer = self.client._pacers[any(self.calls[i].write for i in self.pending)]
        pause_everyone = self.client._noted(pacer, answer)
        # paced=False: a refused envelope is not one paced request's miss, so it spends its items' attempts.
        self._follow([(i, answer, False) for i in self.pending], token, "/$batch", pause_everyone)

    def _answered(self, answers, token, sent_at):
        by_id = {str(answer.get("id")): answer for answer in answers if isinstance(answer, dict)}
        judged, pause_everyone = [], False
        for index in self.pending:
            raw = by_id.get(str(index))
            value, answer = item_answer(raw)
            pacer = self.client._pacers[self.calls[index].write]
            if raw is not None:
                pause_everyone = self.client._noted(pacer, answer, sent_at) or pause_everyone
            if answer is None:
                self.results[index] = value, None
            else:
                judged.append((index, answer, pacer.active))
        self._follow(judged, token, None, pause_everyone)

    def _follow(self, judged, token, envelope_path, pause_everyone):
        """Follow each item's verdict: (index, Answer, paced) triples; the ones sent again are pending after it."""
        again, delays, refresh = [], [], False
        for index, answer, paced in judged:
            call, tries = self.calls[index], self.tries[index]
            verdict = judge(answer.status, answer.code, call.write, tries, self.client.settings.max_retries, paced, answer.sent_nothing)
            self.tries[index] = tries.after(verdict)
            if verdict.action == REFRESH:
                refresh = True
            elif verdict.action == RETRY:
                self.client._count("retries")
                delays.append(retry_delay(answer.retry_after, tries.attempts))
            else:
                method, path = ("POST", envelope_path) if envelope_path else (call.method, call.path)
                self.results[index] = None, error_for(answer, verdict, method, path, tries, token, self.client._is_delegated(token))
                continue
            again.append(index)
        if refresh:
            self.client._refresh_token(token)
        if delays:
            self.client._wait(max(delays), pause_everyone)
        self.pending = again
