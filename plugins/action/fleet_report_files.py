# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of entra.sync.fleet_report_files: on the controller the report's files are written in this process (no
module is sent: two files in one step instead of three modules); on another host the module writes them there."""

from ansible.plugins.action import ActionBase

from ansible_collections.entra.sync.plugins.module_utils._fleet.report_files import ARGUMENT_SPEC, fleet_report_result
from ansible_collections.entra.sync.plugins.plugin_utils.controller import runs_on_controller


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not runs_on_controller(self._connection.transport, self._task.environment):
            result.update(self._execute_module(module_name="entra.sync.fleet_report_files", task_vars=task_vars))
            return result
        dummy, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result.update(fleet_report_result(params["path"], params["report"], params["markdown"], self._task.check_mode))
        return result
