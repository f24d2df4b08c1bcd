# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A person signs in with a device code (MSAL's public-client device flow), like Connect-MgGraph -UseDeviceCode.

The flow itself runs only where a person can see the prompt: the graph_token action plugin on the controller passes
`prompt`. The modules and the inventory plugin get no prompt: they sign in silently from the same token cache (its
refresh token) and fail with what to run when it holds no usable sign-in.
"""

import re
import threading

from ansible_collections.entra.sync.plugins.module_utils._auth.base import Credential, RequestsForMsal, describe_sign_in_error
from ansible_collections.entra.sync.plugins.module_utils._auth.confidential import import_msal
from ansible_collections.entra.sync.plugins.module_utils._auth.token_cache import TokenCacheFile
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, LocalFileError

# Microsoft Graph Command Line Tools, the first-party public client Connect-MgGraph uses: it may ask for delegated
# Graph scopes in any tenant whose administrator consented to them, with no app registration of your own.
DEFAULT_PUBLIC_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
DEFAULT_SCOPES = ("Synchronization.ReadWrite.All",)
RESERVED_SCOPES = ("openid", "profile", "offline_access")
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

NO_TERMINAL_MESSAGE = (
    "auth_method device_code needs a person at a terminal to enter the code, and this run has none (no interactive standard "
    "input: CI, AWX or a scheduled job). Use an application credential there instead (client_secret, client_certificate_path, "
    "federated_token_file or managed_identity), or sign in at a terminal first so the token cache holds the sign-in."
)


def token_task_problem(auth_method, force_sign_in, scopes):
    """graph_token's force_sign_in and scopes shape a device_code sign-in only: elsewhere they are a mistake (pure)."""
    given = [name for name, value in (("force_sign_in", force_sign_in), ("scopes", scopes)) if value]
    if given and auth_method != "device_code":
        return ("%s %s to auth_method device_code only (an application asks for the /.default scope, and azure_cli takes "
                "the token az gives): remove %s, or set auth_method: device_code."
                % (" and ".join(given), "applies" if len(given) == 1 else "apply", "it" if len(given) == 1 else "them"))
    return None


def delegated_scopes(cloud, names=None):
    """The scopes to ask for: each name as given when it is a URL, else on the cloud's Graph resource (pure)."""
    names = [name.strip() for name in (names or DEFAULT_SCOPES) if name and name.strip()]
    return [name if "/" in name else "%s/%s" % (cloud.resource, name) for name in names if name not in RESERVED_SCOPES]


def pick_account(accounts, tenant_id):
    """The cached account to sign in silently with: the one of this tenant; with a domain as tenant_id, the only one."""
    if _GUID_RE.match(tenant_id or ""):
        matching = [account for account in accounts if (account.get("realm") or "").lower() == tenant_id.lower()]
    else:
        matching = list(accounts)
    return matching[0] if len(matching) == 1 else None


def cached_scopes(entries, account):
    """The scopes of the newest cached access token of this account (what the person signed in for), or None (pure)."""
    mine = [entry for entry in entries if entry.get("home_account_id") == account.get("home_account_id") and entry.get("target")]
    if not mine:
        return None
    newest = max(mine, key=lambda entry: int(entry.get("cached_at") or 0))
    return [scope for scope in newest["target"].split() if scope not in RESERVED_SCOPES] or None


def device_flow_failure(result):
    """The message for a device flow that ended without a token (pure)."""
    error = result.get("error") or ""
    if error == "authorization_declined":
        return "The sign-in was declined at the verification page. Run the task again and approve it, as the account that should act."
    if error in ("expired_token", "authorization_pending", "slow_down", "bad_verification_code"):
        return ("The device code expired before the sign-in was completed (a code is valid for about 15 minutes). Run the task "
                "again and enter the new code sooner.")
    return None


# AADSTS codes of a person's sign-in that mean something else than for an application, and what to do about each.
DEVICE_CODE_HINTS = {
    "AADSTS7000218": (
        "client_id %s does not allow public client flows: turn on 'Allow public client flows' in its app registration's "
        "Authentication settings, or leave client_id unset to use Microsoft Graph Command Line Tools"
    ),
    "AADSTS65001": (
        "nobody has consented to these scopes for client %s in this tenant: ask an administrator to grant admin consent, "
        "or ask for fewer scopes"
    ),
}


def describe_device_code_error(result, who, client_id):
    """One line for a failed device-code request (pure): the identity provider's words and what to do."""
    description = result.get("error_description") or ""
    for code, hint in DEVICE_CODE_HINTS.items():
        if description.startswith(code):
            first_line = description.strip().splitlines()[0]
            return "Sign-in as %s failed: %s: %s (%s)" % (who, result.get("error") or "unknown_error", first_line, hint % client_id)
    return describe_sign_in_error(result, who)


