# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What report.html shows, computed from report.json's data and the history (pure): the verdict, the totals, the
charts' data, the tenants, the timeline, the jobs that need a person and the jobs restarted.

Tolerant of every report this collection writes (restart_jobs' list and per-host forms, merge_reports, and any report of
the same shape): a key a report lacks shows as nothing, never as an error. report_html.py turns this into HTML.
"""

from collections.abc import Mapping

from ansible_collections.entra.sync.plugins.module_utils._fleet import fleet_report
from ansible_collections.entra.sync.plugins.module_utils._fleet.report_history import trend_entries
from ansible_collections.entra.sync.plugins.module_utils._jobs.counts import job_key, merge_after_sources
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import parse_datetime
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import deadline_key
from ansible_collections.entra.sync.plugins.plugin_utils import report_charts as charts

STATUS_ORDER = ("Quarantine", "Active", "Paused", "NotConfigured", "NotRun", "unknown")
STATUS_TONES = {"Quarantine": "quarantine", "Active": "active", "Paused": "paused", "NotConfigured": "idle", "NotRun": "idle",
                "unknown": "unknown"}
PHASE_TONES = {"sign-in": "signin", "discovery": "discovery", "canary": "canary", "read again": "readagain", "report": "report",
               "inputs": "inputs", "failed": "failed"}
VERDICT_WORDS = {"ok": "OK", "warn": "Needs a person", "bad": "Needs attention"}
# What a row of a jobs table shows of a job (besides its service principal's name and its tenant's label).
JOB_KEYS = ("action", "tenant_id", "service_principal_id", "job_id", "template_id", "status_code", "reason", "remedy", "remedy_reason",
            "disables_at", "disables_soon", "quarantine_reason", "quarantine_error_code")
# A list longer than this starts closed (<details>); shorter ones start open.
OPEN_ROWS = 20
TIMELINE_ROWS = 40


def _int(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _list(value):
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def by_status(counts):
    """{status: n} over every template of {template: {status: n}}."""
    total = {}
    for per_template in (counts or {}).values():
        for status, number in (per_template or {}).items() if isinstance(per_template, Mapping) else ():
            total[status] = total.get(status, 0) + _int(number)
    return total


def status_tones(*many):
    """{status: tone} for the statuses of several {status: n}, in STATUS_ORDER, then the others by name."""
    seen = {status for counts in many for status in counts}
    ordered = [status for status in STATUS_ORDER if status in seen] + sorted(seen - set(STATUS_ORDER))
    return {status: STATUS_TONES.get(status, "other") for status in ordered}


def after_label(report):
    """The after-counts' label, report.md's and the console's (fleet_report.after_label): read again only when the
    report's after_source says so."""
    return fleet_report.after_label(report.get("after_source"))


def _tenant_sections(report):
    return _list(report.get("tenants"))


def _tenant_ids(report):
    sections = [str(section.get("tenant_id")) for section in _tenant_sections(report)]
    return sections or [str(tenant) for tenant in report.get("tenants") or [] if not isinstance(tenant, Mapping)]


def tenant_labels(report):
    """{tenant id: its host's name} for the per-host form (a host is easier to read than a GUID), else {}."""
    return {str(section.get("tenant_id")): str(section["host"]) for section in _tenant_sections(report)
            if section.get("host") and section.get("host") != section.get("tenant_id")}


