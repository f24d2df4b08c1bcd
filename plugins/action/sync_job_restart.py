# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of entra.sync.sync_job_restart: on the controller (a local connection), the module's work in this process;
elsewhere, the module (plugin_utils/module_here.py)."""

from ansible_collections.entra.sync.plugins.module_utils._modules.module_specs import restart_spec
from ansible_collections.entra.sync.plugins.module_utils._modules.runner import run_restart
from ansible_collections.entra.sync.plugins.plugin_utils.module_here import GraphActionBase


class ActionModule(GraphActionBase):
    MODULE_SPEC = staticmethod(restart_spec)
    MODULE_RUN = staticmethod(run_restart)
