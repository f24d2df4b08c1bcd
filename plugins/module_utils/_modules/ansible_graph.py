# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The glue every module shares: the argspec, settings, credential and client, with errors turned into fail_json."""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.entra.sync.plugins.module_utils._exceptions import EntraSyncError
from ansible_collections.entra.sync.plugins.module_utils._graph.concurrency import MAX_CONCURRENCY
from ansible_collections.entra.sync.plugins.module_utils._service.connect import DEFAULT_CONCURRENCY, connect
from ansible_collections.entra.sync.plugins.module_utils._settings.options import graph_argspec


def with_graph_options(argument_spec):
    """A module's own options and the connection options every Graph module takes."""
    spec = graph_argspec()
    spec.update(argument_spec)
    return spec


class GraphTask:
    """What a run_* of runner.py asks of its module besides params, check_mode, warn, fail_json and exit_json: connect
    on demand, the concurrency option, failing on a Graph error. Shared by GraphModule (a module process) and the
    action plugins' ModuleHere (the same run in the controller's process, plugin_utils/module_here.py)."""

    connection = None

    def connect(self, pool_size=DEFAULT_CONCURRENCY, write_rate=None, batch="none"):
        """Validate every connection option locally, then return a SyncApi; fails the task with the reason.

        write_rate: restarts per second to start from (a pace learned by an earlier task), None to learn it from 429s.
        """
        try:
            self.connection = connect(self.params.get, pool_size=pool_size, write_rate=write_rate, batch=batch, warn=self.warn)
        except EntraSyncError as exc:
            self.fail_json(msg=str(exc))
        return self.connection.api

    def concurrency(self):
        """The module's concurrency option, checked before anything is sent."""
        value = self.params["concurrency"]
        if not 1 <= value <= MAX_CONCURRENCY:
            self.fail_json(msg="concurrency %s is out of range: use 1 to %d." % (value, MAX_CONCURRENCY))
        return value

    def fail_graph(self, exc, **result):
        """Fail on an EntraSyncError, keeping what was done so far in the result (and Graph's status, when it answered)."""
        if exc.status:
            result.update(status=exc.status, error_code=exc.code)
        self.fail_json(msg=str(exc), **result)

    def tenant_id(self):
        """The tenant in use: the option, or the `tid` of the token once one is in hand."""
        return self.connection.tenant_id() if self.connection else None

    @property
    def auth_method_used(self):
        return self.connection.auth_method if self.connection else None


class GraphModule(GraphTask, AnsibleModule):
    """An AnsibleModule that takes the shared connection options and connects to Graph on demand."""

    def __init__(self, argument_spec, **kwargs):
        super().__init__(argument_spec=with_graph_options(argument_spec), **kwargs)
