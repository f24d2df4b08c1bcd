# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection and sign-in options shared by every entra.sync module and plugin."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The directory (tenant) id, a GUID, or a verified domain of the tenant.
      - If not set, the environment variable E(AZURE_TENANT_ID) is used, then E(AZURE_TENANT) (the name AWX's Azure credential sets).
      - Not needed with O(access_token) alone or O(managed_identity).
    type: str
  client_id:
    description:
      - The application (client) id of the app registration that signs in.
      - If not set, the environment variable E(AZURE_CLIENT_ID) is used.
    type: str
  client_secret:
    description:
      - A client secret of the app registration.
      - If not set, the environment variable E(AZURE_CLIENT_SECRET) is used, then E(AZURE_SECRET).
    type: str
  client_certificate_path:
    description:
      - Path to the app's certificate, either a PEM file holding the private key and the certificate, or a PFX (PKCS#12) file.
      - MSAL signs the sign-in assertion with the certificate's SHA-256 thumbprint (C(x5t#S256)), computed from the certificate;
        this needs msal 1.35 or newer.
      - If not set, the environment variable E(AZURE_CLIENT_CERTIFICATE_PATH) is used.
    type: path
  client_certificate_password:
    description:
      - Password of the PFX file, or of an encrypted private key in the PEM file.
      - If not set, the environment variable E(AZURE_CLIENT_CERTIFICATE_PASSWORD) is used.
    type: str
  federated_token_file:
    description:
      - Path to a file holding a workload identity federation token, such as the one AKS workload identity projects into the pod.
      - The file is read again at every sign-in, so a rotated token keeps working.
      - If not set, the environment variable E(AZURE_FEDERATED_TOKEN_FILE) is used.
      - "GitHub Actions writes no token file. In a job with C(permissions: id-token: write), leave this unset: with
        E(ACTIONS_ID_TOKEN_REQUEST_URL) and E(ACTIONS_ID_TOKEN_REQUEST_TOKEN) set (GitHub sets both), a fresh token is requested
        from GitHub at every sign-in, with audience C(api://AzureADTokenExchange)."
    type: path
  managed_identity:
    description:
      - Sign in as an Azure managed identity.
      - V(system) for the system-assigned identity, or the client id of a user-assigned identity.
    type: str
  auth_method:
    description:
      - How to sign in.
      - V(auto) picks from the credentials given and fails when more than one of O(client_secret), O(client_certificate_path),
        O(federated_token_file) and O(managed_identity) is set.
      - With V(auto) and none of them set, a GitHub Actions job's E(ACTIONS_ID_TOKEN_REQUEST_URL) and E(ACTIONS_ID_TOKEN_REQUEST_TOKEN)
        select V(federated_token).
      - An O(access_token) is used first; if a credential is given too (with V(auto)), or the method named here needs
        one, it is used to refresh the token.
      - V(device_code) signs in as a person (delegated permissions), like C(Connect-MgGraph -UseDeviceCode). The code is shown
        on the controller by P(entra.sync.graph_token#module) (and so by the P(entra.sync.graph_auth#role) role), which needs a
        terminal; the sign-in is kept in the token cache (O(token_cache_path)), from which the modules and the inventory plugin
        sign in silently. Needs O(tenant_id); takes no application credential. O(client_id) defaults to Microsoft Graph Command
        Line Tools (V(14d82eec-204b-4c2f-b7e8-296a70dab67e)).
      - V(azure_cli) uses the account the Azure CLI signed in (C(az login)), through C(az account get-access-token) for the Graph
        resource of O(cloud), with O(tenant_id) when given; takes no application credential.
      - V(auto) never picks V(device_code) or V(azure_cli); set them explicitly.
      - See the collection's docs/authentication.md for the permissions and directory roles a person needs.
    type: str
    default: auto
    choices: [auto, client_secret, certificate, federated_token, managed_identity, access_token, device_code, azure_cli]
  access_token:
    description:
      - A Microsoft Graph access token, such as the one the P(entra.sync.graph_auth#role) role sets in C(entra_sync_access_token).
      - When given, no sign-in is made. Without a credential beside it, an expired token fails the task with a message.
      - If not set, the environment variable E(ENTRA_SYNC_ACCESS_TOKEN) is used.
    type: str
  token_cache_path:
    description:
      - The token cache of O(auth_method=device_code) on the controller, a file that holds the person's sign-in (a refresh token).
      - Later runs sign in silently from it until the refresh token expires.
      - It must be readable by its owner only (mode 0600). A file that others can read is refused; a corrupt file is reset, with
        a warning, and the person is asked to sign in again.
      - Its directory must exist and be writable, except for the default's, which is created with mode 0700.
      - Defaults to C($XDG_CACHE_HOME/entra-sync/msal_token_cache.json), else C(~/.cache/entra-sync/msal_token_cache.json).
      - If not set, the environment variable E(ENTRA_SYNC_TOKEN_CACHE) is used.
    type: path
  cloud:
    description:
      - The national cloud of the tenant, which sets the sign-in host, the Graph host and the token scope.
      - V(global), V(usgov) (GCC High, L4), V(usgovdod) (DoD, L5) or V(china) (21Vianet).
      - AWX and Azure CLI names are accepted too, for example V(AzureCloud), V(AzureUSGovernment), V(AzureChinaCloud).
      - If not set, the environment variable E(AZURE_CLOUD_ENVIRONMENT) is used.
    type: str
    default: global
  graph_endpoint:
    description:
      - Root URL of Microsoft Graph, overriding the one of O(cloud), for example V(https://127.0.0.1:8443) for the sandbox tenant.
      - An https URL with no path; the collection adds C(/v1.0).
      - If not set, the environment variable E(ENTRA_SYNC_GRAPH_ENDPOINT) is used.
    type: str
  authority_host:
    description:
      - Root URL of the sign-in service, overriding the one of O(cloud). An https URL with no path.
      - If not set, the environment variable E(AZURE_AUTHORITY_HOST) is used.
    type: str
  ca_path:
    description:
      - A PEM bundle of the certificate authorities to trust for Graph and sign-in, instead of the system's.
      - If not set, the environment variable E(ENTRA_SYNC_CA_PATH) is used.
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates. Set V(false) only for a test endpoint; a warning is shown.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP request, more than 0 and at most 300.
    type: float
    default: 30
  max_retries:
    description:
      - How many times to retry a request that the service throttled (429) or could not take (503), honouring C(Retry-After).
      - Reads are also retried after connection errors and 5xx. A restart is never retried once it may have been processed.
    type: int
    default: 5
requirements:
  - requests
  - msal >= 1.35 (not needed with O(access_token) alone)
  - cryptography, for O(client_certificate_path) (msal brings it)
notes:
  - Secrets (O(client_secret), O(client_certificate_password), O(access_token), E(ACTIONS_ID_TOKEN_REQUEST_TOKEN)) are never
    returned or logged.
# Every plugin names its own Graph API pages; these two hold for all of them (ansible-doc appends them).
seealso:
  - name: Microsoft Graph throttling
    link: https://learn.microsoft.com/graph/throttling
    description: "Microsoft Graph throttling: the 429 answers and Retry-After the collection honours"
  - name: Microsoft Graph permissions reference
    link: https://learn.microsoft.com/graph/permissions-reference
    description: "Microsoft Graph permissions reference: the permissions named in the notes"
"""

    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/entra.sync.graph) in C(module_defaults) to set the connection and sign-in options once for every module.
    support: full
    membership:
      - entra.sync.graph
"""

    # The Graph job modules whose action plugin does their work in the controller's process on a local connection.
    ON_CONTROLLER = r"""
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - On a local connection (the controller itself, as C(localhost) and the fleet playbooks' tenant hosts), without
        C(become), a task C(environment) or C(async), the action plugin does the module's work in the controller's
        Python process, with the module's argspec, checks and result; no module process starts. Anywhere else the
        module runs on its host.
"""

    # For plugins (the sync_jobs inventory): the same options read from the environment too. Modules get these
    # through the argspec fallbacks in module_utils/_settings/options.py (ENV_FALLBACKS); a unit test keeps both in step.
    # Ansible uses the LAST variable of an env list that is set, so each list is ENV_FALLBACKS in reverse order:
    # the first name of ENV_FALLBACKS wins, as it does for modules.
    PLUGINS = r"""
options:
  tenant_id:
    env:
      - name: AZURE_TENANT
      - name: AZURE_TENANT_ID
  client_id:
    env:
      - name: AZURE_CLIENT_ID
  client_secret:
    env:
      - name: AZURE_SECRET
      - name: AZURE_CLIENT_SECRET
  client_certificate_path:
    env:
      - name: AZURE_CLIENT_CERTIFICATE_PATH
  client_certificate_password:
    env:
      - name: AZURE_CLIENT_CERTIFICATE_PASSWORD
  federated_token_file:
    env:
      - name: AZURE_FEDERATED_TOKEN_FILE
  access_token:
    env:
      - name: ENTRA_SYNC_ACCESS_TOKEN
  token_cache_path:
    env:
      - name: ENTRA_SYNC_TOKEN_CACHE
  cloud:
    env:
      - name: AZURE_CLOUD_ENVIRONMENT
  graph_endpoint:
    env:
      - name: ENTRA_SYNC_GRAPH_ENDPOINT
  authority_host:
    env:
      - name: AZURE_AUTHORITY_HOST
  ca_path:
    env:
      - name: ENTRA_SYNC_CA_PATH
"""
