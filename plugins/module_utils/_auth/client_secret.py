# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sign-in with an app registration's client secret."""

from ansible_collections.entra.sync.plugins.module_utils._auth.confidential import ConfidentialClientCredential


class ClientSecretCredential(ConfidentialClientCredential):
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
