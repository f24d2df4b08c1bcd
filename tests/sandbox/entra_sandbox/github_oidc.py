"""A stand-in for GitHub Actions' OIDC token service.

A job with `permissions: id-token: write` gets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN; a GET
of that URL with `&audience=...` and `Authorization: bearer <request token>` answers {"value": "<jwt>"}. Here the JWT
is minted by the sandbox's workload issuer for the subject the `federated` app trusts, so the token endpoint's
federated-credential check accepts it; without the audience parameter it carries a default audience Entra refuses, as
GitHub's does.

GET /_sandbox/github-oidc tells tests the request URL and token, and what each request got. The request token is a
secret: it is never logged and never echoed.
"""

import secrets

from aiohttp import web

from .appkeys import SANDBOX_KEY

GITHUB_OIDC_KEY = web.AppKey("github_oidc", object)
TOKEN_PATH = "/_github/actions/idtoken"
# GitHub's default audience is the URL of the repository owner; any value other than Entra's exchange audience will do.
DEFAULT_AUDIENCE = "sandbox-repository-owner"
TOKEN_LIFETIME = 300  # GitHub's tokens are short-lived: a copied one soon fails with AADSTS700024
ROUTES = web.RouteTableDef()  # each handler has its route above it; server.py adds the table to the app


class GithubOidcService:
    def __init__(self):
        self.request_token = secrets.token_urlsafe(32)
        self.requests = []  # {"status", "audience", "jti"} per request; never the request token or the JWT


def _refusal(status, message):
    return web.json_response({"message": message}, status=status)


@ROUTES.get(TOKEN_PATH)
async def id_token(request):
    sandbox = request.app[SANDBOX_KEY]
    service = request.app[GITHUB_OIDC_KEY]
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    audience = request.query.get("audience") or DEFAULT_AUDIENCE
    entry = {"status": 200, "audience": audience, "jti": None}
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), service.request_token.encode()):
        entry["status"] = 401
        response = _refusal(401, "Bad credentials: the request token is not valid for this job.")
    elif not request.query.get("api-version"):
        entry["status"] = 400
        response = _refusal(400, "The api-version query parameter is required.")
    else:
        subject = sandbox.federated_app.federated_credentials[0]["subject"]
        token, claims = sandbox.workload_issuer.mint(subject, audience, TOKEN_LIFETIME)
        sandbox.workload_tokens.append(token)  # so the no-secret-in-output tests look for it (GET /_sandbox/issued)
        entry["jti"] = claims["jti"]
        response = web.json_response({"count": 1, "value": token})
    service.requests.append(entry)
    return response


@ROUTES.get("/_sandbox/github-oidc")
async def info(request):
    sandbox = request.app[SANDBOX_KEY]
    service = request.app[GITHUB_OIDC_KEY]
    return web.json_response({
        "request_url": "%s%s?api-version=2.0" % (sandbox.base_url, TOKEN_PATH),
        "request_token": service.request_token,
        "client_id": sandbox.federated_app.client_id,
        "requests": list(service.requests),
    })
