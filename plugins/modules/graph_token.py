#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: graph_token
short_description: Acquire a Microsoft Graph access token with MSAL
description:
  - Signs in to Microsoft Entra ID with MSAL for the configured cloud and returns a Microsoft Graph access token and its expiry.
  - Meant for the P(entra.sync.graph_auth#role) role, which runs it once per play and hands the token to every module through
    C(module_defaults). B(Always set no_log on the task), since the returned RV(access_token) is a secret.
  - Supports client secret, certificate (PEM or PFX), workload identity federation and managed identity sign-in, and two
    ways for a person to sign in as themselves (delegated permissions), O(auth_method=device_code) and O(auth_method=azure_cli).
  - With O(auth_method=device_code) the sign-in runs on the controller, in this module's action plugin, so the person sees the
    verification URL and the code while the task waits. It needs a terminal (interactive standard input); without one it fails at
    once, before a code is asked for. The sign-in is kept in the token cache (O(token_cache_path)); later runs sign in silently
    with its refresh token until that expires.
  - When the P(entra.sync.sync_jobs#inventory) inventory plugin, in its O(entra.sync.sync_jobs#inventory:host_per=tenant)
    mode, has signed in to the same tenant with the same client earlier in this C(ansible-playbook) run, and the task gives
    no other credential (nor another O(auth_method)), the task returns that sign-in's token (renewed when it nears expiry)
    instead of signing in again, and RV(token_source) is V(inventory). So a play over the inventory's tenant hosts signs in
    once per tenant per run, whatever the C(forks). The token is kept in that process's memory only.
  - A task that runs on the controller (a local connection, as with C(delegate_to=localhost)) and sets no task
    C(environment) signs in in the controller's process, through the action plugin, with the same options and environment
    variables; no module is sent, which spares a module start-up per sign-in. A task on another host, or with its own
    C(environment), runs the module there; so does a controller whose Python lacks C(msal) or C(requests).
version_added: 0.1.0
author:
  - entra.sync maintainers (@entra-sync)
options:
  force_sign_in:
    description:
      - With O(auth_method=device_code), ignore the token cache and ask the person to sign in again (the new sign-in replaces
        the cached one). Use it to switch accounts or to get a token with other O(scopes).
      - Refused with any other O(auth_method).
    type: bool
    default: false
  scopes:
    description:
      - With O(auth_method=device_code), the delegated Microsoft Graph scopes to ask for. Names without a URL are taken on the
        Graph resource of O(cloud).
      - Defaults to V(Synchronization.ReadWrite.All), which every module of the collection can use. A read-only play may ask for
        V(Synchronization.Read.All) instead; reading the whole tenant (no service principal given) also needs
        V(Application.Read.All).
      - When not set, a silent sign-in from the cache asks for the scopes of the cached sign-in.
      - Refused with any other O(auth_method).
    type: list
    elements: str
extends_documentation_fragment:
  - entra.sync.graph
  - entra.sync.graph.action_group
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: A token is acquired in check mode too, since nothing is changed by it and later tasks need it to read.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - >-
    Permissions: this module calls no Graph API itself. The token carries the permissions granted to the app (or, for a
    delegated token, the user's): the tasks that use it need those their own documentation names, for example
    C(Synchronization.ReadWrite.All) to restart and C(Synchronization.Read.All) to read.
  - An O(access_token) given to this module (for example through C(module_defaults)) is ignored; it always signs in.
  - >-
    Delegated permissions (O(auth_method=device_code) or O(auth_method=azure_cli)): the token carries the user's scopes
    (C(Synchronization.ReadWrite.All)), and Microsoft also requires the user to hold the directory role Application Administrator
    or Cloud Application Administrator (Hybrid Identity Administrator for Microsoft Entra Cloud Sync), or to own the service
    principal. Personal Microsoft accounts are not supported.
seealso:
  - module: entra.sync.sync_job_restart
  - module: entra.sync.sync_job_info
requirements:
  - cryptography >= 3.4 (only to sign in with a client certificate, O(client_certificate_path))
"""

EXAMPLES = r"""
- name: Sign in as yourself with a device code (the code is shown while the task waits)
  entra.sync.graph_token:
    auth_method: device_code
    tenant_id: contoso.onmicrosoft.com
  register: graph
  no_log: true

- name: Acquire a Graph token (never shown)
  entra.sync.graph_token:
    tenant_id: "{{ tenant_id }}"
    client_id: "{{ client_id }}"
    client_certificate_path: /etc/entra/app.pem
  register: graph
  no_log: true

- name: Use it for every module of the collection
  entra.sync.sync_job_info:
    access_token: "{{ graph.access_token }}"
"""

RETURN = r"""
access_token:
  description: The access token. A secret; register it only in a C(no_log) task.
  returned: success
  type: str
expires_on:
  description: When the token expires, in seconds since the epoch.
  returned: success
  type: int
  sample: 1764345600
expires_at:
  description: When the token expires, as an ISO 8601 UTC time.
  returned: success
  type: str
  sample: "2026-11-28T18:00:00Z"
token_type:
  description: Always C(Bearer).
  returned: success
  type: str
scope:
  description: The scope the token was asked for; with O(auth_method=device_code), the delegated scopes granted, space-separated.
  returned: success
  type: str
  sample: https://graph.microsoft.com/.default
graph_endpoint:
  description: The Graph root URL the token is for.
  returned: success
  type: str
tenant_id:
  description: The tenant signed in to.
  returned: success
  type: str
auth_method:
  description: The sign-in method used.
  returned: success
  type: str
  sample: certificate
token_source:
  description:
    - V(inventory) when the token is the one the C(entra.sync.sync_jobs) inventory plugin signed in for, earlier in this run;
      V(sign_in) when this task signed in.
  returned: success
  type: str
  sample: inventory
account:
  description: The user who signed in, with O(auth_method=device_code) (null when the identity provider did not name one).
  returned: success, with O(auth_method=device_code)
  type: str
  sample: admin@contoso.onmicrosoft.com
"""

from ansible_collections.entra.sync.plugins.module_utils._modules.ansible_graph import GraphModule
from ansible_collections.entra.sync.plugins.module_utils._modules.runner import run_token
from ansible_collections.entra.sync.plugins.module_utils._settings.options import GRAPH_TOKEN_ARGSPEC


def main():
    run_token(GraphModule(argument_spec=GRAPH_TOKEN_ARGSPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
