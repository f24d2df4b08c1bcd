# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials: one small class per sign-in method.

Each class has validate(), which only looks at local inputs, and get_token(), which signs in with MSAL.
MSAL and cryptography are imported lazily so the access_token path never loads them.
"""

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field

from ansible_collections.entra.sync.plugins.module_utils.exceptions import AuthError
from ansible_collections.entra.sync.plugins.module_utils.options import ENV_FALLBACKS

# Refresh a token when less than this share of its life (capped at five minutes) is left.
REFRESH_FRACTION = 0.25
REFRESH_MARGIN_MAX = 300

MISSING_CREDENTIAL_HELP = (
    "set one of client_secret (env AZURE_CLIENT_SECRET or AZURE_SECRET), client_certificate_path "
    "(env AZURE_CLIENT_CERTIFICATE_PATH), federated_token_file (env AZURE_FEDERATED_TOKEN_FILE), "
    "managed_identity, or access_token (env ENTRA_SYNC_ACCESS_TOKEN, as set by the entra.sync.graph_auth role)"
)

# AADSTS codes a user can act on, and what to do about each.
SIGN_IN_HINTS = {
    "AADSTS7000215": "the client secret is wrong: check client_secret (or AZURE_CLIENT_SECRET) and that it has not expired",
    "AADSTS7000222": "the client secret has expired: create a new one for the app registration",
    "AADSTS700016": "no application with this client_id exists in the tenant: check client_id and tenant_id",
    "AADSTS90002": "the tenant was not found: check tenant_id and the cloud",
    "AADSTS700027": "the certificate is not registered on the app (or its thumbprint differs): upload it to the app registration",
    "AADSTS700024": (
        "the client assertion has expired: the federated token file must hold a current token; the platform that writes it "
        "(AKS workload identity, GitHub Actions, ...) rotates it, so point federated_token_file (env AZURE_FEDERATED_TOKEN_FILE) "
        "at the file it keeps fresh rather than a copy"
    ),
    "AADSTS70021": (
        "no federated credential on the app matches the token's issuer, subject and audience: add one to the app registration "
        "for exactly that issuer and subject, with audience api://AzureADTokenExchange"
    ),
    "AADSTS700211": "no federated credential on the app trusts the token's issuer: check the issuer URL of the app's federated credential",
    "AADSTS700212": "no federated credential on the app accepts the token's audience: use api://AzureADTokenExchange on both sides",
    "AADSTS700213": "no federated credential on the app matches the token's subject: check the subject of the app's federated credential",
    "AADSTS5002738": "the federated token's signature could not be checked against its issuer's keys: is the file a token of that issuer?",
    "AADSTS500011": "the Graph resource is not known where you signed in: check that cloud matches your tenant's cloud",
    "AADSTS7000218": "the request needs a credential: " + MISSING_CREDENTIAL_HELP,
}


def _now():
    return time.time()


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)
    expires_on: float
    source: str
    issued_on: float = field(default_factory=_now)

    def needs_refresh(self, now=None):
        """True once less than a quarter of the token's life (at most five minutes) is left."""
        now = time.time() if now is None else now
        if not self.expires_on:
            return False
        return self.expires_on - now < refresh_margin(self.expires_on - self.issued_on)


def refresh_margin(lifetime):
    return min(REFRESH_MARGIN_MAX, max(lifetime, 0) * REFRESH_FRACTION)


def _claim_time(claims, name):
    try:
        return float(claims.get(name) or 0)
    except (TypeError, ValueError, OverflowError):
        return 0.0


