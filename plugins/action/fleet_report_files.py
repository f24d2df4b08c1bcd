# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of entra.sync.fleet_report_files: renders report.html here on the controller (Jinja2, with the trend from
the report history), then writes the report's files in this process (no module is sent: three files in one step), or,
on another host, has the module write them there. With ARA's callback on, it records the totals and report.html's path."""

import base64

from ansible.plugins.action import ActionBase

from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError
from ansible_collections.entra.sync.plugins.module_utils._fleet.report_files import ARGUMENT_SPEC, check_params, fleet_report_result, report_path
from ansible_collections.entra.sync.plugins.module_utils._fleet.report_history import history_entry, history_path, parse_history, read_history
from ansible_collections.entra.sync.plugins.plugin_utils.ara import ara_records, record_in_ara
from ansible_collections.entra.sync.plugins.plugin_utils.controller import runs_on_controller
from ansible_collections.entra.sync.plugins.plugin_utils.report_html import render_report_html

HISTORY_VAR = "entra_sync_report_history"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        params = dict(params)
        if params.get("history") is None:
            # A playbook that writes a report gets the history its user asked for without passing it on.
            params["history"] = self._templar.template(task_vars.get(HISTORY_VAR)) or None
        if not isinstance(params.get("history") or "", str):
            return dict(result, failed=True, msg="%s must name a folder, got %s" % (HISTORY_VAR, type(params["history"]).__name__))
        problem = check_params(params)
        if problem:
            return dict(result, failed=True, msg=problem)
        local = runs_on_controller(self._connection.transport, self._task.environment, self._play_context.become)
        known = None
        if params.get("html") is None:
            try:
                known = self._history(params, local, task_vars)
            except LocalFileError as exc:
                return dict(result, failed=True, msg="could not read the report history in %s: %s" % (params["history"], exc))
            params["html"] = self._render(params, known)
        if local:
            # The history just read for the trend is the one the run's line is checked against: it is not read again.
            result.update(fleet_report_result(params, self._task.check_mode, known))
        else:
            result.update(self._execute_module(module_name="entra.sync.fleet_report_files", module_args=params, task_vars=task_vars))
        if not result.get("failed") and not self._task.check_mode:
            recorded = record_in_ara(self, task_vars, ara_records(params["report"], report_path(params["path"], "report.html")))
            if recorded:
                result["ara_records"] = recorded
        return result

    def _history(self, params, local, task_vars):
        """The history's entries (read where the files go), None without a history folder."""
        if not params.get("history"):
            return None
        if local:
            return read_history(params["history"])
        found = self._execute_module(module_name="ansible.builtin.slurp", module_args={"src": history_path(params["history"])}, task_vars=task_vars)
        return parse_history(base64.b64decode(found["content"]).decode("utf-8", "replace")) if "content" in found else []

    @staticmethod
    def _render(params, known):
        """report.html, its trend over the history as it will be once this run's line is added."""
        html = report_path(params["path"], "report.html")
        history = [] if known is None else known + [history_entry(params["report"], html)]
        files = [report_path(params["path"], "report.json")] + ([report_path(params["path"], "report.md")] if params.get("markdown") is not None else [])
        return render_report_html(params["report"], history, files)
