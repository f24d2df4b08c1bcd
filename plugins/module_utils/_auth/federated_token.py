# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workload identity federation: an external token, read from federated_token_file, is the client assertion."""

from ansible_collections.entra.sync.plugins.module_utils._auth.confidential import ConfidentialClientCredential
from ansible_collections.entra.sync.plugins.module_utils.exceptions import AuthError


class FederatedTokenCredential(ConfidentialClientCredential):
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
