"""Registered apps, the tokens the sandbox issues, and how Graph and the token endpoint check them.

Pure logic (no HTTP): signin.py and graph_api.py turn the results into responses.
"""

import base64
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

SYNC_READWRITE = "Synchronization.ReadWrite.All"
SYNC_READ = "Synchronization.Read.All"
APP_READ = "Application.Read.All"
APP_READWRITE = "Application.ReadWrite.All"
APP_OWNEDBY = "Application.ReadWrite.OwnedBy"

# name -> application permissions granted to it (graph-facts.md "Permissions").
APP_ROLES = {
    "full": (SYNC_READWRITE, APP_READ),
    "readonly": (SYNC_READ, APP_READ),
    "noperm": (APP_READ,),
    "ownedby": (APP_OWNEDBY,),
    "cert": (SYNC_READWRITE, APP_READ),
}
SYSTEM_IDENTITY_ROLES = (SYNC_READWRITE, APP_READ)
USER_IDENTITY_ROLES = (SYNC_READ, APP_READ)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Workload identity federation (AKS, GitHub Actions): the audience Entra expects in the external token.
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
FEDERATED_APP_ROLES = (SYNC_READWRITE, APP_READ)
FEDERATED_SUBJECT = "system:serviceaccount:entra-sync:restarter"
# Graph caches validated tokens; so do we, because an RSA verify per request adds up at 100k requests.
_VALIDATION_CACHE_SIZE = 20000


class SignInError(Exception):
    """An AAD-style token endpoint error: HTTP status, OAuth error, AADSTS number and description."""

    def __init__(self, status, error, code, description):
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description


class TokenRejected(Exception):
    """Graph refuses the bearer token (401 InvalidAuthenticationToken)."""


@dataclass
class App:
    name: str
    client_id: str
    roles: tuple
    secret: str = None
    thumbprint_sha1: str = None
    thumbprint_sha256: str = None
    public_key: object = None
    # Federated identity credentials: [{"issuer", "subject", "audiences"}]; the issuer's key checks the signature.
    federated_credentials: list = field(default_factory=list)
    federation_issuer: object = None


@dataclass
class Principal:
    """Who a validated Graph token speaks for. For a user (delegated) token, roles holds its `scp` scopes and
    user_id/wids say who signed in (delegated.py decides what that user may do)."""
    tenant_id: str
    app_id: str
    roles: frozenset = field(default_factory=frozenset)
    user_id: str = None
    wids: tuple = ()

    def has(self, *roles):
        return any(role in self.roles for role in roles)


def guid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_secret():
    """A secret shaped like an Entra client secret (3 chars, '8Q~', 34 chars)."""
    alphabet = string.ascii_letters + string.digits + "_-.~"
    return "".join(secrets.choice(alphabet) for _index in range(3)) + "8Q~" + "".join(secrets.choice(alphabet) for _index in range(34))


def register_apps(rng, client_cert):
    """The five apps of a run; client ids come from the run seed so they are stable per seed."""
    apps = {}
    for name, roles in APP_ROLES.items():
        app = App(name=name, client_id=guid(rng), roles=roles)
        if name == "cert":
            app.thumbprint_sha1 = client_cert.thumbprint_sha1
            app.thumbprint_sha256 = client_cert.thumbprint_sha256
            app.public_key = client_cert.public_key
        else:
            app.secret = make_secret()
        apps[name] = app
    return apps


def _b64url_to_hex(value):
    padded = value + "=" * (-len(value) % 4)
    return base64.urlsafe_b64decode(padded.encode()).hex()


def _trace_suffix():
    now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return " Trace ID: %s Correlation ID: %s Timestamp: %s" % (uuid.uuid4(), uuid.uuid4(), now)


def sign_in_error(status, error, code, text):
    return SignInError(status, error, code, "AADSTS%d: %s%s" % (code, text, _trace_suffix()))


