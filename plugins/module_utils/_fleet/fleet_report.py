# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet run's report: a section per tenant, the run's totals, merging the reports of sliced runs.

Pure: the playbook hands in each host's part of the run (one tenant per host in the per-host form; every tenant of
entra_sync_tenants on localhost in the list form) and writes what comes back. Building a report and merging slice
reports go through one function (assemble_report), so a merged report equals the report of one unsliced run.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.counts import (
    MIXED,
    READ_AGAIN,
    RESTART_RESULTS,
    add_counts,
    job_key,
    keyed_jobs,
    lookup_job,
    merge_after_sources,
)
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_datetime
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import REMEDIES, deadline_key, disables_soon, remedy_counts
from ansible_collections.entra.sync.plugins.module_utils._jobs.results import ACTIONS, FAILED_ACTIONS

# The jobs a run touched, in the order the console and report.md list them.
TOUCHED_ACTIONS = ("restarted", "failed", "unknown")
# report.json's `form`: tenants as inventory hosts, or the entra_sync_tenants list run on localhost.
HOSTS_FORM = "tenant_hosts"
LIST_FORM = "tenant_list"
# What a host's part holds besides the jobs lists; a section is these, the outcome and the failure.
_PART_FIELDS = ("tenant_id", "host", "error", "stopped", "stopped_by", "jobs_found", "summary", "counts_before", "counts_after",
                "after_source", "remedy_counts")
_JOB_LISTS = ("failed_or_unknown", "touched", "results", "to_do", "timeline", "quarantined_again")
# What the report says about each job the run left to a person (sync_job_info's left_alone), soonest deadline first.
TO_DO_KEYS = ("tenant_id", "service_principal_id", "service_principal_name", "job_id", "template_id", "status_code", "quarantine_reason",
              "quarantine_error_code", "remedy", "remedy_reason", "disables_at")
# How report.md and the console name the counts after a run, by after_source (counts.after_source).
AFTER_LABELS = {
    RESTART_RESULTS: "expected after the restarts (not read again)",
    READ_AGAIN: "read again after the restarts",
    MIXED: "read again for some jobs or tenants, expected after the restarts (not read again) for the others",
}
# A timeline event {tenant_id, step, at}: the end of a step of a tenant (its "start" begins it); the run's own
# events (its start, its report) have no tenant.
RUN_EVENT = ""


def tenant_failure(state):
    """Why a tenant failed, or '' when it has not: a task error (sign-in, discovery), its own stop (the canary),
    or jobs that failed or whose outcome is unknown. A stop caused by another tenant's failure is not a failure."""
    if state.get("error"):
        return str(state["error"])
    if state.get("stopped") and not state.get("stopped_by"):
        return str(state["stopped"])
    failed = [job for job in state.get("results") or [] if isinstance(job, Mapping) and job.get("action") in FAILED_ACTIONS]
    return "%d jobs failed or have an unknown outcome" % len(failed) if failed else ""


def first_failed_tenant(others, results, tenant_id):
    """For entra_sync_stop_on_tenant_failure: 'tenant X failed: why' for the first other tenant of the run that has
    failed (by tenant id), or ''.

    others: {tenant_id, failure} noted by the other tenant hosts (per-host form); results: this host's job results,
    where the list form also finds the tenants it ran before this one.
    """
    failures = {}
    for other in others or []:
        if isinstance(other, Mapping) and other.get("failure") and other.get("tenant_id") != tenant_id:
            failures[str(other["tenant_id"])] = str(other["failure"])
    by_tenant = {}
    for job in results or []:
        if isinstance(job, Mapping) and job.get("tenant_id") != tenant_id:
            by_tenant.setdefault(str(job.get("tenant_id")), []).append(job)
    for other_id, jobs in by_tenant.items():
        failures.setdefault(other_id, tenant_failure({"results": jobs}))
    failed = sorted(other_id for other_id, failure in failures.items() if failure)
    return "tenant %s failed: %s" % (failed[0], failures[failed[0]]) if failed else ""


def _no_actions():
    return dict.fromkeys(ACTIONS + ("total",), 0)


def _add_counts(total, counts):
    for name, value in (counts or {}).items():
        total[name] = total.get(name, 0) + int(value)
    return total


def to_do(jobs, now):
    """The report's entries for the jobs left to a person, soonest disables_at first (unknown last, order kept among equals),
    each marked disables_soon when its quarantine disables the job within 7 days of now (the run's end)."""
    entries = [dict({key: job.get(key) for key in TO_DO_KEYS}, disables_soon=now is not None and disables_soon(job.get("disables_at"), now))
               for job in jobs or [] if isinstance(job, Mapping)]
    return sorted(entries, key=lambda entry: deadline_key(entry["disables_at"]))


