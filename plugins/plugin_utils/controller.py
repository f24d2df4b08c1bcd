# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When an action plugin of this collection may do its module's work in the controller's own process."""

LOCAL_CONNECTIONS = ("local", "ansible.builtin.local")


def runs_on_controller(connection, task_environment):
    """Whether the module would run on this machine with this process's environment (pure).

    A local connection, and no task `environment` (which only a module gets). A task that sets none has [{}]: one
    empty layer per play, block or task.
    """
    return connection in LOCAL_CONNECTIONS and not any(task_environment or [])
