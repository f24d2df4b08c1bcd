# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module does once Ansible has checked its argspec: one run_* per module, main() is the argspec and that call.

Every run_* checks the inputs locally (fail_json before any request), connects through GraphModule.connect
(connect.py), hands the work to its domain (restart.py, state.py, discovery.py, _auth) and reports.
"""

from collections import Counter

from ansible_collections.entra.sync.plugins.module_utils._auth.pick import sign_in
from ansible_collections.entra.sync.plugins.module_utils._controller.lease import MAX_TRUSTED_STATUS_AGE, JobLeases
from ansible_collections.entra.sync.plugins.module_utils._exceptions import EntraSyncError, InputError
from ansible_collections.entra.sync.plugins.module_utils._graph.pacing import MAX_WRITE_RATE, MIN_WRITE_RATE
from ansible_collections.entra.sync.plugins.module_utils._jobs.counts import job_counts
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import validate_conditions
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import utc_now_iso
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import decide_restart_remedy, diagnose, remedy_counts, validate_remedies
from ansible_collections.entra.sync.plugins.module_utils._jobs.results import (
    ACTIONS,
    FAILED_ACTIONS,
    STATE_ACTIONS,
    canary_verdict,
    failure_message,
    held_back_note,
    restart_diff,
    state_diff,
    summarize,
    unhealthy_jobs,
)
from ansible_collections.entra.sync.plugins.module_utils._jobs.scope import build_reset_scope
from ansible_collections.entra.sync.plugins.module_utils._jobs.secrets import check_credentials, credentials_diff, credentials_result, plan_credentials
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import JobTarget, normalize_job_targets, validate_job_id, validate_service_principal_id
from ansible_collections.entra.sync.plugins.module_utils._jobs.waiting import WaitPolicy
from ansible_collections.entra.sync.plugins.module_utils._service.credentials import CredentialCheck
from ansible_collections.entra.sync.plugins.module_utils._service.discovery import JobFilter, scan_jobs, scan_service_principal, scan_tenant
from ansible_collections.entra.sync.plugins.module_utils._service.leased_restart import LeasedRestarter
from ansible_collections.entra.sync.plugins.module_utils._service.restart import RestartPlan, given_statuses
from ansible_collections.entra.sync.plugins.module_utils._service.state import StateSetter
from ansible_collections.entra.sync.plugins.module_utils._settings.options import settings_from_options

# The actions that change a job (a real POST or, in check mode, one that would be sent).
RESTART_CHANGED = ("restarted", "would_restart")
STATE_CHANGED = tuple(action for action in STATE_ACTIONS if action not in FAILED_ACTIONS + ("skipped",))
# How many read errors sync_job_info names in warnings; the rest are in `errors`.
WARNED_ERRORS = 5


def parse_targets(params):
    """Validate the target options before anything is sent; returns (kind, targets, notes).

    kind is ``list`` (the jobs option), ``one`` (service_principal_id and job_id) or ``service_principal``
    (service_principal_id alone: targets is then its id).
    """
    if params["jobs"] is not None:
        targets, notes = normalize_job_targets(params["jobs"])
        return "list", targets, notes
    sp_id = validate_service_principal_id(params["service_principal_id"])
    if params.get("job_id") is None:
        return "service_principal", sp_id, []
    return "one", [JobTarget(sp_id, validate_job_id(params["job_id"]))], []


def check_restart_ranges(params):
    """max_status_age and write_rate in range, or an InputError that says which range."""
    if not 0 <= params["max_status_age"] <= MAX_TRUSTED_STATUS_AGE:
        raise InputError("max_status_age %s is out of range: use 0 to %d seconds." % (params["max_status_age"], MAX_TRUSTED_STATUS_AGE))
    if params["write_rate"] is not None and not MIN_WRITE_RATE <= params["write_rate"] <= MAX_WRITE_RATE:
        raise InputError("write_rate %s is out of range: use %s to %s restarts per second, or leave it out to learn the pace "
                         "from 429 answers." % (params["write_rate"], MIN_WRITE_RATE, MAX_WRITE_RATE))
    if params["canary_size"] < 0:
        raise InputError("canary_size %s is out of range: use 0 (no canary) or more." % params["canary_size"])
    if params["canary_size"] and params["jobs"] is None:
        raise InputError("canary_size needs jobs: the canary is the first jobs of that list (service_principal_id names no order).")


def finish(module, kind, outcomes, report):
    """exit_json, or fail_json when a job failed, has an unknown outcome or (with wait) stayed unhealthy.

    report: actions (for the summary), changed (the actions that change a job), diff (outcomes -> diff), common (the
    keys of a list's result besides results and summary) and unhealthy (None without wait).
    """
    results = [outcome.result for outcome in outcomes]
    if kind == "one":
        result = dict(results[0], auth_method=module.auth_method_used)
    else:
        result = dict(report["common"], results=results, summary=summarize(results, report["actions"]), auth_method=module.auth_method_used)
    unhealthy = report.get("unhealthy")
    if unhealthy is not None:
        result["unhealthy"] = unhealthy
    result["changed"] = any(item["action"] in report["changed"] for item in results)
    if module._diff:
        result["diff"] = report["diff"](outcomes)
    held_back = report["common"].get("held_back")
    if unhealthy or held_back or any(item["action"] in FAILED_ACTIONS for item in results):
        module.fail_json(msg=failure_message(results, unhealthy or ()) + held_back_note(held_back), **result)
    module.exit_json(**result)


def run_restart(module):
    """sync_job_restart: check every input, then read -> decide -> restart (restart.py), wait when asked, report."""
    params = module.params
    try:
        kind, targets, notes = parse_targets(params)
        scope, scope_warnings = build_reset_scope(params["reset_scope"], params["allow_connector_data_store"])
        conditions = tuple(validate_conditions(params["restart_if"]))
        remedies = validate_remedies(params["restart_remedies"]) if params["restart_remedies"] is not None else None
        check_restart_ranges(params)
        policy = WaitPolicy.from_options(params["wait_timeout"], params["wait_interval"]) if params["wait"] or params["canary_size"] else None
    except InputError as exc:
        module.fail_json(msg=str(exc))
    concurrency = module.concurrency()
    for warning in scope_warnings + notes:
        module.warn(warning)
    # $batch is for a jobs list only: one job or one service principal's jobs gain nothing from it.
    api = module.connect(pool_size=concurrency, write_rate=params["write_rate"], batch=params["batch"] if kind == "list" else "none")
    # Controller-local job leases (lease.py): a self-heal restart and a fleet run beside it never restart one job twice.
    plan = RestartPlan(conditions, scope, module.check_mode, remedies, params["allow_escrows_pruned"])
    leases = JobLeases.from_env(api.client.settings.graph_root)
    restarter = LeasedRestarter(api, plan, leases, params["max_status_age"], params["jobs"])
    common = {"reset_scope": scope}
    try:
        if not module.check_mode:
            leases.prepare()  # a lease directory that is not this user's alone is refused before any request
        if kind == "service_principal":
            outcomes = restarter.restart_service_principal(targets, params["template_id"], concurrency)
        else:
            outcomes = restart_listed(restarter, targets, params, policy, concurrency, common)
    except EntraSyncError as exc:
        module.fail_graph(exc, changed=False, reset_scope=scope, auth_method=module.auth_method_used)
    canary_size = common["canary"]["size"] if "canary" in common else 0
    if params["wait"] and not module.check_mode:
        # The canary's jobs were waited for before the others were restarted.
        restarter.wait_healthy(outcomes[canary_size:], policy, concurrency)
    waited = (params["wait"] or canary_size > 0) and not module.check_mode
    common["throttling"] = api.client.pace()
    finish(module, kind, outcomes, {
        "actions": ACTIONS, "changed": RESTART_CHANGED, "diff": restart_diff, "common": common,
        "unhealthy": unhealthy_jobs([outcome.result for outcome in outcomes]) if waited else None,
    })


def restart_listed(restarter, targets, params, policy, concurrency, common):
    """A jobs list restarted; with canary_size, its first jobs first, waited for, and the others only when they recovered.

    Adds `canary` and `held_back` to common when there is a canary. A status given with the jobs (trust_input_status)
    is checked against max_status_age when its jobs are restarted, so after the canary's wait for the others.
    """
    def given(some):
        # Only a jobs list carries statuses (trust_input_status means nothing for one job named by its ids).
        return given_statuses(params["jobs"], some, params["max_status_age"]) if params["trust_input_status"] and params["jobs"] is not None else {}

    size = params["canary_size"]
    if not size:
        return restarter.restart_many(targets, concurrency, given(targets))
    first, rest = targets[:size], targets[size:]
    outcomes = restarter.restart_many(first, concurrency, given(first))
    if not restarter.plan.check_mode:
        restarter.wait_healthy(outcomes, policy, concurrency)
    reason = canary_verdict([outcome.result for outcome in outcomes])
    common["canary"] = {"size": len(first), "recovered": not reason, "reason": reason, "finished_at": utc_now_iso()}
    common["held_back"] = [{"service_principal_id": target.service_principal_id, "job_id": target.job_id} for target in rest] if reason else []
    return outcomes if reason else outcomes + restarter.restart_many(rest, concurrency, given(rest))


def run_state(module):
    """sync_job: check the targets, then read -> decide -> start or pause (state.py), report."""
    try:
        kind, targets, notes = parse_targets(module.params)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    concurrency = module.concurrency()
    for note in notes:
        module.warn(note)
    api = module.connect(pool_size=concurrency)
    outcomes = StateSetter(api, module.params["state"], module.check_mode, module.params["allow_escrows_pruned"]).set_targets(targets, concurrency)
    finish(module, kind, outcomes, {"actions": STATE_ACTIONS, "changed": STATE_CHANGED, "diff": state_diff, "common": {}})


def run_credentials(module):
    """sync_job_credentials: check the ids and the credentials, then read the job, test, save (_service/credentials.py)."""
    params = module.params
    try:
        target = JobTarget(validate_service_principal_id(params["service_principal_id"]), validate_job_id(params["job_id"]))
        pairs = check_credentials(params["credentials"]) if params["credentials"] is not None else ()
        plan = plan_credentials(pairs, params["use_saved_credentials"], params["test_only"], module.check_mode)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    outcome = CredentialCheck(module.connect(), plan).run(target)
    result = credentials_result(target.service_principal_id, target.job_id, plan, outcome, {"auth_method": module.auth_method_used})
    if module._diff:
        result["diff"] = credentials_diff(target.service_principal_id, plan, outcome)
    if outcome.message:
        module.fail_json(msg=outcome.message, **result)
    module.exit_json(**result)


def _scan(api, params, concurrency):
    """The scan the options ask for: named jobs, one job, one service principal's jobs, or the tenant."""
    job_filter = JobFilter.from_lists(params["template_id"], params["status_code"])
    if params["jobs"] is not None:
        return scan_jobs(api, params["jobs"], job_filter, concurrency)
    sp_id = params["service_principal_id"]
    if sp_id is not None:
        return scan_service_principal(api, sp_id, job_filter, job_id=params["job_id"])
    return scan_tenant(api, job_filter, params["service_principal_filter"], concurrency)


def found_jobs(jobs, conditions, read_at, tenant_id, remedies=None):
    """sync_job_info's keys about the jobs found: jobs_found, job_counts, remedy_counts, and every job as `jobs` or, with
    restart_if (conditions), the ones remedy.decide_restart_remedy picks (restart_if, and restart_remedies when given) as
    `restart_candidates` and the others that need something as `left_alone`. Each job carries its remedy, when its status
    was read and its tenant. With restart_if a playbook never holds (nor templates) every job of a tenant."""
    # A Paused job with escrowsPruned is a candidate only when restart_remedies asks for clean_up_errors.
    allow_pruned = remedies is not None and "clean_up_errors" in remedies
    found = {"jobs_found": len(jobs), "job_counts": job_counts(jobs)}
    # Each job's list: every job without restart_if; with it, the candidates, or left alone when something needs doing.
    lists = {"jobs": []} if conditions is None else {"restart_candidates": [], "left_alone": []}
    remedies_found = Counter()
    for job in jobs:
        if conditions is None:
            decision, diagnosis, into = None, diagnose(job), "jobs"
        else:
            decision, diagnosis = decide_restart_remedy(job, conditions, remedies, allow_pruned)
            into = "restart_candidates" if decision.restart else "left_alone" if diagnosis.remedy != "none" else None
        remedies_found[diagnosis.remedy] += 1
        if into:
            lists[into].append(dict(job.to_dict(), status_read_at=read_at, tenant_id=tenant_id, **diagnosis.to_dict()))
    found["remedy_counts"] = remedy_counts(remedies_found)
    found.update(lists)
    return found


def run_info(module):
    """sync_job_info: check the ids, scan (discovery.py), warn about what could not be read, report the jobs (or, with
    restart_if, only the restart candidates) and their counts."""
    params = dict(module.params)
    try:
        if params["service_principal_id"] is not None:
            params["service_principal_id"] = validate_service_principal_id(params["service_principal_id"])
        if params["job_id"] is not None:
            params["job_id"] = validate_job_id(params["job_id"])
        params["jobs"], notes = normalize_job_targets(params["jobs"]) if params["jobs"] is not None else (None, [])
        conditions = validate_conditions(params["restart_if"]) if params["restart_if"] is not None else None
        remedies = validate_remedies(params["restart_remedies"]) if params["restart_remedies"] is not None else None
        if remedies is not None and conditions is None:
            raise InputError("restart_remedies needs restart_if: it filters the restart candidates restart_if picks")
    except InputError as exc:
        module.fail_json(msg=str(exc))
    concurrency = module.concurrency()
    for note in notes:
        module.warn(note)
    api = module.connect(pool_size=concurrency, batch=params["batch"])
    read_at = utc_now_iso()
    try:
        scan = _scan(api, params, concurrency)
    except EntraSyncError as exc:
        module.fail_graph(exc, changed=False)
    for error in scan.errors[:WARNED_ERRORS]:
        module.warn("Jobs of service principal %s could not be read: %s" % (error["service_principal_id"], error["message"]))
    if len(scan.errors) > WARNED_ERRORS:
        module.warn("%d more service principals or jobs could not be read: see errors." % (len(scan.errors) - WARNED_ERRORS))
    tenant_id = module.tenant_id()
    module.exit_json(changed=False, errors=scan.errors, service_principals_read=scan.service_principals_read, tenant_id=tenant_id, read_at=read_at,
                     auth_method=module.auth_method_used, **found_jobs(scan.jobs, conditions, read_at, tenant_id, remedies))


def run_token(module):
    """graph_token: sign in with the credential the options give (never a given access token) and return the token."""
    try:
        answer = sign_in(settings_from_options(module.params.get))
    except EntraSyncError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**answer)
