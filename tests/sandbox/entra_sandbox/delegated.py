"""Delegated (user) sign-in the way Entra answers it.

- Users of each tenant with directory roles (their `wids`), and the service principals each one owns.
- Public clients (Microsoft Graph Command Line Tools, Azure CLI) with admin consent for the synchronization scopes.
- The device authorization grant: `/{tenant}/oauth2/v2.0/devicecode`, then the token endpoint's device-code grant
  answering authorization_pending, slow_down (RFC 8628: also to a poll sooner than the interval, which grows by
  5 s after each slow_down), authorization_declined, expired_token; the refresh-token grant.
- User tokens with `scp`, `wids`, `oid` (and an id_token and client_info, which MSAL files the account by).
- Graph's delegated authorization: the scope, then a role that covers the job or ownership of the service principal.
- Admin routes: approve/decline/expire a pending code as a given user (what a person does in the browser), the
  device-flow settings, users' ownership and session revocation.

signin.py sends the two grants here; graph_api.py asks `sync_access_denied()` about user tokens.
"""

import base64
import json
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from . import signin
from .appkeys import SANDBOX_KEY
from .identity import APP_READ, SYNC_READ, SYNC_READWRITE, SignInError, sign_in_error

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN_GRANT = "refresh_token"
DELEGATED_GRANTS = (DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT)

# Microsoft's first-party public clients (ids as Microsoft publishes them).
GRAPH_CLI_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"  # Microsoft Graph Command Line Tools (Connect-MgGraph)
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # Microsoft Azure CLI
PUBLIC_CLIENTS = {GRAPH_CLI_CLIENT_ID: "Microsoft Graph Command Line Tools", AZURE_CLI_CLIENT_ID: "Microsoft Azure CLI"}
# What the tenant's administrator consented to for those clients.
CONSENTED_SCOPES = (SYNC_READWRITE, SYNC_READ, APP_READ)
OIDC_SCOPES = ("openid", "profile", "offline_access", "email")

# Directory role template ids (graph-facts.md).
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
HYBRID_IDENTITY_ADMINISTRATOR = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
DEFAULT_USER_ROLE = "b79fbf4d-3ef9-4689-8143-76b194e85509"  # every member user's wids carry it
APP_ROLES_FOR_SYNC = (APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR)
CLOUD_SYNC_TEMPLATES = ("AD2AADProvisioning", "AD2AADPasswordHash", "AAD2ADExchangeHybridWriteback")

# The users of every tenant: name -> directory roles. `owner` has no role; tests give it service principals.
USERS = {
    "appadmin": (APPLICATION_ADMINISTRATOR,),
    "cloudappadmin": (CLOUD_APPLICATION_ADMINISTRATOR,),
    "hybridadmin": (HYBRID_IDENTITY_ADMINISTRATOR,),
    "noroles": (),
    "owner": (),
}
REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600
USER_CODE_ALPHABET = string.ascii_uppercase.replace("I", "").replace("O", "") + "23456789"
POLL_SKEW = 0.5  # a poll this much sooner than the interval still counts as on time (clocks and sleeps drift)
ROUTES = web.RouteTableDef()  # each handler has its route above it; server.py adds the table to the app


@dataclass
class DeviceFlowSettings:
    interval: int = 5
    expires_in: int = 900
    slow_down: int = 0  # answer slow_down to this many first polls of each code

    def update(self, payload):
        for name in ("interval", "expires_in", "slow_down"):
            if name in payload:
                value = int(payload[name])
                if value < (1 if name != "slow_down" else 0):
                    raise ValueError("%s must be at least %d" % (name, 1 if name != "slow_down" else 0))
                setattr(self, name, value)


@dataclass
class DeviceCode:
    device_code: str = field(repr=False)
    user_code: str
    tenant_id: str
    client_id: str
    scope: str
    expires_at: float
    interval: int
    slow_downs_left: int
    state: str = "pending"  # pending, approved, declined, expired, redeemed
    user: str = None
    polls: int = 0
    last_poll: float = 0.0
    slow_downs_sent: int = 0
    early_polls: int = 0

    def summary(self):
        return {"user_code": self.user_code, "tenant_id": self.tenant_id, "client_id": self.client_id, "scope": self.scope,
                "state": self.state, "user": self.user, "polls": self.polls, "interval": self.interval,
                "slow_downs_sent": self.slow_downs_sent, "early_polls": self.early_polls,
                "expires_in": max(0, int(self.expires_at - time.time()))}


