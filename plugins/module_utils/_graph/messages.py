# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Graph answer means and the words for what went wrong: pure, no I/O.

Every text that reaches a user is built here: the one-line description of a failed call (with what to grant or
check), the unknown-outcome message, and the masking of the bearer token, so each is written once.
"""

import email.utils
import math
import time
from collections import namedtuple

from ansible_collections.entra.sync.plugins.module_utils._exceptions import GraphError
from ansible_collections.entra.sync.plugins.module_utils._graph.retry import UNKNOWN

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


ROLES_HINT = (
    "Microsoft requires the signed-in user to hold the directory role Application Administrator or Cloud Application "
    "Administrator (Hybrid Identity Administrator for Microsoft Entra Cloud Sync jobs), or to own the service principal"
)


def delegated_permission_hint(method, path, scopes):
    """What a user (delegated) token lacks, from the scopes in its `scp` claim; None when not about permissions (pure)."""
    if is_synchronization_path(path):
        needed = (SYNC_WRITE_PERMISSION,) if method != "GET" else (SYNC_READ_PERMISSION, SYNC_WRITE_PERMISSION)
        if not any(scope in scopes for scope in needed):
            return (
                "the signed-in user's token lacks the delegated scope %s (it has %s): sign in again asking for it (graph_token "
                "scopes, with force_sign_in: true); the tenant's administrator must have consented to it for the client app"
                % (" or ".join(needed), ", ".join(sorted(scopes)) or "none")
            )
        return "the token has the scope %s, so the user lacks a role or ownership: %s" % ([s for s in needed if s in scopes][0], ROLES_HINT)
    if path.startswith("/servicePrincipals") and LIST_PERMISSION not in scopes:
        return (
            "listing service principals with a user token needs the delegated scope %s: sign in again asking for it (graph_token "
            "scopes: [Synchronization.ReadWrite.All, Application.Read.All], with force_sign_in: true)" % LIST_PERMISSION
        )
    return None


def permission_hint(status, method, path, delegated):
    """What to grant when Graph says 401/403, or None when the status is not about permissions.

    delegated: False for an application token, True for a user token of unknown scopes, or the scopes of a user token.
    """
    if status not in (401, 403):
        return None
    if delegated not in (None, False, True):
        return delegated_permission_hint(method, path, delegated)
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


def scrub(text, token):
    """The text with the bearer token masked: a Graph message may echo the token it rejected."""
    return text.replace(token, "********") if token else text


class Answer(namedtuple("Answer", ["status", "code", "message", "request_id", "retry_after", "what", "sent_nothing"])):
    """What came back for one request, read from a response or a $batch item.

    status None: no answer came back; what names why (an exception's name, a lost $batch answer) and sent_nothing says
    the request never left the machine. A 2xx Answer is one whose body could not be read.
    """

    __slots__ = ()

    @classmethod
    def of(cls, status, body=None, retry_after=None):
        """An answer with a status, a decoded body (or None) and its Retry-After header (read only for errors)."""
        code, message, request_id = error_fields(body)
        return cls(status, code, message, request_id, None if status < 300 else parse_retry_after(retry_after), "", False)

    @classmethod
    def lost(cls, what, sent_nothing=False):
        return cls(None, "", "", "", None, what, sent_nothing)


def error_for(answer, verdict, method, path, tries, token="", delegated=False):
    """The GraphError for an answer that a verdict does not send again; tries: what the request spent (a Tries)."""
    unknown = verdict.action == UNKNOWN
    attempts = tries.attempts + 1
    if answer.status is None and unknown:
        return GraphError(
            "%s %s: the request was sent but no answer came back (%s); it may or may not have been processed, so it is "
            "not sent again. Check the job's status before retrying." % (method, path, answer.what),
            outcome_unknown=True,
        )
    if answer.status is None:
        return GraphError("%s %s failed after %d attempts: %s." % (method, path, attempts, answer.what))
    if 200 <= answer.status < 300:
        return GraphError("%s %s returned a body that is not JSON (HTTP %s)." % (method, path, answer.status), status=answer.status)
    text = scrub(describe_error(answer.status, answer.code, answer.message, method, path, delegated, answer.request_id), token)
    if verdict.gave_up:
        text += " (gave up after %d attempts: raise max_retries or lower concurrency)" % attempts
    if unknown:
        text += " (a server error after the request was sent: it may have been processed, so it is not sent again)"
    return GraphError(text, status=answer.status, code=answer.code, request_id=answer.request_id, outcome_unknown=unknown)
