# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_here: a Graph module's run in the controller's process returns what the module process would (the argspec checked
the same way, no_log values hidden, warnings, invocation) and never lets an exception carry the task's arguments out."""

import pytest

from ansible_collections.entra.sync.plugins.module_utils._modules.module_specs import credentials_spec, info_spec, restart_spec
from ansible_collections.entra.sync.plugins.plugin_utils.module_here import run_here

SECRET = "s3cr3t-value-never-shown"


def finishing(**result):
    def run(module):
        module.warn("a note")
        module.exit_json(changed=False, seen=dict(module.params), check_mode=module.check_mode, diff=module._diff, **result)
    return run


def test_a_run_returns_the_module_result_with_invocation_and_warnings():
    result = run_here("entra.sync.sync_job_info", info_spec(), finishing(tenant="t"), {"client_secret": SECRET, "service_principal_id": "sp"}, True, False)
    assert result["tenant"] == "t" and result["warnings"] == ["a note"] and result["check_mode"] is True and result["diff"] is False
    # defaults filled in as AnsibleModule does, the secret hidden wherever it appears
    assert result["seen"]["batch"] == "reads" and result["seen"]["concurrency"] == 10
    assert result["invocation"]["module_args"]["service_principal_id"] == "sp"
    assert SECRET not in repr(result) and result["invocation"]["module_args"]["client_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_a_no_log_dict_option_is_hidden_in_the_result_too():
    def run(module):
        module.fail_json(msg="the target refused %s" % module.params["credentials"]["SecretToken"])
    result = run_here("entra.sync.sync_job_credentials", credentials_spec(), run,
                      {"service_principal_id": "sp", "job_id": "j", "credentials": {"SecretToken": SECRET}}, False, False)
    assert result["failed"] and SECRET not in repr(result) and "********" in result["msg"]


@pytest.mark.parametrize("args, words", [
    ({"service_principal_id": "sp", "bogus": 1}, "Unsupported parameters for (entra.sync.sync_job_restart) module: bogus"),
    ({"service_principal_id": "sp", "restart_if": ["sometimes"]}, "restart_if"),
    ({"jobs": [], "service_principal_id": "sp"}, "mutually exclusive"),
    ({}, "one of the following is required: service_principal_id, jobs"),
    ({"service_principal_id": "sp", "concurrency": "many"}, "concurrency"),
])
def test_bad_options_fail_before_the_run(args, words):
    ran = []
    result = run_here("entra.sync.sync_job_restart", restart_spec(), ran.append, dict(args, client_secret=SECRET), False, False)
    assert result["failed"] and words in result["msg"], result
    assert not ran and SECRET not in repr(result)


def test_an_unexpected_exception_is_a_failed_result_without_the_arguments():
    def run(module):
        raise KeyError("missing")
    result = run_here("entra.sync.sync_job_info", info_spec(), run, {"client_secret": SECRET}, False, False)
    assert result["failed"] and result["msg"] == "entra.sync.sync_job_info failed: KeyError: 'missing'"
    assert "KeyError" in result["exception"] and SECRET not in repr(result)


def test_a_run_that_never_finishes_is_a_failure_not_a_success():
    result = run_here("entra.sync.sync_job_info", info_spec(), lambda module: None, {}, False, False)
    assert result == {"failed": True, "msg": "entra.sync.sync_job_info ended without a result"}
