# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every sign-in method shares: the Credential base, AccessToken and its refresh margin, jwt_claims, the
sign-in error hints, and the scrubbing of secrets from error text.

MSAL and requests are imported lazily so the access_token path never loads them.
"""

import base64
import binascii
import contextlib
import datetime
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.plugins.module_utils._settings.options import ENV_FALLBACKS

# Refresh a token when less than this share of its life (capped at five minutes) is left.
REFRESH_FRACTION = 0.25
REFRESH_MARGIN_MAX = 300

MISSING_CREDENTIAL_HELP = (
    "set one of client_secret (env AZURE_CLIENT_SECRET or AZURE_SECRET), client_certificate_path "
    "(env AZURE_CLIENT_CERTIFICATE_PATH), federated_token_file (env AZURE_FEDERATED_TOKEN_FILE; in GitHub Actions "
    "grant the job id-token: write instead), managed_identity, or access_token (env ENTRA_SYNC_ACCESS_TOKEN, as set by "
    "the entra.sync.graph_auth role)"
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
        "(AKS workload identity, ...) rotates it, so point federated_token_file (env AZURE_FEDERATED_TOKEN_FILE) "
        "at the file it keeps fresh rather than a copy; in GitHub Actions leave it unset so a fresh token is requested"
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


# OAuth error codes of a sign-in service that is busy or failing, not of a wrong credential: a later try may succeed.
TRANSIENT_SIGN_IN_ERRORS = ("temporarily_unavailable", "server_error")


def transient_error(error):
    """Mark an error as one a later try may not meet (the service unreachable or busy), and return it."""
    error.transient = True
    return error


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


def claim_time(claims, name):
    """A numeric time claim (exp, iat) as a float; 0.0 when absent or not a number."""
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


def scrub(text, secrets):
    """text with every secret in `secrets` replaced, the longest first (a secret that holds another is masked whole);
    empty ones are skipped."""
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


class RequestsForMsal:
    """The http_client MSAL uses: passes verify= on each request, since REQUESTS_CA_BUNDLE overrides Session.verify."""

    def __init__(self, verify, timeout):
        self._verify = verify
        self._timeout = timeout
        self._session, self._pid = self._new_session(), os.getpid()

    @staticmethod
    def _new_session():
        import requests  # pylint: disable=import-outside-toplevel

        return requests.Session()

    def _own_session(self):
        # A forked worker (ansible-playbook forks after the inventory signed in) gets its own connections: sharing the
        # parent's pooled sockets between processes would mix their requests.
        if self._pid != os.getpid():
            self._session, self._pid = self._new_session(), os.getpid()
        return self._session

    def get(self, url, params=None, headers=None, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return self._own_session().get(url, params=params, headers=headers, verify=self._verify, **kwargs)

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return self._own_session().post(url, params=params, data=data, headers=headers, verify=self._verify, **kwargs)

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
            error = AuthError(scrub(describe_sign_in_error(result, self.describe()), self._secrets()))
            raise transient_error(error) if result.get("error") in TRANSIENT_SIGN_IN_ERRORS else error
        expires_in = float(result.get("expires_in") or 3600)
        return AccessToken(result["access_token"], time.time() + expires_in, result.get("token_source", "identity_provider"))

    def _require(self, *names):
        missing = [name for name in names if not getattr(self.settings, name)]
        if missing:
            how = ["%s (env %s)" % (name, " or ".join(ENV_FALLBACKS[name])) if name in ENV_FALLBACKS else name for name in missing]
            raise AuthError("auth_method %s needs %s: set %s." % (self.method, " and ".join(missing), ", ".join(how)))

    @contextlib.contextmanager
    def _msal_errors(self):
        """Turn what MSAL raises while signing in into an AuthError that says what to fix; an AuthError passes as is."""
        try:
            yield
        except AuthError:
            raise
        except ValueError as exc:
            # MSAL raises ValueError for a discovery failure (wrong authority host or tenant).
            raise AuthError("Sign-in as %s failed: %s" % (self.describe(), scrub(str(exc), self._secrets()))) from None
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise self._translate_error(exc) from None

    def _translate_error(self, exc):
        name = type(exc).__name__
        if "SSL" in name:
            return AuthError(
                "TLS verification failed talking to the sign-in host %s: set ca_path to the CA bundle that signed its "
                "certificate, or validate_certs: false (not recommended)." % self.settings.authority_host
            )
        if isinstance(exc, OSError):  # requests and urllib3 errors are OSErrors too
            return transient_error(AuthError("Could not reach the sign-in host %s: %s." % (self.settings.authority_host, name)))
        return AuthError("Sign-in as %s failed: %s: %s" % (self.describe(), name, scrub(str(exc), self._secrets())))


def token_result(settings, method, token, scope, token_source="sign_in"):
    """What graph_token returns for a token (the module and its action plugin alike); the token is a secret.

    token_source: sign_in (this task signed in, or MSAL's cache of this process answered), or inventory (the sync_jobs
    inventory plugin's sign-in to the tenant, earlier in this run).
    """
    expires_on = int(token.expires_on)
    return {
        "changed": False,
        "access_token": token.token,
        "expires_on": expires_on,
        "expires_at": datetime.datetime.fromtimestamp(expires_on, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "token_type": "Bearer",
        "scope": scope,
        "graph_endpoint": settings.graph_root,
        "tenant_id": settings.tenant_id,
        "auth_method": method,
        "token_source": token_source,
    }
