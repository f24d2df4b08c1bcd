# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rotation playbook (entra.sync.rotate_credentials): its inputs checked before any request, each job's entry from
what its tasks returned, and the report. Pure, no I/O.

No credential value is kept in anything this file returns: the checked jobs carry the keys given, and the playbook
reads the values from entra_sync_credential_jobs itself, in the one task that sends them.
"""

from collections.abc import Mapping

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet.fleet_inputs import _boolean, _whole, check_fleet_inputs, check_host_tenant
from ansible_collections.entra.sync.plugins.module_utils._fleet.inventory_hosts import HOST_TENANT_VARS
from ansible_collections.entra.sync.plugins.module_utils._jobs.secrets import check_credentials
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import validate_job_id, validate_service_principal_id

VAR = "entra_sync_credential_jobs"
HOST_VAR_PREFIX = "entra_sync_"
# What a job's rotation came to, in the order the report lists them.
OUTCOMES = ("failed", "refused", "rotated", "tested")
FAILING = ("failed", "refused")
# The heading of every input error of the run: one, above all of its problems.
BAD_INPUT = "entra.sync.rotate_credentials: bad input, nothing was sent:\n"
# What follows a save, by the status found: the action of the module that does it (its results registered apart) and
# the step's name. A job found otherwise (Active) needs nothing more.
FOLLOW_UPS = {"Quarantine": ("restarted", "the restart"), "Paused": ("started", "the start")}


def _check_item(index, item):
    """(checked job, None) or (None, the problem)."""
    name = "%s[%d]" % (VAR, index)
    if not isinstance(item, Mapping):
        return None, "%s must be a dictionary with service_principal_id, job_id and credentials, got a %s" % (name, type(item).__name__)
    unknown = sorted(str(key) for key in item if key not in ("service_principal_id", "job_id", "credentials"))
    if unknown:
        return None, "%s has unknown keys %s: use service_principal_id, job_id and credentials" % (name, ", ".join(unknown))
    try:
        sp_id = validate_service_principal_id(item.get("service_principal_id"), name + ".service_principal_id")
        job_id = validate_job_id(item.get("job_id"), name + ".job_id")
        if item.get("credentials") is None:
            raise InputError("credentials is missing: give the whole set the job needs (e.g. BaseAddress and SecretToken)")
        pairs = check_credentials(item["credentials"])
    except InputError as exc:
        return None, "%s: %s" % (name, str(exc).replace(" Nothing was sent.", ""))
    return {"index": index, "service_principal_id": sp_id, "job_id": job_id, "secret_keys": [key for key, _value in pairs], "_pairs": pairs}, None


def _check_jobs(value):
    """check_credential_jobs without the run's heading: the rotation's inputs put every input's problems under one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError("%s must be a list of {service_principal_id, job_id, credentials}, got a %s. Nothing was sent."
                         % (VAR, type(value).__name__))
    jobs, problems, seen, sets = [], [], {}, {}
    for index, item in enumerate(value):
        job, problem = _check_item(index, item)
        if problem:
            problems.append(problem)
            continue
        key = (job["service_principal_id"], job["job_id"].lower())
        if key in seen:
            problems.append("%s[%d] names the job of %s[%d] again" % (VAR, index, VAR, seen[key]))
            continue
        seen[key] = index
        first = sets.setdefault(job["service_principal_id"], (index, job["_pairs"]))
        if first[1] != job["_pairs"]:
            problems.append("%s[%d] gives service principal %s other credentials than %s[%d]: a service principal's jobs share "
                            "one set, give the same one" % (VAR, index, job["service_principal_id"], VAR, first[0]))
            continue
        jobs.append({name: job[name] for name in ("index", "service_principal_id", "job_id", "secret_keys")})
    if problems:
        raise InputError("- %s" % "\n- ".join(problems))
    return jobs


