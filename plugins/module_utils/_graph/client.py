# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GraphClient: one requests Session, per-request verify=, Retry-After aware retries, paging, error mapping.

Whether a request goes again is retry.judge()'s verdict; this file does the sending and the waiting around it.
$batch is in batch.py, the words of every error in messages.py.
"""

import threading
import time
from collections import Counter
from urllib.parse import quote, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    # Failures after which the request may or may not have left; SSLError (a ConnectionError) is caught first.
    TRANSIENT = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError)
except ImportError:
    HAS_REQUESTS = False
    TRANSIENT = ()

from ansible_collections.entra.sync.plugins.module_utils._auth.base import jwt_claims
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph import batch
from ansible_collections.entra.sync.plugins.module_utils._graph.messages import Answer, error_for
from ansible_collections.entra.sync.plugins.module_utils._graph.pacing import Pacer, spacing_for_rate
from ansible_collections.entra.sync.plugins.module_utils._graph.retry import FIRST_TRY, REFRESH, RETRY, is_write, judge, retry_delay


def quote_segment(value):
    """Quote one path segment (job ids hold dots and must never open a path)."""
    return quote(value, safe="")


def sent_nothing(exc):
    """True when requests failed before the request left the machine (safe to resend even a POST)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")


def _read(response, want_json):
    """(value, None) for a usable 2xx answer, else (None, Answer) for the verdict."""
    status = response.status_code
    if 200 <= status < 300:
        if not want_json or not response.content:
            return None, None
        try:
            return response.json(), None
        except ValueError:
            return None, Answer.of(status)
    try:
        body = response.json()
    except ValueError:
        body = None
    return None, Answer.of(status, body, response.headers.get("Retry-After"))


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

    def _wait(self, seconds, pause_everyone=False):
        """Wait before sending again: this worker alone, or every worker of the client when the pacer asks so."""
        if pause_everyone:
            self._pause_all(seconds)
        else:
            time.sleep(seconds)

    def _noted(self, pacer, answer, sent_at=None):
        """Tell the pacer of one answer of its kind; True when every worker should pause for its Retry-After."""
        throttled = answer is not None and answer.status == 429
        if throttled:
            self._count("throttled")
        return pacer.answered(throttled, answer.retry_after if answer else None, sent_at)

    def _refresh_token(self, rejected):
        # Many workers can see the same rejected token at once: only the first one asks for a new token.
        with self._refresh_lock:
            if self.credential.get_token().token == rejected:
                self._count("token refreshes")
                self.credential.get_token(force_refresh=True)

    def _is_delegated(self, token):
        """False for an application token; for a user token, the delegated scopes of its `scp` claim (for the messages)."""
        if self._delegated is None:
            claims = jwt_claims(token)
            self._delegated = frozenset(str(claims["scp"]).split()) if "scp" in claims else False
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

    def _exchange(self, method, url, token, params=None, body=None):
        """(response, None), or (None, a lost Answer) when no answer came back; its text names the Graph host (never a path,
        query or token), so a wrong graph_endpoint or cloud, or a blocked firewall, shows at once."""
        try:
            return self._send(method, url, token, params=params, body=body), None
        except TRANSIENT as exc:
            parts = urlsplit(url)
            host = "%s://%s" % (parts.scheme, parts.netloc)
            if sent_nothing(exc):
                return None, Answer.lost("the Graph host %s could not be reached (%s)" % (host, type(exc).__name__), True)
            return None, Answer.lost("%s from the Graph host %s" % (type(exc).__name__, host))

    def request(self, method, url, params=None, body=None, want_json=True):
        """Send with retries; return the decoded JSON (or None for an empty body). Raises GraphError or AuthError."""
        write = is_write(method)
        pacer = self._pacers[write]
        path = self._display_path(url)
        tries = FIRST_TRY
        while True:
            self._wait_for_pause()
            pacer.take()
            sent_at = pacer.stamp()
            token = self.credential.get_token().token
            self._count("%s requests" % method)
            response, answer = self._exchange(method, url, token, params=params, body=body)
            pause_everyone = False
            if response is not None:
                value, answer = _read(response, want_json)
                pause_everyone = self._noted(pacer, answer, sent_at)
                if answer is None:
                    return value
            verdict = judge(answer.status, answer.code, write, tries, self.settings.max_retries, pacer.active, answer.sent_nothing)
            if verdict.action == REFRESH:
                self._refresh_for(answer, verdict, method, path, tries, token)
            elif verdict.action == RETRY:
                self._count("retries")
                self._wait(retry_delay(answer.retry_after, tries.attempts), pause_everyone)
            else:
                raise error_for(answer, verdict, method, path, tries, token, self._is_delegated(token))
            tries = tries.after(verdict)

    def _refresh_for(self, answer, verdict, method, path, tries, token):
        try:
            self._refresh_token(token)
        except AuthError as exc:
            # Say both why Graph refused the token (expired, wrong audience, ...) and why no new one can be had.
            error = error_for(answer, verdict, method, path, tries, token)
            raise GraphError("%s. %s" % (error, exc), status=error.status, code=error.code, request_id=error.request_id) from None

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

    def batch(self, calls):
        """Send up to BATCH_MAX BatchCalls in one POST /$batch; return one (value, error) pair per call, in order.

        See batch.send_batch: the same verdicts as for single requests hold per item.
        """
        return batch.send_batch(self, calls)

    def close(self):
        self._session.close()
