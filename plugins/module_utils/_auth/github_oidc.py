# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The federated token of a GitHub Actions job, asked for at each sign-in.

GitHub Actions writes no token file: a job with `permissions: id-token: write` gets ACTIONS_ID_TOKEN_REQUEST_URL
and ACTIONS_ID_TOKEN_REQUEST_TOKEN, and a GET of that URL (with the audience Entra expects) returns a short-lived
JWT. MSAL calls the assertion source each time it signs in, so a long run never presents an expired copy.
The request token is a secret: it goes into the Authorization header and nowhere else.
"""

import json
from urllib.parse import urlsplit

from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.plugins.module_utils._settings.options import GITHUB_OIDC_ENV

# The audience Entra expects in an external token (the default of a federated credential).
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
URL_ENV, TOKEN_ENV = GITHUB_OIDC_ENV
SERVICE = "the GitHub Actions OIDC token service (%s)" % URL_ENV


def uses_github_oidc(settings):
    """True when the federated token comes from GitHub Actions: no token file, and both request variables set."""
    return not settings.federated_token_file and bool(settings.github_oidc_request_url and settings.github_oidc_request_token)


def check_request_url(url):
    """Refuse a request URL the request token must not be sent to (anything but https)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise AuthError("%s is not an https URL: it must be the value GitHub Actions set for the job, unchanged." % URL_ENV)


def assertion_request(request_token):
    """The query parameters and headers of the token request (the URL already holds api-version)."""
    return {"audience": FEDERATION_AUDIENCE}, {"Authorization": "bearer %s" % request_token, "Accept": "application/json"}


def assertion_from_answer(status, body):
    """The JWT in the service's answer ({"value": "<jwt>"}), or an AuthError saying what to do."""
    if status in (401, 403):
        raise AuthError(
            "%s refused the request (HTTP %d): the request token in %s is valid only in the job GitHub gave it to; run the "
            "task in that job, unchanged." % (SERVICE, status, TOKEN_ENV)
        )
    if status != 200:
        raise AuthError("%s answered HTTP %d: run the job again; if it persists, check GitHub's status." % (SERVICE, status))
    try:
        value = json.loads(body).get("value")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str) or value.count(".") != 2:
        raise AuthError("%s answered without a token (no JWT in \"value\"): check that %s is GitHub's request URL." % (SERVICE, URL_ENV))
    return value


class GithubOidcAssertion:
    """A callable for MSAL's client_assertion: one GET of the request URL per call."""

    def __init__(self, settings, remember):
        self._settings = settings
        self._remember = remember  # told each assertion, so error text can be scrubbed of it

    def __call__(self):
        try:
            import requests  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise AuthError("The Python library requests is required for GitHub Actions OIDC: pip install requests.") from None
        params, headers = assertion_request(self._settings.github_oidc_request_token)
        try:
            response = requests.get(self._settings.github_oidc_request_url, params=params, headers=headers,
                                    verify=self._settings.verify, timeout=self._settings.timeout)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise _transport_error(exc) from None
        assertion = assertion_from_answer(response.status_code, response.text)
        self._remember(assertion)
        return assertion


def _transport_error(exc):
    name = type(exc).__name__
    if "SSL" in name:
        return AuthError("TLS verification failed talking to %s: set ca_path to the CA bundle that signed its certificate." % SERVICE)
    return AuthError("Could not reach %s: %s." % (SERVICE, name))
