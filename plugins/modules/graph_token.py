#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: graph_token
short_description: Acquire a Microsoft Graph access token with MSAL
description:
  - Signs in to Microsoft Entra ID with MSAL for the configured cloud and returns a Microsoft Graph access token and its expiry.
  - Meant for the P(entra.sync.graph_auth#role) role, which runs it once per play and hands the token to every module through
    C(module_defaults). B(Always set no_log on the task), since the returned RV(access_token) is a secret.
  - Supports client secret, certificate (PEM or PFX), workload identity federation and managed identity sign-in.
version_added: 0.1.0
author:
  - entra.sync maintainers (@entra-sync)
options: {}
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
seealso:
  - name: Microsoft Graph permissions reference
    link: https://learn.microsoft.com/graph/permissions-reference
    description: "Microsoft Graph permissions reference: the permissions named in the notes"
requirements:
  - cryptography >= 3.4 (only to sign in with a client certificate, O(client_certificate_path))
"""

EXAMPLES = r"""
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
  description: The scope the token was asked for.
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
"""

from ansible_collections.entra.sync.plugins.module_utils.ansible_graph import GraphModule
from ansible_collections.entra.sync.plugins.module_utils.runner import run_token


def main():
    run_token(GraphModule(argument_spec={}, supports_check_mode=True))


if __name__ == "__main__":
    main()
