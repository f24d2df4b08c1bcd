#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: sync_job_info
short_description: Read Microsoft Entra provisioning and Cloud Sync jobs and their status
description:
  - Reads synchronization jobs through Microsoft Graph. One job, every job of one service principal, or every job in the tenant.
  - For the whole tenant it pages through C(/servicePrincipals) and lists each one's jobs concurrently
    (Graph has no filter for "service principals that have jobs").
  - Never changes anything. The returned RV(jobs) can be passed to M(entra.sync.sync_job_restart) as its O(entra.sync.sync_job_restart#module:jobs).
  - With O(restart_if), it returns only the jobs to restart (RV(restart_candidates)) with the counts of everything found
    (RV(job_counts)), so that a playbook never holds every job of a large tenant.
  - Every job says what fixes it (C(remedy), C(remedy_reason), C(disables_at)), from Microsoft's quarantine and
    troubleshooting pages; RV(remedy_counts) counts the jobs that need something by remedy.
version_added: 0.1.0
author:
  - entra.sync maintainers (@entra-sync)
options:
  service_principal_id:
    description:
      - Object id (a GUID) of one service principal. Without it, the whole tenant is read.
    type: str
  job_id:
    description:
      - Id of one job of O(service_principal_id).
    type: str
  template_id:
    description:
      - Return only jobs made from these templates (for example V(scim), V(AD2AADProvisioning)), compared case-insensitively.
    type: list
    elements: str
  status_code:
    description:
      - Return only jobs whose status code is one of these (V(Quarantine), V(Active), V(Paused), V(NotRun), V(NotConfigured)),
        compared case-insensitively.
    type: list
    elements: str
  jobs:
    description:
      - Read these jobs only, each a dictionary with C(service_principal_id) and C(job_id) (other keys are ignored),
        concurrently. Useful to read the status of jobs just restarted.
    type: list
    elements: dict
  restart_if:
    description:
      - Return the jobs whose status matches any of these conditions as RV(restart_candidates), instead of every job
        found as RV(jobs). The same conditions, and the same decision, as O(entra.sync.sync_job_restart#module:restart_if)
        (V(always), V(quarantined) (status code C(Quarantine)), V(failed) (the last run failed), V(entry_errors) (the last
        run had entry-level errors), V(paused) (status or schedule C(Paused))).
      - Applied after O(template_id) and O(status_code). RV(jobs_found) and RV(job_counts) still count every job found.
      - Pass RV(restart_candidates) to M(entra.sync.sync_job_restart) with O(entra.sync.sync_job_restart#module:trust_input_status=true)
        to restart them from the status read here, without reading them again.
    type: list
    elements: str
    choices: [always, quarantined, failed, entry_errors, paused]
  restart_remedies:
    description:
      - With O(restart_if), a job it picks is a restart candidate only when its C(remedy) is one of these; the others that
        need something are returned as RV(left_alone). The same filter as
        O(entra.sync.sync_job_restart#module:restart_remedies). Not given, O(restart_if) alone decides.
      - A job with status code C(Paused) and C(escrowsPruned) is a candidate only when this holds V(clean_up_errors)
        (as M(entra.sync.sync_job_restart) restarts it only with O(entra.sync.sync_job_restart#module:allow_escrows_pruned=true)).
    type: list
    elements: str
    choices: [none, restart, credentials, fix_target, approve_deletes, support, clean_up_errors]
  service_principal_filter:
    description:
      - An OData C($filter) for the service principals to read when the whole tenant is read,
        for example V(startswith(displayName,'HR')).
    type: str
  concurrency:
    description:
      - How many service principals are read at the same time. From 1 to 64.
      - With O(batch=reads), how many C($batch) envelopes (of up to 20 reads each) are in flight.
    type: int
    default: 10
  batch:
    description:
      - Which requests go out in Microsoft Graph C($batch) envelopes of up to 20 requests; the same option, with the
        same values, as O(entra.sync.sync_job_restart#module:batch) (this module only reads, so there is no V(all)).
      - V(reads) sends the reads of the jobs (each service principal's job list for the whole tenant, each job for
        O(jobs)) in envelopes. V(none) sends one request per read.
      - What each form costs, for N service principals read tenant-wide (or N entries in O(jobs)). V(reads) sends about
        N/20 C($batch) POSTs, at most O(concurrency) of them in flight; V(none) sends N GETs. A tenant of 2,000
        service principals is 100 envelopes instead of 2,000 GETs; the pages of the service principal list are
        single GETs either way. Graph's throttling counts each request inside an envelope, so V(reads) saves round
        trips and time, not throttling budget.
      - Whether Graph accepts synchronization calls inside C($batch) is not documented; when it refuses an envelope as
        such (HTTP 400), the reads are sent again as single requests, so V(reads) is safe to leave on. Set V(none) to
        send only single requests from the start.
    type: str
    choices: [none, reads]
    default: reads
extends_documentation_fragment:
  - entra.sync.graph
  - entra.sync.graph.action_group
  - entra.sync.graph.on_controller
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - >-
    Permissions: application permission C(Synchronization.Read.All) (or C(Synchronization.ReadWrite.All)), with admin
    consent. A tenant-wide scan (no O(service_principal_id) and no O(jobs)) lists the service principals first and also
    needs C(Application.Read.All). For a delegated (user) token, the same permissions as delegated permissions, and the
    signed-in user needs a directory role that covers the app's provisioning (Application Administrator or Cloud
    Application Administrator; Hybrid Identity Administrator for Cloud Sync jobs).
seealso:
  - name: Get synchronization job (Microsoft Graph)
    link: https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-get
    description: "Microsoft Graph API reference of Get synchronization job: the request, the permissions it needs, its answers."
  - name: JSON batching (Microsoft Graph)
    link: https://learn.microsoft.com/graph/json-batching
    description: "JSON batching (Microsoft Graph): the $batch requests of O(batch=reads)"
requirements:
  - cryptography >= 3.4 (only to sign in with a client certificate, O(client_certificate_path))
"""

EXAMPLES = r"""
- name: Read one job
  entra.sync.sync_job_info:
    service_principal_id: 6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b
    job_id: scim.0123456789abcdef0123456789abcdef
  register: one

- name: Every quarantined SCIM job in the tenant
  entra.sync.sync_job_info:
    template_id: [scim]
    status_code: [Quarantine]
  register: quarantined

- name: Restart them
  entra.sync.sync_job_restart:
    jobs: "{{ quarantined.jobs }}"
    restart_if: [quarantined]

- name: Only the jobs to restart, and the counts of every job found
  entra.sync.sync_job_info:
    restart_if: [quarantined, failed]
  register: found

- name: Restart them from the status just read
  entra.sync.sync_job_restart:
    jobs: "{{ found.restart_candidates }}"
    restart_if: [quarantined, failed]
    trust_input_status: true
"""

RETURN = r"""
jobs:
  description: The jobs found, after the filters.
  returned: when O(restart_if) is not given
  type: list
  elements: dict
  contains:
    service_principal_id:
      description: Object id of the service principal.
      type: str
    service_principal_name:
      description: Display name of the service principal (null when only one job was read).
      type: str
    app_id:
      description: Application id of the service principal (null when only one job was read).
      type: str
    job_id:
      description: Id of the job.
      type: str
    template_id:
      description: Template the job was made from.
      type: str
    status_code:
      description: C(NotConfigured), C(NotRun), C(Active), C(Paused) or C(Quarantine) (other values are kept as sent).
      type: str
    schedule_state:
      description: C(Active), C(Disabled) or C(Paused).
      type: str
    quarantine_reason:
      description: Why the job is quarantined, or null.
      type: str
    quarantine_error_code:
      description:
        - The code of the quarantine's error (for example C(SystemForCrossDomainIdentityManagementCredentialValidationUnavailable)),
          or null when there is no quarantine error. Often says what is wrong when C(quarantine_reason) is null.
      type: str
    quarantine_error_message:
      description: The message of the quarantine's error, or null when there is no quarantine error.
      type: str
    quarantine_tenant_actionable:
      description:
        - Whether the quarantine's error is one the tenant's administrators can fix (Graph's C(tenantActionable)), or null
          when there is no quarantine error or Graph did not say.
      type: bool
    last_execution_state:
      description: State of the last run (C(Succeeded), C(Failed), C(EntryLevelErrors)) or null.
      type: str
    count_successive_complete_failures:
      description: How many runs in a row failed completely.
      type: int
    status_read_at:
      description:
        - When this status was read (UTC, ISO 8601; the start of the read, so never later than the truth).
          M(entra.sync.sync_job_restart) with O(entra.sync.sync_job_restart#module:trust_input_status=true) uses it to
          decide whether the status is fresh enough to act on without reading the job again.
      type: str
    tenant_id:
      description:
        - The tenant the job was read from (as RV(tenant_id)), so that jobs of several tenants can be kept in one list.
      type: str
    escrows_pruned:
      description:
        - Graph's C(escrowsPruned). With status code C(Paused), the service paused the job after its initial cycle hit the
          error threshold, waiting for the errors to be cleaned up.
      type: bool
    remedy:
      description:
        - What fixes the job, from Microsoft's quarantine and troubleshooting pages. C(none) (healthy; no condition of
          O(restart_if) holds, by default V(quarantined)), C(restart) (an escrow threshold, a transient exception, or another
          status O(restart_if) picks), C(credentials) (new credentials, then a restart), C(fix_target) (the application,
          the provisioning agent or the cross-tenant policy), C(approve_deletes) (a person releases the held deletes),
          C(support) (Microsoft support), C(clean_up_errors) (C(Paused) with C(escrowsPruned)).
        - A quarantine is diagnosed whatever O(restart_if) says, by its error code first, then its reason.
      type: str
      sample: credentials
    remedy_reason:
      description: One line, in the words of Microsoft's docs, naming what a person does.
      type: str
      sample: >-
        the application's credentials are expired or revoked: get a new secret token, test it, save it, then restart the job
        (quarantine error SystemForCrossDomainIdentityManagementCredentialValidationFailure)
    disables_at:
      description:
        - When the quarantine disables the job, its C(seriesBegan) plus 28 days (Microsoft disables a job quarantined for
          more than four weeks), ISO 8601 UTC. Null when the job carries no quarantine or its start is unknown.
      type: str
      sample: "2026-12-09T08:15:00Z"
  sample:
    - service_principal_id: 6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b
      service_principal_name: Contoso HR SCIM
      app_id: 0b9d2f4e-6a1c-4c3e-8f1d-2a3b4c5d6e7f
      job_id: scim.0123456789abcdef0123456789abcdef
      template_id: scim
      status_code: Quarantine
      schedule_state: Active
      quarantine_reason: EncounteredEscrowProportionThreshold
      last_execution_state: Failed
      count_successive_complete_failures: 4
      remedy: restart
      remedy_reason: >-
        too many provisioning failures: fix the failing objects (see the provisioning logs), then restart the job with
        Escrows; it is quarantined again if the errors persist (quarantine reason EncounteredEscrowProportionThreshold)
      disables_at: "2026-12-20T10:00:00Z"
restart_candidates:
  description:
    - The jobs found whose status matches O(restart_if) (and whose remedy is in O(restart_remedies) when given), in the
      order found, each with the keys of RV(jobs).
  returned: when O(restart_if) is given
  type: list
  elements: dict
left_alone:
  description:
    - The jobs found that need something (a C(remedy) other than C(none)) but are not restart candidates, each with the
      keys of RV(jobs). Their remedy is not in O(restart_remedies), or they match no condition of O(restart_if).
  returned: when O(restart_if) is given
  type: list
  elements: dict
remedy_counts:
  description:
    - The jobs found (after O(template_id) and O(status_code)) that need something, counted by remedy (every remedy but
      C(none), zeros included).
  returned: always
  type: dict
  sample: {"restart": 3, "credentials": 2, "fix_target": 0, "approve_deletes": 1, "support": 0, "clean_up_errors": 0}
jobs_found:
  description: How many jobs were found, after O(template_id) and O(status_code) (before O(restart_if)).
  returned: always
  type: int
  sample: 2451
job_counts:
  description:
    - The jobs found (after O(template_id) and O(status_code), before O(restart_if)) counted by template, then by status code.
  returned: always
  type: dict
  sample: {"AD2AADProvisioning": {"Active": 12}, "scim": {"Active": 40, "Quarantine": 3}}
errors:
  description: Service principals whose jobs could not be read; the other jobs are still returned.
  returned: always
  type: list
  elements: dict
  contains:
    service_principal_id:
      description: Object id of the service principal.
      type: str
    job_id:
      description: The job that could not be read (only with O(jobs)).
      type: str
    message:
      description: What went wrong.
      type: str
service_principals_read:
  description: How many service principals were read.
  returned: always
  type: int
read_at:
  description:
    - When the reads began (UTC, ISO 8601, to the microsecond), the RV(jobs[].status_read_at) of every job found.
  returned: when a scan ran (not when an option was refused)
  type: str
  sample: "2026-12-06T17:02:11.402311Z"
tenant_id:
  description: The tenant read (from O(tenant_id), or from the token when only an O(access_token) was given).
  returned: always
  type: str
auth_method:
  description: The sign-in method used.
  returned: always
  type: str
"""

from ansible_collections.entra.sync.plugins.module_utils._modules.ansible_graph import GraphModule
from ansible_collections.entra.sync.plugins.module_utils._modules.module_specs import info_spec
from ansible_collections.entra.sync.plugins.module_utils._modules.runner import run_info


def main():
    run_info(GraphModule(**info_spec()))


if __name__ == "__main__":
    main()
