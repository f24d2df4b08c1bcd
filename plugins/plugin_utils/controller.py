# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When an action plugin of this collection may do its module's work in the controller's own process."""

import importlib.util

LOCAL_CONNECTIONS = ("local", "ansible.builtin.local")
# What a Graph module's work needs in this process (the controller's Python, whatever ansible_python_interpreter says).
GRAPH_LIBRARIES = ("msal", "requests")


def runs_on_controller(connection, task_environment, become=False):
    """Whether the module would run on this machine, as this user, with this process's environment (pure).

    A local connection, no become (the module would run as another user) and no task `environment` (which only a
    module gets). A task that sets none has [{}]: one empty layer per play, block or task.
    """
    return connection in LOCAL_CONNECTIONS and not become and not any(task_environment or [])


def works_here(connection, task_environment, become, async_seconds, libraries_present):
    """Whether a Graph module's action plugin does the module's work in this process instead of starting it (pure).

    Where the module would run on this machine anyway (runs_on_controller), not as an async job (which outlives the
    task: only a module process can), and with the libraries the work needs in this Python.
    """
    return runs_on_controller(connection, task_environment, become) and not async_seconds and libraries_present


def graph_libraries_present():
    return all(importlib.util.find_spec(name) is not None for name in GRAPH_LIBRARIES)
