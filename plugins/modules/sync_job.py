#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: sync_job
short_description: Start or pause Microsoft Entra provisioning and Cloud Sync jobs, idempotently
description:
  - Starts or pauses synchronization jobs through Microsoft Graph
    (C(POST /servicePrincipals/{id}/synchronization/jobs/{jobId}/start) or C(.../pause)).
  - Each job is read first. O(state=started) starts only a job that is paused (status code C(Paused), with or without a
    quarantine, or schedule C(Paused)) or quarantined (status code C(Quarantine)); an C(Active) or C(NotRun) job is left
    alone because Microsoft warns against starting a job that is running. A C(NotConfigured) job is left alone too
    (there is nothing to start until it is set up), and a job whose status can't be read or is not recognized fails
    rather than risk starting a running job.
  - A job with status code C(Paused) and C(escrowsPruned) is left alone by O(state=started) unless O(allow_escrows_pruned=true).
    Microsoft documents it as paused by the service after its initial cycle hit the error threshold, waiting for the
    errors to be cleaned up.
  - O(state=paused) pauses any job that is not already paused (status code or schedule C(Paused)).
  - Every result carries what fixes the job (C(remedy), C(remedy_reason), C(disables_at)), as
    M(entra.sync.sync_job_info) returns it.
  - A start or pause is never sent twice for one job; one whose answer was lost is reported as C(unknown).
  - To clear a quarantine's cause (escrows, watermark) as well, use M(entra.sync.sync_job_restart) instead.
version_added: 0.2.0
author:
  - entra.sync maintainers (@entra-sync)
options:
  service_principal_id:
    description:
      - Object id (a GUID) of the service principal that holds the job. Not the appId. Needs O(job_id).
    type: str
  job_id:
    description:
      - Id of the synchronization job, for example C(scim.0123456789abcdef0123456789abcdef). Needs O(service_principal_id).
    type: str
  jobs:
    description:
      - A list of jobs, each a dictionary with C(service_principal_id) and C(job_id); other keys are ignored, so the
        RV(entra.sync.sync_job_info#module:jobs) of M(entra.sync.sync_job_info) can be passed as is.
      - Processed concurrently (see O(concurrency)) with one token for the whole task. Duplicates are processed once, with a warning.
    type: list
    elements: dict
  state:
    description:
      - V(started) starts the job when it is paused or quarantined, and leaves a running one alone.
      - V(paused) pauses the job unless it is already paused.
    type: str
    required: true
    choices: [started, paused]
  concurrency:
    description:
      - How many jobs of O(jobs) are processed at the same time. From 1 to 64.
    type: int
    default: 10
  allow_escrows_pruned:
    description:
      - Start a job with status code C(Paused) and C(escrowsPruned) too.
      - "Microsoft's warning: such a job's initial cycle hit the error threshold; the service pruned its escrows and paused
        it, waiting for the customer to clean up the errors. Starting it before the failing objects are fixed makes it
        fail again. Fix them first (see the provisioning logs)."
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
    details: Reads every job and reports C(would_start) or C(would_pause) without sending anything.
  diff_mode:
    support: full
    details: Shows the status found and the status expected after the start or pause (expected, not read back).
  platform:
    platforms: posix
notes:
  - >-
    Permissions: application permission C(Synchronization.ReadWrite.All), with admin consent, to start or pause a job
    (it reads the job with the same permission). For a delegated (user) token, the same permissions as delegated
    permissions, and the signed-in user needs a directory role that covers the app's provisioning (Application
    Administrator or Cloud Application Administrator; Hybrid Identity Administrator for Cloud Sync jobs).
seealso:
  - name: Start synchronization job (Microsoft Graph)
    link: https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-start
    description: "Microsoft Graph API reference of Start synchronization job: the request, the permissions it needs, its answers."
  - name: Pause synchronization job (Microsoft Graph)
    link: https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-pause
    description: "Microsoft Graph API reference of Pause synchronization job: the request, the permissions it needs, its answers."
