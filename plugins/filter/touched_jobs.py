# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for what a fleet run shows: the jobs it touched and the jobs it left to a person, for the console."""

from ansible_collections.entra.sync.plugins.module_utils._fleet.tenant_part import touched_jobs


def _lines(entries, limit, head, why):
    """One line per entry, `head: name (service principal X, job Y) - why`; at most `limit`, then 'and N more'."""
    limit = max(int(limit), 0)
    lines = []
    for entry in (entries or [])[:limit]:
        name = entry.get("service_principal_name") or "(no name)"
        line = "%s: %s (service principal %s, job %s)" % (head(entry), name, entry.get("service_principal_id"), entry.get("job_id"))
        reason = " ".join(str(entry.get(why) or "").split())
        lines.append(line + (" - " + reason if reason else ""))
    if len(entries or []) > limit:
        lines.append("and %d more (see the report)" % (len(entries) - limit))
    return lines


def job_lines(entries, limit=10):
    """Console lines for touched jobs: action, service principal name, ids and reason; at most `limit`, then
    'and N more'."""
    return _lines(entries, limit, lambda entry: entry.get("action"), "reason")


def _to_do_head(entry):
    deadline = entry.get("disables_at")
    when = ", disabled %s%s" % ("SOON, " if entry.get("disables_soon") else "", deadline) if deadline else ""
    return "%s%s" % (entry.get("remedy"), when)


def to_do_lines(entries, limit=10, prefix=""):
    """Console lines for the jobs left to a person (the report's to_do, or its quarantined_again): the remedy, when the
    quarantine disables the job (SOON within 7 days), name and ids, and what to do; at most `limit`, then 'and N more'.
    `prefix` starts each job's line (for example 'quarantined again, ')."""
    return _lines(entries, limit, lambda entry: str(prefix or "") + _to_do_head(entry), "remedy_reason")


class FilterModule:
    def filters(self):
        return {"touched_jobs": touched_jobs, "job_lines": job_lines, "to_do_lines": to_do_lines}
