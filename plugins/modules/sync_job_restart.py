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
      - With O(service_principal_id) alone, only the jobs made from this template (for example V(scim), V(AD2AADProvisioning)).
    type: str
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
  concurrency:
    description:
      - How many jobs are processed at the same time for O(jobs) or O(service_principal_id) alone. From 1 to 64.
    type: int
    default: 10
extends_documentation_fragment:
  - entra.sync.graph
  - entra.sync.graph.action_group
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads every job and reports C(would_restart) without sending any restart.
  diff_mode:
    support: full
    details: Shows the status found for each job that is (or would be) restarted.
  platform:
    platforms: posix
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

- name: Restart them all in one task, 20 at a time
  entra.sync.sync_job_restart:
    jobs: "{{ found.jobs }}"
    restart_if: [quarantined]
    concurrency: 20
  register: restarted

- name: Show the counts
  ansible.builtin.debug:
    var: restarted.summary
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
    reset_scope:
      description: The C(resetScope) string sent, or null for empty criteria.
      type: str
summary:
  description: How many jobs got each action, and the total.
  returned: when O(jobs) or O(service_principal_id) alone is given
  type: dict
  sample: {"restarted": 3, "would_restart": 0, "skipped": 12, "failed": 0, "unknown": 0, "total": 15}
auth_method:
  description: The sign-in method used (picked by O(auth_method=auto) or given).
  returned: always
  type: str
  sample: client_secret
"""

from ansible_collections.entra.sync.plugins.module_utils.ansible_graph import GraphModule
from ansible_collections.entra.sync.plugins.module_utils.auth import AuthError
from ansible_collections.entra.sync.plugins.module_utils.fleet import Restarter, RestartPlan
from ansible_collections.entra.sync.plugins.module_utils.graph import GraphError
from ansible_collections.entra.sync.plugins.module_utils.jobs import (
    RESTART_CONDITIONS, InputError, JobTarget, build_reset_scope, normalize_job_targets, summarize,
    validate_conditions, validate_job_id, validate_service_principal_id,
)

FAILED_ACTIONS = ("failed", "unknown")


def parse_targets(params):
    """Validate the target options before anything is sent; returns (kind, targets, notes)."""
    if params["jobs"] is not None:
        targets, notes = normalize_job_targets(params["jobs"])
        return "list", targets, notes
    sp_id = validate_service_principal_id(params["service_principal_id"])
    if params["job_id"] is not None:
        return "one", [JobTarget(sp_id, validate_job_id(params["job_id"]))], []
    return "service_principal", sp_id, []


def diff_for(outcomes):
    before, after = {}, {}
    for outcome in outcomes:
        result = outcome.result
        if result["action"] not in ("restarted", "would_restart") or outcome.found is None:
            continue
        key = "%s/%s" % (result["service_principal_id"], result["job_id"])
        before[key] = outcome.found
        after[key] = dict(outcome.found, restart_requested=True, reset_scope=result["reset_scope"])
    return {"before": before, "after": after}


def failure_message(results):
    bad = [result for result in results if result["action"] in FAILED_ACTIONS]
    shown = "; ".join("%s/%s %s: %s" % (r["service_principal_id"], r["job_id"], r["action"], r["reason"]) for r in bad[:3])
    more = " (and %d more, see results)" % (len(bad) - 3) if len(bad) > 3 else ""
    return "%d of %d jobs failed or have an unknown outcome: %s%s" % (len(bad), len(results), shown, more)


def main():
    module = GraphModule(
        argument_spec={
            "service_principal_id": {"type": "str"},
            "job_id": {"type": "str"},
            "template_id": {"type": "str"},
            "jobs": {"type": "list", "elements": "dict"},
            "reset_scope": {"type": "list", "elements": "str"},
            "allow_connector_data_store": {"type": "bool", "default": False},
            "restart_if": {"type": "list", "elements": "str", "default": ["always"], "choices": list(RESTART_CONDITIONS)},
            "concurrency": {"type": "int", "default": 10},
        },
        mutually_exclusive=[("jobs", "service_principal_id"), ("jobs", "job_id"), ("jobs", "template_id"), ("job_id", "template_id")],
        required_one_of=[("service_principal_id", "jobs")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        kind, targets, notes = parse_targets(params)
        scope, scope_warnings = build_reset_scope(params["reset_scope"], params["allow_connector_data_store"])
        conditions = tuple(validate_conditions(params["restart_if"]))
    except InputError as exc:
        module.fail_json(msg=str(exc))
    concurrency = module.concurrency()
    for warning in scope_warnings + notes:
        module.warn(warning)

    api = module.connect(pool_size=concurrency)
    restarter = Restarter(api, RestartPlan(conditions, scope, module.check_mode))
    common = {"reset_scope": scope, "auth_method": module.auth_method_used}
    if kind == "one":
        outcome = restarter.restart_target(targets[0])
        outcomes = [outcome]
        result = dict(outcome.result, auth_method=module.auth_method_used)
    else:
        try:
            if kind == "list":
                outcomes = restarter.restart_targets(targets, concurrency)
            else:
                outcomes = restarter.restart_service_principal(targets, params["template_id"], concurrency)
        except (GraphError, AuthError) as exc:
            module.fail_graph(exc, changed=False, **common)
        results = [outcome.result for outcome in outcomes]
        result = dict(common, results=results, summary=summarize(results))

    actions = [outcome.result["action"] for outcome in outcomes]
    result["changed"] = any(action in ("restarted", "would_restart") for action in actions)
    if module._diff:
        result["diff"] = diff_for(outcomes)
    if any(action in FAILED_ACTIONS for action in actions):
        module.fail_json(msg=failure_message([outcome.result for outcome in outcomes]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
