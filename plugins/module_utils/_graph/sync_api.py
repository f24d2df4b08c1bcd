# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The synchronization endpoints of Graph, one method each, with the ids quoted into the path.

The `*_many` methods take many jobs or service principals at once: in batch mode they go out in `$batch` envelopes
of up to 20 requests (several envelopes in flight), otherwise as single requests; either way one (value, error)
pair comes back per input, in input order.
"""

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, EntraSyncError, GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph.batch import BATCH_MAX, BatchCall
from ansible_collections.entra.sync.plugins.module_utils._graph.client import quote_segment
from ansible_collections.entra.sync.plugins.module_utils._graph.concurrency import run_bounded
from ansible_collections.entra.sync.plugins.module_utils._settings.options import BATCH_MODES

SERVICE_PRINCIPAL_FIELDS = "id,appId,displayName"
PAGE_SIZE = 999
# What goes into $batch: nothing, the reads (listing and reading jobs), or the restarts too.
# The words for each POST in a message.
POST_VERBS = {"restart": "restarting", "start": "starting", "pause": "pausing"}


def jobs_path(service_principal_id):
    return "/servicePrincipals/%s/synchronization/jobs" % quote_segment(service_principal_id)


def job_path(service_principal_id, job_id):
    return "%s/%s" % (jobs_path(service_principal_id), quote_segment(job_id))


def secrets_path(service_principal_id):
    return "/servicePrincipals/%s/synchronization/secrets" % quote_segment(service_principal_id)


def _chunks(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)]


class SyncApi:
    """Typed calls over a GraphClient; raises GraphError/AuthError from it unchanged."""

    def __init__(self, client, batch="none"):
        if batch not in BATCH_MODES:
            raise ValueError("batch must be one of %s" % ", ".join(BATCH_MODES))
        self.client = client
        self.batch_mode = batch

    @property
    def batch_reads(self):
        return self.batch_mode in ("reads", "all")

    @property
    def batch_writes(self):
        return self.batch_mode == "all"

    def service_principal(self, service_principal_id):
        return self.client.get("/servicePrincipals/%s" % quote_segment(service_principal_id), {"$select": SERVICE_PRINCIPAL_FIELDS})

    def iter_service_principals(self, odata_filter=None):
        params = {"$select": SERVICE_PRINCIPAL_FIELDS, "$top": str(PAGE_SIZE)}
        if odata_filter:
            params["$filter"] = odata_filter
        return self.client.iter_pages("/servicePrincipals", params)

    def list_jobs(self, service_principal_id):
        return list(self.client.iter_pages(jobs_path(service_principal_id)))

    def get_job(self, service_principal_id, job_id):
        return self.client.get(job_path(service_principal_id, job_id))

    def restart(self, service_principal_id, job_id, body):
        self.client.post(job_path(service_principal_id, job_id) + "/restart", body)

    def start(self, service_principal_id, job_id):
        self.client.post(job_path(service_principal_id, job_id) + "/start")

    def pause(self, service_principal_id, job_id):
        self.client.post(job_path(service_principal_id, job_id) + "/pause")

    def validate_credentials(self, service_principal_id, job_id, body):
        """POST .../jobs/{jobId}/validateCredentials: returns when the target accepts them, raises GraphError if not."""
        self.client.post(job_path(service_principal_id, job_id) + "/validateCredentials", body)

    def save_secrets(self, service_principal_id, body):
        """PUT .../synchronization/secrets: the whole set of the service principal's credentials."""
        self.client.put(secrets_path(service_principal_id), body)

    # ---- many at once ------------------------------------------------------------------------------------------------
    def list_jobs_batch(self, service_principal_ids):
        """Up to 20 service principals' job lists in one envelope: [(raw jobs list, None) | (None, error)]."""
        answers = self._batch([BatchCall("GET", jobs_path(sp_id)) for sp_id in service_principal_ids])
        out = []
        for sp_id, (page, error) in zip(service_principal_ids, answers, strict=True):
            if error is not None:
                out.append((None, error))
                continue
            items = page.get("value") if isinstance(page, dict) else None
            if not isinstance(items, list):
                out.append((None, GraphError("GET %s returned no 'value' list." % jobs_path(sp_id))))
                continue
            if page.get("@odata.nextLink"):
                # A rare second page: follow the links with single requests (same host check as iter_pages).
                try:
                    items = list(self.client.iter_pages(jobs_path(sp_id)))
                except EntraSyncError as exc:
                    out.append((None, exc))
                    continue
            out.append((items, None))
        return out

    def get_jobs_many(self, pairs, concurrency):
        """Read many jobs [(service_principal_id, job_id)]: [(raw job, None) | (None, error)] in input order."""
        pairs = list(pairs)
        if not self.batch_reads:
            return run_bounded(pairs, lambda pair: self._one(self.get_job, *pair), concurrency)
        groups = _chunks(pairs, BATCH_MAX)
        answers = run_bounded(groups, lambda group: self._batch([BatchCall("GET", job_path(sp, job)) for sp, job in group]), concurrency)
        return [answer for group in answers for answer in group]

    def restart_many(self, pairs, body, concurrency, on_sent=None):
        """Restart many jobs [(service_principal_id, job_id)]: [(None, None) | (None, error)] in input order.

        on_sent(indexes) is called just before each request or envelope leaves (for the wait's start times).
        """
        return self._post_many("restart", pairs, concurrency, on_sent, body)

    def start_many(self, pairs, concurrency, on_sent=None):
        """POST start to many jobs; as restart_many."""
        return self._post_many("start", pairs, concurrency, on_sent)

    def pause_many(self, pairs, concurrency, on_sent=None):
        """POST pause to many jobs; as restart_many."""
        return self._post_many("pause", pairs, concurrency, on_sent)

    def _post_many(self, action, pairs, concurrency, on_sent, body=None):
        indexed = list(enumerate(pairs))
        groups = _chunks(indexed, BATCH_MAX) if self.batch_writes else [[item] for item in indexed]

        def send(group):
            if on_sent:
                on_sent([index for index, _pair in group])
            if self.batch_writes:
                return self._batch([BatchCall("POST", "%s/%s" % (job_path(sp, job), action), body) for _index, (sp, job) in group])
            _index, (sp, job) = group[0]
            return [self._post_one(action, sp, job, body)]
        answers = run_bounded(groups, send, concurrency)
        return [answer for group in answers for answer in group]

    def _post_one(self, action, service_principal_id, job_id, body):
        """One POST as (None, None) or (None, error); never raises, so the other jobs' results are kept."""
        try:
            if action == "restart":
                self.restart(service_principal_id, job_id, body)
            else:
                getattr(self, action)(service_principal_id, job_id)
        except EntraSyncError as exc:
            return None, exc
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # The POST may have left before the failure: its outcome is unknown.
            return None, GraphError("unexpected %s while %s" % (type(exc).__name__, POST_VERBS[action]), outcome_unknown=True)
        return None, None

    def _batch(self, calls):
        try:
            return self.client.batch(calls)
        except AuthError as exc:
            # No token: nothing in this envelope was sent.
            return [(None, exc)] * len(calls)

    @staticmethod
    def _one(call, *args):
        try:
            return call(*args), None
        except EntraSyncError as exc:
            return None, exc
