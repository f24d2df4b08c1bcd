# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Azure CLI's signed-in account: `az account get-access-token` for the Graph resource of the chosen cloud.

validate() runs `az account list`, which reads az's local profile and sends nothing, to refuse at once an az that is
missing, signed out, or signed in to other tenants or another cloud. Reading az's answers is pure and unit-tested.
"""

import json
import re
import shutil
import subprocess
import time

from ansible_collections.entra.sync.plugins.module_utils._auth.base import SIGN_IN_HINTS, AccessToken, Credential, scrub
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError
from ansible_collections.entra.sync.plugins.module_utils._settings.clouds import CLOUD_ALIASES

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
NOT_INSTALLED = (
    "auth_method azure_cli needs the Azure CLI, and no `az` was found on PATH. Install it "
    "(https://learn.microsoft.com/cli/azure/install-azure-cli) and run `az login`, or use another auth_method."
)


def login_hint(tenant_id):
    return "az login --tenant %s" % tenant_id if tenant_id else "az login"


def az_cloud_name(cloud):
    """The collection's cloud as az names it; usgov and usgovdod share AzureUSGovernment."""
    return {"global": "AzureCloud", "usgov": "AzureUSGovernment", "usgovdod": "AzureUSGovernment", "china": "AzureChinaCloud"}[cloud.name]


def account_problem(accounts, tenant_id, cloud):
    """Why az's profile (`az account list`) cannot give a token for this tenant and cloud, or None (pure)."""
    if not accounts:
        return "The Azure CLI is not signed in. Run `%s` (add --allow-no-subscriptions for a tenant without subscriptions)." % login_hint(tenant_id)
    clouds = {account.get("cloudName") for account in accounts if account.get("cloudName")}
    known = {name for name in clouds if name.lower() in CLOUD_ALIASES}
    if clouds and clouds == known and az_cloud_name(cloud) not in clouds:
        return ("The Azure CLI is signed in to %s, but cloud is %s: run `az cloud set --name %s` and `%s`, or set cloud to match."
                % (", ".join(sorted(clouds)), cloud.name, az_cloud_name(cloud), login_hint(tenant_id)))
    if tenant_id and _GUID_RE.match(tenant_id):
        tenants = {(account.get(key) or "").lower() for account in accounts for key in ("tenantId", "homeTenantId")} - {""}
        if tenant_id.lower() not in tenants:
            return ("The Azure CLI is not signed in to tenant %s (it is signed in to %s). Run `%s`, or set tenant_id to one of those."
                    % (tenant_id, ", ".join(sorted(tenants)) or "no tenant", login_hint(tenant_id)))
    return None


def read_token(stdout, now=None):
    """(token, expires_on) from `az account get-access-token --output json` (pure): `expires_on` (epoch, az 2.54 and newer),
    else `expiresOn` (local time)."""
    try:
        answer = json.loads(stdout)
        token = answer["accessToken"]
    except (ValueError, KeyError, TypeError):
        raise AuthError("`az account get-access-token` did not answer with a token in JSON: is `az` the Azure CLI?") from None
    expires_on = answer.get("expires_on")
    if expires_on is None and answer.get("expiresOn"):
        try:
            expires_on = time.mktime(time.strptime(answer["expiresOn"].split(".")[0], "%Y-%m-%d %H:%M:%S"))
        except ValueError:
            expires_on = None
    try:
        expires_on = float(expires_on)
    except (TypeError, ValueError):
        expires_on = (time.time() if now is None else now) + 300  # unknown: ask az again in a few minutes
    return token, expires_on


def az_failure(stderr, returncode, tenant_id):
    """One line for a failed az call (pure): what az said and what to do."""
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    said = next((line for line in lines if line.startswith("ERROR:")), lines[0] if lines else "exit status %s" % returncode)
    if "az login" in (stderr or ""):
        return "The Azure CLI is not signed in (az said: %s). Run `%s`." % (said, login_hint(tenant_id))
    code = re.search(r"(AADSTS\d+)", stderr or "")
    hint = SIGN_IN_HINTS.get(code.group(1)) if code else None
    text = "The Azure CLI could not get a token: %s" % said[:400]
    return text + (" (%s)" % hint if hint else "")


class AzureCliCredential(Credential):
    """The token of the account `az login` signed in, refreshed by asking az again when it nears expiry."""

    method = "azure_cli"

    def __init__(self, settings):
        super().__init__(settings)
        self._az = None

    def describe(self):
        return "the Azure CLI's signed-in account%s" % (" in tenant %s" % self.settings.tenant_id if self.settings.tenant_id else "")

    def _run(self, *args):
        try:
            # Not AnsibleModule.run_command: this credential also signs in for the inventory plugin and the event source,
            # which have no module. The command is a list (no shell) and its output never reaches a message as is.
            return subprocess.run([self._az] + list(args), capture_output=True, text=True,  # pylint: disable=ansible-bad-function
                                  timeout=max(self.settings.timeout, 60), check=False)
        except subprocess.TimeoutExpired:
            raise AuthError("`az %s` did not answer within %d seconds." % (args[0], max(self.settings.timeout, 60))) from None
        except OSError as exc:
            raise AuthError("`az` could not be run: %s." % exc) from None

    def validate(self):
        self._az = shutil.which("az")
        if not self._az:
            raise AuthError(NOT_INSTALLED)
        listed = self._run("account", "list", "--output", "json")
        try:
            accounts = json.loads(listed.stdout or "[]") if listed.returncode == 0 else None
        except ValueError:
            accounts = None
        if accounts is None:
            raise AuthError(az_failure(listed.stderr, listed.returncode, self.settings.tenant_id))
        problem = account_problem(accounts, self.settings.tenant_id, self.settings.cloud)
        if problem:
            raise AuthError(problem)

    def _acquire(self, force_refresh):
        if self._az is None:
            self.validate()
        args = ["account", "get-access-token", "--resource", self.settings.cloud.resource, "--output", "json"]
        if self.settings.tenant_id:
            args += ["--tenant", self.settings.tenant_id]
        answer = self._run(*args)
        if answer.returncode != 0:
            raise AuthError(scrub(az_failure(answer.stderr, answer.returncode, self.settings.tenant_id), self._secrets()))
        token, expires_on = read_token(answer.stdout)
        return AccessToken(token, expires_on, "azure_cli")