def short(text, limit=140):
    """The first `limit` characters of a one-line text, cut at a word, with an ellipsis when cut."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "..."


def verdict(report, left_alone):
    """(tone, one line without its word): bad when a job failed or is unknown, a tenant failed or the run stopped; warn when jobs wait
    for a person; else ok."""
    summary = report.get("summary") or {}
    failed, unknown = _int(summary.get("failed")), _int(summary.get("unknown"))
    failed_tenants = report.get("failed_tenants") or []
    problems = (["%d job%s failed" % (failed, "" if failed == 1 else "s")] if failed else []) + \
        (["%d with an unknown outcome" % unknown] if unknown else []) + \
        (["%d of %d tenants failed (%s)" % (len(failed_tenants), len(_tenant_ids(report)),
                                            ", ".join(sorted(tenant_labels(report).get(str(tenant), str(tenant)) for tenant in failed_tenants)))]
         if failed_tenants else []) + \
        (["the run stopped: %s" % short(report["stopped"])] if report.get("stopped") and not _tenant_sections(report) else [])
    waiting = ["%d job%s left for a person (a restart does not fix %s)"
               % (left_alone, "" if left_alone == 1 else "s", "it" if left_alone == 1 else "them")] if left_alone else []
    done = "restarted %d of %d jobs found" % (_int(summary.get("restarted")), _int(report.get("jobs_found")))
    done = done[0].upper() + done[1:]
    if problems:
        return "bad", "%s. %s." % ("; ".join(problems + waiting), done)
    if waiting:
        return "warn", "%s. %s." % ("; ".join(waiting), done)
    if _int(summary.get("restarted")) or _int(summary.get("would_restart")):
        return "ok", "%s; nothing failed." % done
    return "ok", "Nothing to restart: %d jobs found, none matched restart_if (%s)." % (
        _int(report.get("jobs_found")), ", ".join(map(str, report.get("restart_if") or [])) or "none given")


def verdict_line(report, left_alone_count):
    """The verdict in one line with its word first: 'Needs attention: ...', 'Needs a person: ...' or 'OK: ...'."""
    tone, text = verdict(report, left_alone_count)
    return "%s: %s" % (VERDICT_WORDS[tone], text)


def totals(report):
    """[(label, value, tone)] for the totals line (would restart only in check mode)."""
    summary = report.get("summary") or {}
    rows = [("jobs found", _int(report.get("jobs_found")), "")]
    for action, tone in (("restarted", "ok"), ("would_restart", ""), ("skipped", ""), ("failed", "bad"), ("unknown", "bad")):
        if action != "would_restart" or _int(summary.get(action)):
            rows.append((action.replace("_", " "), _int(summary.get(action)), tone if _int(summary.get(action)) else ""))
    rows.append(("tenants", len(_tenant_ids(report)), ""))
    if report.get("failed_tenants"):
        rows.append(("tenants failed", len(report["failed_tenants"]), "bad"))
    return rows


def status_chart(ident, report):
    """The before/after bars by status, and the rows of its table [(template, status, before, after)]."""
    before, after = by_status(report.get("counts_before")), by_status(report.get("counts_after"))
    tones = status_tones(before, after)
    label = after_label(report)
    rows = [(status, [before.get(status, 0), after.get(status, 0)]) for status in tones]
    description = "; ".join("%s: %d before, %d %s" % (status, values[0], values[1], label) for status, values in rows) or "no jobs"
    svg = charts.bar_chart(ident, "Jobs by status, before and %s" % label, description, rows, [("before", "before"), (label, "after")])
    table = []
    templates = sorted(set(report.get("counts_before") or {}) | set(report.get("counts_after") or {}))
    for template in templates:
        was, now = (report.get("counts_before") or {}).get(template) or {}, (report.get("counts_after") or {}).get(template) or {}
        for status in sorted(set(was) | set(now)):
            table.append((template, status, _int(was.get(status)), _int(now.get(status))))
    return svg, table


def remedy_counts(report):
    """{remedy: n} of the jobs that need something (the report's remedy_counts), those with at least one job."""
    counts = report.get("remedy_counts") or {}
    return {remedy: _int(number) for remedy, number in counts.items() if _int(number) > 0} if isinstance(counts, Mapping) else {}


def remedy_chart(ident, report):
    """The bars of the jobs that need something by remedy (a restart among them), and its rows; None without any."""
    counts = remedy_counts(report)
    if not counts:
        return None, []
    order = sorted(counts, key=lambda remedy: (fleet_report.remedy_rank(remedy), remedy))
    rows = [(remedy.replace("_", " "), [counts[remedy]]) for remedy in order]
    description = "; ".join("%s: %d" % (remedy, counts[remedy]) for remedy in order)
    return charts.bar_chart(ident, "Jobs that need something, by remedy", description, rows, [("jobs", "quarantine")]), rows


def trend(ident, history):
    """The trend chart over the history's last runs, and its rows [(finished, quarantined, restarted, failed or unknown)]."""
    entries = trend_entries(history)
    if not entries:
        return None, []
    # Runs a minute apart or more are told apart by their minute; closer ones by their second.
    width = 16 if len({str(entry.get("finished_at"))[:16] for entry in entries}) == len(entries) else 19
    points = [(str(entry.get("finished_at"))[:width].replace("T", " "),
               {"quarantined": _int(entry.get("quarantined_before")), "restarted": _int(entry.get("restarted")),
                "failed": _int(entry.get("failed")) + _int(entry.get("unknown"))}) for entry in entries]
    series = [("quarantined", "quarantined (found)", "quarantine"), ("restarted", "restarted", "active"), ("failed", "failed or unknown", "failed")]
    description = "%d runs from %s to %s; the last: %d quarantined, %d restarted, %d failed or unknown" % (
        len(points), points[0][0], points[-1][0], points[-1][1]["quarantined"], points[-1][1]["restarted"], points[-1][1]["failed"])
    svg = charts.trend_chart(ident, "The last %d runs" % len(points) if len(points) > 1 else "The last run", description, points, series)
    return svg, [(label, values["quarantined"], values["restarted"], values["failed"]) for label, values in points]


def _phase_tone(step, index):
    if step.startswith("chunk"):
        return "chunk" if index % 2 else "chunkalt"
    return PHASE_TONES.get(step, "other")


def timeline_rows(report):
    """The timeline's rows [(label, [(phase, tone, begin, end)])] in seconds from the run's start, and the run's length.

    Each tenant event ends its step, which began at the tenant's event before it; the run's row has the input checks
    (the run's start to the first tenant's start) and the report (the last tenant event to the report)."""
    events = [(event, parse_datetime(event.get("at"))) for event in _list(report.get("timeline"))]
    events = [(event, moment) for event, moment in events if moment is not None]
    moments = [moment for dummy, moment in events] + [parse_datetime(report.get(name)) for name in ("started_at", "finished_at")]
    moments = [moment for moment in moments if moment is not None]
    if not events or not moments:
        return [], 0.0
    origin, end = min(moments), max(moments)

    def seconds(moment):
        return (moment - origin).total_seconds()

    tenants = {}
    for event, moment in sorted(events, key=lambda pair: pair[1]):
        tenants.setdefault(str(event.get("tenant_id") or ""), []).append((str(event.get("step") or ""), seconds(moment)))
    own = dict(tenants.pop("", []))
    rows, labels = [], tenant_labels(report)
    for tenant_id in sorted(tenants, key=lambda tenant: labels.get(tenant, tenant))[:TIMELINE_ROWS]:
        steps, phases = tenants[tenant_id], []
        for index in range(1, len(steps)):
            phases.append((steps[index][0], _phase_tone(steps[index][0], index), steps[index - 1][1], steps[index][1]))
        rows.append((labels.get(tenant_id, tenant_id), phases))
    firsts = [steps[0][1] for steps in tenants.values()]
    lasts = [steps[-1][1] for steps in tenants.values()]
    run = []
    if firsts:
        run.append(("inputs", "inputs", own.get("start", 0.0), min(firsts)))
        run.append(("report", "report", max(lasts), own.get("report", seconds(end))))
    return [("run", run)] + rows, seconds(end)


def timeline(ident, report):
    """The timeline chart, its rows for the table [(row, phase, begin, end)], and how many tenants were left out."""
    rows, span = timeline_rows(report)
    if not rows:
        return None, [], 0
    per_phase = {}
    for _row, phases in rows:
        for phase, _tone, begin, end in phases:
            name = "chunks" if phase.startswith("chunk") else phase
            per_phase[name] = per_phase.get(name, 0.0) + max(end - begin, 0.0)
    description = "The run took %s s. Time per step, all tenants added up: %s." % (
        charts._number(span), ", ".join("%s %s s" % (name, charts._number(value)) for name, value in per_phase.items()))
    legend = [(name, PHASE_TONES.get(name, "chunk")) for name in ("inputs", "sign-in", "discovery", "canary", "chunks", "read again", "failed", "report")
              if name in per_phase]
    svg = charts.timeline_chart(ident, "Timeline of the run", description, rows, span, legend)
    table = [(label, phase, round(begin, 2), round(end, 2)) for label, phases in rows for phase, dummy, begin, end in phases]
    tenants = len({str(event.get("tenant_id")) for event in _list(report.get("timeline")) if event.get("tenant_id")})
    return svg, table, max(tenants - TIMELINE_ROWS, 0)


def _names(report):
    """{job key: service principal name} from the jobs the run touched (they carry the names)."""
    return {job_key(job): job.get("service_principal_name") for job in _list(report.get("touched")) if job.get("service_principal_name")}


def job_rows(jobs, names, labels=None):
    """The rows of a jobs table, each job with its service principal's name and its tenant's label (the host's name in
    the per-host form), sorted: the soonest deadline (disables_at) first, then by tenant, service principal name,
    service principal id and job."""
    rows = []
    for job in jobs:
        row = {name: job.get(name) for name in JOB_KEYS}
        row["service_principal_name"] = job.get("service_principal_name") or names.get(job_key(job)) or ""
        row["tenant"] = (labels or {}).get(str(row["tenant_id"]), "")
        rows.append(row)
    return sorted(rows, key=lambda row: (deadline_key(row["disables_at"]), str(row["tenant"] or row["tenant_id"] or ""),
                                         str(row["service_principal_name"]).lower(), str(row["service_principal_id"] or ""), str(row["job_id"] or "")))


def left_alone(report):
    """The jobs the run left for a person (a remedy a restart is not, or not restarted: report.json's to_do)."""
    return _list(report.get("to_do"))


def tenant_rows(ident, report):
    """A row per tenant: id, host, outcome, why, jobs found, the action counts and the small before/after chart."""
    sections = _tenant_sections(report)
    if not sections:  # the list form: its counts are the run's, so one row when it ran one tenant
        ids = _tenant_ids(report)
        if len(ids) != 1:
            return []
        failure = fleet_report.tenant_failure({"stopped": report.get("stopped"), "results": _list(report.get("failed_or_unknown"))})
        sections = [dict(report, tenant_id=ids[0], host="localhost", outcome="failed" if failure else "succeeded", failure=failure)]
    rows = []
    for index, section in enumerate(sections):
        before, after = by_status(section.get("counts_before")), by_status(section.get("counts_after"))
        tones = status_tones(before, after)
        was = ", ".join("%s %d" % (status, before.get(status, 0)) for status in tones) or "no jobs"
        now = ", ".join("%s %d" % (status, after.get(status, 0)) for status in tones) or "no jobs"
        description = "before: %s; %s: %s" % (was, after_label(report), now)
        summary = section.get("summary") or {}
        why = section.get("failure") or section.get("stopped") or ""
        rows.append({
            "tenant_id": section.get("tenant_id"), "host": section.get("host"), "outcome": section.get("outcome") or "",
            "why": why, "why_short": short(why, 120), "jobs_found": _int(section.get("jobs_found")),
            "restarted": _int(summary.get("restarted")), "failed": _int(summary.get("failed")), "unknown": _int(summary.get("unknown")),
            "chart": charts.stacked_bars("%s-%d" % (ident, index), "Tenant %s: jobs by status" % section.get("tenant_id"), description,
                                         [("before", before), ("after", after)], tones),
        })
    return rows


def build_view(report, history=(), files=()):
    """Everything report.html shows (pure). history: the entries of history.jsonl, this run's included; files: the
    report's files, named in the footer."""
    alone = left_alone(report)
    tone, line = verdict(report, len(alone))
    names, labels = _names(report), tenant_labels(report)
    failed_or_unknown = job_rows(_list(report.get("failed_or_unknown")), names, labels)
    status_svg, status_table = status_chart("status", report)
    remedy_svg, remedy_table = remedy_chart("remedy", report)
    timeline_svg, timeline_table, timeline_more = timeline("timeline", report)
    trend_svg, trend_table = trend("trend", history)
    restarted = job_rows([job for job in _list(report.get("touched")) if job.get("action") == "restarted"], names, labels)
    return {
        "verdict": {"tone": tone, "word": VERDICT_WORDS[tone], "text": line}, "totals": totals(report), "report": report, "files": list(files),
        "several_tenants": len(_tenant_ids(report)) > 1, "per_host": bool(_tenant_sections(report)),
        "after_label": after_label(report), "after_source": merge_after_sources([report.get("after_source")]),
        "status_chart": status_svg, "status_table": status_table, "remedy_chart": remedy_svg, "remedy_table": remedy_table,
        "tenants": tenant_rows("tenant", report), "timeline_chart": timeline_svg, "timeline_table": timeline_table,
        "timeline_more": timeline_more, "trend_chart": trend_svg, "trend_table": trend_table,
        "failed": [row for row in failed_or_unknown if row["action"] != "unknown"],
        "unknown": [row for row in failed_or_unknown if row["action"] == "unknown"],
        "left_alone": job_rows(alone, names, labels), "restarted": restarted, "open_rows": OPEN_ROWS,
    }
