"""A provisioning job's credentials: the secrets of a service principal's synchronization, and the target that checks them.

graph-facts.md "Credentials of a provisioning job":
- `PUT /servicePrincipals/{id}/synchronization/secrets` with `{"value": [{"key", "value"}, ...]}` saves the set: 204.
  Whether Graph merges or replaces is not documented; the sandbox replaces (the stricter reading: a client that sends
  part of the set loses the rest, and a test sees it).
- `GET .../synchronization/secrets` reads the saved set back with every value masked as `*`.
- `POST .../jobs/{jobId}/validateCredentials` with `{"useSavedCredentials": false, "credentials": [...]}` (or
  `useSavedCredentials: true`) tests them against the target: 204, or an error whose code names the cause (400 here:
  the facts name the code, not the status).
Same permissions as restart. The target of a service principal accepts what the admin API set (PUT
/_sandbox/credentials/{sp}); with nothing set it accepts any credentials. A job whose cycle (after a restart or a start)
runs with saved credentials the target refuses falls back into quarantine, as the first cycle after a restart does.
"""

import json

from aiohttp import web

from .appkeys import SANDBOX_KEY
from .errors import GraphError
from .payload import action_parameters, json_object, unknown_property, without_annotations

# The synchronizationSecret enum of Graph's metadata (msgraph-sdk's SynchronizationSecret), in its order.
SECRET_KEYS = (
    "None", "UserName", "Password", "SecretToken", "AppKey", "BaseAddress", "ClientIdentifier", "ClientSecret",
    "SingleSignOnType", "Sandbox", "Url", "Domain", "ConsumerKey", "ConsumerSecret", "TokenKey", "TokenExpiration",
    "Oauth2AccessToken", "Oauth2AccessTokenCreationTime", "Oauth2RefreshToken", "SyncAll", "InstanceName", "Oauth2ClientId",
    "Oauth2ClientSecret", "CompanyId", "UpdateKeyOnSoftDelete", "SynchronizationSchedule", "SystemOfRecord", "SandboxName",
    "EnforceDomain", "SyncNotificationSettings", "SkipOutOfScopeDeletions", "Oauth2AuthorizationCode", "Oauth2RedirectUri",
    "ApplicationTemplateIdentifier", "Oauth2TokenExchangeUri", "Oauth2AuthorizationUri", "AuthenticationType", "Server",
    "PerformInboundEntitlementGrants", "HardDeletesEnabled", "SyncAgentCompatibilityKey", "SyncAgentADContainer",
    "ValidateDomain", "TestReferences", "ConnectionString",
)
PAIR_TYPE = "microsoft.graph.synchronizationSecretKeyStringValuePair"
VALIDATE_PARAMETERS = ("useSavedCredentials", "credentials", "templateId", "applicationIdentifier")
REFUSED = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
UNAVAILABLE = "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"
MASK = "*"
ROUTES = web.RouteTableDef()  # each handler has its route above it; server.py adds the table to the app


class TargetCredentials:
    """One service principal's saved secrets and what its target accepts.

    saved: {key: value}, or None when nothing was saved through Graph (credentials typed in the admin center before the
    run: the target accepts them only while it has no rule). accepts: {key: value} the target requires, None: any.
    """

    __slots__ = ("saved", "accepts", "reachable", "puts", "validations")

    def __init__(self):
        self.saved = None
        self.accepts = None
        self.reachable = True
        self.puts = 0
        self.validations = 0

    def refusal(self, tested):
        """None when the target accepts `tested` ({key: value}, None: unknown), else (code, message, tenant_actionable)."""
        if not self.reachable:
            return (UNAVAILABLE, "Failed to connect to the target application: the connection timed out. Check that the "
                    "tenant URL is reachable from Microsoft Entra ID.", True)
        if self.accepts is None:
            return None
        # Credentials saved before the run (tested None) hold the old token, which the target's rule no longer accepts.
        if tested is not None and "BaseAddress" in self.accepts and tested.get("BaseAddress") != self.accepts["BaseAddress"]:
            return (UNAVAILABLE, "Failed to connect to the target application at the tenant URL given: no SCIM endpoint "
                    "answered there. Check the tenant URL.", True)
        if tested is None or any(tested.get(key) != wanted for key, wanted in self.accepts.items()):
            return (REFUSED, "Failed to validate the credentials: the target application answered 401 Unauthorized. "
                    "Check the secret token and that it has not expired or been revoked.", True)
        return None


def state_of(sp):
    if sp.credentials is None:
        sp.credentials = TargetCredentials()
    return sp.credentials


def _pairs(items, where):
    """[{key, value}, ...] read as OData reads a collection of synchronizationSecretKeyStringValuePair: {key: value}."""
    if not isinstance(items, list):
        raise GraphError(400, "BadRequest", "The parameter '%s' must be a collection of '%s'." % (where, PAIR_TYPE))
    out = {}
    for item in items:
        if not isinstance(item, dict):
            raise GraphError(400, "BadRequest", "An item of '%s' must be an object of type '%s'." % (where, PAIR_TYPE))
        item = without_annotations(item, PAIR_TYPE)
        extra = sorted(set(item) - {"key", "value"})
        if extra:
            raise unknown_property(extra[0], PAIR_TYPE)
        key, value = item.get("key"), item.get("value")
        if key not in SECRET_KEYS:
            # .NET's Enum.Parse as Graph surfaces it; the names are case-sensitive in OData JSON.
            raise GraphError(400, "BadRequest", "Requested value '%s' was not found." % (key,))
        if value is not None and not isinstance(value, str):
            raise GraphError(400, "BadRequest", "Cannot convert a primitive value to the expected type 'Edm.String'. See "
                             "the inner exception for more details.")
        out[key] = value or ""
    return out


