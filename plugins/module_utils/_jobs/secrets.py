# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A provisioning job's credentials (Graph's synchronizationSecret key -> value): checked before any request, the
bodies of validateCredentials and PUT .../synchronization/secrets, what a run does and what it reports. Pure, no I/O.

No value given here ever reaches a message, a result or a diff: messages name keys only, and `hidden_values` lists
what the service masks in any text Graph sends back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import Job, status_phrase
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import diagnose
from ansible_collections.entra.sync.plugins.module_utils._jobs.results import REMEDY_KEYS
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import show_value

# Graph's synchronizationSecret enum (its metadata, as msgraph-sdk's SynchronizationSecret holds it), without `None`.
SECRET_KEYS = (
    "UserName", "Password", "SecretToken", "AppKey", "BaseAddress", "ClientIdentifier", "ClientSecret", "SingleSignOnType",
    "Sandbox", "Url", "Domain", "ConsumerKey", "ConsumerSecret", "TokenKey", "TokenExpiration", "Oauth2AccessToken",
    "Oauth2AccessTokenCreationTime", "Oauth2RefreshToken", "SyncAll", "InstanceName", "Oauth2ClientId", "Oauth2ClientSecret",
    "CompanyId", "UpdateKeyOnSoftDelete", "SynchronizationSchedule", "SystemOfRecord", "SandboxName", "EnforceDomain",
    "SyncNotificationSettings", "SkipOutOfScopeDeletions", "Oauth2AuthorizationCode", "Oauth2RedirectUri",
    "ApplicationTemplateIdentifier", "Oauth2TokenExchangeUri", "Oauth2AuthorizationUri", "AuthenticationType", "Server",
    "PerformInboundEntitlementGrants", "HardDeletesEnabled", "SyncAgentCompatibilityKey", "SyncAgentADContainer",
    "ValidateDomain", "TestReferences", "ConnectionString",
)
_BY_LOWER = {key.lower(): key for key in SECRET_KEYS}
# Keys whose value is a JSON document in a string (graph-facts.md): a dictionary given for them is written as JSON.
JSON_KEYS = ("SyncNotificationSettings",)
# Values shorter than this are flags ("true", "false", "1"), not secrets: masking them would garble messages (no_log
# still masks every value in what Ansible shows).
MIN_HIDDEN_LENGTH = 6


def _value_text(key, value):
    """(text, None) for a value Graph can store, or (None, the problem) for one it cannot."""
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, (int, float)):
        return str(value), None
    if isinstance(value, (Mapping, list)):
        if key in JSON_KEYS:
            return json.dumps(value, separators=(",", ":"), sort_keys=True), None
        return None, "%s must be a string, not a %s (only %s takes a dictionary, written as JSON)" % (
            key, "list" if isinstance(value, list) else "dictionary", " and ".join(JSON_KEYS))
    if value is None or not isinstance(value, str) or not value.strip():
        return None, "%s has no value (an empty lookup or variable?)" % key
    # A value read from a file or a vault often ends with a newline, which no target would accept.
    return value.strip(), None


