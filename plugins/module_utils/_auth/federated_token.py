# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workload identity federation: an external token is the client assertion.

It comes from federated_token_file (AKS and other platforms that keep a projected token fresh), read again at each
sign-in so a rotated file keeps working, or from GitHub Actions' token service (github_oidc.py) when no file is given.
"""

from ansible_collections.entra.sync.plugins.module_utils._auth.confidential import ConfidentialClientCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.github_oidc import GithubOidcAssertion, check_request_url, uses_github_oidc
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.plugins.module_utils._settings.options import GITHUB_OIDC_ENV


class FederatedTokenCredential(ConfidentialClientCredential):
    """Workload identity federation: the assertion is read (or asked for) at each sign-in, so a rotated one keeps working."""

    method = "federated_token"

    def __init__(self, settings):
        super().__init__(settings)
        self._assertions = []  # each one read, kept only to scrub it from error text

    def _secrets(self):
        return super()._secrets() + self._assertions

    def validate(self):
        super().validate()
        if uses_github_oidc(self.settings):
            check_request_url(self.settings.github_oidc_request_url)
            return
        if not self.settings.federated_token_file:
            raise AuthError(
                "auth_method federated_token needs federated_token_file: set federated_token_file (env AZURE_FEDERATED_TOKEN_FILE), "
                "or in GitHub Actions grant the job `permissions: id-token: write`, which sets %s and %s." % GITHUB_OIDC_ENV
            )
        self._read_assertion()

    def describe(self):
        return "app %s (federated token) in tenant %s" % (self.settings.client_id, self.settings.tenant_id)

    def _remember(self, assertion):
        if assertion not in self._assertions:
            self._assertions.append(assertion)

    def _read_assertion(self):
        path = self.settings.federated_token_file
        try:
            with open(path, encoding="utf-8") as handle:
                assertion = handle.read().strip()
        except (OSError, UnicodeError) as exc:
            raise AuthError("federated_token_file %r cannot be read (%s): check AZURE_FEDERATED_TOKEN_FILE." % (path, exc)) from None
        if not assertion:
            raise AuthError("federated_token_file %r is empty: the workload identity token has not been written yet." % path)
        self._remember(assertion)
        return assertion

    def _client_credential(self):
        if uses_github_oidc(self.settings):
            return {"client_assertion": GithubOidcAssertion(self.settings, self._remember)}
        return {"client_assertion": self._read_assertion}

    def _client_credential_identity(self):
        # The source of the assertion, so a process that changes it gets an MSAL app that uses the new one.
        if uses_github_oidc(self.settings):
            return ("github", self.settings.github_oidc_request_url, self.settings.github_oidc_request_token)
        return ("file", self.settings.federated_token_file)
