"""Entra sign-in: OpenID discovery, the v2.0 token endpoint (client credentials) and an IMDS-style
managed identity endpoint. Errors use AAD's shape and never echo a secret or an assertion."""

import secrets
import time

from aiohttp import web

from .appkeys import SANDBOX_KEY
from .identity import (
    JWT_BEARER,
    SYSTEM_IDENTITY_ROLES,
    USER_IDENTITY_ROLES,
    SignInError,
    check_client_assertion,
    check_federated_assertion,
    is_federated_assertion,
    resource_from_scope,
    sign_in_error,
)

ROUTES = web.RouteTableDef()  # each handler has its route above it; server.py adds the table to the app


def _aad_error(exc):
    body = {
        "error": exc.error,
        "error_description": exc.description,
        "error_codes": [exc.code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "error_uri": "https://login.microsoftonline.com/error?code=%d" % exc.code,
    }
    return web.json_response(body, status=exc.status)


def _check_tenant(sandbox, tenant_id):
    if tenant_id not in sandbox.fleet.tenants:
        raise sign_in_error(400, "invalid_request", 90002,
                            "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing "
                            "into the correct cloud." % tenant_id)


@ROUTES.get("/{tenant}/v2.0/.well-known/openid-configuration")
@ROUTES.get("/{tenant}/.well-known/openid-configuration")
async def openid_configuration(request):
    sandbox = request.app[SANDBOX_KEY]
    tenant_id = request.match_info["tenant"]
    try:
        _check_tenant(sandbox, tenant_id)
    except SignInError as exc:
        return _aad_error(exc)
    base = "%s/%s" % (sandbox.base_url, tenant_id)
    return web.json_response({
        "issuer": base + "/v2.0",
        "authorization_endpoint": base + "/oauth2/v2.0/authorize",
        "token_endpoint": base + "/oauth2/v2.0/token",
        "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
        "jwks_uri": base + "/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "sandbox",
    })


@ROUTES.get("/{tenant}/discovery/v2.0/keys")
async def jwks(request):
    return web.json_response({"keys": [request.app[SANDBOX_KEY].issuer.jwk()]})


@ROUTES.post("/{tenant}/oauth2/v2.0/token")
async def token(request):
    sandbox = request.app[SANDBOX_KEY]
    tenant_id = request.match_info["tenant"]
    form = await request.post()
    client_id = form.get("client_id")
    if form.get("client_assertion"):
        sandbox.assertions_seen.append(form["client_assertion"])  # for GET /_sandbox/issued, never logged
    # What is logged: identifiers, the grant kind, the scope asked for and (federated) the assertion's jti and expiry.
    # Never the secret or the assertion itself.
    logged = {"grant": "client_secret" if form.get("client_secret") else "client_assertion" if form.get("client_assertion") else None,
              "scope": form.get("scope")}
    try:
        if sandbox.delegated.handles(form):  # device-code and refresh-token grants: delegated.py
            _check_tenant(sandbox, tenant_id)
            logged["grant"] = form["grant_type"].rsplit(":", 1)[-1]
            result = sandbox.delegated.grant(tenant_id, form, logged)
        else:
            result = _issue_for_client(sandbox, tenant_id, form, "%s/%s/oauth2/v2.0/token" % (sandbox.base_url, tenant_id), logged)
        response = web.json_response(result)
    except SignInError as exc:
        logged["error_code"] = exc.code
        response = _aad_error(exc)
    sandbox.token_requests[(tenant_id, client_id)] += 1
    sandbox.record("token", "POST", request.path, "", response.status, tenant_id, client_id, body=logged)
    return response


def _issue_for_client(sandbox, tenant_id, form, token_endpoint, logged):
    _check_tenant(sandbox, tenant_id)
    if form.get("grant_type") != "client_credentials":
        raise sign_in_error(400, "unsupported_grant_type", 70003,
                            "The app requested an unsupported grant type '%s'." % form.get("grant_type", ""))
    client_id = form.get("client_id")
    if not client_id:
        raise sign_in_error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
    app = sandbox.apps_by_client_id.get(client_id)
    if app is None:
        raise sign_in_error(400, "unauthorized_client", 700016,
                            "Application with identifier '%s' was not found in the directory '%s'. This can happen if the "
                            "application has not been installed by the administrator of the tenant or consented to by any "
                            "user in the tenant. You may have sent your authentication request to the wrong tenant."
                            % (client_id, tenant_id))
    if form.get("client_secret"):
        if not app.secret or not secrets.compare_digest(form["client_secret"].encode(), app.secret.encode()):
            raise sign_in_error(401, "invalid_client", 7000215,
                                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                                "secret value, not the client secret ID, for a secret added to app '%s'." % client_id)
    elif form.get("client_assertion"):
        if form.get("client_assertion_type") != JWT_BEARER:
            raise sign_in_error(400, "invalid_request", 50027, "Invalid client_assertion_type; expected jwt-bearer.")
        if is_federated_assertion(app, form["client_assertion"]):
            logged["grant"] = "federated"
            claims = check_federated_assertion(app, form["client_assertion"])
            logged.update({"assertion_jti": claims.get("jti"), "assertion_exp": claims.get("exp")})
        else:
            check_client_assertion(app, form["client_assertion"], token_endpoint)
    else:
        raise sign_in_error(401, "invalid_client", 7000218,
                            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    resource = resource_from_scope(form.get("scope"), sandbox.cloud, tenant_id)
    return token_answer(*sandbox.issuer.issue(tenant_id, client_id, app.roles, resource))


def token_answer(access_token, lifetime, **extra):
    """The token endpoint's answer to a grant it accepts: client credentials here, the device-code and refresh-token
    grants (with a refresh token, an id token, ...) in delegated.py."""
    return dict({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token}, **extra)


@ROUTES.get("/metadata/identity/oauth2/token")
async def managed_identity_token(request):
    """IMDS shape (what msal.ManagedIdentityClient calls on a VM; point AZURE_POD_IDENTITY_AUTHORITY_HOST here)."""
    sandbox = request.app[SANDBOX_KEY]
    tenant_id = sandbox.tenant_ids[0]
    query = request.query
    client_id = query.get("client_id")
    status, body = 200, None
    if request.headers.get("Metadata", "").lower() != "true":
        status, body = 400, {"error": "invalid_request", "error_description": "Required metadata header not specified"}
    elif not query.get("api-version"):
        status, body = 400, {"error": "invalid_request", "error_description": "Required query variable 'api-version' is missing"}
    elif query.get("object_id") or query.get("msi_res_id") or (client_id and client_id != sandbox.user_identity_client_id):
        status, body = 400, {"error": "invalid_request", "error_description": "Identity not found"}
    else:
        resource = query.get("resource", "")
        if not sandbox.cloud.accepts_audience(resource):
            status, body = 400, {"error": "invalid_resource",
                                 "error_description": "AADSTS500011: The resource principal named %s was not found in the tenant "
                                 "named %s." % (resource, tenant_id)}
        else:
            identity = client_id or sandbox.system_identity_client_id
            roles = USER_IDENTITY_ROLES if client_id else SYSTEM_IDENTITY_ROLES
            access_token, lifetime = sandbox.issuer.issue(tenant_id, identity, roles, resource)
            now = int(time.time())
            # IMDS really sends these numbers as strings.
            body = {"access_token": access_token, "client_id": identity, "expires_in": str(lifetime),
                    "expires_on": str(now + lifetime), "ext_expires_in": str(lifetime), "not_before": str(now),
                    "resource": resource, "token_type": "Bearer"}
    sandbox.token_requests[(tenant_id, client_id or sandbox.system_identity_client_id)] += 1
    sandbox.record("managed_identity", "GET", request.path, "", status, tenant_id, client_id,
                   body={"grant": "managed_identity", "resource": query.get("resource"), "identity": "user" if client_id else "system"})
    return web.json_response(body, status=status)
