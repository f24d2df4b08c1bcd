# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A token acquired elsewhere (the graph_auth role), alone or with a credential to refresh it."""

import time

from ansible_collections.entra.sync.plugins.module_utils._auth.base import AccessToken, Credential, claim_time, jwt_claims
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError


class AccessTokenCredential(Credential):
    """A token acquired elsewhere (the graph_auth role): no MSAL call, and it cannot be refreshed."""

    method = "access_token"
    can_refresh = False

    def validate(self):
        token = self.settings.access_token
        if not token or any(ch.isspace() for ch in token):
            raise AuthError("access_token is empty or contains whitespace: pass the bare token the graph_auth role set.")
        claims = jwt_claims(token)
        issued_on = claim_time(claims, "iat") or time.time()
        self._token = AccessToken(token, claim_time(claims, "exp"), "given", issued_on)
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