def silent_failure_message(cache_path, result, tenant_id):
    """Why a module or the inventory could not sign in from the cache, and what to run (pure)."""
    text = ("auth_method device_code found no usable sign-in for tenant %s in the token cache %s. Sign in first with the "
            "entra.sync.graph_auth role or an entra.sync.graph_token task (auth_method: device_code), which shows the code on the "
            "controller, with the same token_cache_path (env ENTRA_SYNC_TOKEN_CACHE)." % (tenant_id, cache_path))
    if result and result.get("error"):
        text += " The identity provider said: %s." % describe_sign_in_error(result, "the cached account")
    return text


class DeviceCodeCredential(Credential):
    """A person's sign-in. prompt: shows the device-code message (None: silent only). force_sign_in: ignore the cache.
    scopes: the delegated scopes to ask for (default Synchronization.ReadWrite.All; silently, what the cache holds)."""

    method = "device_code"
    _lock_by_path = {}
    _locks_lock = threading.Lock()

    def __init__(self, settings, prompt=None, force_sign_in=False, scopes=None, ensure_terminal=None):
        super().__init__(settings)
        self.prompt = prompt
        self.ensure_terminal = ensure_terminal  # raises AuthError when no person can see the prompt
        self.force_sign_in = force_sign_in
        self.scopes = scopes
        self.cache_file = TokenCacheFile.from_settings(settings)
        self.scope = None  # the delegated scopes of the last token, as the identity provider granted them
        self.account = None  # who signed in (a user name, not a secret)
        self.warnings = self.cache_file.warnings

    @property
    def client_id(self):
        return self.settings.client_id or DEFAULT_PUBLIC_CLIENT_ID

    def validate(self):
        if not self.settings.tenant_id:
            raise AuthError(
                "auth_method device_code needs tenant_id (env AZURE_TENANT_ID): the directory (tenant) id or a verified domain "
                "of the tenant you sign in to."
            )
        self.cache_file.check()

    def describe(self):
        return "the signed-in user (device code, client %s) in tenant %s" % (self.client_id, self.settings.tenant_id)

    def _app(self, cache):
        msal = import_msal("for auth_method device_code")
        return msal.PublicClientApplication(
            self.client_id,
            authority="%s/%s" % (self.settings.authority_host, self.settings.tenant_id),
            instance_discovery=False,
            token_cache=cache,
            http_client=RequestsForMsal(self.settings.verify, self.settings.timeout),
        )

    def _path_lock(self):
        # Tasks of one process share the file: one sign-in at a time, so none overwrites another's refresh.
        with self._locks_lock:
            return self._lock_by_path.setdefault(self.cache_file.path, threading.Lock())

    def _acquire(self, force_refresh):
        msal = import_msal("for auth_method device_code")
        with self._path_lock():
            cache = self.cache_file.load(msal.SerializableTokenCache())
            with self._msal_errors():
                app = self._app(cache)
                result = None if self.force_sign_in else self._silent(app, cache, force_refresh)
                if result is None or "access_token" not in result:
                    result = self._interactive(app, result)
            try:
                self.cache_file.save(cache)
            except LocalFileError as exc:
                raise AuthError("Signed in, but the sign-in could not be kept: %s" % exc) from None
        self.scope = " ".join(scope for scope in (result.get("scope") or "").split() if scope not in RESERVED_SCOPES)
        self.account = (result.get("id_token_claims") or {}).get("preferred_username") or self.account
        return self._token_from_result(result)

    def _silent(self, app, cache, force_refresh):
        account = pick_account(app.get_accounts(), self.settings.tenant_id)
        if account is None:
            return None
        self.account = account.get("username")
        scopes = self._wanted_scopes(cache, account)
        return app.acquire_token_silent_with_error(scopes, account=account, force_refresh=force_refresh)

    def _wanted_scopes(self, cache, account):
        if self.scopes:
            return delegated_scopes(self.settings.cloud, self.scopes)
        entries = cache.find(cache.CredentialType.ACCESS_TOKEN)
        return cached_scopes(entries, account) or delegated_scopes(self.settings.cloud)

    def _interactive(self, app, silent_result):
        if self.prompt is None:
            raise AuthError(silent_failure_message(self.cache_file.path, silent_result, self.settings.tenant_id))
        if self.ensure_terminal is not None:
            self.ensure_terminal()  # before the device code is asked for: nobody would enter it
        flow = app.initiate_device_flow(scopes=delegated_scopes(self.settings.cloud, self.scopes))
        if "user_code" not in flow:
            raise AuthError(describe_device_code_error(flow, self.describe(), self.client_id))
        self.prompt(flow["message"])
        result = app.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise AuthError(device_flow_failure(result) or describe_device_code_error(result, self.describe(), self.client_id))
        self._forget_others(app, result)
        return result

    def _forget_others(self, app, result):
        """Keep one account per tenant in the cache: the one who just signed in (force_sign_in may switch accounts)."""
        signed_in = (result.get("id_token_claims") or {}).get("oid")
        for account in app.get_accounts():
            same_tenant = (account.get("realm") or "").lower() == self.settings.tenant_id.lower()
            if signed_in and (same_tenant or pick_account([account], self.settings.tenant_id)) and account.get("local_account_id") != signed_in:
                app.remove_account(account)
