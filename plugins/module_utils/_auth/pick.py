# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials: pick the sign-in method from the settings and build its credential.

Each method is one small file beside this one; base.py holds what they share. Every credential has validate(),
which only looks at local inputs, and get_token(), which signs in.
"""

from dataclasses import replace

from ansible_collections.entra.sync.plugins.module_utils._auth.access_token import AccessTokenCredential, RefreshableAccessToken
from ansible_collections.entra.sync.plugins.module_utils._auth.azure_cli import AzureCliCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.base import MISSING_CREDENTIAL_HELP, AccessToken, jwt_claims, token_result
from ansible_collections.entra.sync.plugins.module_utils._auth.certificate import CertificateCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.client_secret import ClientSecretCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.device_code import DeviceCodeCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.federated_token import FederatedTokenCredential
from ansible_collections.entra.sync.plugins.module_utils._auth.github_oidc import uses_github_oidc
from ansible_collections.entra.sync.plugins.module_utils._auth.managed_identity import ManagedIdentityCredential
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, OptionError
from ansible_collections.entra.sync.plugins.module_utils._settings.options import DELEGATED_METHODS

__all__ = ["AccessToken", "credential_from_settings", "jwt_claims", "pick_auth_method", "sign_in"]

CREDENTIAL_CLASSES = {
    "client_secret": ClientSecretCredential,
    "certificate": CertificateCredential,
    "federated_token": FederatedTokenCredential,
    "managed_identity": ManagedIdentityCredential,
    "access_token": AccessTokenCredential,
    "device_code": DeviceCodeCredential,
    "azure_cli": AzureCliCredential,
}

# Which option tells that a method was meant, in the order `auto` reports them.
METHOD_INPUTS = (
    ("client_secret", "client_secret"),
    ("certificate", "client_certificate_path"),
    ("federated_token", "federated_token_file"),
    ("managed_identity", "managed_identity"),
)


def pick_auth_method(settings):
    """Decide the sign-in method (pure). Returns (method, refresh_method_or_None); raises AuthError on conflicts.

    A GitHub Actions job's OIDC variables are there in every job allowed to ask for a token, so they choose
    federated_token only when no credential was given: they never conflict with one.
    """
    given = [method for method, option in METHOD_INPUTS if getattr(settings, option)]
    has_token = bool(settings.access_token)
    if settings.auth_method != "auto":
        method = settings.auth_method
        if method == "access_token" and not has_token:
            raise AuthError("auth_method access_token needs access_token (env ENTRA_SYNC_ACCESS_TOKEN).")
        if method in DELEGATED_METHODS:
            _refuse_app_credentials(method, given)
        # A token in hand (the graph_auth role's, got by this method) is used first; the method refreshes it. Without
        # this, every module of a tenant with a named method would sign in again.
        return ("access_token", method) if has_token and method != "access_token" else (method, None)
    if len(given) > 1:
        options = [option for method, option in METHOD_INPUTS if method in given]
        raise AuthError(
            "Conflicting credentials: %s are all set (as options or through their AZURE_* env vars). Remove all but one, "
            "or set auth_method to the one to use." % ", ".join(options)
        )
    if not given and uses_github_oidc(settings):
        given = ["federated_token"]
    if has_token:
        return "access_token", (given[0] if given else None)
    if given:
        return given[0], None
    raise AuthError("No credential was given: " + MISSING_CREDENTIAL_HELP + ".")


def _refuse_app_credentials(method, given):
    """A person's sign-in takes no application credential: one given is a mistake to point out, not to ignore."""
    if given:
        options = [option for app_method, option in METHOD_INPUTS if app_method in given]
        raise AuthError(
            "auth_method %s signs in as a person and takes no application credential, but %s is set (as an option or through "
            "its AZURE_* env var). Remove it, or set auth_method to %s to sign in as the application." % (method, " and ".join(options), given[0])
        )


def credential_from_settings(settings):
    """Pick, build and validate the credential for these settings; no network call is made."""
    method, refresh_method = pick_auth_method(settings)
    if refresh_method:
        credential = RefreshableAccessToken(settings, AccessTokenCredential(settings), CREDENTIAL_CLASSES[refresh_method](settings))
    else:
        credential = CREDENTIAL_CLASSES[method](settings)
    credential.validate()
    return credential


def sign_in(settings):
    """graph_token's answer: sign in with the credential the settings give, never with a given access token.

    The module runs it where the task runs; its action plugin runs it in the controller process when the task runs there.
    """
    if settings.auth_method == "access_token":
        raise OptionError("graph_token acquires a token: set auth_method to auto or to a credential kind, and give that credential.")
    # A token handed down through module_defaults is not a credential: graph_token always signs in.
    settings = replace(settings, access_token=None)
    credential = credential_from_settings(settings)
    return token_result(settings, credential.method, credential.get_token(), settings.scope)
