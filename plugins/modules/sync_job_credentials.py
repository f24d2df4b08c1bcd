#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: sync_job_credentials
short_description: Test, then save, the credentials of a Microsoft Entra provisioning job
description:
  - Does what a person does in the admin center's Provisioning page after a token expired, in Microsoft's order. It tests
    the new credentials (C(Test Connection)), and saves them only if the target accepted them.
  - Reads the job first (C(GET /servicePrincipals/{id}/synchronization/jobs/{jobId})), so a job that does not exist
    fails before anything is sent, and the result says the job's status as found.
  - Tests the credentials with C(POST .../jobs/{jobId}/validateCredentials) (C(useSavedCredentials=false)). When Graph
    refuses them, the task fails with Graph's error code (for example
    C(SystemForCrossDomainIdentityManagementCredentialValidationFailure)) and message, and nothing is saved.
  - Then saves them with one C(PUT /servicePrincipals/{id}/synchronization/secrets) holding the whole set given. The set is
    never read, merged and written back (Graph reads saved values back masked as C(*), and does not document whether a PUT
    merges or replaces), so give every key the job needs.
  - The result says the job's status and remedy as found (M(entra.sync.sync_job_info)'s diagnosis).
  - The credentials belong to the service principal's synchronization, so the save applies to every job of that
    service principal; O(job_id) names the job whose target tests them.
  - A save does not lift a quarantine. Restart the job afterwards (M(entra.sync.sync_job_restart) with
    C(reset_scope=[QuarantineState]) and C(restart_if=[quarantined])), or run the C(entra.sync.rotate_credentials)
    playbook, which tests, saves, restarts and waits for each job of a list.
  - O(use_saved_credentials=true) tests the credentials already saved (C(useSavedCredentials=true)) and saves nothing,
    to learn whether the job's target accepts what is saved now.
version_added: 0.1.0
author:
  - entra.sync maintainers (@entra-sync)
options:
  service_principal_id:
    description:
      - Object id (a GUID) of the service principal that holds the job and its credentials. Not the appId.
    type: str
    required: true
  job_id:
    description:
      - Id of the synchronization job whose target tests the credentials, for example C(scim.0123456789abcdef0123456789abcdef).
    type: str
    required: true
  credentials:
    description:
      - The credentials, as Graph's C(synchronizationSecret) key and its value, for example C(BaseAddress) (the tenant URL)
        and C(SecretToken) for a SCIM app, C(UserName) and C(Password), or C(ClientIdentifier) and C(ClientSecret).
      - Keys are matched without regard to case and sent in Graph's spelling; an unknown key fails the task before any
        request, with the list of the keys Graph knows.
      - Values are strings; C(true)/C(false) and numbers are sent as text, and C(SyncNotificationSettings) may be a
        dictionary (sent as its JSON). Surrounding whitespace (the newline at the end of a file or vault value) is
        removed. An empty value fails the task before any request.
      - Every value is kept out of the output (C(no_log)). Take them from a vault lookup or an AWX credential.
      - Required unless O(use_saved_credentials=true).
    type: dict
  use_saved_credentials:
    description:
      - Test the credentials already saved instead of given ones, and save nothing. Mutually exclusive with O(credentials).
    type: bool
    default: false
  test_only:
    description:
      - Test the given credentials and save nothing, as check mode does.
    type: bool
    default: false
extends_documentation_fragment:
  - entra.sync.graph
  - entra.sync.graph.action_group
  - entra.sync.graph.on_controller
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the job and tests the credentials (the test changes nothing in Graph or at the target), and saves nothing.
  diff_mode:
    support: full
    details: Shows the keys saved (or that would be saved), never a value; saved values cannot be read back.
  platform:
    platforms: posix
notes:
  - >-
    Permissions: the same as a restart, application permission C(Synchronization.ReadWrite.All) with admin consent
    (C(Application.ReadWrite.OwnedBy) covers only service principals the app owns). With a delegated (user) sign-in the
    same delegated permission, and the signed-in user needs the directory role Application Administrator or Cloud
    Application Administrator (Hybrid Identity Administrator for Cloud Sync jobs), or to own the service principal.
  - >-
    C(changed) is true whenever the credentials were saved: Graph reads saved values back masked, so nothing can tell
    whether the new token equals the saved one, nor when a saved token expires. Run the task on a schedule only with the
    token your vault holds now; use O(use_saved_credentials=true) to check a job's target without writing.
  - No value of O(credentials) appears in results, diffs, warnings, errors or at any verbosity; error texts from Graph are
    masked of them too.
