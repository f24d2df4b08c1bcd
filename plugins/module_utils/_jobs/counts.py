# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counts of jobs by template and status: what discovery found, and what a fleet run left behind.

Pure, no I/O. One shape everywhere: {template_id: {status_code: count}}, sorted, unknown values as 'unknown'
(sync_job_info's job_counts, the fleet report's counts_before and counts_after).

The counts after a run are read from Graph only for the jobs read again (entra_sync_verify_after). A restarted job
that was not read again is counted in a bucket of its own (RESTARTED_LIFTED, RESTARTED), never in a status code: a
restart lifts a quarantine for a moment, and a job whose cause is not fixed is quarantined again by its next cycle.
after_source says which of the two the counts rest on.
"""

from collections.abc import Mapping

from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import status_after_restart
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import Job, job_from_dict

# The actions after which a job may have changed: restarted for sure, unknown maybe (only a read can tell).
_CHANGING_ACTIONS = ("restarted", "unknown")
# Where the counts after a run come from (report.json's after_source): the restart results, the jobs read again, or
# both (some tenants or jobs read again, others not; a merge of slices that differ).
RESTART_RESULTS, READ_AGAIN, MIXED = "restart_results", "read_again", "mixed"
AFTER_SOURCES = (RESTART_RESULTS, READ_AGAIN, MIXED)
# The buckets of counts_after for a restarted job not read again: what the restart result says, not a status.
RESTARTED_LIFTED = "restarted (quarantine lifted)"
RESTARTED = "restarted"


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


def keyed_jobs(jobs):
    """{key: job dict}, each also under its key without the tenant (a job read without tenant_id still matches)."""
    keyed = {}
    for job in jobs or []:
        if isinstance(job, Mapping):
            keyed[job_key(job)] = job
            keyed.setdefault((None,) + job_key(job)[1:], job)
    return keyed


def lookup_job(keyed, key):
    """The job of keyed_jobs under key (tenant, service principal, job), or under it without the tenant; None."""
    return keyed.get(key) or keyed.get((None,) + key[1:])


def status_after(result, found, read_again):
    """Where one job is counted after the run: the status it was read in again; else, for an accepted restart, the bucket
    RESTARTED_LIFTED (it was quarantined) or RESTARTED, unless the restart leaves it as found (a quarantine the scope
    does not lift, a job not configured: decisions.status_after_restart) or the canary's wait saw it unhealthy (the
    status the wait read); else the status found. ``found`` is the job as discovery read it (or None), ``read_again``
    the job read after the run (or None)."""
    if read_again is not None:
        return read_again.get("status_code")
    before = found if found is not None else result
    if result.get("action") != "restarted":
        return before.get("status_code")
    wait = result.get("wait") if isinstance(result.get("wait"), Mapping) else {}
    if wait.get("status_code_after") and not wait.get("healthy"):
        return wait["status_code_after"]
    job = job_from_dict(before)
    if status_after_restart(job, result.get("reset_scope")) != "Active":
        return job.status_code
    return RESTARTED_LIFTED if job.quarantined else RESTARTED


def counts_after(counts_before, results, found=(), read_again=()):
    """The counts after a run: counts_before with each restarted (or unknown) job moved from the status discovery
    found to where status_after counts it. No job is read for it; ``read_again`` (the jobs read after the run, when the
    playbook is asked to) gives a status read from Graph, else a restarted job goes to a restarted bucket.

    found: the discovered jobs the results are about (the restart candidates), for the status counted before.
    """
    counts = add_counts(counts_before)
    found_by_key, read_by_key = keyed_jobs(found), keyed_jobs(read_again)
    for result in results or []:
        if not isinstance(result, Mapping) or result.get("action") not in _CHANGING_ACTIONS:
            continue
        key = job_key(result)
        before = lookup_job(found_by_key, key)
        source = before if before is not None else result
        template, status = source.get("template_id"), source.get("status_code")
        after = status_after(result, before, lookup_job(read_by_key, key))
        if after == status or counts.get(str(template or "unknown"), {}).get(str(status or "unknown"), 0) <= 0:
            continue
        _add(counts, template, status, -1)
        _add(counts, template, after, 1)
    return _sorted(counts)


def after_source(results, verify_after, read_again=()):
    """What counts_after rests on for one run (or one tenant): READ_AGAIN when the jobs a run may have changed
    (restarted, unknown) were all read again, RESTART_RESULTS when none was (verify_after off), MIXED when some were
    (a read that failed for some). With nothing changed, verify_after says which."""
    if not verify_after:
        return RESTART_RESULTS
    read = keyed_jobs(read_again)
    changed = [job_key(result) for result in results or [] if isinstance(result, Mapping) and result.get("action") in _CHANGING_ACTIONS]
    seen = sum(1 for key in changed if lookup_job(read, key) is not None)
    if seen == len(changed):
        return READ_AGAIN
    return MIXED if seen else RESTART_RESULTS


def merge_after_sources(sources):
    """One after_source for counts added up from several (tenants, slices): the one they share, MIXED when they differ.
    A missing or unknown one (a report written before after_source existed) is RESTART_RESULTS: nothing says it was read."""
    seen = {source if source in AFTER_SOURCES else RESTART_RESULTS for source in sources or ()}
    if len(seen) == 1:
        return seen.pop()
    return MIXED if seen else RESTART_RESULTS