def check_credential_jobs(value):
    """The jobs to rotate, checked, in input order, without their values: [{index, service_principal_id, job_id, keys}].

    One InputError lists every problem (names and keys, never a value). The credentials belong to the service principal,
    so two jobs of one service principal must be given the same set.
    """
    try:
        return _check_jobs(value)
    except InputError as exc:
        raise InputError(BAD_INPUT + str(exc)) from None


def check_rotation_inputs(inputs):
    """The playbook's inputs ({name without the entra_sync_ prefix: value}) checked by their rules, before any request:
    {jobs (no values), test_only, reset_scope, wait_timeout, report_dir, notes}. One InputError lists every problem."""
    problems, checked = [], {}
    rules = {"jobs": _check_jobs, "test_only": lambda value: _boolean("test_only", value),
             "wait_timeout": lambda value: _whole("wait_timeout", value, 1, example=300),
             "fleet": lambda value: check_fleet_inputs(value, {})}
    given = dict(inputs)
    given["fleet"] = {name: given.pop(name) for name in ("reset_scope", "allow_connector_data_store", "report_dir") if name in given}
    unknown = sorted(set(given) - set(rules))
    if unknown:
        raise InputError("unknown rotation inputs %s" % ", ".join(unknown))
    for name, value in given.items():
        try:
            checked[name] = rules[name](value)
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError(BAD_INPUT + "\n".join(problems))
    fleet = checked.pop("fleet", {})
    checked["notes"] = fleet.pop("notes", [])
    checked.update(fleet)
    return checked


def saved_jobs(tested, status_code):
    """The jobs of the credentials task's loop results that were saved and had this status before: the targets of the
    start (Paused) or the restart (Quarantine), as {service_principal_id, job_id}."""
    return [{"service_principal_id": result["service_principal_id"], "job_id": result["job_id"]} for result in tested or []
            if isinstance(result, Mapping) and result.get("saved") and result.get("status_code") == status_code]


def credentials_for(mapping, service_principal_id, job_id):
    """The credentials entra_sync_heal_credentials holds for one job: by its job id, else by its service principal id
    (case-insensitive). InputError naming the job, never a value, when the mapping has none for it."""
    if not isinstance(mapping, Mapping):
        raise InputError("entra_sync_heal_credentials must be a mapping of job id or service principal id -> credentials, got a %s"
                         % type(mapping).__name__)
    by_key = {str(key).strip().lower(): value for key, value in mapping.items()}
    for key in (job_id, service_principal_id):
        if key and str(key).lower() in by_key:
            return by_key[str(key).lower()]
    raise InputError("entra_sync_heal_credentials holds no credentials for job %s of service principal %s: add them under its job "
                     "id or its service principal id" % (job_id, service_principal_id))


def tenant_sign_in(host_vars, host):
    """The sign-in options of a tenant host for module_defaults (its entra_sync_* variables, checked); {} for localhost,
    whose modules read their environment variables."""
    if host == "localhost":
        return {}
    unprefixed = {name: host_vars.get(HOST_VAR_PREFIX + name) for name in HOST_TENANT_VARS}
    return check_host_tenant({"host": host, "vars": unprefixed})


def _by_job(results):
    return {(str(item.get("service_principal_id") or "").lower(), str(item.get("job_id") or "")): item
            for item in results or [] if isinstance(item, Mapping)}


def _follow_up(entry, by_action, follow_error):
    """The start or restart that followed a save: the entry's restarted or started, healthy and message."""
    action, step = FOLLOW_UPS.get(entry["status_code"], (None, ""))
    if action is None:
        return {"message": ""}
    result = by_action[action].get((entry["service_principal_id"].lower(), entry["job_id"]))
    if result is None:
        return {"message": follow_error or "%s was not sent" % step}
    done, wait = result.get("action"), result.get("wait") or {}
    message = "" if done in (action, "skipped") else result.get("reason") or done
    if done == action and wait and not wait.get("healthy"):
        message = "%s, not healthy: %s" % (action, wait.get("reason") or wait.get("status_code_after") or "see the job")
    return {action: done == action, "healthy": wait.get("healthy") if wait else None, "message": message}


