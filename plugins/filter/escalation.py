# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the entra.sync.escalate playbook: the escalation record, the webhook body, the post's outcome."""

from ansible.errors import AnsibleFilterError

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._heal import escalation as _escalation


def _filter_errors(function, *args):
    try:
        return function(*args)
    except InputError as exc:
        raise AnsibleFilterError(str(exc)) from None


def escalation(event, escalated_at=None, failure=None, error_code=None):
    """The escalation record of a self-heal event (ansible_eda.event); failure and error_code: of a failed rotation."""
    return _filter_errors(_escalation.escalation_record, event, escalated_at, failure, error_code)


def escalation_payload(record, webhook_format="generic"):
    """The webhook body for an escalation record: generic, teams or slack."""
    return _filter_errors(_escalation.webhook_payload, record, webhook_format)


def webhook_ready(url):
    """True for an https URL, False for none; an error (never showing the URL) for anything else."""
    return bool(_filter_errors(_escalation.check_webhook_url, url))


def webhook_outcome(result, url=""):
    """What the escalation file records of the post: delivered, status, attempts, error (the URL scrubbed)."""
    return _escalation.webhook_outcome(result, url)


def webhook_retry(result):
    """True when a post should be tried again: no answer, or 408, 429, 500, 502, 503, 504."""
    return _escalation.retry_post(result)


class FilterModule:
    def filters(self):
        return {"escalation": escalation, "escalation_payload": escalation_payload, "webhook_ready": webhook_ready,
                "webhook_outcome": webhook_outcome, "webhook_retry": webhook_retry}
