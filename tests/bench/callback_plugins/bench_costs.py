"""`make bench`'s count of what a run costs per host: tasks that ran, module runs, and the controller's CPU by process.

Enabled by bench_measure.playbook_env (ANSIBLE_CALLBACKS_ENABLED=bench_costs, ENTRA_BENCH_COSTS=<file>): at the end of
the run it writes {"hosts": {host: {"tasks": n, "skipped": n, "module_runs": n, "by_action": {...}}},
"cpu": {"main_s": ..., "workers_s": ...}} to that file. A module run is a task whose action starts a module process;
the actions below run in the worker only (Ansible's own controller-side actions and this collection's).
"""

import json
import os
import resource
from collections import Counter, defaultdict

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_costs
type: aggregate
short_description: counts tasks and module runs per host for make bench
description: Writes the counts and the controller's CPU split to the file named by ENTRA_BENCH_COSTS.
requirements: [enabled in the bench's environment]
"""

# Actions that never start a module process (they run in Ansible's worker).
IN_WORKER = frozenset((
    "set_fact", "debug", "fail", "assert", "meta", "include_tasks", "include_role", "import_tasks", "import_role",
    "set_stats", "add_host", "group_by", "include_vars", "fleet_report_files",
))


def short_action(action):
    return action.rsplit(".", 1)[-1]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_costs"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks = Counter()
        self.skipped = Counter()
        self.by_action = defaultdict(Counter)

    def _count(self, result, skipped=False):
        host = result._host.get_name()  # pylint: disable=protected-access
        action = short_action(result._task.action)  # pylint: disable=protected-access
        self.tasks[host] += 1
        if skipped:
            self.skipped[host] += 1
        else:
            self.by_action[host][action] += 1

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_runner_on_skipped(self, result):
        self._count(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("ENTRA_BENCH_COSTS")
        if not path:
            return
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        hosts = {
            host: {"tasks": self.tasks[host], "skipped": self.skipped[host], "by_action": dict(self.by_action[host]),
                   "module_runs": sum(count for action, count in self.by_action[host].items() if action not in IN_WORKER)}
            for host in sorted(self.tasks)
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"hosts": hosts, "cpu": {"main_s": round(own.ru_utime + own.ru_stime, 2),
                                               "workers_s": round(children.ru_utime + children.ru_stime, 2)}}, handle, indent=1)
