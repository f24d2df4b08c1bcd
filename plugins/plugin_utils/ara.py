# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report in ARA (ARA Records Ansible): when ARA's callback records this playbook, fleet_report_files records
the report's totals and the path of report.html with ARA's own ara_record action, so ARA's playbook page shows them.

No dependency: without ARA installed, or with its callback off (no ARA client in this process), nothing happens.
"""

from ansible_collections.entra.sync.plugins.plugin_utils.report_view import left_alone, verdict, verdict_line

TOTALS_KEY = "entra_sync_report"
HTML_KEY = "entra_sync_report_html"


def ara_records(report, html_path):
    """[(key, value, type)] ara_record records for a report (pure): the verdict and totals, and report.html as a file URL."""
    summary = report.get("summary") or {}
    waiting = len(left_alone(report))
    totals = {"verdict": verdict_line(report, waiting), "outcome": verdict(report, waiting)[0], "jobs_found": report.get("jobs_found") or 0,
              "failed_tenants": list(report.get("failed_tenants") or []), "started_at": report.get("started_at"),
              "finished_at": report.get("finished_at")}
    totals.update({action: summary.get(action) or 0 for action in ("restarted", "skipped", "failed", "unknown")})
    return [(TOTALS_KEY, totals, "dict"), (HTML_KEY, "file://" + html_path, "url")]


def _ara_record_class(action):
    """ARA's ara_record action plugin: through Ansible's action path when ARA's action plugins are configured, else
    from the ara package itself (its callback may be on without them)."""
    found = action._shared_loader_obj.action_loader.find_plugin("ara_record")
    if found:
        return None
    from ara.plugins.action.ara_record import ActionModule  # pylint: disable=import-outside-toplevel

    return ActionModule


def _ara_on():
    try:
        from ara.clients import utils  # pylint: disable=import-outside-toplevel
    except ImportError:
        return False
    # ARA's callback makes its client at the playbook's start; the ara_record action uses that one.
    return getattr(utils.active_client, "_instance", None) is not None


def record_in_ara(action, task_vars, records):
    """Record each (key, value, type) with ara_record for the task's playbook. Returns the keys recorded ([] when ARA's
    callback is off); a record ARA refuses is a warning, never a failed report."""
    if not _ara_on():
        return []
    recorded = []
    record_class = _ara_record_class(action)
    for key, value, kind in records:
        task = action._task.copy(exclude_parent=False, exclude_tasks=True)
        task.args = {"key": key, "value": value, "type": kind}
        plugin_args = (task, action._connection, action._play_context, action._loader, action._templar, action._shared_loader_obj)
        if record_class is None:
            plugin = action._shared_loader_obj.action_loader.get("ara_record", *plugin_args)
        else:
            plugin = record_class(*plugin_args)
        outcome = plugin.run(task_vars=task_vars)
        if outcome.get("failed"):
            action._display.warning("ARA did not record %s: %s" % (key, outcome.get("msg")))
        else:
            recorded.append(key)
    return recorded
