# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sign-in as an Azure managed identity, through MSAL's ManagedIdentityClient."""

import threading

from ansible_collections.entra.sync.plugins.module_utils._auth.base import Credential, RequestsForMsal, scrub
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError


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
                client = msal.ManagedIdentityClient(kind, http_client=RequestsForMsal(self.settings.verify, self.settings.timeout))
                self._clients[key] = client
            return client

    def _acquire(self, force_refresh):
        try:
            result = self._client().acquire_token_for_client(resource=self.settings.cloud.resource)
        except AuthError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise AuthError("Managed identity sign-in failed: %s." % scrub(str(exc) or type(exc).__name__, self._secrets())) from None
        return self._token_from_result(result)