def after_label(after_source):
    """The words for counts after a run that rest on after_source; a missing or unknown one reads as not read again."""
    return AFTER_LABELS[merge_after_sources([after_source])]


def quarantined_again(read_again, results, found=()):
    """The restarted jobs that a read after the run (entra_sync_verify_after) found quarantined: a restart lifted their
    quarantine and the next cycle brought it back, their cause not fixed. Entries as to_do's, in the order read, each
    with its service principal's name from ``found`` (discovery's jobs) when the read did not give it."""
    restarted = keyed_jobs(result for result in results or [] if isinstance(result, Mapping) and result.get("action") == "restarted")
    names = keyed_jobs(found)
    entries = []
    for job in read_again or []:
        if isinstance(job, Mapping) and job.get("status_code") == "Quarantine" and lookup_job(restarted, job_key(job)) is not None:
            entry = {key: job.get(key) for key in TO_DO_KEYS}
            entry["service_principal_name"] = entry["service_principal_name"] or (lookup_job(names, job_key(job)) or {}).get("service_principal_name")
            entries.append(entry)
    return entries


def remedy_rank(remedy):
    """Where a remedy comes in a list by remedy: the order of REMEDIES, an unknown one last."""
    return REMEDIES.index(remedy) if remedy in REMEDIES else len(REMEDIES)


def _by_remedy(entries):
    """Entries grouped by remedy in the order of REMEDIES (the order kept within one), an unknown remedy last."""
    return sorted(entries, key=lambda entry: remedy_rank(entry.get("remedy")))


def _section(part):
    failure = tenant_failure({"error": part.get("error"), "stopped": part.get("stopped"), "stopped_by": part.get("stopped_by"),
                              "results": part.get("failed_or_unknown")})
    outcome = "failed" if failure else ("stopped" if part.get("stopped_by") else "succeeded")
    section = {name: part.get(name) or "" for name in _PART_FIELDS}
    section.update(jobs_found=int(part.get("jobs_found") or 0), summary=_add_counts(_no_actions(), part.get("summary")),
                   counts_before=part.get("counts_before") or {}, counts_after=part.get("counts_after") or {},
                   after_source=merge_after_sources([part.get("after_source")]), remedy_counts=remedy_counts(part.get("remedy_counts")),
                   outcome=outcome, failure=failure, failed_or_unknown=list(part.get("failed_or_unknown") or []))
    return section


def _touched(parts):
    """Every part's touched jobs, restarted first, then failed, then unknown; tenant by tenant within each."""
    return [entry for action in TOUCHED_ACTIONS for part in parts for entry in part.get("touched") or [] if entry.get("action") == action]


def assemble_report(parts, run):
    """report.json: run is {form, started_at, finished_at, restart_if, restart_remedies, reset_scope, tenant_ids (list form)}.

    Per-host form: `tenants` holds a section per tenant sorted by tenant id (summary, counts, remedy counts,
    failed_or_unknown, outcome, stop reason or error), then the run's totals. List form: one part for every tenant of the
    list, and `tenants` stays the list of tenant ids. `to_do` lists the jobs left to a person, soonest deadline first;
    `quarantined_again` the restarted jobs read again quarantined, by remedy, then soonest deadline. `after_source` says
    what counts_after rests on (counts.after_source), for the run and for each tenant.
    """
    parts = sorted(parts, key=lambda part: str(part.get("tenant_id")))
    sections = [_section(part) for part in parts]
    summary = _no_actions()
    now = parse_datetime(run.get("finished_at") or run.get("started_at"))
    for part in parts:
        _add_counts(summary, part.get("summary"))
    report = {
        "form": HOSTS_FORM if run.get("form") == HOSTS_FORM else LIST_FORM,
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "tenants": sections,
        "restart_if": run.get("restart_if"),
        "restart_remedies": run.get("restart_remedies"),
        "reset_scope": run.get("reset_scope"),
        "stopped": "; ".join("%s: %s" % (section["tenant_id"], section["error"] or section["stopped"]) for section in sections
                             if section["error"] or section["stopped"]),
        "failed_tenants": [section["tenant_id"] for section in sections if section["outcome"] == "failed"],
        "stopped_tenants": [section["tenant_id"] for section in sections if section["outcome"] == "stopped"],
        "jobs_found": sum(section["jobs_found"] for section in sections),
        "summary": summary,
        "counts_before": add_counts(*(part.get("counts_before") for part in parts)),
        "counts_after": add_counts(*(part.get("counts_after") for part in parts)),
        "after_source": merge_after_sources(section["after_source"] for section in sections),
        "remedy_counts": remedy_counts(*(part.get("remedy_counts") for part in parts)),
        "to_do": to_do([job for part in parts for job in part.get("to_do") or []], now),
        "quarantined_again": _by_remedy(to_do([job for part in parts for job in part.get("quarantined_again") or []], now)),
        "failed_or_unknown": [entry for part in parts for entry in part.get("failed_or_unknown") or []],
        "touched": _touched(parts),
        "results": [result for part in parts for result in part.get("results") or []],
        "timeline": run_events(run.get("timeline")) + [event for part in parts for event in part.get("timeline") or []],
    }
    if report["form"] == LIST_FORM:
        # The list form's report keeps its shape: the tenant ids, and the one stop reason (or error) of the run.
        # Which tenant failed is in its entries and in that reason, so no per-tenant lists are made up here.
        whole = sections[0] if sections else {}
        report.update(tenants=list(run.get("tenant_ids") or []), stopped=whole.get("stopped") or whole.get("error") or "")
        del report["failed_tenants"], report["stopped_tenants"]
    return report