requirements:
  - cryptography >= 3.4 (only to sign in with a client certificate, O(client_certificate_path))
"""

EXAMPLES = r"""
- name: Resume a paused or quarantined job (a running one is left alone)
  entra.sync.sync_job:
    service_principal_id: 6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b
    job_id: scim.0123456789abcdef0123456789abcdef
    state: started

- name: Pause every SCIM job of the tenant before a maintenance window
  entra.sync.sync_job_info:
    template_id: [scim]
  register: scim

- name: Pause them, ten at a time
  entra.sync.sync_job:
    jobs: "{{ scim.jobs }}"
    state: paused
  register: paused

- name: Show the counts
  ansible.builtin.debug:
    var: paused.summary
"""

RETURN = r"""
service_principal_id:
  description: The service principal of the job (one job only).
  returned: when O(job_id) is given
  type: str
job_id:
  description: The job (one job only).
  returned: when O(job_id) is given
  type: str
template_id:
  description: The job's template (one job only).
  returned: when O(job_id) is given and the job could be read
  type: str
status_code:
  description: The status code found before any start or pause (one job only).
  returned: when O(job_id) is given and the job could be read
  type: str
  sample: Paused
action:
  description: What was done (one job only); see RV(results[].action).
  returned: when O(job_id) is given
  type: str
  sample: started
reason:
  description: Why (one job only).
  returned: when O(job_id) is given
  type: str
  sample: "status Paused: paused, starting it"
remedy:
  description: What fixes the job (one job only); see RV(results[].remedy).
  returned: when O(job_id) is given
  type: str
  sample: none
remedy_reason:
  description: What a person does (one job only); see RV(results[].remedy_reason).
  returned: when O(job_id) is given
  type: str
disables_at:
  description: When the job's quarantine disables it (one job only); see RV(results[].disables_at).
  returned: when O(job_id) is given
  type: str
results:
  description: One result per job, in input order (for O(jobs)).
  returned: when O(jobs) is given
  type: list
  elements: dict
  contains:
    service_principal_id:
      description: Object id of the service principal.
      type: str
    job_id:
      description: Id of the job.
      type: str
    template_id:
      description: Template of the job, null when it could not be read.
      type: str
    status_code:
      description: Status code found before any start or pause, null when the job could not be read.
      type: str
    action:
      description:
        - C(started) or C(paused) (sent), C(would_start) or C(would_pause) (check mode), C(skipped) (already in the
          wanted state, or a running job that must not be started), C(failed), or C(unknown) (sent, answer lost).
      type: str
    reason:
      description: Why this action, or the error.
      type: str
    remedy:
      description:
        - What fixes the job, as M(entra.sync.sync_job_info) returns it (C(none), C(restart), C(credentials), C(fix_target),
          C(approve_deletes), C(support), C(clean_up_errors)); null when the job could not be read.
      type: str
    remedy_reason:
      description: One line naming what a person does; null when the job could not be read.
      type: str
    disables_at:
      description: When a quarantine disables the job (its C(seriesBegan) plus 28 days, ISO 8601 UTC); null when unknown.
      type: str
summary:
  description: How many jobs got each action, and the total.
  returned: when O(jobs) is given
  type: dict
  sample: {"started": 2, "paused": 0, "would_start": 0, "would_pause": 0, "skipped": 5, "failed": 0, "unknown": 0, "total": 7}
auth_method:
  description: The sign-in method used.
  returned: always
  type: str
  sample: client_secret
"""

from ansible_collections.entra.sync.plugins.module_utils._modules.ansible_graph import GraphModule
from ansible_collections.entra.sync.plugins.module_utils._modules.module_specs import state_spec
from ansible_collections.entra.sync.plugins.module_utils._modules.runner import run_state


def main():
    run_state(GraphModule(**state_spec()))


if __name__ == "__main__":
    main()