def poll_answer(code, now):
    """What the token endpoint answers to one device-code poll (pure but for the code's counters):
    'approved', or the OAuth error name."""
    too_soon = code.polls and now - code.last_poll < code.interval - POLL_SKEW
    code.polls += 1
    code.last_poll = now
    if code.state == "redeemed":
        return "bad_verification_code"
    if code.state == "declined":
        return "authorization_declined"
    if code.state == "expired" or now >= code.expires_at:
        return "expired_token"
    if too_soon:
        code.early_polls += 1
    if too_soon or code.slow_downs_left > 0:
        code.slow_downs_left = max(0, code.slow_downs_left - (0 if too_soon else 1))
        code.slow_downs_sent += 1
        code.interval += 5  # RFC 8628 3.5: the client must add 5 seconds; the server expects it
        return "slow_down"
    if code.state == "approved":
        code.state = "redeemed"
        return "approved"
    return "authorization_pending"


POLL_ERRORS = {
    "authorization_pending": (70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling."),
    "slow_down": (70016, "OAuth 2.0 device flow error. Polling too frequently: slow down (add 5 seconds to the interval)."),
    "authorization_declined": (70000, "The user declined to authorize the device (authorization_declined)."),
    "expired_token": (70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired."),
    "bad_verification_code": (70000, "The provided value for the input parameter 'device_code' is not valid."),
}


def requested_scopes(scope, cloud, tenant_id):
    """(resource, [Graph scope names]) from a delegated `scope` parameter; refuses what Entra refuses."""
    resource, names = None, []
    for item in (scope or "").split():
        if item in OIDC_SCOPES:
            continue
        prefix, _slash, name = item.rpartition("/")
        prefix = prefix or cloud.graph
        if not cloud.accepts_audience(prefix):
            raise sign_in_error(400, "invalid_resource", 500011,
                                "The resource principal named %s was not found in the tenant named %s." % (prefix, tenant_id))
        resource = prefix
        names.append(name)
    if not names:
        raise sign_in_error(400, "invalid_scope", 70011,
                            "The provided request must include a 'scope' input parameter with a resource scope.")
    return resource, names


def granted_scopes(names, client_id):
    """The scp a token gets for these requested names, or a consent error."""
    if ".default" in names:
        return list(CONSENTED_SCOPES)
    missing = [name for name in names if name not in CONSENTED_SCOPES]
    if missing:
        raise sign_in_error(400, "invalid_grant", 65001,
                            "The user or administrator has not consented to use the application with ID '%s' named '%s'. "
                            "Send an interactive authorization request for this user and resource. (scope: %s)"
                            % (client_id, PUBLIC_CLIENTS.get(client_id, client_id), " ".join(missing)))
    return names


def sync_access_denied(user_wids, owns_sp, job_templates):
    """None when a user holding the synchronization scope may act on this service principal's jobs, else why not.

    Microsoft's rule: Application Administrator or Cloud Application Administrator; Hybrid Identity Administrator for
    Cloud Sync jobs; or ownership of the service principal.
    """
    if owns_sp or any(role in user_wids for role in APP_ROLES_FOR_SYNC):
        return None
    if HYBRID_IDENTITY_ADMINISTRATOR in user_wids and job_templates and all(t in CLOUD_SYNC_TEMPLATES for t in job_templates):
        return None
    return "Insufficient privileges to complete the operation."


@dataclass
class User:
    name: str
    tenant_id: str
    roles: tuple

    @property
    def oid(self):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "sandbox-user/%s/%s" % (self.tenant_id, self.name)))

    @property
    def upn(self):
        return "%s@%s.example" % (self.name, self.tenant_id[:8])

    @property
    def wids(self):
        return list(self.roles) + [DEFAULT_USER_ROLE]


