"""`make bench`'s count of what a run costs per host: the tasks that ran, by action, and the controller's CPU split.

Enabled by bench_measure.playbook_env (ANSIBLE_CALLBACK_PLUGINS=this folder, ANSIBLE_CALLBACKS_ENABLED=bench_costs added
to any callbacks already enabled, ENTRA_BENCH_COSTS=<file>): at the end of the run it writes
{"hosts": {host: {"tasks": n, "skipped": n, "by_action": {action: n}}}, "cpu": {"main_s": ..., "children_s": ...}}.

tasks counts every task result of the host (ok, failed, unreachable, skipped; a loop is one task), skipped those that
were skipped, by_action the others by the action's short name. main_s is ansible-playbook's own CPU (the strategy,
templating in the main process, callbacks), children_s the CPU of the processes it started and reaped by now (the
workers, and the shells and module processes they started).

Module runs are NOT counted here: whether a task started a module process is not in its result (an action plugin may
do the module's work inside the worker when the connection is local, as graph_token does, or run the module; a
`validate_argument_spec` or `set_fact` never starts one). bench_measure counts the module processes themselves, each
one writing a line as it exits (tests/bench/module_counter/sitecustomize.py).
"""

import json
import os
import resource
from collections import Counter, defaultdict

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_costs
type: aggregate
short_description: counts the tasks per host for make bench
description: Writes the tasks per host and the controller's CPU split to the file named by ENTRA_BENCH_COSTS.
requirements: [enabled in the bench's environment]
"""


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
        self.tasks[host] += 1
        if skipped:
            self.skipped[host] += 1
        else:
            self.by_action[host][short_action(result._task.action)] += 1  # pylint: disable=protected-access

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
        hosts = {host: {"tasks": self.tasks[host], "skipped": self.skipped[host], "by_action": dict(self.by_action[host])}
                 for host in sorted(self.tasks)}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"hosts": hosts, "cpu": {"main_s": round(own.ru_utime + own.ru_stime, 2),
                                               "children_s": round(children.ru_utime + children.ru_stime, 2)}}, handle, indent=1)
