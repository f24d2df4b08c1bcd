#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: sync_job_restart
short_description: Restart Microsoft Entra provisioning and Cloud Sync jobs, with a status pre-check
description:
  - Restarts synchronization jobs through Microsoft Graph (C(POST /servicePrincipals/{id}/synchronization/jobs/{jobId}/restart)).
  - Targets one job, every job of one service principal, or a list of jobs processed concurrently in one task.
  - Each job is read first and restarted only when its status matches O(restart_if), so C(restart_if=[quarantined])
    converges; a second run changes nothing.
  - Every result says what fixes the job (C(remedy), C(remedy_reason), C(disables_at)), as M(entra.sync.sync_job_info)
    returns it. A restart fixes only some quarantines; O(restart_remedies=[restart]) restarts only those.
  - A job with status code C(Paused) and C(escrowsPruned) is left alone (C(skipped), with the reason) unless
    O(allow_escrows_pruned=true).
  - A restart whose answer was lost (a timeout or a dropped connection after it was sent) is reported as C(unknown)
    and never sent again blindly.
version_added: 0.1.0
author:
  - entra.sync maintainers (@entra-sync)
options:
  service_principal_id:
    description:
      - Object id (a GUID) of the service principal that holds the job(s). Not the appId.
      - With O(job_id), one job; alone, every job of the service principal (see O(template_id)).
    type: str
  job_id:
    description:
      - Id of the synchronization job, for example C(scim.0123456789abcdef0123456789abcdef).
      - Only letters, digits, C(.), C(_) and C(-) are allowed.
    type: str
  template_id:
    description:
      - With O(service_principal_id) alone, only the jobs made from these templates (for example V(scim),
        V(AD2AADProvisioning)), compared case-insensitively; the same filter as
        O(entra.sync.sync_job_info#module:template_id).
      - A single template may be given as a string.
    type: list
    elements: str
  jobs:
    description:
      - A list of jobs, each a dictionary with C(service_principal_id) and C(job_id); other keys are ignored, so the
        RV(entra.sync.sync_job_info#module:jobs) of M(entra.sync.sync_job_info) can be passed as is.
      - Processed concurrently (see O(concurrency)) with one token for the whole task. Duplicates are processed once, with a warning.
    type: list
    elements: dict
  reset_scope:
    description:
      - What the restart clears, sent as one comma-separated C(resetScope) string.
      - When omitted, empty criteria are sent, which is what the admin center's "Restart provisioning" does.
      - V(None) is refused; to resume a paused or quarantined job use M(entra.sync.sync_job) with O(entra.sync.sync_job#module:state=started).
      - V(ConnectorDataStore) clears the service's cache for all users and needs O(allow_connector_data_store=true).
        V(Full) contains it too, and warns.
      - V(ForceDeletes) releases deletes held back by the accidental-deletion threshold.
      - Names are matched case-insensitively; valid ones are V(ConnectorDataStore), V(Escrows), V(Watermark),
        V(QuarantineState), V(Full) and V(ForceDeletes).
    type: list
    elements: str
  allow_connector_data_store:
    description:
      - Allow O(reset_scope) to contain V(ConnectorDataStore) (directly or through V(Full)).
      - Microsoft advises against it without guidance from its support.
    type: bool
    default: false
  restart_if:
    description:
      - Restart a job only when its status matches one of these.
      - V(always) restarts whatever the status. V(quarantined) means status code C(Quarantine). V(failed) means the last run failed.
        V(entry_errors) means the last run ended with entry-level errors. V(paused) means the job or its schedule is paused.
    type: list
    elements: str
    default: [always]
    choices: [always, quarantined, failed, entry_errors, paused]
  restart_remedies:
    description:
      - Restart a job that O(restart_if) picks only when what fixes it (its C(remedy)) is one of these; the others are
        C(skipped) with their remedy and the reason. Not given, O(restart_if) alone decides.
      - V(restart) is a quarantine a restart can fix (the escrow thresholds; C(EncounteredQuarantineException) when the
        fault may have been transient) and any other status O(restart_if) picks. V(credentials), V(fix_target),
        V(approve_deletes), V(support) and V(clean_up_errors) need a person first; see the troubleshooting guide
        (docs/troubleshooting.md, "What fixes which quarantine").
    type: list
    elements: str
    choices: [none, restart, credentials, fix_target, approve_deletes, support, clean_up_errors]
  allow_escrows_pruned:
    description:
      - Restart a job with status code C(Paused) and C(escrowsPruned) too, when O(restart_if) picks it.
      - "Microsoft's warning: such a job's initial cycle hit the error threshold; the service pruned its escrows and paused
        it, waiting for the customer to clean up the errors. Starting or restarting it before the failing objects are fixed
        makes it fail again. Fix them first (see the provisioning logs)."
    type: bool
    default: false
  concurrency:
    description:
      - How many jobs are processed at the same time for O(jobs) or O(service_principal_id) alone. From 1 to 64.
      - With O(wait=true), also how many status polls are sent at the same time.
    type: int
    default: 10
  trust_input_status:
    description:
      - With O(jobs), decide from the status each item carries (C(status_code), C(schedule_state),
        C(last_execution_state), C(quarantine_reason), C(quarantine), C(escrows_pruned), as M(entra.sync.sync_job_info)
        returns them) instead of reading
        every job again first. Saves one read per job in a fleet run that has just read the statuses.
      - The trade-off is the time between that read and the restart. An item whose C(status_read_at)
        (which M(entra.sync.sync_job_info) adds to every job) is older than O(max_status_age) seconds, or that has no
        C(status_code), is read again as usual. A job that recovered on its own within that window is restarted
        anyway (a restart costs the job a full initial cycle, it does no other harm).
      - An item without C(status_read_at) is trusted whatever its age; you vouch for its status then.
    type: bool
    default: false
  max_status_age:
    description:
      - With O(trust_input_status=true), the oldest status (seconds since its C(status_read_at)) that is trusted. From 0 to 86400.
    type: int
    default: 300
  batch:
    description:
      - Which requests go out in Microsoft Graph C($batch) envelopes of up to 20 (O(jobs) only).
      - V(none) sends one request per read and per restart. V(reads) batches the reads of the jobs' status, and
        V(all) the restarts too.
      - Whether Graph accepts synchronization calls inside C($batch) is not documented. When it refuses an envelope
        as such (HTTP 400), everything is sent again as single requests.
      - With V(all), when the answer to one envelope is lost, every restart in it is C(unknown) (never sent again),
        where single requests would have lost one; restarts gain little from batching (they are few), so V(reads) is
        the usual choice. Throttled restarts are sent singly, paced by the service's C(Retry-After).
    type: str
    choices: [none, reads, all]
    default: none
  write_rate:
    description:
      - Pace the restarts at this many per second from the first one, instead of learning the pace from C(429)
        answers. From 0.01 to 1000.
      - Meant for passing on RV(throttling.write_rate) from an earlier task against the same tenant and app (the
        fleet playbook C(entra.sync.restart_jobs) does so from chunk to chunk), or a write limit you know.
      - It is a starting point, not a fixed rate. When the restarts go through, the pace eases off. When they keep
        getting C(429) answers, it slows down further.
      - Without it, the first wave of restarts against an empty bucket comes back C(429), and the pace is learned from
        the C(Retry-After) of those answers.
    type: float
  wait:
    description:
      - After the restarts, poll each restarted job (reads only; nothing is sent again) until it is healthy,
        it relapsed, or O(wait_timeout) has passed.
      - Healthy means status code C(Active) and no quarantine. Relapsed means back in quarantine with a quarantine
        that began after the restart was sent (C(quarantine.currentBegan)); waiting on such a job stops at once.
      - Each restarted job's result gets a RV(results[].wait) entry; the top level gets RV(unhealthy). The task
        fails when any restarted job did not become healthy (its action stays C(restarted) and C(changed) is true).
      - Healthy is what the status says after the restart (the job left quarantine and runs). A first cycle that
        fails later can still put it back into quarantine after the wait.
      - Ignored in check mode (nothing is restarted).
    type: bool
    default: false
  wait_timeout:
    description:
      - With O(wait=true), how many seconds to wait for each job, counted from its restart. From 1 to 86400.
    type: int
    default: 300
  wait_interval:
    description:
      - With O(wait=true), seconds before the first poll of a job. Later polls back off (x1.5 each) up to 30 seconds,
        and the last poll happens at O(wait_timeout). From 0.2 to 30.
    type: float
    default: 5
  canary_size:
    description:
      - With O(jobs), restart the first this many jobs of the list first and wait until they are healthy (as with
        O(wait), by O(wait_timeout) and O(wait_interval)) before any other job is restarted.
      - When one of them failed, has an unknown outcome or did not become healthy, no other job is restarted. They
        are listed in RV(held_back) and the task fails. V(0) (the default) has no canary.
      - The fleet playbook's canary and its first chunk in one task (one sign-in, one pass of Ansible).
      - In check mode nothing is restarted, so nothing is waited for and nothing is held back.
    type: int
    default: 0
extends_documentation_fragment:
  - entra.sync.graph
  - entra.sync.graph.action_group
  - entra.sync.graph.on_controller
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads every job and reports C(would_restart) without sending any restart; O(wait) is ignored.
  diff_mode:
    support: full
    details: Shows the status found for each job that is (or would be) restarted.
  platform:
    platforms: posix
notes:
  - >-
    Permissions: application permission C(Synchronization.ReadWrite.All), with admin consent (it reads each job with it
    before the restart). C(Application.ReadWrite.OwnedBy) is not enough, even for service principals the app owns. For a
    delegated (user) token, the same permissions as delegated permissions, and the signed-in user needs a directory role
    that covers the app's provisioning (Application Administrator or Cloud Application Administrator; Hybrid Identity
    Administrator for Cloud Sync jobs).
seealso:
  - name: Restart synchronization job (Microsoft Graph)
    link: https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-restart
    description: "Microsoft Graph API reference of Restart synchronization job: the request, the permissions it needs, its answers."
requirements:
  - cryptography >= 3.4 (only to sign in with a client certificate, O(client_certificate_path))
"""

EXAMPLES = r"""
- name: Restart one quarantined job, lifting the quarantine
  entra.sync.sync_job_restart:
    service_principal_id: 6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b
    job_id: scim.0123456789abcdef0123456789abcdef
    restart_if: [quarantined]
    reset_scope: [QuarantineState, Watermark, Escrows]

- name: Restart every SCIM job of one service principal that failed or is quarantined
  entra.sync.sync_job_restart:
    service_principal_id: 6f1c4b6e-2b55-4e0b-9d5c-3c4f0e0f1a2b
    template_id: scim
    restart_if: [quarantined, failed]

- name: Find quarantined jobs in the whole tenant
  entra.sync.sync_job_info:
    status_code: [Quarantine]
  register: found

- name: Restart them all in one task, 20 at a time, but only the quarantines a restart can fix
  entra.sync.sync_job_restart:
    jobs: "{{ found.jobs }}"
    restart_if: [quarantined]
    restart_remedies: [restart]
    concurrency: 20
  register: restarted

- name: What a person must do for the others, and by when
  ansible.builtin.debug:
    msg: "{{ item.job_id }}: {{ item.remedy }} by {{ item.disables_at }}: {{ item.remedy_reason }}"
  loop: "{{ restarted.results | selectattr('action', 'equalto', 'skipped') | rejectattr('remedy', 'in', ['none', 'restart']) }}"

- name: Show the counts
  ansible.builtin.debug:
    var: restarted.summary

- name: Canary - restart two jobs and fail unless both are healthy within five minutes
  entra.sync.sync_job_restart:
    jobs: "{{ found.jobs[:2] }}"
    restart_if: [quarantined]
    reset_scope: [QuarantineState, Watermark, Escrows]
    wait: true
    wait_timeout: 300
  register: canary

- name: Each restarted job says whether it became healthy
  ansible.builtin.debug:
    msg: "{{ canary.results | selectattr('wait') | map(attribute='wait.healthy') | list }}"
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
  description: The status code found before any restart (one job only).
  returned: when O(job_id) is given and the job could be read
  type: str
  sample: Quarantine
action:
  description: What was done (one job only).
  returned: when O(job_id) is given
  type: str
  sample: restarted
reason:
  description: Why (one job only).
  returned: when O(job_id) is given
  type: str
remedy:
  description: What fixes the job (one job only); see RV(results[].remedy).
  returned: when O(job_id) is given
  type: str
  sample: restart
remedy_reason:
  description: What a person does (one job only); see RV(results[].remedy_reason).
  returned: when O(job_id) is given
  type: str
disables_at:
  description: When the job's quarantine disables it (one job only); see RV(results[].disables_at).
  returned: when O(job_id) is given
  type: str
wait:
  description:
    - What the wait saw after the restart (one job only); null when the job was not restarted. Same keys as RV(results[].wait).
  returned: when O(job_id) is given and O(wait=true), not in check mode
  type: dict
  sample: {"healthy": true, "relapsed": false, "status_code_after": "Active", "quarantine_reason_after": null,
           "schedule_state_after": "Active", "waited_seconds": 5.0, "polls": 1,
           "reason": "Active and out of quarantine after 5 s (1 polls)"}
unhealthy:
  description:
    - The restarted jobs that did not become healthy within O(wait_timeout) (or relapsed); empty when all did. The task fails when it is not empty.
  returned: when O(wait=true), not in check mode
  type: list
  elements: dict
  contains:
    service_principal_id:
      description: Object id of the service principal.
      type: str
    job_id:
      description: Id of the job.
      type: str
    status_code_after:
      description: The status code of the last poll, null when no poll could read the job.
      type: str
    quarantine_reason_after:
      description: The quarantine reason of the last poll, or null.
      type: str
    relapsed:
      description: True when the job fell back into quarantine after the restart.
      type: bool
    reason:
      description: Why it is not healthy.
      type: str
reset_scope:
  description: The C(resetScope) string sent, or null when empty criteria were sent.
  returned: always
  type: str
  sample: Escrows, Watermark, QuarantineState
results:
  description: One result per job, in input order (for O(jobs) or O(service_principal_id) alone).
  returned: when O(jobs) or O(service_principal_id) alone is given
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
      description: Status code found before any restart, null when the job could not be read.
      type: str
    action:
      description: C(restarted), C(would_restart) (check mode), C(skipped), C(failed) or C(unknown) (sent, answer lost).
      type: str
    reason:
      description: Why this action, or the error.
      type: str
    remedy:
      description:
        - What fixes the job, as M(entra.sync.sync_job_info) returns it (C(none), C(restart), C(credentials), C(fix_target),
          C(approve_deletes), C(support), C(clean_up_errors)), from the status found before the restart; null when the
          job could not be read.
      type: str
    remedy_reason:
      description: One line naming what a person does; null when the job could not be read.
      type: str
    disables_at:
      description: When the quarantine disables the job (its C(seriesBegan) plus 28 days, ISO 8601 UTC); null when unknown.
      type: str
    reset_scope:
      description: The C(resetScope) string sent, or null for empty criteria.
      type: str
    wait:
      description:
        - Only with O(wait=true) outside check mode. Null for a job that was not restarted; for a restarted job, what the polls saw.
      type: dict
      contains:
        healthy:
          description: The job became healthy (status code C(Active), no quarantine) within O(wait_timeout).
          type: bool
        relapsed:
          description: The job fell back into quarantine after the restart (a quarantine that began after it); waiting stopped early.
          type: bool
        status_code_after:
          description: The status code of the last poll, null when no poll could read the job.
          type: str
        quarantine_reason_after:
          description: The quarantine reason of the last poll, or null.
          type: str
        schedule_state_after:
          description: The schedule state of the last poll, or null.
          type: str
        waited_seconds:
          description: Seconds from the restart to the last poll.
          type: float
        polls:
          description: How many times the job was read while waiting.
          type: int
        reason:
          description: One line on what the wait saw.
          type: str
summary:
  description: How many jobs got each action, and the total.
  returned: when O(jobs) or O(service_principal_id) alone is given
  type: dict
  sample: {"restarted": 3, "would_restart": 0, "skipped": 12, "failed": 0, "unknown": 0, "total": 15}
canary:
  description: With O(canary_size), what became of the canary.
  returned: when O(canary_size) is above 0
  type: dict
  contains:
    size:
      description: How many jobs of the list were the canary (O(canary_size), or fewer when the list is shorter).
      type: int
      returned: success
      sample: 5
    recovered:
      description: Whether every canary job was restarted (or needed no restart) and became healthy; the other jobs are restarted only then.
      type: bool
      returned: success
      sample: true
    reason:
      description: Why the canary did not recover; empty when it did.
      type: str
      returned: success
      sample: ""
    finished_at:
      description: When the canary's wait ended (UTC, ISO 8601); the other jobs were restarted after it.
      type: str
      returned: success
      sample: "2026-12-06T17:02:11.402311Z"
  sample: {"size": 5, "recovered": true, "reason": "", "finished_at": "2026-12-06T17:02:11.402311Z"}
held_back:
  description: The jobs not restarted because the canary did not recover (in the order given); empty otherwise.
  returned: when O(canary_size) is above 0
  type: list
  elements: dict
  sample: [{"service_principal_id": "8f1d2c3a-0000-4e5f-9a6b-7c8d9e0f1a2b", "job_id": "scim.5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d.0f1a2b"}]
auth_method:
  description: The sign-in method used (picked by O(auth_method=auto) or given).
  returned: always
  type: str
  sample: client_secret
throttling:
  description:
    - The pace the task ended with, learned from C(429) answers (or started from O(write_rate)). Pass RV(throttling.write_rate)
      as O(write_rate) to the next task against the same tenant and app, so that it does not learn the pace again.
  returned: when O(jobs) or O(service_principal_id) alone is given and no connection option was refused
  type: dict
  contains:
    write_rate:
      description: Restarts per second the service allowed at the end; null when restarts were not paced.
      type: float
      returned: success
      sample: 19.8
    read_rate:
      description: Reads per second the service allowed at the end; null when reads were not paced.
      type: float
      returned: success
      sample: null
  sample: {"write_rate": 19.8, "read_rate": null}
"""

from ansible_collections.entra.sync.plugins.module_utils._modules.ansible_graph import GraphModule
from ansible_collections.entra.sync.plugins.module_utils._modules.module_specs import restart_spec
from ansible_collections.entra.sync.plugins.module_utils._modules.runner import run_restart


def main():
    run_restart(GraphModule(**restart_spec()))


if __name__ == "__main__":
    main()