class DelegatedSignIn:
    """The delegated sign-in state of one sandbox run."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.settings = DeviceFlowSettings()
        self.codes = {}            # device_code -> DeviceCode
        self.refresh_tokens = {}   # refresh token -> (tenant_id, client_id, user name, issued_at, expires_at)
        self.owned = {}            # (tenant_id, user name) -> set of service principal ids
        self.revoked_before = {}   # (tenant_id, user name) -> refresh tokens issued before this time are refused

    def user(self, tenant_id, name):
        if name not in USERS:
            raise ValueError("unknown user %r; users: %s" % (name, ", ".join(USERS)))
        return User(name, tenant_id, USERS[name])

    def user_by_oid(self, tenant_id, oid):
        for name in USERS:
            user = self.user(tenant_id, name)
            if user.oid == oid:
                return user
        return None

    def owns(self, tenant_id, oid, sp_id):
        user = self.user_by_oid(tenant_id, oid)
        return user is not None and sp_id in self.owned.get((tenant_id, user.name), ())

    # --- grants ---------------------------------------------------------------------------------

    def start_device_flow(self, tenant_id, form):
        client_id = form.get("client_id") or ""
        check_public_client(client_id, tenant_id)
        requested_scopes(form.get("scope"), self.sandbox.cloud, tenant_id)
        user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _index in range(8))
        code = DeviceCode(device_code=secrets.token_urlsafe(48), user_code=user_code, tenant_id=tenant_id, client_id=client_id,
                          scope=form.get("scope"), expires_at=time.time() + self.settings.expires_in,
                          interval=self.settings.interval, slow_downs_left=self.settings.slow_down)
        self.codes[code.device_code] = code
        verification_uri = "%s/devicelogin" % self.sandbox.base_url
        return {"user_code": user_code, "device_code": code.device_code, "verification_uri": verification_uri,
                "expires_in": self.settings.expires_in, "interval": self.settings.interval,
                "message": "To sign in, use a web browser to open the page %s and enter the code %s to authenticate."
                           % (verification_uri, user_code)}

    @staticmethod
    def handles(form):
        return form.get("grant_type") in DELEGATED_GRANTS

    def grant(self, tenant_id, form, logged):
        """The token response of a device-code or refresh-token grant, or a SignInError."""
        client_id = form.get("client_id") or ""
        check_public_client(client_id, tenant_id)
        if form.get("grant_type") == DEVICE_CODE_GRANT:
            code = self.codes.get(form.get("device_code") or "")
            if code is None or code.client_id != client_id or code.tenant_id != tenant_id:
                raise sign_in_error(400, "invalid_grant", 70000, POLL_ERRORS["bad_verification_code"][1])
            answer = poll_answer(code, time.time())
            logged["poll"] = answer
            if answer != "approved":
                number, text = POLL_ERRORS[answer]
                raise sign_in_error(400, answer, number, text)
            return self._tokens(self.user(tenant_id, code.user), client_id, code.scope)
        entry = self.refresh_tokens.get(form.get("refresh_token") or "")
        if entry is None or entry[0] != tenant_id or entry[1] != client_id:
            raise sign_in_error(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        _tenant, _client, name, issued_at, expires_at = entry
        if time.time() >= expires_at or issued_at < self.revoked_before.get((tenant_id, name), 0):
            raise sign_in_error(400, "invalid_grant", 50173,
                                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user "
                                "might have changed or reset their password.")
        return self._tokens(self.user(tenant_id, name), client_id, form.get("scope"))

    def _tokens(self, user, client_id, scope):
        cloud = self.sandbox.cloud
        resource, names = requested_scopes(scope, cloud, user.tenant_id)
        scopes = granted_scopes(names, client_id)
        issuer = self.sandbox.issuer
        access_token, lifetime = issuer.access_token(user.tenant_id, client_id, resource, idtyp="user", oid=user.oid, sub=user.oid,
                                                     upn=user.upn, name=user.name, scp=" ".join(scopes), wids=user.wids,
                                                     uti=secrets.token_urlsafe(16))
        now = int(time.time())
        id_claims = {"aud": client_id, "iss": "%s/%s/v2.0" % (self.sandbox.base_url, user.tenant_id), "iat": now, "nbf": now,
                     "exp": now + 3600, "tid": user.tenant_id, "oid": user.oid, "sub": user.oid, "preferred_username": user.upn,
                     "name": user.name, "ver": "2.0"}
        refresh_token = secrets.token_urlsafe(64)
        self.refresh_tokens[refresh_token] = (user.tenant_id, client_id, user.name, time.time(), time.time() + REFRESH_TOKEN_LIFETIME)
        client_info = base64.urlsafe_b64encode(json.dumps({"uid": user.oid, "utid": user.tenant_id}).encode()).decode().rstrip("=")
        return signin.token_answer(access_token, lifetime,
                                   scope=" ".join("%s/%s" % (resource, name) for name in scopes) + " openid profile offline_access",
                                   refresh_token=refresh_token, id_token=issuer.sign(id_claims), client_info=client_info)

    # --- what a person does in the browser --------------------------------------------------------

    def decide(self, user_code, user_name, action):
        pending = [code for code in self.codes.values() if code.state == "pending" and (not user_code or code.user_code == user_code)]
        if len(pending) != 1:
            raise ValueError("%d pending device codes match %r; give the user_code" % (len(pending), user_code))
        code = pending[0]
        if action == "approve":
            self.user(code.tenant_id, user_name)  # refuse an unknown user
            code.state, code.user = "approved", user_name
        elif action == "decline":
            code.state = "declined"
        elif action == "expire":
            code.state = "expired"
        else:
            raise ValueError("action must be approve, decline or expire")
        return code.summary()


def check_public_client(client_id, tenant_id):
    """Entra's answer to a delegated grant from a client that is not a public client allowed to use it."""
    if client_id in PUBLIC_CLIENTS:
        return
    raise sign_in_error(401, "invalid_client", 7000218,
                        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. "
                        "(app '%s' in tenant '%s' does not allow public client flows)" % (client_id, tenant_id))


