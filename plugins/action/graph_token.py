# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of entra.sync.graph_token: a device_code sign-in runs here, on the controller, where the person sees the
code while the task waits (a module cannot print while it runs). A tenant the sync_jobs inventory plugin signed in to
earlier in this process (same tenant, client and credential) gets that sign-in's token, so the per-host form signs in
once per tenant per run. A task that runs on the controller anyway (local connection, no task environment) signs in here
too, which spares a module's start-up per sign-in; a task on another host, or with its own environment, runs the module."""

from dataclasses import replace

from ansible.errors import AnsiblePromptInterrupt, AnsiblePromptNoninteractive
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.entra.sync.plugins.module_utils._auth.base import token_result
from ansible_collections.entra.sync.plugins.module_utils._auth.device_code import NO_TERMINAL_MESSAGE, DeviceCodeCredential, token_task_problem
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import pick_auth_method, sign_in
from ansible_collections.entra.sync.plugins.module_utils._auth.registry import shared_credential
from ansible_collections.entra.sync.plugins.module_utils._exceptions import AuthError, EntraSyncError
from ansible_collections.entra.sync.plugins.module_utils._settings.options import GRAPH_TOKEN_ARGSPEC, graph_argspec, settings_from_options
from ansible_collections.entra.sync.plugins.plugin_utils.controller import graph_libraries_present, works_here

display = Display()


def ensure_terminal():
    """Fail at once when nobody can enter the code: ask ansible-playbook's own prompt (it owns the terminal) for no input."""
    try:
        display.prompt_until("Signing in with a device code: a code to enter follows.", private=True, seconds=0)
    except (AnsiblePromptNoninteractive, AnsiblePromptInterrupt):
        raise AuthError(NO_TERMINAL_MESSAGE) from None


def show_prompt(message):
    display.display("entra.sync.graph_token: %s" % message, color="bright yellow")


def inventory_token(params):
    """graph_token's result from the inventory plugin's sign-in to the task's tenant, or None to run the module.

    None too when the options are not usable or that credential cannot renew the token: the module then signs in
    with the task's own options and reports any problem the usual way.
    """
    try:
        settings = replace(settings_from_options(params.get), access_token=None)
        credential = shared_credential(settings)
        if credential is None:
            return None
        token = credential.get_token()  # renewed by the same credential when it nears expiry
    except EntraSyncError:
        return None
    return token_result(credential.settings, credential.method, token, credential.settings.scope, token_source="inventory")


# What a sign-in in this process imports; when the controller's Python lacks one, the module (maybe another Python) signs in.
def controller_token(params):
    """graph_token's result, signed in in this process with the task's options."""
    try:
        return sign_in(settings_from_options(params.get))
    except EntraSyncError as exc:
        return {"failed": True, "msg": str(exc)}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        spec = graph_argspec()
        spec.update(GRAPH_TOKEN_ARGSPEC)
        dummy, params = self.validate_argument_spec(argument_spec=spec)
        problem = token_task_problem(params["auth_method"], params["force_sign_in"], params["scopes"])
        if problem:
            result.update(failed=True, msg=problem)
            return result
        if params["auth_method"] != "device_code":
            answer = inventory_token(params)
            if answer is None and works_here(self._connection.transport, self._task.environment, self._play_context.become,
                                             self._task.async_val, graph_libraries_present()):
                answer = controller_token(params)
            result.update(answer or self._execute_module(module_name="entra.sync.graph_token", task_vars=task_vars))
            return result
        try:
            # A token handed down through module_defaults is not a credential: this task always signs in.
            settings = replace(settings_from_options(params.get), access_token=None)
            pick_auth_method(settings)  # refuses an application credential given beside device_code
            credential = DeviceCodeCredential(settings, prompt=show_prompt, force_sign_in=params["force_sign_in"],
                                              scopes=params["scopes"], ensure_terminal=ensure_terminal)
            credential.validate()
        except EntraSyncError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        try:
            token = credential.get_token()
        except EntraSyncError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        finally:
            for warning in credential.warnings:  # shown apart: the role's task hides its result (no_log)
                display.warning(warning)
        result.update(token_result(settings, credential.method, token, credential.scope))
        result["account"] = credential.account
        return result