def run_events(events):
    """The run's own timeline events (no tenant): its first start and its last report, whatever slices they came from."""
    own = [event for event in events or [] if isinstance(event, Mapping) and not event.get("tenant_id")]
    starts = sorted(str(event.get("at") or "") for event in own if event.get("step") == "start")
    reports = sorted(str(event.get("at") or "") for event in own if event.get("step") == "report")
    return ([{"tenant_id": RUN_EVENT, "step": "start", "at": starts[0]}] if starts else []) + \
        ([{"tenant_id": RUN_EVENT, "step": "report", "at": reports[-1]}] if reports else [])


def _parts_of(report, source):
    """The parts a per-host report was assembled from: its sections, each with its tenant's jobs from the lists."""
    if not isinstance(report, Mapping) or report.get("form") != HOSTS_FORM:
        raise InputError(
            "%s is not the report of a run over tenant hosts (form %s): only those can be merged; a run of the "
            "entra_sync_tenants list is already one report" % (source, report.get("form") if isinstance(report, Mapping) else None)
        )
    parts = {}
    for section in report.get("tenants") or []:
        parts[section["tenant_id"]] = dict({name: section.get(name) for name in _PART_FIELDS}, **{name: [] for name in _JOB_LISTS})
    for name in _JOB_LISTS:
        for entry in report.get(name) or []:
            if name == "timeline" and not entry.get("tenant_id"):
                continue  # the slice's own start and report: merge_reports keeps the first start and the last report
            if entry.get("tenant_id") not in parts:
                raise InputError("%s: an entry of %s names tenant %s, which has no section in that report" % (source, name, entry.get("tenant_id")))
            parts[entry["tenant_id"]][name].append(entry)
    return list(parts.values())


def merge_reports(reports, sources):
    """One report from the reports of sliced runs (same inputs, each tenant in one slice), equal to the report of
    one unsliced run apart from its start and finish times (the earliest start, the latest finish)."""
    if not reports:
        raise InputError("entra_sync_merge_reports is empty: give the report.json of each slice")
    parts, seen = [], {}
    for index, report in enumerate(reports):
        source = sources[index]
        report_parts = _parts_of(report, source)
        for name in ("restart_if", "restart_remedies", "reset_scope"):
            if report.get(name) != reports[0].get(name):
                raise InputError("%s and %s are reports of runs with different %s: merge the slices of one run" % (sources[0], source, name))
        for part in report_parts:
            if part["tenant_id"] in seen:
                raise InputError("tenant %s is in %s and in %s: each tenant belongs to one slice" % (part["tenant_id"], seen[part["tenant_id"]], source))
            seen[part["tenant_id"]] = source
            parts.append(part)
    run = {
        "form": HOSTS_FORM,
        "started_at": min(str(report.get("started_at") or "") for report in reports),
        "finished_at": max(str(report.get("finished_at") or "") for report in reports),
        "restart_if": reports[0].get("restart_if"),
        "restart_remedies": reports[0].get("restart_remedies"),
        "reset_scope": reports[0].get("reset_scope"),
        "timeline": run_events([event for report in reports for event in report.get("timeline") or []]),
    }
    return assemble_report(parts, run)
