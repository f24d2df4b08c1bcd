# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: writes the `saved` value of the task named SAVE_TASK to the file in ENTRA_INT_RESULTS_FILE.

The integration harness registers every task's result and shows them with one ansible.builtin.debug task (which runs
no module, so saving costs nothing); this callback stores that debug result as JSON for the test to read.
"""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: entra_int_results
type: aggregate
short_description: Save the registered results of an entra.sync integration test playbook
description:
  - Writes the C(saved) value of the task named C(Save the registered results) to E(ENTRA_INT_RESULTS_FILE).
requirements:
  - enable in configuration
"""

SAVE_TASK = "Save the registered results"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "entra_int_results"
    CALLBACK_NEEDS_ENABLED = True

    def v2_runner_on_ok(self, result):
        path = os.environ.get("ENTRA_INT_RESULTS_FILE")
        if not path or result._task.get_name() != SAVE_TASK:  # pylint: disable=protected-access
            return
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(result._result.get("saved"), handle)  # pylint: disable=protected-access