def jwt_claims(token):
    """The claims of a JWT without verifying it (only to read exp/scp for messages); {} when not a JWT."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (IndexError, ValueError, binascii.Error, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def describe_sign_in_error(result, who):
    """Turn an MSAL error result into one actionable line."""
    error = result.get("error") or "unknown_error"
    description = (result.get("error_description") or "").strip().splitlines()
    first_line = description[0] if description else ""
    code = re.match(r"(AADSTS\d+)", first_line)
    hint = SIGN_IN_HINTS.get(code.group(1)) if code else None
    message = "Sign-in as %s failed: %s" % (who, error)
    if first_line:
        message += ": " + first_line
    if hint:
        message += " (%s)" % hint
    return message


class _RequestsForMsal:
    """The http_client MSAL uses: passes verify= on each request, since REQUESTS_CA_BUNDLE overrides Session.verify."""

    def __init__(self, verify, timeout):
        import requests  # pylint: disable=import-outside-toplevel

        self._session = requests.Session()
        self._verify = verify
        self._timeout = timeout

    def get(self, url, params=None, headers=None, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return self._session.get(url, params=params, headers=headers, verify=self._verify, **kwargs)

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return self._session.post(url, params=params, data=data, headers=headers, verify=self._verify, **kwargs)

    def close(self):
        self._session.close()


class Credential:
    """A way to get a Graph token. Subclasses set method and implement _acquire()."""

    method = None
    can_refresh = True

    def __init__(self, settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._token = None

    def validate(self):
        """Check local inputs only; raise AuthError with what to fix."""

    def describe(self):
        return "app %s in tenant %s" % (self.settings.client_id, self.settings.tenant_id)

    def get_token(self, force_refresh=False):
        with self._lock:
            if force_refresh or self._token is None or self._token.needs_refresh():
                self._token = self._acquire(force_refresh)
            return self._token

    def _acquire(self, force_refresh):
        raise NotImplementedError

    def _secrets(self):
        """Every secret an error text must not hold: the settings' secrets, and what a subclass read from elsewhere."""
        return self.settings.secret_values()

    def _token_from_result(self, result):
        """An AccessToken from what MSAL returned, or the sign-in error as an AuthError."""
        if "access_token" not in result:
            raise AuthError(_scrub(describe_sign_in_error(result, self.describe()), self._secrets()))
        expires_in = float(result.get("expires_in") or 3600)
        return AccessToken(result["access_token"], time.time() + expires_in, result.get("token_source", "identity_provider"))

    def _require(self, *names):
        missing = [name for name in names if not getattr(self.settings, name)]
        if missing:
            how = ["%s (env %s)" % (name, " or ".join(ENV_FALLBACKS[name])) if name in ENV_FALLBACKS else name for name in missing]
            raise AuthError("auth_method %s needs %s: set %s." % (self.method, " and ".join(missing), ", ".join(how)))

    def _translate_error(self, exc):
        name = type(exc).__name__
        if "SSL" in name:
            return AuthError(
                "TLS verification failed talking to the sign-in host %s: set ca_path to the CA bundle that signed its "
                "certificate, or validate_certs: false (not recommended)." % self.settings.authority_host
            )
        if isinstance(exc, OSError):  # requests and urllib3 errors are OSErrors too
            return AuthError("Could not reach the sign-in host %s: %s." % (self.settings.authority_host, name))
        return AuthError("Sign-in as %s failed: %s: %s" % (self.describe(), name, _scrub(str(exc), self._secrets())))


class AccessTokenCredential(Credential):
    """A token acquired elsewhere (the graph_auth role): no MSAL call, and it cannot be refreshed."""

    method = "access_token"
    can_refresh = False

    def validate(self):
        token = self.settings.access_token
        if not token or any(ch.isspace() for ch in token):
            raise AuthError("access_token is empty or contains whitespace: pass the bare token the graph_auth role set.")
        claims = jwt_claims(token)
        issued_on = _claim_time(claims, "iat") or time.time()
        self._token = AccessToken(token, _claim_time(claims, "exp"), "given", issued_on)
        if self._token.expires_on and self._token.expires_on <= time.time():
            raise AuthError(self._expired_message())

    def describe(self):
        return "the given access_token"

    def get_token(self, force_refresh=False):
        if self._token is None:
            self.validate()
        if force_refresh or (self._token.expires_on and self._token.expires_on <= time.time()):
            raise AuthError(self._expired_message())
        return self._token

    @staticmethod
    def _expired_message():
        return (
            "The access_token has expired or was rejected and cannot be refreshed: run entra.sync.graph_auth again, or "
            "give the module credentials (client_secret, client_certificate_path, federated_token_file or managed_identity) "
            "beside it so it can refresh by itself."
        )