seealso:
  - name: Validate credentials of a synchronization job (Microsoft Graph)
    link: https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-validatecredentials
    description: "Microsoft Graph API reference of validateCredentials: the request, the permissions it needs, its answers."
  - name: Add synchronization secrets (Microsoft Graph)
    link: https://learn.microsoft.com/graph/api/synchronization-serviceprincipal-put-synchronization
    description: "Microsoft Graph API reference of PUT synchronization secrets: the body and the permissions it needs."
  - module: entra.sync.sync_job_restart
requirements:
  - cryptography >= 3.4 (only to sign in with a client certificate, O(client_certificate_path))
"""

EXAMPLES = r"""
- name: Test a new SCIM token from the vault, then save it
  entra.sync.sync_job_credentials:
    service_principal_id: 6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b
    job_id: scim.0123456789abcdef0123456789abcdef
    credentials:
      BaseAddress: https://scim.example.com/v2
      SecretToken: "{{ lookup('community.hashi_vault.vault_kv2_get', 'scim/contoso').secret.token }}"
  register: rotated

- name: Lift the quarantine now that the target accepts the saved token
  entra.sync.sync_job_restart:
    service_principal_id: 6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b
    job_id: scim.0123456789abcdef0123456789abcdef
    restart_if: [quarantined]
    reset_scope: [QuarantineState]
    wait: true
  when: rotated.saved

- name: Is the job's target reachable with what is saved now? (saves nothing)
  entra.sync.sync_job_credentials:
    service_principal_id: 6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b
    job_id: scim.0123456789abcdef0123456789abcdef
    use_saved_credentials: true
"""

RETURN = r"""
service_principal_id:
  description: The service principal of the job.
  returned: always
  type: str
job_id:
  description: The job whose target tested the credentials.
  returned: always
  type: str
template_id:
  description: The job's template, null when the job could not be read.
  returned: always
  type: str
  sample: scim
status_code:
  description: The job's status code as found, before anything was sent.
  returned: always
  type: str
  sample: Quarantine
quarantine_reason:
  description: The quarantine reason as found, null when the job was not quarantined.
  returned: always
  type: str
  sample: EncounteredQuarantineException
quarantine_error_code:
  description: The quarantine's error code as found.
  returned: always
  type: str
  sample: SystemForCrossDomainIdentityManagementCredentialValidationFailure
remedy:
  description:
    - What fixes the job as found, before anything was sent, the same diagnosis M(entra.sync.sync_job_info) returns. A
      quarantine whose error says the target refused the token (C(SystemForCrossDomainIdentityManagementCredentialValidationFailure))
      is C(credentials). Null when the job could not be read.
  returned: always
  type: str
  sample: credentials
remedy_reason:
  description: What a person does about it, in one line; null when the job could not be read.
  returned: always
  type: str
disables_at:
  description: When the job's quarantine disables it (the quarantine's C(seriesBegan) plus 28 days, ISO 8601 UTC), or null.
  returned: always
  type: str
secret_keys:
  description: The keys given (never their values); empty with O(use_saved_credentials).
  returned: always
  type: list
  elements: str
  sample: [BaseAddress, SecretToken]
tested:
  description: Graph answered the test (the target accepted or refused the credentials).
  returned: always
  type: bool
accepted:
  description: The target accepted the credentials tested; false when it refused them, null when they could not be tested.
  returned: always
  type: bool
saved:
  description:
    - The credentials were saved. Null when the save's answer was lost, so they may have been (running the task again
      is safe, since the save replaces the whole set).
  returned: always
  type: bool
error_code:
  description: Graph's error code when a request failed, for example C(SystemForCrossDomainIdentityManagementCredentialValidationFailure).
  returned: on failure, when Graph answered
  type: str
status:
  description: The HTTP status of the failed request.
  returned: on failure, when Graph answered
  type: int
reason:
  description: The status found and what was done, in words.
  returned: always
  type: str
  sample: "status Quarantine (EncounteredQuarantineException); tested and accepted, then saved (BaseAddress, SecretToken)"
auth_method:
  description: The sign-in method used.
  returned: always
  type: str
  sample: client_secret
"""

from ansible_collections.entra.sync.plugins.module_utils._modules.ansible_graph import GraphModule
from ansible_collections.entra.sync.plugins.module_utils._modules.module_specs import credentials_spec
from ansible_collections.entra.sync.plugins.module_utils._modules.runner import run_credentials


def main():
    run_credentials(GraphModule(**credentials_spec()))


if __name__ == "__main__":
    main()
