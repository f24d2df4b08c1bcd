# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The national clouds: where to sign in, where Graph lives, which scope to ask for.

Microsoft's current restart and start pages list every one of them, China (21Vianet) included, as available (an older
copy of the restart page said China was not); provisioning logs are not available in China, and nothing here uses them.
"""

from dataclasses import dataclass

from ansible_collections.entra.sync.plugins.module_utils._exceptions import CloudError


@dataclass(frozen=True)
class Cloud:
    name: str
    graph_root: str
    authority_host: str

    @property
    def scope(self):
        return self.graph_root + "/.default"

    @property
    def resource(self):
        return self.graph_root


CLOUDS = {
    "global": Cloud("global", "https://graph.microsoft.com", "https://login.microsoftonline.com"),
    "usgov": Cloud("usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us"),
    "usgovdod": Cloud("usgovdod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
    "china": Cloud("china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}

# Names used by AWX's built-in Azure credential (AZURE_CLOUD_ENVIRONMENT) and by the Azure CLI.
CLOUD_ALIASES = {
    "azurecloud": "global",
    "azurepubliccloud": "global",
    "public": "global",
    "azureusgovernment": "usgov",
    "azureusgovernmentcloud": "usgov",
    "usgovl4": "usgov",
    "usgovl5": "usgovdod",
    "azureusgovernmentdod": "usgovdod",
    "azurechinacloud": "china",
}


def resolve_cloud(name):
    """Return the Cloud for a name from the table or an AWX/Azure alias, case-insensitively."""
    key = (name or "global").strip().lower()
    key = CLOUD_ALIASES.get(key, key)
    if key not in CLOUDS:
        valid = ", ".join(list(CLOUDS) + ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"])
        raise CloudError("cloud %r is not known: use one of %s." % (name, valid))
    return CLOUDS[key]
