# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GraphClient: one requests Session, per-request verify=, Retry-After aware retries, paging, error mapping.

Retries follow one rule: a request is sent again only when the service cannot have acted on it. GETs are
idempotent, so any transient failure is retried. A POST is retried after 429/503 (the service says it did not
process it) or an error raised before the request left; a failure after it left is `outcome_unknown`.
"""

import json
import random
import threading
import time
from collections import Counter
from urllib.parse import quote, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False

from ansible_collections.entra.sync.plugins.module_utils._auth import jwt_claims
from ansible_collections.entra.sync.plugins.module_utils.errors import describe_error, error_fields, parse_retry_after
from ansible_collections.entra.sync.plugins.module_utils.exceptions import AuthError, GraphError
from ansible_collections.entra.sync.plugins.module_utils.pacing import Pacer, spacing_for_rate

RETRY_ON_ANY = (429, 503)
RETRY_ON_GET = (500, 502, 504)
# The service answered with an error after the request reached it: it may have acted before failing.
UNKNOWN_AFTER_POST = (500, 502, 504)
BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0
# How often one request may get a new token after 401 InvalidAuthenticationToken before the 401 is its answer.
TOKEN_REFRESHES = 2
# 429s per request that excused_refusal() does not count against max_retries.
PACED_REFUSALS = 10
# Graph's limit of requests in one $batch envelope.
BATCH_MAX = 20
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def quote_segment(value):
    """Quote one path segment (job ids hold dots and must never open a path)."""
    return quote(value, safe="")


def backoff_delay(attempt, rng=random):
    """Exponential backoff with jitter for when the service gives no Retry-After."""
    return min(BACKOFF_MAX, BACKOFF_BASE * (2 ** attempt)) * rng.uniform(0.5, 1.0)


def excused_refusal(status, pacer, excused_so_far):
    """True when a 429 does not spend an attempt: that kind of request is already paced (the pace swings around the
    bucket's rate, so the refusal is the pace's miss, not the request's failure), up to PACED_REFUSALS per request."""
    return status == 429 and pacer.active and excused_so_far < PACED_REFUSALS


def _sent_nothing(exc):
    """True when requests failed before the request left the machine (safe to resend even a POST)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")


class BatchCall:
    """One request inside a $batch envelope: method, path (relative to /v1.0, ids already quoted), optional JSON body."""

    __slots__ = ("method", "path", "body")

    def __init__(self, method, path, body=None):
        self.method = method
        self.path = path
        self.body = body

    @property
    def write(self):
        return self.method in WRITE_METHODS


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


class GraphClient:
    """A thread-safe client for the Graph v1.0 API of one tenant and credential."""

    def __init__(self, settings, credential, pool_size=10, write_rate=None):
        if not HAS_REQUESTS:
            raise GraphError("The Python library requests is required: pip install requests.")
        self.settings = settings
        self.credential = credential
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(pool_size, 2), max_retries=0)
        self._session.mount("https://", adapter)
        self._pause_until = 0.0
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._stats = Counter()
        self._delegated = None
        # Reads and writes are paced apart (Graph throttles them apart); a write rate learned earlier is the start.
        self._pacers = {False: Pacer(), True: Pacer(spacing_for_rate(write_rate))}
        # Set when the service refuses a $batch envelope as such (400): everything goes out as single requests then.
        self.batch_refused = False

    # ---- bookkeeping ---------------------------------------------------------------------------------------
    def _count(self, key, amount=1):
        with self._lock:
            self._stats[key] += amount

    def stats(self):
        with self._lock:
            return dict(self._stats)

    def pace(self):
        """The pace this client ended with: requests per second for reads and writes (None: not paced)."""
        return {"read_rate": self._pacers[False].rate, "write_rate": self._pacers[True].rate}

    def _wait_for_pause(self):
        delay = self._pause_until - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _pause_all(self, seconds):
        # The pacer saw the app's budget spent (many 429s, a long Retry-After): every worker waits, rather than each
        # hammering in turn.
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def _refresh_token(self, rejected):
        # Many workers can see the same rejected token at once: only the first one asks for a new token.
        with self._refresh_lock:
            if self.credential.get_token().token == rejected:
                self._count("token refreshes")
                self.credential.get_token(force_refresh=True)

    def _is_delegated(self, token):
        if self._delegated is None:
            self._delegated = "scp" in jwt_claims(token)
        return self._delegated

    # ---- requests ------------------------------------------------------------------------------------------
    def url(self, path):
        return self.settings.graph_base + path

    def _display_path(self, url):
        parts = urlsplit(url)
        path = parts.path
        prefix = urlsplit(self.settings.graph_base).path
        return path[len(prefix):] if path.startswith(prefix) else path

    def _send(self, method, url, token, params=None, body=None):
        """One HTTP exchange, verify= passed per request (REQUESTS_CA_BUNDLE overrides Session.verify); TLS errors say what to set."""
        try:
            return self._session.request(
                method, url, params=params, json=body,
                headers={"Authorization": "Bearer " + token, "Accept": "application/json"},
                verify=self.settings.verify, timeout=self.settings.timeout,
            )
        except requests.exceptions.SSLError:
            raise GraphError(
                "TLS verification failed for %s: set ca_path to the CA bundle that signed its certificate, or "
                "validate_certs: false (not recommended)." % self.settings.graph_root
            ) from None

    def request(self, method, url, params=None, body=None, want_json=True):
        """Send with retries; return the decoded JSON (or None for an empty body). Raises GraphError or AuthError."""
        idempotent = method == "GET"
        path = self._display_path(url)
        refreshes = 0
        attempt = 0
        paced_refusals = 0
        pacer = self._pacers[method in WRITE_METHODS]
        while True:
            self._wait_for_pause()
            pacer.take()
            sent_at = pacer.stamp()
            token = self.credential.get_token().token
            self._count("%s requests" % method)
            try:
                response = self._send(method, url, token, params=params, body=body)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                safe = idempotent or _sent_nothing(exc)
                if safe and attempt < self.settings.max_retries:
                    self._count("retries")
                    time.sleep(backoff_delay(attempt))
                    attempt += 1
                    continue
                what = type(exc).__name__
                if safe:
                    raise GraphError("%s %s failed after %d attempts: %s." % (method, path, attempt + 1, what)) from None
                raise GraphError(
                    "%s %s: the request was sent but no answer came back (%s); it may or may not have been processed, "
                    "so it is not sent again. Check the job's status before retrying." % (method, path, what),
                    outcome_unknown=True,
                ) from None

            status = response.status_code
            retry_after = None if status < 300 else parse_retry_after(response.headers.get("Retry-After"))
            pause_everyone = pacer.answered(status == 429, retry_after, sent_at)
            if 200 <= status < 300:
                if not want_json or not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    if idempotent and attempt < self.settings.max_retries:
                        self._count("retries")
                        time.sleep(backoff_delay(attempt))
                        attempt += 1
                        continue
                    raise GraphError("%s %s returned a body that is not JSON (HTTP %s)." % (method, path, status), status=status) from None

            try:
                error_body = response.json()
            except ValueError:
                error_body = None
            code, message, request_id = error_fields(error_body)
            if status == 429:
                self._count("throttled")
            if status == 401 and code == "InvalidAuthenticationToken" and refreshes < TOKEN_REFRESHES:
                # Rejected before processing, so resending (even a POST) is safe. A fresh token can meet an expiry
                # check that lags behind; a credential that keeps getting rejected fails after TOKEN_REFRESHES.
                refreshes += 1
                try:
                    self._refresh_token(token)
                except AuthError as exc:
                    # Say both why Graph refused the token (expired, wrong audience, ...) and why no new one can be had.
                    text = describe_error(status, code, message, method, path, False, request_id).replace(token, "********")
                    raise GraphError("%s. %s" % (text, exc), status=status, code=code, request_id=request_id) from None
                continue
            free = excused_refusal(status, pacer, paced_refusals)
            if (status in RETRY_ON_ANY or (idempotent and status in RETRY_ON_GET)) and (free or attempt < self.settings.max_retries):
                delay = retry_after if retry_after is not None else backoff_delay(attempt)
                if pause_everyone:
                    self._pause_all(delay)
                else:
                    time.sleep(delay)
                self._count("retries")
                if free:
                    paced_refusals += 1
                else:
                    attempt += 1
                continue
            text = describe_error(status, code, message, method, path, self._is_delegated(token), request_id).replace(token, "********")
            if status in RETRY_ON_ANY:
                text += " (gave up after %d attempts: raise max_retries or lower concurrency)" % (attempt + 1)
            unknown = not idempotent and status in UNKNOWN_AFTER_POST
            if unknown:
                text += " (a server error after the request was sent: it may have been processed, so it is not sent again)"
            raise GraphError(text, status=status, code=code, request_id=request_id, outcome_unknown=unknown)

    def get(self, path, params=None):
        return self.request("GET", self.url(path), params=params)

    def post(self, path, body=None):
        return self.request("POST", self.url(path), body=body, want_json=False)

    def iter_pages(self, path, params=None):
        """Yield every item of a collection, following @odata.nextLink as a whole URL on the same host only."""
        url = self.url(path)
        root = urlsplit(self.settings.graph_root)
        while url:
            page = self.request("GET", url, params=params)
            params = None  # the next link carries its own query
            items = page.get("value") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise GraphError("GET %s returned no 'value' list." % self._display_path(url))
            yield from items
            url = page.get("@odata.nextLink")
            link = urlsplit(url) if url else None
            if link and (link.scheme, link.netloc) != (root.scheme, root.netloc):
                raise GraphError(
                    "Graph returned a next page link to %s://%s, not %s: refusing to send the token there."
                    % (link.scheme, link.netloc, self.settings.graph_root)
                )

    # ---- $batch -------------------------------------------------------------------------------------------------
    def batch(self, calls):
        """Send up to BATCH_MAX BatchCalls in one POST /$batch; return one (value, error) pair per call, in order.

        value is the item's decoded JSON body (None when empty); error a GraphError. The same retry rule as for
        single requests holds per item: a read is resent after any transient failure; a write only after 429/503
        (the service says it did not process it) or when the envelope never left. A write whose answer is lost
        (the envelope's connection dropped, a malformed envelope, no answer for the item) gets an error with
        outcome_unknown. Writes are sent one at a time (not in an envelope) once the service has throttled writes,
        and everything is sent singly when the service refuses $batch itself.
        """
        calls = list(calls)
        if len(calls) > BATCH_MAX:
            raise ValueError("at most %d calls per $batch" % BATCH_MAX)
        results = [None] * len(calls)
        attempts = [0] * len(calls)
        paced_refusals = [0] * len(calls)
        pending = list(range(len(calls)))
        refreshes = 0
        while pending:
            if self.batch_refused or len(pending) == 1 or self._pacers[True].active and any(calls[i].write for i in pending):
                single = [i for i in pending if self.batch_refused or len(pending) == 1 or calls[i].write]
                for index in single:
                    results[index] = self._single(calls[index])
                pending = [i for i in pending if i not in single]
                if not pending:
                    break
            self._wait_for_pause()
            self._pacers[False].take(sum(1 for i in pending if not calls[i].write))
            self._pacers[True].take(sum(1 for i in pending if calls[i].write))
            sent_at = time.monotonic()
            token = self.credential.get_token().token
            envelope = {"requests": [self._batch_item(i, calls[i]) for i in pending]}
            self._count("batch requests")
            self._count("batch items", len(pending))
            try:
                response = self._send("POST", self.url("/$batch"), token, body=envelope)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                pending = self._envelope_lost(calls, pending, results, _sent_nothing(exc), type(exc).__name__)
                continue
            status = response.status_code
            if status != 200:
                pending, refreshes = self._envelope_refused(calls, pending, attempts, results, response, token, refreshes)
                continue
            try:
                answers = response.json().get("responses")
                if not isinstance(answers, list):
                    raise ValueError("no responses")
            except (ValueError, AttributeError):
                pending = self._envelope_lost(calls, pending, results, False, "a $batch answer that is not JSON")
                continue
            pending, refreshes = self._items(calls, pending, (attempts, paced_refusals), results, answers, token, refreshes, sent_at)
        return results

    @staticmethod
    def _batch_item(index, call):
        item = {"id": str(index), "method": call.method, "url": call.path}
        if call.body is not None:
            item["headers"] = {"Content-Type": "application/json"}
            item["body"] = call.body
        return item

    def _single(self, call):
        try:
            if call.method == "GET":
                return self.request("GET", self.url(call.path)), None
            return self.request(call.method, self.url(call.path), body=call.body, want_json=False), None
        except GraphError as exc:
            return None, exc

    def _retry_or_fail(self, call, index, attempts, results, error):
        """True when the call may go again (attempt counted); else its result is the error."""
        if attempts[index] < self.settings.max_retries:
            attempts[index] += 1
            self._count("retries")
            return True
        results[index] = (None, error)
        return False

    def _envelope_lost(self, calls, pending, results, sent_nothing, what):
        """The envelope got no usable answer: writes are unknown unless nothing was sent; the rest go again singly.

        A lost connection or an unreadable answer is the envelope's failure, not its items': it does not spend their
        attempts. They go again as single requests, each with its full retry budget, because an envelope of 20 is about
        20 times likelier than one request to meet the next connection fault.
        """
        again = []
        for index in pending:
            call = calls[index]
            if not call.write or sent_nothing:
                again.append(index)
            else:
                results[index] = (None, GraphError(
                    "%s %s: the request was sent (in $batch) but no answer came back (%s); it may or may not have been processed, "
                    "so it is not sent again. Check the job's status before retrying." % (call.method, call.path, what),
                    outcome_unknown=True))
        if again:
            self._count("batch envelopes lost")
            self._count("retries", len(again))
            time.sleep(backoff_delay(0))
        for index in again:
            results[index] = self._single(calls[index])
        return []

    def _envelope_refused(self, calls, pending, attempts, results, response, token, refreshes):
        """A non-200 envelope: nothing in it was processed (the items are answered inside a 200 envelope)."""
        status = response.status_code
        try:
            error_body = response.json()
        except ValueError:
            error_body = None
        code, message, request_id = error_fields(error_body)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 401 and code == "InvalidAuthenticationToken" and refreshes < TOKEN_REFRESHES:
            self._refresh_token(token)
            return pending, refreshes + 1
        if status in RETRY_ON_ANY or status in RETRY_ON_GET and not any(calls[i].write for i in pending):
            delay = retry_after if retry_after is not None else backoff_delay(0)
            if status == 429:
                self._count("throttled")
            pacer = self._pacers[any(calls[i].write for i in pending)]
            if pacer.answered(status == 429, retry_after):
                self._pause_all(delay)
            else:
                time.sleep(delay)
            error = GraphError(describe_error(status, code, message, "POST", "/$batch", self._is_delegated(token), request_id)
                               .replace(token, "********"), status=status, code=code, request_id=request_id)
            return [i for i in pending if self._retry_or_fail(calls[i], i, attempts, results, error)], refreshes
        if status == 400:
            # Graph refused the envelope itself (for example $batch not accepted for these paths): nothing was
            # processed, so every item goes again as a single request, and so does everything after it.
            self.batch_refused = True
            self._count("batch refused")
            return pending, refreshes
        text = describe_error(status, code, message, "POST", "/$batch", self._is_delegated(token), request_id).replace(token, "********")
        for index in pending:
            unknown = calls[index].write and status in UNKNOWN_AFTER_POST
            results[index] = (None, GraphError(text, status=status, code=code, request_id=request_id, outcome_unknown=unknown))
        return [], refreshes

    def _items(self, calls, pending, counts, results, answers, token, refreshes, sent_at=None):
        attempts, paced_refusals = counts
        by_id = {}
        for answer in answers:
            if isinstance(answer, dict):
                by_id[str(answer.get("id"))] = answer
        again, throttled, waits, rejected, pause_everyone = [], [], [], False, False
        for index in pending:
            call = calls[index]
            answer = by_id.get(str(index))
            if answer is None:
                if call.write:
                    results[index] = (None, GraphError(
                        "%s %s: $batch returned no answer for this request; it may or may not have been processed, so it is not "
                        "sent again. Check the job's status before retrying." % (call.method, call.path), outcome_unknown=True))
                elif self._retry_or_fail(call, index, attempts, results, GraphError("GET %s: no answer in $batch." % call.path)):
                    again.append(index)
                continue
            status = answer.get("status")
            status = status if isinstance(status, int) else 0
            body = _item_body(answer.get("body"))
            retry_after = None if status < 300 else parse_retry_after(_header(answer.get("headers"), "retry-after"))
            pause_everyone = self._pacers[call.write].answered(status == 429, retry_after, sent_at) or pause_everyone
            if 200 <= status < 300:
                results[index] = (body if body != "" else None, None)
                continue
            code, message, request_id = error_fields(body if isinstance(body, dict) else None)
            if status == 401 and code == "InvalidAuthenticationToken" and refreshes < TOKEN_REFRESHES:
                rejected = True
                again.append(index)
                continue
            if status == 429:
                self._count("throttled")
                throttled.append(retry_after if retry_after is not None else backoff_delay(attempts[index]))
            retryable = status in RETRY_ON_ANY or (not call.write and status in RETRY_ON_GET)
            error = GraphError(
                describe_error(status, code, message, call.method, call.path, self._is_delegated(token), request_id).replace(token, "********")
                + (" (gave up after %d attempts: raise max_retries or lower concurrency)" % (attempts[index] + 1) if retryable else ""),
                status=status, code=code, request_id=request_id,
                outcome_unknown=call.write and status in UNKNOWN_AFTER_POST)
            if retryable:
                if status != 429:
                    waits.append(retry_after if retry_after is not None else backoff_delay(attempts[index]))
                if excused_refusal(status, self._pacers[call.write], paced_refusals[index]):
                    paced_refusals[index] += 1
                    self._count("retries")
                    again.append(index)
                elif self._retry_or_fail(call, index, attempts, results, error):
                    again.append(index)
                continue
            results[index] = (None, error)
        if rejected:
            self._refresh_token(token)
            refreshes += 1
        if throttled and pause_everyone:
            self._pause_all(max(throttled))
        elif throttled or waits:
            time.sleep(max(throttled + waits))
        return again, refreshes

    def close(self):
        self._session.close()
