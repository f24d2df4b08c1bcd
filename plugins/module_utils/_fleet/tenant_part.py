# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tenant host's part of the fleet report, from the facts restart_jobs.yml left on the host.

Pure. The fleet_report filter builds every host's part at once in the report play, in one process, from each host's
entra_sync_* facts: a task per tenant host that templated the same part cost a worker process and a pass of Jinja
over its results per tenant.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet.fleet_report import TOUCHED_ACTIONS, quarantined_again
from ansible_collections.entra.sync.plugins.module_utils._jobs.counts import after_source, counts_after, job_key, keyed_jobs, lookup_job
from ansible_collections.entra.sync.plugins.module_utils._jobs.results import FAILED_ACTIONS, summarize

# The report's line for one job.
REPORT_KEYS = ("tenant_id", "service_principal_id", "job_id", "template_id", "status_code", "action", "reason")


def report_entry(result):
    """The report's line for one job: who, what was done and why."""
    if not isinstance(result, Mapping):
        raise InputError("report_entry expects a job result (a dictionary)")
    entry = {key: result.get(key) for key in REPORT_KEYS}
    # A job that could not be read carries the error as `message` (sync_job_info's errors), not `reason`.
    entry["reason"] = entry["reason"] or result.get("message")
    return entry


def action_counts(results, also_skipped=0):
    """Counts per action (restarted, would_restart, skipped, failed, unknown) and the total, zeros included.

    also_skipped counts jobs left alone without a result of their own (found healthy by discovery).
    """
    counts = summarize([result for result in results or [] if isinstance(result, Mapping)])
    counts["skipped"] += int(also_skipped)
    counts["total"] += int(also_skipped)
    return counts


def touched_jobs(results, found=None):
    """The report entries of the restarted, failed and unknown jobs, in that order, each with its service
    principal's name and the quarantine error code found before the restart (from the discovered jobs)."""
    found_by_key = keyed_jobs(found)
    entries = []
    for action in TOUCHED_ACTIONS:
        for result in results or []:
            if isinstance(result, Mapping) and result.get("action") == action:
                job = lookup_job(found_by_key, job_key(result)) or {}
                entries.append(dict(report_entry(result), service_principal_name=job.get("service_principal_name"),
                                    quarantine_error_code=job.get("quarantine_error_code")))
    return entries


def tenant_part(host, facts):
    """The host's part of the run from its facts (restart_jobs.yml's entra_sync_*): what fleet_report.assemble_report takes."""
    results = list(facts.get("entra_sync_results") or [])
    candidates = list(facts.get("entra_sync_candidates") or [])
    read_again = list(facts.get("entra_sync_after") or [])
    checked = facts.get("entra_sync_checked") or {}
    jobs_found = int(facts.get("entra_sync_jobs_found") or 0)
    counts_before = facts.get("entra_sync_counts_before") or {}
    return {
        "tenant_id": facts.get("entra_sync_tenant_label") or "",
        "host": host,
        "error": facts.get("entra_sync_tenant_error") or "",
        "stopped": facts.get("entra_sync_stop_reason") or "",
        "stopped_by": facts.get("entra_sync_stopped_by") or "",
        "jobs_found": jobs_found,
        "summary": action_counts(results, jobs_found - len(candidates)),
        "counts_before": counts_before,
        "counts_after": counts_after(counts_before, results, candidates, read_again),
        # What counts_after rests on: restart_results (not read again), read_again (entra_sync_verify_after) or mixed.
        "after_source": after_source(results, bool(checked.get("verify_after")), read_again),
        "quarantined_again": quarantined_again(read_again, results, candidates),
        "remedy_counts": list(facts.get("entra_sync_remedy_counts") or []),
        "to_do": list(facts.get("entra_sync_left_alone") or []),
        "failed_or_unknown": [report_entry(result) for result in results if result.get("action") in FAILED_ACTIONS],
        "touched": touched_jobs(results, candidates),
        "results": results,
        "timeline": list(facts.get("entra_sync_timeline") or []),
    }