def check_credentials(credentials):
    """((key, value), ...) in Graph's spelling and the given order, or one InputError naming each bad key, never a value."""
    if not isinstance(credentials, Mapping):
        raise InputError("credentials must be a dictionary of synchronizationSecret key -> value, for example {BaseAddress: "
                         "https://scim.example.com/v2, SecretToken: ...}; got a %s." % type(credentials).__name__)
    if not credentials:
        raise InputError("credentials is empty: give the whole set the job needs (for a SCIM app BaseAddress and SecretToken), "
                         "or use_saved_credentials: true to test the saved ones.")
    pairs, problems, unknown, seen = [], [], [], set()
    for key, value in credentials.items():
        canonical = _BY_LOWER.get(str(key).strip().lower())
        if canonical is None:
            unknown.append(show_value(key))
            continue
        if canonical in seen:
            problems.append("%s is given twice (keys are not case-sensitive)" % canonical)
            continue
        seen.add(canonical)
        text, problem = _value_text(canonical, value)
        if problem:
            problems.append(problem)
        else:
            pairs.append((canonical, text))
    if unknown:
        problems.append("unknown key%s %s: the keys Graph knows (synchronizationSecret) are %s" % (
            "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(SECRET_KEYS)))
    if problems:
        raise InputError("credentials: %s. Nothing was sent." % "; ".join(problems))
    return tuple(pairs)


def hidden_values(pairs):
    """The values to mask in any text that came back (Graph's messages may quote what they were given)."""
    return sorted({value for _key, value in pairs if len(value) >= MIN_HIDDEN_LENGTH}, key=len, reverse=True)


def _pair_list(pairs):
    return [{"key": key, "value": value} for key, value in pairs]


def validate_body(pairs):
    """The body of POST .../validateCredentials: the given credentials, or (no pairs) the saved ones."""
    if not pairs:
        return {"useSavedCredentials": True}
    return {"useSavedCredentials": False, "credentials": _pair_list(pairs)}


def secrets_body(pairs):
    """The body of PUT .../synchronization/secrets: the whole set, in `value` (the PUT page's example and the SDKs)."""
    return {"value": _pair_list(pairs)}


def is_refusal(status):
    """True when a failed validateCredentials means the target refused the credentials, not that the call failed.

    Graph names the cause in the code of a 4xx; 401/403 (this app's permission), 404 (no such job), 405 and 429 are
    about the call itself.
    """
    return status is not None and 400 <= status < 500 and status not in (401, 403, 404, 405, 429)


@dataclass(frozen=True)
class CredentialPlan:
    """What a run does: test `pairs` (empty: the saved credentials), then save them or not (and why not)."""

    pairs: tuple
    save: bool
    not_saved: str = ""

    @property
    def keys(self):
        return [key for key, _value in self.pairs]


def plan_credentials(pairs, use_saved, test_only, check_mode):
    """The one decision of sync_job_credentials: always test; save only given credentials, outside test_only and check mode."""
    if use_saved and pairs:
        raise InputError("give credentials or use_saved_credentials: true, not both: use_saved_credentials tests what is "
                         "saved already and saves nothing.")
    if use_saved:
        return CredentialPlan((), False, "the saved credentials were tested; nothing to save")
    if not pairs:
        raise InputError("give credentials (the whole set the job needs, e.g. BaseAddress and SecretToken), or "
                         "use_saved_credentials: true to test the saved ones.")
    if check_mode:
        return CredentialPlan(pairs, False, "check mode: tested, not saved")
    if test_only:
        return CredentialPlan(pairs, False, "test_only: tested, not saved")
    return CredentialPlan(pairs, True)


@dataclass(frozen=True)
class CredentialOutcome:
    """What happened: the job as read first (None: not read), the test, the save, and the error that stopped the run.

    tested: Graph answered the test; accepted: True/False by the target, None when not tested; saved: True/False, None
    when the PUT's answer was lost (it may have been saved).
    """

    job: Job | None = None
    tested: bool = False
    accepted: bool | None = None
    saved: bool | None = False
    error: Exception | None = None
    message: str = ""


def _what_happened(plan, outcome):
    if outcome.job is None:
        return "the job could not be read: nothing was tested or saved"
    if not outcome.tested:
        return "the credentials could not be tested: nothing was saved"
    if not outcome.accepted:
        return "the target refused the %s credentials: nothing was saved" % ("saved" if not plan.pairs else "given")
    if outcome.saved is None:
        return "tested and accepted; the save's answer was lost: they may have been saved"
    if outcome.saved:
        return "tested and accepted, then saved (%s)" % ", ".join(plan.keys)
    if not plan.save:
        return "tested and accepted; %s" % plan.not_saved
    return "tested and accepted; the save failed: nothing was saved"


def credentials_result(service_principal_id, job_id, plan, outcome, extra=None):
    """sync_job_credentials' result: the job as found and its remedy, the test, the save, `changed` (saved or possibly saved)."""
    job = outcome.job
    found = job.to_dict() if job is not None else {}
    result = {
        "service_principal_id": service_principal_id,
        "job_id": job_id,
        "template_id": found.get("template_id"),
        "status_code": found.get("status_code"),
        "quarantine_reason": found.get("quarantine_reason"),
        "quarantine_error_code": found.get("quarantine_error_code"),
        "secret_keys": plan.keys,
        # What fixes the job as found (remedy.diagnose): `credentials` for a token the target refuses.
        **(diagnose(job).to_dict() if job is not None else dict.fromkeys(REMEDY_KEYS)),
        "tested": outcome.tested,
        "accepted": outcome.accepted,
        "saved": outcome.saved,
        # Saved values read back masked, so Graph cannot say whether the new token equals the old: a save is a change.
        "changed": outcome.saved is not False,
        "reason": "%s; %s" % (status_phrase(job), _what_happened(plan, outcome)),
    }
    result.update(extra or {})
    if outcome.error is not None and getattr(outcome.error, "status", None):
        result.update(status=outcome.error.status, error_code=outcome.error.code)
    return result


def credentials_diff(service_principal_id, plan, outcome):
    """Diff mode: the keys saved, never a value (saved values cannot be read back: Graph masks them)."""
    name = "secrets of %s" % service_principal_id
    if outcome.saved is not False:
        after = "%s (new values)\n" % ", ".join(plan.keys)
    elif outcome.accepted and plan.pairs:
        after = "%s (new values, not saved: %s)\n" % (", ".join(plan.keys), plan.not_saved)
    else:
        after = "(unchanged)\n"
    return {"before": "(saved values are masked by Graph)\n", "after": after, "before_header": name, "after_header": name}
