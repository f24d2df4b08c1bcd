# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report history (entra_sync_report_history): one line of totals per run in history.jsonl, for report.html's trend.

history_entry and trend_entries are pure; read_history and append_history are the I/O, through private_files.py: the
folder this user's alone (made 0700), the file 0600, never through a link, a line appended in one write (two runs
that finish together never mix their lines). A run whose entry is already
there (the same start, finish and tenants: the step run again on the same report) is not appended twice; a merged
report's entry stands for the slices it was merged from (trend_entries drops the slices' own lines).
"""

import json
import os
from collections.abc import Mapping

from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import Place, append_private_line, read_private_file

HISTORY_FILE = "history.jsonl"
# How many runs report.html's trend shows.
TREND_RUNS = 30
_ACTIONS = ("restarted", "skipped", "failed", "unknown")
_IDENTITY = ("started_at", "finished_at", "tenants")
HISTORY_PLACE = Place("the report history folder", "the report history file", "entra_sync_report_history")


def _tenant_ids(report):
    tenants = report.get("tenants") or []
    return sorted(str(tenant.get("tenant_id") if isinstance(tenant, Mapping) else tenant) for tenant in tenants)


def _count(counts, status):
    """How many jobs of {template: {status: n}} have this status."""
    return sum(int(by_status.get(status) or 0) for by_status in (counts or {}).values() if isinstance(by_status, Mapping))


def history_entry(report, html_path=None):
    """The history line of a report (pure): when, which tenants, and its totals."""
    summary = report.get("summary") or {}
    entry = {
        "started_at": report.get("started_at"),
        "finished_at": report.get("finished_at"),
        "tenants": _tenant_ids(report),
        "jobs_found": int(report.get("jobs_found") or 0),
        "quarantined_before": _count(report.get("counts_before"), "Quarantine"),
        "quarantined_after": _count(report.get("counts_after"), "Quarantine"),
        "failed_tenants": len(report.get("failed_tenants") or []),
    }
    entry.update({action: int(summary.get(action) or 0) for action in _ACTIONS})
    if html_path:
        entry["report"] = html_path
    return entry


def _identity(entry):
    return tuple(json.dumps(entry.get(name), sort_keys=True) for name in _IDENTITY)


def _covers(whole, part):
    """Whether `part` is a slice of the merged run `whole`: its tenants among whole's, its time inside whole's."""
    if part is whole or _identity(part) == _identity(whole):
        return False
    tenants = set(part.get("tenants") or [])
    return (bool(tenants) and tenants <= set(whole.get("tenants") or []) and len(tenants) < len(whole.get("tenants") or [])
            and str(whole.get("started_at") or "") <= str(part.get("started_at") or "")
            and str(part.get("finished_at") or "") <= str(whole.get("finished_at") or ""))


def trend_entries(entries, limit=TREND_RUNS):
    """The runs for the trend (pure), oldest first, at most `limit`: each run once, the slices of a merged run left
    out (the merged run stands for them), lines that are not entries ignored."""
    entries = [entry for entry in entries if isinstance(entry, Mapping) and entry.get("finished_at")]
    unique = list({_identity(entry): entry for entry in entries}.values())
    kept = [entry for entry in unique if not any(_covers(other, entry) for other in unique)]
    kept.sort(key=lambda entry: (str(entry.get("finished_at")), str(entry.get("started_at"))))
    return kept[-limit:] if limit else kept


def parse_history(text):
    """The entries of history.jsonl's text (pure); a line that is not a JSON object (a torn or foreign line) is skipped."""
    entries = []
    for line in (text or "").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, Mapping):
            entries.append(entry)
    return entries


def history_path(folder):
    return os.path.join(os.path.abspath(os.path.expanduser(folder)), HISTORY_FILE)


def read_history(folder):
    """The entries in the folder's history.jsonl ([] when there is none yet). LocalFileError for a folder or file that
    is not this user's alone, or a link."""
    try:
        return parse_history(read_private_file(history_path(folder), HISTORY_PLACE))
    except UnicodeDecodeError:
        return []


def append_history(folder, entry, check_mode=False, known=None):
    """Append the entry to history.jsonl unless it is there already; returns (changed, path). The folder is made 0700
    and the file 0600 when missing; LocalFileError names what is refused and what to do. known: the file's entries when
    the caller has just read them (fleet_report_files' action plugin, for the trend), so they are not read twice."""
    path = history_path(folder)
    if any(_identity(old) == _identity(entry) for old in (read_history(folder) if known is None else known)):
        return False, path
    if not check_mode:
        append_private_line(path, json.dumps(entry, sort_keys=True, ensure_ascii=False), HISTORY_PLACE)
    return True, path