# --- HTTP -----------------------------------------------------------------------------------------------------

@ROUTES.post("/{tenant}/oauth2/v2.0/devicecode")
async def devicecode(request):
    sandbox = request.app[SANDBOX_KEY]
    tenant_id = request.match_info["tenant"]
    form = await request.post()
    try:
        signin._check_tenant(sandbox, tenant_id)
        response = web.json_response(sandbox.delegated.start_device_flow(tenant_id, form))
    except SignInError as exc:
        response = signin._aad_error(exc)
    sandbox.record("devicecode", "POST", request.path, "", response.status, tenant_id, form.get("client_id"),
                   body={"scope": form.get("scope")})
    return response


async def _payload(request):
    raw = await request.read()
    payload = json.loads(raw) if raw else {}
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    return payload


@ROUTES.post("/_sandbox/device-login")
async def device_login(request):
    """POST {"user_code", "user", "action": approve|decline|expire}: what the person does at the verification page."""
    delegated = request.app[SANDBOX_KEY].delegated
    try:
        payload = await _payload(request)
        summary = delegated.decide(payload.get("user_code"), payload.get("user", "appadmin"), payload.get("action", "approve"))
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(summary)


@ROUTES.get("/_sandbox/device-codes")
async def device_codes(request):
    return web.json_response({"codes": [code.summary() for code in request.app[SANDBOX_KEY].delegated.codes.values()]})


@ROUTES.get("/_sandbox/device-flow")
@ROUTES.put("/_sandbox/device-flow")
async def device_flow(request):
    delegated = request.app[SANDBOX_KEY].delegated
    if request.method == "PUT":
        try:
            delegated.settings.update(await _payload(request))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(vars(delegated.settings))


@ROUTES.post("/_sandbox/users/{name}")
async def user_settings(request):
    """POST /_sandbox/users/{name} {"owns": [service principal ids], "revoke": true, "tenant_id": ...}."""
    sandbox = request.app[SANDBOX_KEY]
    delegated = sandbox.delegated
    try:
        payload = await _payload(request)
        tenant_id = payload.get("tenant_id") or sandbox.tenant_ids[0]
        user = delegated.user(tenant_id, request.match_info["name"])
        if "owns" in payload:
            delegated.owned[(tenant_id, user.name)] = set(payload["owns"] or ())
        if payload.get("revoke"):
            delegated.revoked_before[(tenant_id, user.name)] = time.time()
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"name": user.name, "oid": user.oid, "upn": user.upn, "wids": user.wids,
                              "owns": sorted(delegated.owned.get((tenant_id, user.name), ()))})


def config(sandbox):
    """The delegated part of sandbox.json."""
    tenant_id = sandbox.tenant_ids[0]
    users = {}
    for name in USERS:
        user = sandbox.delegated.user(tenant_id, name)
        users[name] = {"oid": user.oid, "upn": user.upn, "wids": user.wids}
    return {"public_clients": dict(PUBLIC_CLIENTS), "consented_scopes": list(CONSENTED_SCOPES), "users": users,
            "device_login": sandbox.base_url + "/_sandbox/device-login" if sandbox.base_url else None}
