# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an action plugin of this collection does its module's work in the controller's process: only where the module
would run on this machine, as this user, with this process's environment."""

import pytest

from ansible_collections.entra.sync.plugins.plugin_utils.controller import runs_on_controller, works_here


@pytest.mark.parametrize("connection, environment, become, here", [
    ("local", [{}], False, True),
    ("ansible.builtin.local", None, False, True),
    ("local", [{}, {}], False, True),  # what Ansible gives a task when no play, block or task sets an environment
    ("ssh", [{}], False, False),  # the module runs on that host (a managed identity there, its network)
    ("local", [{"HTTPS_PROXY": "http://proxy:3128"}], False, False),  # only the module gets a task environment
    ("local", [{}], True, False),  # become: the module runs as another user (its files, its token cache)
])
def test_runs_on_controller_only_locally_as_this_user_without_a_task_environment(connection, environment, become, here):
    assert runs_on_controller(connection, environment, become) is here


@pytest.mark.parametrize("connection, become, async_seconds, libraries, here", [
    ("local", False, 0, True, True),
    ("local", False, None, True, True),
    ("ssh", False, 0, True, False),
    ("local", True, 0, True, False),
    ("local", False, 300, True, False),  # an async job outlives the task: only a module process can
    ("local", False, 0, False, False),  # the controller's Python lacks msal or requests: the module's interpreter may have them
])
def test_works_here_where_the_module_would_run_here_and_could(connection, become, async_seconds, libraries, here):
    assert works_here(connection, [{}], become, async_seconds, libraries) is here
