# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GraphClient: one requests Session, per-request verify=, Retry-After aware retries, paging, error mapping.

Retries follow one rule: a request is sent again only when the service cannot have acted on it. GETs are
idempotent, so any transient failure is retried. A POST is retried after 429/503 (the service says it did not
process it) or an error raised before the request left; a failure after it left is `outcome_unknown`.
"""

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

from ansible_collections.entra.sync.plugins.module_utils.auth import AuthError, jwt_claims
from ansible_collections.entra.sync.plugins.module_utils.errors import describe_error, error_fields, parse_retry_after

RETRY_ON_ANY = (429, 503)
RETRY_ON_GET = (500, 502, 504)
# The service answered with an error after the request reached it: it may have acted before failing.
UNKNOWN_AFTER_POST = (500, 502, 504)
BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0


class GraphError(Exception):
    """A Graph call that failed. outcome_unknown means the request may have been processed."""

    def __init__(self, message, status=None, code="", request_id="", outcome_unknown=False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.outcome_unknown = outcome_unknown


def quote_segment(value):
    """Quote one path segment (job ids hold dots and must never open a path)."""
    return quote(value, safe="")


def backoff_delay(attempt, rng=random):
    """Exponential backoff with jitter for when the service gives no Retry-After."""
    return min(BACKOFF_MAX, BACKOFF_BASE * (2 ** attempt)) * rng.uniform(0.5, 1.0)


def _sent_nothing(exc):
    """True when requests failed before the request left the machine (safe to resend even a POST)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")


class GraphClient:
    """A thread-safe client for the Graph v1.0 API of one tenant and credential."""

    def __init__(self, settings, credential, pool_size=10):
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

    # ---- bookkeeping ---------------------------------------------------------------------------------------
    def _count(self, key, amount=1):
        with self._lock:
            self._stats[key] += amount

    def stats(self):
        with self._lock:
            return dict(self._stats)

    def _wait_for_pause(self):
        delay = self._pause_until - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _pause_all(self, seconds):
        # A 429 means the whole app is over its budget: every worker waits, rather than each hammering in turn.
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

    def request(self, method, url, params=None, body=None, want_json=True):
        """Send with retries; return the decoded JSON (or None for an empty body). Raises GraphError or AuthError."""
        idempotent = method == "GET"
        path = self._display_path(url)
        refreshed = False
        attempt = 0
        while True:
            self._wait_for_pause()
            token = self.credential.get_token().token
            self._count("%s requests" % method)
            try:
                response = self._session.request(
                    method, url, params=params, json=body,
                    headers={"Authorization": "Bearer " + token, "Accept": "application/json"},
                    verify=self.settings.verify, timeout=self.settings.timeout,
                )
            except requests.exceptions.SSLError:
                raise GraphError(
                    "TLS verification failed for %s: set ca_path to the CA bundle that signed its certificate, or "
                    "validate_certs: false (not recommended)." % self.settings.graph_root
                ) from None
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
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429:
                self._count("throttled")
            if status == 401 and code == "InvalidAuthenticationToken" and not refreshed:
                # Rejected before processing, so resending (even a POST) is safe; one refresh only.
                refreshed = True
                try:
                    self._refresh_token(token)
                except AuthError as exc:
                    # Say both why Graph refused the token (expired, wrong audience, ...) and why no new one can be had.
                    text = describe_error(status, code, message, method, path, False, request_id).replace(token, "********")
                    raise GraphError("%s. %s" % (text, exc), status=status, code=code, request_id=request_id) from None
                continue
            if (status in RETRY_ON_ANY or (idempotent and status in RETRY_ON_GET)) and attempt < self.settings.max_retries:
                delay = retry_after if retry_after is not None else backoff_delay(attempt)
                if status == 429:
                    self._pause_all(delay)
                else:
                    time.sleep(delay)
                self._count("retries")
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

    def close(self):
        self._session.close()