def secrets(call, sp, base_url):
    """GET (masked) or PUT (replace) the secrets of a service principal: (status, body)."""
    state = state_of(sp)
    if call.method == "GET":
        context = "%s/v1.0/$metadata#servicePrincipals('%s')/synchronization/secrets" % (base_url, sp.sp_id)
        return 200, {"@odata.context": context, "value": [{"key": key, "value": MASK} for key in (state.saved or {})]}
    payload = without_annotations(json_object(call.body, "value"), None)
    extra = sorted(set(payload) - {"value"})
    if extra:
        # The PUT page's parameter table says `credentials`; the service reads `value` (its example, the SDKs).
        raise unknown_property(extra[0], "Collection(%s)" % PAIR_TYPE)
    if "value" not in payload:
        raise GraphError(400, "BadRequest", "The request body must hold the collection 'value'.")
    state.saved = _pairs(payload["value"], "value")
    state.puts += 1
    return 204, None


def validate(call, sp):
    """POST .../jobs/{jobId}/validateCredentials: (204, None), or the target's refusal as a GraphError."""
    state = state_of(sp)
    payload = action_parameters(call.body, "validateCredentials", VALIDATE_PARAMETERS, "credentials")
    use_saved = payload.get("useSavedCredentials", False)
    if not isinstance(use_saved, bool):
        raise GraphError(400, "BadRequest", "Cannot convert the literal '%s' to the expected type 'Edm.Boolean'." % (use_saved,))
    if use_saved:
        tested = state.saved
    else:
        tested = _pairs(payload.get("credentials"), "credentials") if payload.get("credentials") is not None else {}
        if not tested:
            raise GraphError(400, "BadRequest", "The parameter 'credentials' must hold the credentials to validate when "
                             "'useSavedCredentials' is false.")
    state.validations += 1
    refused = state.refusal(tested)
    if refused:
        raise GraphError(400, refused[0], refused[1])
    return 204, None


def fixes_cause(sp, job):
    """Whether the credentials saved now fix the job's quarantine: it came from credentials the target refused or could
    not check (REFUSED, UNAVAILABLE), and the target accepts the saved set. A restart after a rotation then holds."""
    if sp.credentials is None:
        return False
    # A relapse under way carries the cause it will come back with; else the quarantine's own error.
    error = (job.relapse_cause[1] if job.relapse_cause else None) or job.quarantine_error
    if not error or error[0] not in (REFUSED, UNAVAILABLE):
        return False
    return sp.credentials.refusal(sp.credentials.saved) is None


def after_cycle(sp, job):
    """A job that just began a cycle (restart, start) runs it with the saved credentials: refused, it is quarantined again."""
    if sp.credentials is None or job.code != "Active":
        return
    refused = sp.credentials.refusal(sp.credentials.saved)
    if refused:
        job.quarantine_with(refused)


# --- admin: /_sandbox/credentials/{sp} --------------------------------------------------------------------------------

def _summary(state):
    return {"saved": state.saved, "saved_keys": sorted(state.saved or {}), "accepts": state.accepts, "reachable": state.reachable,
            "puts": state.puts, "validations": state.validations}


def _admin_sp(request):
    sandbox = request.app[SANDBOX_KEY]
    for tenant in sandbox.fleet.tenants.values():
        sp = tenant.by_id.get(request.match_info["sp"])
        if sp is not None:
            return sp
    raise web.HTTPNotFound(text=json.dumps({"error": "no such service principal"}), content_type="application/json")


def _string_map(value, name):
    if value is not None and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
        raise ValueError("%s must be an object of key -> string, or null" % name)
    return None if value is None else dict(value)


@ROUTES.get("/_sandbox/credentials/{sp}")
async def get_credentials(request):
    return web.json_response(_summary(state_of(_admin_sp(request))))


@ROUTES.put("/_sandbox/credentials/{sp}")
async def put_credentials(request):
    """{"accepts": {key: value} | null, "saved": {...} | null, "reachable": bool, "cycle": bool}; each optional.

    cycle: every running job of the service principal runs a cycle now, with the saved credentials (the target revoked
    the token: the job is quarantined with the target's error code).
    """
    sp = _admin_sp(request)
    state = state_of(sp)
    try:
        payload = json.loads(await request.read() or b"{}")
        unknown = set(payload) - {"accepts", "saved", "reachable", "cycle"}
        if unknown:
            raise ValueError("unknown fields %s" % sorted(unknown))
        if "accepts" in payload:
            state.accepts = _string_map(payload["accepts"], "accepts")
        if "saved" in payload:
            state.saved = _string_map(payload["saved"], "saved")
        if "reachable" in payload:
            state.reachable = bool(payload["reachable"])
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    if payload.get("cycle"):
        for job in sp.jobs:
            if job.schedule_state == "Active":
                after_cycle(sp, job)
    return web.json_response(_summary(state))


def reset_counters(fleet):
    for tenant in fleet.tenants.values():
        for sp in tenant.service_principals:
            if sp.credentials is not None:
                sp.credentials.puts = sp.credentials.validations = 0