class _ConfidentialClientCredential(Credential):
    """An app registration signing in with MSAL's ConfidentialClientApplication."""

    _apps = {}
    _apps_lock = threading.Lock()

    def validate(self):
        self._require("tenant_id", "client_id")

    def _client_credential(self):
        raise NotImplementedError

    def _credential_fingerprint(self):
        # Part of the app cache key, so a corrected secret or certificate in a long-lived process is used.
        return hashlib.sha256(repr(self._client_credential_identity()).encode("utf-8")).hexdigest()

    def _client_credential_identity(self):
        return None

    def _app_key(self):
        return (self.method, self.settings.authority_host, self.settings.tenant_id, self.settings.client_id,
                str(self.settings.verify), self._credential_fingerprint())

    def _app(self):
        # One MSAL app per process and credential, so its token cache serves every task in the process.
        with self._apps_lock:
            app = self._apps.get(self._app_key())
            if app is None:
                try:
                    import msal  # pylint: disable=import-outside-toplevel
                except ImportError:
                    raise AuthError("The Python library msal is required to sign in: pip install msal (or use access_token).") from None
                app = msal.ConfidentialClientApplication(
                    self.settings.client_id,
                    client_credential=self._client_credential(),
                    authority="%s/%s" % (self.settings.authority_host, self.settings.tenant_id),
                    instance_discovery=False,
                    http_client=_RequestsForMsal(self.settings.verify, self.settings.timeout),
                )
                self._apps[self._app_key()] = app
            return app

    def _acquire(self, force_refresh):
        try:
            app = self._app()  # MSAL runs the authority's OIDC discovery here, so TLS errors can come from it
            if force_refresh:
                app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=[self.settings.scope])
        except AuthError:
            raise
        except ValueError as exc:
            # MSAL raises ValueError for a discovery failure (wrong authority host or tenant).
            raise AuthError("Sign-in as %s failed: %s" % (self.describe(), _scrub(str(exc), self._secrets()))) from None
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise self._translate_error(exc) from None
        return self._token_from_result(result)


class ClientSecretCredential(_ConfidentialClientCredential):
    method = "client_secret"

    def validate(self):
        super().validate()
        self._require("client_secret")

    def describe(self):
        return "app %s (client secret) in tenant %s" % (self.settings.client_id, self.settings.tenant_id)

    def _client_credential(self):
        return self.settings.client_secret

    def _client_credential_identity(self):
        return self.settings.client_secret


class CertificateCredential(_ConfidentialClientCredential):
    """A certificate in a PEM file (key + certificate) or a PFX/PKCS#12 file; the thumbprint is computed here."""

    method = "certificate"

    def __init__(self, settings):
        super().__init__(settings)
        self._loaded = None

    def validate(self):
        super().validate()
        self._require("client_certificate_path")
        self._loaded = load_certificate(self.settings.client_certificate_path, self.settings.client_certificate_password)

    def describe(self):
        return "app %s (certificate) in tenant %s" % (self.settings.client_id, self.settings.tenant_id)

    def _client_credential(self):
        if self._loaded is None:
            self.validate()
        return dict(self._loaded)

    def _client_credential_identity(self):
        return (self.settings.client_certificate_path, self._client_credential()["thumbprint"])


