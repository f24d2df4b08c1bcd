# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sign-ins of this controller process, so a tenant is signed in to once per run.

The sync_jobs inventory plugin remembers the credential it signed in to each tenant with; graph_token's action plugin
asks for it before running the module. ansible-playbook parses the inventory before it forks its workers, so every
worker inherits what the inventory remembered. Entries live in memory only, keyed by who the token is for (sign-in host,
tenant, client, scope), never by a secret; the credential keeps its token and refreshes it when it nears expiry.
"""

import threading

# The application sign-ins a task can name by tenant and client; a given token or a person's sign-in is never shared.
SHARED_METHODS = ("client_secret", "certificate", "federated_token", "managed_identity")
# The options that choose the application's credential: a task giving one that differs signs in itself.
CREDENTIAL_OPTIONS = ("client_secret", "client_certificate_path", "client_certificate_password", "federated_token_file", "managed_identity")

_sign_ins = {}
_lock = threading.Lock()


def sign_in_key(settings):
    """(sign-in host, tenant, client, scope) of a token these settings ask for, lowercased; None without a tenant."""
    if not settings.tenant_id:
        return None
    return (settings.authority_host.lower(), settings.tenant_id.lower(), (settings.client_id or "").lower(), settings.scope.lower())


def may_share(task_settings, signed_in_settings, signed_in_method):
    """Whether a token got with signed_in_settings (by signed_in_method) may serve a graph_token task's settings (pure).

    Only for the same sign-in host, tenant, client and scope; only when the task asks for no other method (auto or the
    same one); and only when every credential option the task gives equals the one signed in with, so a task that
    names another secret, certificate or identity still signs in with it.
    """
    if signed_in_method not in SHARED_METHODS or task_settings.auth_method not in ("auto", signed_in_method):
        return False
    key = sign_in_key(task_settings)
    if key is None or key != sign_in_key(signed_in_settings):
        return False
    return all(getattr(task_settings, name) in (None, getattr(signed_in_settings, name)) for name in CREDENTIAL_OPTIONS)


def remember(credential):
    """Keep a credential that has signed in (the inventory plugin's), under sign_in_key(); others are ignored."""
    key = sign_in_key(credential.settings)
    if key is None or credential.method not in SHARED_METHODS:
        return False
    with _lock:
        _sign_ins[key] = credential
    return True


def shared_credential(task_settings):
    """The remembered credential that may serve these settings (see may_share), or None."""
    key = sign_in_key(task_settings)
    with _lock:
        credential = _sign_ins.get(key) if key else None
    if credential is None or not may_share(task_settings, credential.settings, credential.method):
        return None
    return credential


def forget_all():
    """Drop every remembered sign-in (for tests, and a process that changes identity)."""
    with _lock:
        _sign_ins.clear()
