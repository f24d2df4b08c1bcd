# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Graph module's run in the controller's own process, for its action plugin (plugins/action/sync_job*.py).

A module process costs about 0.5 s of CPU before its first request (a Python start, AnsiballZ, the imports): per
tenant and per step of a fleet run, that was most of the controller's CPU. When the module would run on the controller
anyway (controller.works_here), the action plugin checks the same argspec and calls the same run_* of runner.py here,
and returns what the module would: no_log values hidden, warnings, invocation. Otherwise it runs the module as
Ansible's normal action does (async included).
"""

import logging
import traceback
import warnings

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action.normal import ActionModule as NormalAction

from ansible_collections.entra.sync.plugins.module_utils._modules.ansible_graph import GraphTask, with_graph_options
from ansible_collections.entra.sync.plugins.plugin_utils.controller import graph_libraries_present, works_here

SPEC_RULES = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


class ModuleDone(Exception):
    """exit_json or fail_json was called: the run is over, as a module process would exit there."""

    def __init__(self, result):
        super().__init__("module run finished")
        self.result = result


class ModuleHere(GraphTask):
    """What runner.py's run_* use of GraphModule, for a run in this process: exit_json and fail_json end it with ModuleDone."""

    def __init__(self, params, no_log_values, check_mode, diff):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self._no_log_values = no_log_values
        self._warnings = []

    def warn(self, warning):
        self._warnings.append(warning)

    def exit_json(self, **result):
        raise ModuleDone(self._finished(result))

    def fail_json(self, msg, **result):
        raise ModuleDone(self._finished(dict(result, failed=True, msg=msg)))

    def _finished(self, result):
        """The result as AnsibleModule returns it: the options in `invocation`, the warnings, no_log values hidden."""
        result["invocation"] = {"module_args": self.params}
        if self._warnings:
            result["warnings"] = list(self._warnings)
        return remove_values(result, self._no_log_values)


def run_here(module_name, spec, run, args, check_mode, diff):
    """The result of run(ModuleHere) for the task's args, checked against spec (module_specs.py) as AnsibleModule does."""
    validated = ArgumentSpecValidator(with_graph_options(spec["argument_spec"]), **{rule: spec[rule] for rule in SPEC_RULES if rule in spec}).validate(args)
    module = ModuleHere(validated.validated_parameters, validated._no_log_values, check_mode, diff)  # pylint: disable=protected-access
    try:
        if validated.error_messages:
            msg = validated.errors.msg
            if isinstance(validated.errors[0], UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (module_name, msg)
            module.fail_json(msg=msg)
        # A module's Python warnings and library log lines go to its stderr, which Ansible drops: so here too.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.getLogger().addHandler(logging.NullHandler())
            try:
                run(module)
            finally:
                if module.connection is not None:
                    module.connection.close()
    except ModuleDone as done:
        return done.result
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # As a module process that crashed: a failed result with the traceback (shown with -vvv), never the task's
        # arguments, which Ansible prints for an action plugin's exception.
        return {"failed": True, "msg": "%s failed: %s: %s" % (module_name, type(exc).__name__, exc), "exception": traceback.format_exc()}
    return {"failed": True, "msg": "%s ended without a result" % module_name}


class GraphActionBase(NormalAction):
    """The action plugin of a Graph module: its work here when works_here, else the module (Ansible's normal action)."""

    MODULE_SPEC = None   # a function of module_specs.py
    MODULE_RUN = None    # the module's run_* of runner.py

    def run(self, tmp=None, task_vars=None):
        if not works_here(self._connection.transport, self._task.environment, self._play_context.become, self._task.async_val,
                          graph_libraries_present()):
            return super().run(tmp, task_vars)
        result = super(NormalAction, self).run(tmp, task_vars)  # ActionBase's checks, without starting the module
        result.update(run_here(self._task.resolved_action or self._task.action, type(self).MODULE_SPEC(), type(self).MODULE_RUN,
                               self._task.args, self._task.check_mode, self._task.diff))
        return result
