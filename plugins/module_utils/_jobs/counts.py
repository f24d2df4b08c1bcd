# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counts of jobs by template and status: what discovery found, and what a fleet run left behind.

Pure, no I/O. One shape everywhere: {template_id: {status_code: count}}, sorted, unknown values as 'unknown'
(sync_job_info's job_counts, the fleet report's counts_before and counts_after).
"""

from collections.abc import Mapping

from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import status_after_restart
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import Job, job_from_dict

# The actions after which a job may have changed: restarted for sure, unknown maybe (only a read can tell).
_CHANGING_ACTIONS = ("restarted", "unknown")


def _get(job, name):
    return job.get(name) if isinstance(job, Mapping) else getattr(job, name, None)


def _sorted(counts):
    return {template: dict(sorted(by_status.items())) for template, by_status in sorted(counts.items()) if by_status}


def _add(counts, template, status, number):
    by_status = counts.setdefault(str(template or "unknown"), {})
    status = str(status or "unknown")
    by_status[status] = by_status.get(status, 0) + number
    if by_status[status] <= 0:
        del by_status[status]


def job_counts(jobs):
    """{template_id: {status_code: count}} over the jobs (Job objects or job dicts; anything else is ignored)."""
    counts = {}
    for job in jobs or []:
        if isinstance(job, (Job, Mapping)):
            _add(counts, _get(job, "template_id"), _get(job, "status_code"), 1)
    return _sorted(counts)


def add_counts(*many):
    """The sum of several counts of the shape job_counts returns (several tenants' counts in one report)."""
    total = {}
    for counts in many:
        for template, by_status in (counts or {}).items():
            for status, number in (by_status or {}).items():
                _add(total, template, status, int(number))
    return _sorted(total)


def job_key(job):
    """(tenant, service principal, job): one job across tenants."""
    return (_get(job, "tenant_id"), _get(job, "service_principal_id"), _get(job, "job_id"))


def _by_key(jobs):
    """{key: job dict}, each also under its key without the tenant (a job read without tenant_id still matches)."""
    keyed = {}
    for job in jobs or []:
        if isinstance(job, Mapping):
            keyed[job_key(job)] = job
            keyed.setdefault((None,) + job_key(job)[1:], job)
    return keyed


def _lookup(keyed, key):
    return keyed.get(key) or keyed.get((None,) + key[1:])


def status_after(result, found, read_again):
    """The status code of one job after the run: read again, else seen by the wait (the canary), else for a restart
    the status it leads to (decisions.status_after_restart), else the status found. ``found`` is the job as discovery
    read it (or None), ``read_again`` the job read after the run (or None)."""
    if read_again is not None:
        return read_again.get("status_code")
    wait = result.get("wait") if isinstance(result.get("wait"), Mapping) else {}
    if wait.get("status_code_after"):
        return wait["status_code_after"]
    before = found if found is not None else result
    if result.get("action") != "restarted":
        return before.get("status_code")
    return status_after_restart(job_from_dict(before), result.get("reset_scope"))


def counts_after(counts_before, results, found=(), read_again=()):
    """The counts after a run: counts_before with each restarted (or unknown) job moved from the status discovery
    found to the one it has after the run (status_after). No job is read for it; ``read_again`` (the jobs read after
    the run, when the playbook is asked to) and the canary's wait take precedence over the expected status.

    found: the discovered jobs the results are about (the restart candidates), for the status counted before.
    """
    counts = add_counts(counts_before)
    found_by_key, read_by_key = _by_key(found), _by_key(read_again)
    for result in results or []:
        if not isinstance(result, Mapping) or result.get("action") not in _CHANGING_ACTIONS:
            continue
        key = job_key(result)
        before = _lookup(found_by_key, key)
        source = before if before is not None else result
        template, status = source.get("template_id"), source.get("status_code")
        after = status_after(result, before, _lookup(read_by_key, key))
        if after == status or counts.get(str(template or "unknown"), {}).get(str(status or "unknown"), 0) <= 0:
            continue
        _add(counts, template, status, -1)
        _add(counts, template, after, 1)
    return _sorted(counts)
