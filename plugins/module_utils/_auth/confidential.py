# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app registration signing in with MSAL's ConfidentialClientApplication: what the secret, certificate and
federated token methods share. Each one only says what client_credential MSAL gets."""

import hashlib
import threading

from ansible_collections.entra.sync.plugins.module_utils._auth.base import Credential, RequestsForMsal
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError


def import_msal(purpose):
    """The msal module, or an AuthError that says how to install it."""
    try:
        import msal  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise AuthError("The Python library msal is required %s: pip install msal (or use access_token)." % purpose) from None
    return msal


class ConfidentialClientCredential(Credential):
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
                msal = import_msal("to sign in")
                app = msal.ConfidentialClientApplication(
                    self.settings.client_id,
                    client_credential=self._client_credential(),
                    authority="%s/%s" % (self.settings.authority_host, self.settings.tenant_id),
                    instance_discovery=False,
                    http_client=RequestsForMsal(self.settings.verify, self.settings.timeout),
                )
                self._apps[self._app_key()] = app
            return app

    def _acquire(self, force_refresh):
        with self._msal_errors():
            app = self._app()  # MSAL runs the authority's OIDC discovery here, so TLS errors can come from it
            if force_refresh:
                app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=[self.settings.scope])
        return self._token_from_result(result)