class TokenIssuer:
    """Mints and validates the sandbox's access tokens (RS256, one signing key per run)."""

    def __init__(self, cloud, lifetime):
        self.cloud = cloud
        self.lifetime = lifetime
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self._key.public_key()
        self.kid = secrets.token_hex(8)
        self._cache = {}
        self.issued = []  # every access token minted this run, for the no-secret-in-output tests (GET /_sandbox/issued)

    def jwk(self):
        numbers = self.public_key.public_numbers()

        def enc(number):
            raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "n": enc(numbers.n), "e": enc(numbers.e)}

    def issue(self, tenant_id, app_id, roles, audience):
        """An app's access token (client credentials, managed identity): (token, lifetime in seconds)."""
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, tenant_id + app_id))
        return self.access_token(tenant_id, app_id, audience, idtyp="app", oid=oid, roles=sorted(roles))

    def access_token(self, tenant_id, app_id, audience, **claims):
        """Every access token the sandbox mints: the claims all of Entra's v1.0 tokens carry, then the caller's (an
        app's roles above, a user's scp and wids in delegated.py). Returns (token, lifetime in seconds)."""
        now = int(time.time())
        lifetime = int(self.lifetime)
        claims = dict({"aud": audience, "iss": "%s/%s/" % (self.cloud.login, tenant_id), "iat": now, "nbf": now,
                       "exp": now + lifetime, "tid": tenant_id, "appid": app_id, "ver": "1.0"}, **claims)
        return self.sign(claims), lifetime

    def sign(self, claims):
        """A token with these claims, signed with the run's key (access tokens, and id tokens in delegated.py)."""
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid})
        self.issued.append(token)
        return token

    def validate(self, header_value, tenants):
        """Return the Principal of an `Authorization: Bearer ...` value or raise TokenRejected."""
        if not header_value or not header_value.lower().startswith("bearer "):
            raise TokenRejected("Access token is empty.")
        token = header_value[7:].strip()
        claims = self._cache.get(token)
        if claims is None:
            if token.count(".") != 2:
                raise TokenRejected("IDX14100: JWT is not well formed, there are no dots (.).")
            try:
                claims = jwt.decode(token, self.public_key, algorithms=["RS256"],
                                    options={"verify_exp": False, "verify_aud": False, "verify_nbf": False})
            except jwt.InvalidTokenError as exc:
                raise TokenRejected("Access token validation failure. Invalid signature.") from exc
            if len(self._cache) >= _VALIDATION_CACHE_SIZE:
                self._cache.clear()
            self._cache[token] = claims
        if claims.get("exp", 0) <= time.time():
            raise TokenRejected("Lifetime validation failed, the token is expired.")
        if not self.cloud.accepts_audience(claims.get("aud")):
            raise TokenRejected("Access token validation failure. Invalid audience.")
        if claims.get("tid") not in tenants:
            raise TokenRejected("Access token validation failure. Invalid issuer.")
        if claims.get("idtyp") == "user":
            return Principal(tenant_id=claims["tid"], app_id=claims.get("appid"), roles=frozenset((claims.get("scp") or "").split()),
                             user_id=claims.get("oid"), wids=tuple(claims.get("wids") or ()))
        return Principal(tenant_id=claims["tid"], app_id=claims.get("appid"), roles=frozenset(claims.get("roles", ())))


def resource_from_scope(scope, cloud, tenant_id):
    """The resource a client-credentials `scope` asks for; refuses what Entra refuses."""
    wanted = [s for s in (scope or "").split() if s not in ("openid", "profile", "offline_access")]
    if len(wanted) != 1 or not wanted[0].endswith("/.default"):
        raise sign_in_error(400, "invalid_scope", 1002012,
                            "The provided value for scope %s is not valid. Client credential flows must have a scope value "
                            "with /.default suffixed to the resource identifier (application ID URI)." % (scope or "''"))
    resource = wanted[0][:-len("/.default")]
    if not cloud.accepts_audience(resource):
        raise sign_in_error(400, "invalid_resource", 500011,
                            "The resource principal named %s was not found in the tenant named %s. This can happen if the "
                            "application has not been installed by the administrator of the tenant or consented to by any "
                            "user in the tenant. You might have sent your authentication request to the wrong tenant."
                            % (resource, tenant_id))
    return resource


class WorkloadIssuer:
    """An external OIDC issuer (think an AKS cluster's service account issuer) whose tokens an app trusts."""

    def __init__(self, url):
        self.url = url
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self._key.public_key()
        self.kid = secrets.token_hex(8)
        self.minted = 0

    def mint(self, subject, audience=FEDERATION_AUDIENCE, expires_in=3600, issuer=None):
        """A projected service account token: what the kubelet writes to AZURE_FEDERATED_TOKEN_FILE."""
        now = int(time.time())
        expires = now + int(expires_in)
        issued = now if expires > now else expires - 3600  # an expired token was issued an hour before it expired
        self.minted += 1
        claims = {"iss": issuer or self.url, "sub": subject, "aud": [audience], "iat": issued, "nbf": issued, "exp": expires,
                  "jti": "wi-%d-%s" % (self.minted, secrets.token_hex(4))}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid}), claims


