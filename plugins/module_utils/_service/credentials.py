# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sync_job_credentials: read the job, test the credentials, then save them, in Microsoft's order.

    GET the job (it must exist; its status and remedy go in the result) --> POST validateCredentials --> PUT secrets

Nothing is saved unless Graph accepted the test; the PUT carries the whole set (never read-modify-write: saved values
read back masked). What to test and whether to save is _jobs/secrets.plan_credentials' decision; this file only sends.
Every error text is masked of the values given before it leaves (Graph's messages may quote what they were sent).
"""

from dataclasses import replace

from ansible_collections.entra.sync.plugins.module_utils._auth.base import scrub
from ansible_collections.entra.sync.plugins.module_utils._exceptions import EntraSyncError
from ansible_collections.entra.sync.plugins.module_utils._jobs.secrets import (
    CredentialOutcome,
    hidden_values,
    is_refusal,
    secrets_body,
    validate_body,
)
from ansible_collections.entra.sync.plugins.module_utils._service.restart import read_job


class CredentialCheck:
    """One job's credentials through SyncApi: test, then save when the plan says so."""

    def __init__(self, api, plan):
        self.api = api
        self.plan = plan
        self._hidden = hidden_values(plan.pairs)

    def _failed(self, outcome, error, doing, then=""):
        """The outcome with the error that stopped the run and its message, masked of every value given."""
        return replace(outcome, error=error, message="%s: %s%s" % (doing, scrub(str(error), self._hidden), then))

    def run(self, target):
        """A CredentialOutcome; never raises for a Graph or sign-in error (it is in the outcome, masked)."""
        outcome = CredentialOutcome()
        sp_id, job_id = target.service_principal_id, target.job_id
        try:
            job, refused = read_job(self.api.get_job(sp_id, job_id), target)
        except EntraSyncError as exc:
            return self._failed(outcome, exc, "reading the job failed", " Nothing was tested or saved.")
        if refused:
            return replace(outcome, message="reading the job failed: %s" % refused)
        outcome = replace(outcome, job=job)
        try:
            self.api.validate_credentials(sp_id, job_id, validate_body(self.plan.pairs))
        except EntraSyncError as exc:
            if is_refusal(exc.status):
                return self._failed(replace(outcome, tested=True, accepted=False), exc, "the target refused the credentials",
                                    " Nothing was saved.")
            return self._failed(outcome, exc, "testing the credentials failed", " Nothing was saved.")
        outcome = replace(outcome, tested=True, accepted=True)
        if not self.plan.save:
            return outcome
        try:
            self.api.save_secrets(sp_id, secrets_body(self.plan.pairs))
        except EntraSyncError as exc:
            then = " The save replaces the whole set: running the task again is safe." if exc.outcome_unknown else ""
            return self._failed(replace(outcome, saved=None if exc.outcome_unknown else False), exc, "saving the credentials failed", then)
        return replace(outcome, saved=True)