def _entry(checked, tested, tenant_id):
    """A job's entry from the credentials task's result for it ({} when the task did not run for it)."""
    return {
        "tenant_id": tenant_id or "",
        "service_principal_id": checked.get("service_principal_id"),
        "job_id": checked.get("job_id"),
        "secret_keys": list(checked.get("secret_keys") or []),
        "template_id": tested.get("template_id"),
        "status_code": tested.get("status_code"),
        "quarantine_reason": tested.get("quarantine_reason"),
        "quarantine_error_code": tested.get("quarantine_error_code"),
        "remedy": tested.get("remedy"),
        "tested": bool(tested.get("tested")),
        "accepted": tested.get("accepted"),
        "saved": tested.get("saved", False),
        "restarted": False,
        "started": False,
        "healthy": None,
        "error_code": tested.get("error_code") or "",
        # Only a failure carries msg (the task's failed_when: false keeps the run going, so `failed` is false here).
        "message": tested.get("msg") or ("failed" if tested.get("failed") else ""),
    }


def rotation_outcome(entry, test_only):
    """rotated, tested (test_only or check mode: accepted, not saved), refused (the target said no), or failed."""
    if entry["accepted"] is False:
        return "refused"
    if entry["message"] or not entry["accepted"]:
        return "failed"
    if not entry["saved"]:
        return "tested" if test_only else "failed"
    return "rotated"


def rotation_entries(checked, tested=None, started=None, restarted=None, tenant_id="", error="", test_only=False):
    """Each checked job's entry, in input order, from the registered results of the host's tasks.

    tested: the credentials task's loop results (each with `entra_sync_job`, the checked job); started / restarted: the
    `results` of sync_job and sync_job_restart over the saved jobs; error: why the host's run stopped, if it did (the
    jobs it did not reach fail with it).
    """
    by_index = {}
    for loop_result in tested or []:
        if isinstance(loop_result, Mapping) and not loop_result.get("skipped"):
            by_index[(loop_result.get("entra_sync_job") or {}).get("index")] = loop_result
    by_action = {"started": _by_job(started), "restarted": _by_job(restarted)}
    entries = []
    for job in checked or []:
        result = by_index.get(job.get("index"))
        entry = _entry(job, result or {}, tenant_id)
        if result is None:
            entry["message"] = error or "the job's credentials were not tested"
        elif entry["saved"]:
            entry.update(_follow_up(entry, by_action, error))
        entry["outcome"] = rotation_outcome(entry, test_only)
        entries.append(entry)
    return entries


def rotation_report(parts, run):
    """report.json of a rotation: the run's details, a summary per outcome, every job's section, the ones that failed.

    parts: {tenant_id, host, error, jobs: [entry]} of each host; run: started_at, finished_at, test_only, reset_scope.
    """
    jobs, hosts = [], []
    for part in parts or []:
        if not isinstance(part, Mapping):
            continue
        hosts.append({"host": part.get("host"), "tenant_id": part.get("tenant_id") or "", "error": part.get("error") or ""})
        jobs.extend(part.get("jobs") or [])
    summary = dict.fromkeys(OUTCOMES, 0)
    for job in jobs:
        summary[job["outcome"]] = summary.get(job["outcome"], 0) + 1
    summary["total"] = len(jobs)
    failing = [job for job in jobs if job["outcome"] in FAILING]
    return {
        "kind": "rotate_credentials",
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "test_only": bool(run.get("test_only")),
        "reset_scope": run.get("reset_scope"),
        "hosts": hosts,
        "failed_hosts": [host["host"] for host in hosts if host["error"]],
        "summary": summary,
        "jobs": jobs,
        "failed": [{name: job[name] for name in ("tenant_id", "service_principal_id", "job_id", "outcome", "error_code", "message")}
                   for job in failing],
    }
