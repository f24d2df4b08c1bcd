# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions about Graph errors: what a response means and what the user should do about it."""

import email.utils
import math
import time

SYNC_WRITE_PERMISSION = "Synchronization.ReadWrite.All"
SYNC_READ_PERMISSION = "Synchronization.Read.All"
LIST_PERMISSION = "Application.Read.All"
RETRY_AFTER_MAX = 120.0


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header: fractional seconds ('2.128') or an HTTP date; None when absent or junk."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def error_fields(body):
    """(code, message, request_id) from a Graph error body of any shape; missing parts are empty strings."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", "", ""
    inner = error.get("innerError") or error.get("innererror") or {}
    request_id = inner.get("request-id", "") if isinstance(inner, dict) else ""
    return str(error.get("code") or ""), str(error.get("message") or ""), str(request_id or "")


def is_synchronization_path(path):
    return "/synchronization/" in path or path.endswith("/synchronization")


def permission_hint(status, method, path, delegated):
    """What to grant when Graph says 401/403, or None when the status is not about permissions."""
    if status not in (401, 403):
        return None
    if is_synchronization_path(path):
        needed = SYNC_WRITE_PERMISSION if method != "GET" else "%s (or %s)" % (SYNC_READ_PERMISSION, SYNC_WRITE_PERMISSION)
        hint = (
            "the token lacks the permission %s for synchronization jobs: grant it to the app with admin consent. "
            "Application.ReadWrite.OwnedBy only covers service principals the app owns, and Graph often answers 401 even then."
            % needed
        )
        if delegated:
            hint += (
                " For a user (delegated) token the signed-in user also needs the directory role Application Administrator or "
                "Cloud Application Administrator (Hybrid Identity Administrator for Cloud Sync jobs)."
            )
        return hint
    if path.startswith("/servicePrincipals"):
        return "listing service principals needs %s: grant it to the app with admin consent." % LIST_PERMISSION
    return None


def describe_error(status, code, message, method, path, delegated=False, request_id=""):
    """One line for a failed Graph call: what was asked, what came back, and what to do."""
    text = "%s %s failed: HTTP %s" % (method, path, status)
    if code:
        text += " %s" % code
    if message:
        text += ": %s" % message.strip().splitlines()[0][:300]
    if code == "InvalidAuthenticationToken":
        text += " (the token is expired or not valid for this Graph endpoint: check cloud and graph_endpoint)"
    else:
        hint = permission_hint(status, method, path, delegated)
        if hint:
            text += " (%s)" % hint
    if status == 404:
        text += " (check service_principal_id (the object id, not the appId) and job_id)"
    if request_id:
        text += " [request-id %s]" % request_id
    return text