def load_certificate(path, password):
    """Read a PEM (private key + certificate) or PFX file into MSAL's credential dict."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise AuthError("client_certificate_path %r cannot be read (%s): give a readable PEM or PFX file." % (path, exc.strerror)) from None
    try:
        # pylint: disable=import-outside-toplevel
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import pkcs12
    except ImportError:
        raise AuthError("The Python library cryptography is required for certificates: pip install msal (it brings cryptography).") from None
    secret = password.encode("utf-8") if password else None
    if b"-----BEGIN" in data:
        try:
            key = _load_pem_key(serialization, data, secret)
        except (ValueError, TypeError):
            raise AuthError(
                "client_certificate_path %r holds no private key that can be read: the PEM file needs the private key and the "
                "certificate; if the key is encrypted set client_certificate_password." % path
            ) from None
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError:
            raise AuthError("client_certificate_path %r holds no certificate: append the certificate (PEM) after the private key." % path) from None
    else:
        try:
            key, cert, dummy = pkcs12.load_key_and_certificates(data, secret)
        except (ValueError, TypeError):
            raise AuthError(
                "client_certificate_path %r is neither a PEM file nor a PFX file that opens with the given password: check the file "
                "and client_certificate_password." % path
            ) from None
        if key is None or cert is None:
            raise AuthError("client_certificate_path %r (PFX) must hold both the private key and the certificate." % path)
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = type(key).__name__.replace("PrivateKey", "").lstrip("_")
        raise AuthError("client_certificate_path %r holds a key of type %s: Entra ID app certificates must use an RSA key." % (path, kind))
    private_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    der = cert.public_bytes(serialization.Encoding.DER)
    return {
        "private_key": private_key.decode("ascii"),
        "thumbprint": hashlib.sha1(der).hexdigest(),  # nosec: the thumbprint Entra registers is SHA-1 by definition
        "public_certificate": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


def _load_pem_key(serialization, data, secret):
    try:
        return serialization.load_pem_private_key(data, password=secret)
    except TypeError:
        if secret is None:
            raise
        # A password left set (say a stray AZURE_CLIENT_CERTIFICATE_PASSWORD) for a key that is not encrypted.
        return serialization.load_pem_private_key(data, password=None)


class FederatedTokenCredential(_ConfidentialClientCredential):
    """Workload identity federation: the assertion is read from the file at each sign-in, so a rotated file keeps working."""

    method = "federated_token"

    def __init__(self, settings):
        super().__init__(settings)
        self._assertions = []  # each one read, kept only to scrub it from error text

    def _secrets(self):
        return super()._secrets() + self._assertions

    def validate(self):
        super().validate()
        self._require("federated_token_file")
        self._read_assertion()

    def describe(self):
        return "app %s (federated token) in tenant %s" % (self.settings.client_id, self.settings.tenant_id)

    def _read_assertion(self):
        path = self.settings.federated_token_file
        try:
            with open(path, encoding="utf-8") as handle:
                assertion = handle.read().strip()
        except (OSError, UnicodeError) as exc:
            raise AuthError("federated_token_file %r cannot be read (%s): check AZURE_FEDERATED_TOKEN_FILE." % (path, exc)) from None
        if not assertion:
            raise AuthError("federated_token_file %r is empty: the workload identity token has not been written yet." % path)
        if assertion not in self._assertions:
            self._assertions.append(assertion)
        return assertion

    def _client_credential(self):
        return {"client_assertion": self._read_assertion}


class ManagedIdentityCredential(Credential):
    """A system-assigned identity (managed_identity: system) or a user-assigned one (managed_identity: <its client id>)."""

    method = "managed_identity"
    _clients = {}
    _clients_lock = threading.Lock()

    def validate(self):
        if not self.settings.managed_identity:
            raise AuthError("auth_method managed_identity needs managed_identity: 'system' or the client id of a user-assigned identity.")

    def describe(self):
        identity = self.settings.managed_identity
        return "the system-assigned managed identity" if identity.lower() == "system" else "the managed identity %s" % identity

    def _client(self):
        with self._clients_lock:
            key = (self.settings.managed_identity.lower(), self.settings.verify)
            client = self._clients.get(key)
            if client is None:
                try:
                    import msal  # pylint: disable=import-outside-toplevel
                except ImportError:
                    raise AuthError("The Python library msal (1.29 or newer) is required for managed identity: pip install msal.") from None
                identity = self.settings.managed_identity
                if identity.lower() == "system":
                    kind = msal.SystemAssignedManagedIdentity()
                else:
                    kind = msal.UserAssignedManagedIdentity(client_id=identity)
                client = msal.ManagedIdentityClient(kind, http_client=_RequestsForMsal(self.settings.verify, self.settings.timeout))
                self._clients[key] = client
            return client

    def _acquire(self, force_refresh):
        try:
            result = self._client().acquire_token_for_client(resource=self.settings.cloud.resource)
        except AuthError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise AuthError("Managed identity sign-in failed: %s." % _scrub(str(exc) or type(exc).__name__, self._secrets())) from None
        return self._token_from_result(result)


class RefreshableAccessToken(Credential):
    """A given access_token used first, with a credential to fall back on once it nears expiry or is rejected."""

    method = "access_token"

    def __init__(self, settings, given, fallback):
        super().__init__(settings)
        self._given = given
        self._fallback = fallback

    def validate(self):
        self._fallback.validate()
        try:
            self._given.validate()
        except AuthError:
            self._given = None  # already expired: the fallback signs in

    def describe(self):
        return "the given access_token, refreshed as %s" % self._fallback.describe()

    def get_token(self, force_refresh=False):
        if self._given is not None and not force_refresh:
            try:
                token = self._given.get_token()
            except AuthError:
                token = None  # expired since validate(): the fallback signs in
            if token is not None and not token.needs_refresh():
                return token
        self._given = None
        return self._fallback.get_token(force_refresh)


CREDENTIAL_CLASSES = {
    "client_secret": ClientSecretCredential,
    "certificate": CertificateCredential,
    "federated_token": FederatedTokenCredential,
    "managed_identity": ManagedIdentityCredential,
    "access_token": AccessTokenCredential,
}

# Which option tells that a method was meant, in the order `auto` reports them.
METHOD_INPUTS = (
    ("client_secret", "client_secret"),
    ("certificate", "client_certificate_path"),
    ("federated_token", "federated_token_file"),
    ("managed_identity", "managed_identity"),
)


def pick_auth_method(settings):
    """Decide the sign-in method (pure). Returns (method, refresh_method_or_None); raises AuthError on conflicts."""
    given = [method for method, option in METHOD_INPUTS if getattr(settings, option)]
    has_token = bool(settings.access_token)
    if settings.auth_method != "auto":
        method = settings.auth_method
        if method == "access_token" and not has_token:
            raise AuthError("auth_method access_token needs access_token (env ENTRA_SYNC_ACCESS_TOKEN).")
        return method, None
    if len(given) > 1:
        options = [option for method, option in METHOD_INPUTS if method in given]
        raise AuthError(
            "Conflicting credentials: %s are all set (as options or through their AZURE_* env vars). Remove all but one, "
            "or set auth_method to the one to use." % ", ".join(options)
        )
    if has_token:
        return "access_token", (given[0] if given else None)
    if given:
        return given[0], None
    raise AuthError("No credential was given: " + MISSING_CREDENTIAL_HELP + ".")


def credential_from_settings(settings):
    """Pick, build and validate the credential for these settings; no network call is made."""
    method, refresh_method = pick_auth_method(settings)
    if refresh_method:
        credential = RefreshableAccessToken(settings, AccessTokenCredential(settings), CREDENTIAL_CLASSES[refresh_method](settings))
    else:
        credential = CREDENTIAL_CLASSES[method](settings)
    credential.validate()
    return credential


def _scrub(text, secrets):
    """text with every secret in `secrets` replaced."""
    for secret in secrets:
        text = text.replace(secret, "********")
    return text