def make_federated_app(rng, issuer):
    """The `federated` app: no secret, no certificate, one federated credential trusting `issuer` for one subject."""
    app = App(name="federated", client_id=guid(rng), roles=FEDERATED_APP_ROLES)
    app.federated_credentials = [{"issuer": issuer.url, "subject": FEDERATED_SUBJECT, "audiences": [FEDERATION_AUDIENCE]}]
    app.federation_issuer = issuer
    return app


def is_federated_assertion(app, assertion):
    """An assertion not issued by the app itself, for an app with federated credentials."""
    if not app.federated_credentials:
        return False
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return True  # let check_federated_assertion say it is malformed
    return claims.get("iss") != app.client_id


def check_federated_assertion(app, assertion):
    """Verify an external token as Entra does for workload identity federation; returns its claims."""
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise sign_in_error(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from exc
    audiences = unverified.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
    record = None
    for candidate in app.federated_credentials:
        if candidate["issuer"] == unverified.get("iss") and candidate["subject"] == unverified.get("sub"):
            record = candidate
    if record is None or not set(audiences) & set(record["audiences"]):
        raise sign_in_error(400, "invalid_client", 70021,
                            "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. "
                            "Assertion Subject: '%s'. Assertion Audience: '%s'."
                            % (unverified.get("iss"), unverified.get("sub"), ",".join(audiences)))
    issuer = app.federation_issuer
    if header.get("kid") != issuer.kid:
        raise sign_in_error(400, "invalid_client", 5002738,
                            "The signing key of the presented assertion was not found at the issuer's jwks_uri.")
    try:
        claims = jwt.decode(assertion, issuer.public_key, algorithms=["RS256"],
                            options={"verify_exp": False, "verify_aud": False, "verify_nbf": False})
    except jwt.InvalidTokenError as exc:
        raise sign_in_error(400, "invalid_client", 5002738, "The presented assertion failed signature validation.") from exc
    now = time.time()
    if claims.get("exp", 0) <= now or claims.get("nbf", 0) > now + 300:
        raise sign_in_error(400, "invalid_client", 700024,
                            "Client assertion is not within its valid time range. Current time: %s, expiry time of assertion %s."
                            % (time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(now)),
                               time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(claims.get("exp", 0)))))
    return claims


def check_client_assertion(app, assertion, token_endpoint):
    """Verify a client assertion as Entra does: key by thumbprint, signature, aud, iss/sub, lifetime."""
    bad = sign_in_error(401, "invalid_client", 700027, "Client assertion failed signature validation.")
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.InvalidTokenError as exc:
        raise sign_in_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from exc
    alg = header.get("alg")
    if app.public_key is None:
        raise sign_in_error(401, "invalid_client", 700027,
                            "Client assertion failed signature validation. Reason - The key was not found.")
    try:
        if alg == "RS256":
            known = _b64url_to_hex(header.get("x5t", "")) == app.thumbprint_sha1
        elif alg == "PS256":
            known = _b64url_to_hex(header.get("x5t#S256", "")) == app.thumbprint_sha256
        else:
            known = False
    except ValueError:
        known = False
    if not known:
        raise sign_in_error(401, "invalid_client", 700027,
                            "Client assertion failed signature validation. Reason - The key was not found.")
    try:
        claims = jwt.decode(assertion, app.public_key, algorithms=[alg],
                            options={"verify_exp": False, "verify_aud": False, "verify_nbf": False})
    except jwt.InvalidTokenError as exc:
        raise bad from exc
    if claims.get("aud") != token_endpoint:
        raise sign_in_error(401, "invalid_client", 700021,
                            "Client assertion audience claim does not match Realm issuer.")
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise sign_in_error(401, "invalid_client", 700023,
                            "Client assertion issuer and subject must be the client id.")
    now = time.time()
    if claims.get("exp", 0) <= now or claims.get("nbf", 0) > now + 300:
        raise sign_in_error(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
