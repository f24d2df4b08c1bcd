# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What entra.sync.escalate sends and records for one self-heal escalation (pure; the playbook does the I/O).

escalation_record(event) is the escalation as JSON: the job's ids and name, its status, why it was escalated, the
quarantine's reason and error code, what fixes it (remedy, remedy_reason, disables_at when the event carries them),
relapses, the quarantine episode and the tenant. webhook_payload(record, format) puts it in the shape a webhook
takes: generic (the record itself), teams (an Adaptive Card message, as a Teams Workflows webhook takes it) or slack
(Block Kit). webhook_outcome(result, url) is what the file records of the post. The webhook URL is a secret: it is
never part of a record, a payload or an outcome.
"""

from ansible_collections.entra.sync.plugins.module_utils._auth.base import scrub
from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError

FORMATS = ("generic", "teams", "slack")
# A post that got one of these (or no answer: status -1) is tried again; any other status is final.
RETRY_STATUSES = (-1, 408, 429, 500, 502, 503, 504)
# Slack refuses a header over 150 characters and a field over 2,000.
SLACK_HEADER_MAX = 150
SLACK_FIELD_MAX = 2000
RECORD_KEYS = ("escalated_at", "tenant_id", "service_principal_id", "service_principal_name", "job_id", "template_id",
               "status_code", "quarantine_reason", "error_code", "error_message", "tenant_actionable", "reason", "remedy",
               "remedy_reason", "disables_at", "disables_soon", "relapses", "episode", "observed_at")


def _entra_sync(event):
    """The entra_sync part of an event as ansible-rulebook passes it (ansible_eda.event), or of that part itself."""
    if isinstance(event, dict) and isinstance(event.get("entra_sync"), dict):
        return event["entra_sync"]
    if isinstance(event, dict) and "heal" in event:
        return event
    raise InputError("entra.sync.escalate needs the event of entra.sync.sync_job_events (ansible_eda.event, with the key "
                     "entra_sync); got %s. Run it from the self_heal rulebooks, or pass -e @event.json." % type(event).__name__)


def escalation_record(event, escalated_at, failure=None, error_code=None):
    """The escalation of one event: a flat dict of RECORD_KEYS (values missing from the event are None).

    failure and error_code: a credential rotation that failed (entra.sync.heal) escalates with its own reason and
    Graph's error code instead of the event's.
    """
    data = _entra_sync(event)
    job = data.get("job") if isinstance(data.get("job"), dict) else {}
    quarantine = job.get("quarantine") if isinstance(job.get("quarantine"), dict) else {}
    error = quarantine.get("error") if isinstance(quarantine.get("error"), dict) else {}
    heal = data.get("heal") if isinstance(data.get("heal"), dict) else {}
    return {
        "escalated_at": escalated_at,
        "tenant_id": job.get("tenant_id"),
        "service_principal_id": job.get("service_principal_id"),
        "service_principal_name": job.get("service_principal_name"),
        "job_id": job.get("job_id"),
        "template_id": job.get("template_id"),
        "status_code": job.get("status_code"),
        "quarantine_reason": job.get("quarantine_reason"),
        "error_code": error_code or job.get("quarantine_error_code") or error.get("code"),
        "error_message": job.get("quarantine_error_message") or error.get("message"),
        "tenant_actionable": job.get("quarantine_tenant_actionable", error.get("tenant_actionable")),
        "reason": failure or heal.get("reason"),
        "remedy": job.get("remedy", heal.get("remedy")),
        "remedy_reason": job.get("remedy_reason", heal.get("remedy_reason")),
        "disables_at": job.get("disables_at"),
        # Microsoft disables a job 28 days into a quarantine: within 7 days of that, the escalation says so first.
        "disables_soon": bool(heal.get("disables_soon", False)),
        "relapses": data.get("relapses"),
        "episode": data.get("episode"),
        "observed_at": data.get("observed_at"),
    }


def _title(record):
    name = record.get("service_principal_name") or record.get("service_principal_id") or "a synchronization job"
    soon = "DISABLED SOON (%s): " % record.get("disables_at") if record.get("disables_soon") else ""
    return "%sentra.sync self-heal escalation: %s (%s)" % (soon, name, record.get("status_code") or "status unknown")


def _facts(record):
    """(label, text) pairs a person reads, in order, without empty ones."""
    pairs = (
        ("Why", record.get("reason")),
        ("Remedy", " - ".join(str(part) for part in (record.get("remedy"), record.get("remedy_reason")) if part)),
        ("Disables at", record.get("disables_at")),
        ("Quarantine", " / ".join(str(part) for part in (record.get("quarantine_reason"), record.get("error_code")) if part)),
        ("Relapses", record.get("relapses")),
        ("Tenant", record.get("tenant_id")),
        ("Service principal", record.get("service_principal_id")),
        ("Job", record.get("job_id")),
        ("Episode", record.get("episode")),
    )
    return [(label, str(text)) for label, text in pairs if text not in (None, "")]


def teams_payload(record):
    """A message with one Adaptive Card: what a Teams Workflows 'when a webhook request is received' flow posts."""
    card = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": _title(record), "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "FactSet", "facts": [{"title": label, "value": text} for label, text in _facts(record)]},
        ],
    }
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                                                "content": card}]}


def _cut(text, limit):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def slack_payload(record):
    """A Block Kit message for a Slack incoming webhook: a header, the facts, and `text` for notifications."""
    facts = _facts(record)
    fields = [{"type": "mrkdwn", "text": _cut("*%s*\n%s" % (label, text), SLACK_FIELD_MAX)} for label, text in facts]
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": _cut(_title(record), SLACK_HEADER_MAX)}}]
    # A section holds at most 10 fields.
    blocks += [{"type": "section", "fields": fields[start:start + 10]} for start in range(0, len(fields), 10)]
    return {"text": _title(record), "blocks": blocks}


def webhook_payload(record, webhook_format="generic"):
    """The body to post for `record` in one of FORMATS; InputError naming the choices otherwise."""
    fmt = "generic" if webhook_format in (None, "") else webhook_format
    fmt = fmt.strip().lower() if isinstance(fmt, str) else fmt
    if fmt == "generic":
        return dict(record)
    if fmt == "teams":
        return teams_payload(record)
    if fmt == "slack":
        return slack_payload(record)
    raise InputError("entra_sync_heal_webhook_format %r is not one of %s." % (webhook_format, ", ".join(FORMATS)))


def check_webhook_url(url):
    """'' (no webhook) or an https URL; InputError (which never shows the URL, a secret) otherwise."""
    if url in (None, ""):
        return ""
    if not isinstance(url, str) or not url.lower().startswith("https://") or len(url) <= len("https://"):
        raise InputError("entra_sync_heal_webhook_url must be an https:// URL (the escalation and the URL's own secret "
                         "would otherwise travel in clear text); the value given is not shown.")
    return url


def scrub_url(text, url):
    """text without the webhook URL, its path or its query (Teams and Slack put the secret there)."""
    text = "" if text is None else str(text)
    if not url:
        return text
    rest = url.split("://", 1)[-1]
    tail = rest.split("/", 1)[1] if "/" in rest else ""
    parts = {url, rest, "/" + tail if tail else "", tail.split("?", 1)[-1] if "?" in tail else ""}
    return scrub(text, [part for part in parts if len(part) > 1])


def retry_post(result):
    """True when a post (the uri task's registered result) should be tried again: no answer, or one of RETRY_STATUSES."""
    status = result.get("status", -1) if isinstance(result, dict) else -1
    return status in RETRY_STATUSES


def webhook_outcome(result, url):
    """What the file records of a post (the uri task's registered result): delivered, status, attempts, error."""
    if not isinstance(result, dict) or result.get("skipped"):
        return None
    status = result.get("status")
    delivered = isinstance(status, int) and 200 <= status < 300
    error = None if delivered else scrub_url(result.get("msg") or "no answer", url)
    attempts = result.get("attempts", 1)
    if "attempts" in result and retry_post(result):
        # Ansible's until loop (until: not webhook_retry) reports one attempt less once the retries ran out (it counts the
        # retries then).
        attempts += 1
    return {"delivered": delivered, "status": status, "attempts": attempts, "error": error}
