# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each Graph job module's argspec and option rules, in one place for its module (main) and for its action plugin,
which does the same work in the controller's process when the module would run there (plugin_utils/module_here.py)."""

from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import JOB_STATES, RESTART_CONDITIONS
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import REMEDIES
from ansible_collections.entra.sync.plugins.module_utils._jobs.waiting import DEFAULT_INTERVAL, DEFAULT_TIMEOUT
from ansible_collections.entra.sync.plugins.module_utils._service.connect import DEFAULT_CONCURRENCY


def job_options(**own):
    """The argspec of a job module: the options that name jobs (shared by every job module) and the module's own."""
    spec = {
        "service_principal_id": {"type": "str"},
        "job_id": {"type": "str"},
        "jobs": {"type": "list", "elements": "dict"},
        "concurrency": {"type": "int", "default": DEFAULT_CONCURRENCY},
    }
    spec.update(own)
    return spec


def info_spec():
    """sync_job_info: GraphModule's keyword arguments (its own options; GraphModule adds the connection options)."""
    return {
        "argument_spec": job_options(**{
            "template_id": {"type": "list", "elements": "str"},
            "status_code": {"type": "list", "elements": "str"},
            "service_principal_filter": {"type": "str"},
            "restart_if": {"type": "list", "elements": "str", "choices": list(RESTART_CONDITIONS)},
            "restart_remedies": {"type": "list", "elements": "str", "choices": list(REMEDIES)},
            "batch": {"type": "str", "default": "reads", "choices": ["none", "reads"]},
        }),
        "required_by": {"job_id": "service_principal_id"},
        "mutually_exclusive": [("service_principal_id", "service_principal_filter"), ("jobs", "service_principal_id"),
                               ("jobs", "service_principal_filter")],
        "supports_check_mode": True,
    }


def restart_spec():
    """sync_job_restart: GraphModule's keyword arguments."""
    return {
        "argument_spec": job_options(**{
            "template_id": {"type": "list", "elements": "str"},
            "reset_scope": {"type": "list", "elements": "str"},
            "allow_connector_data_store": {"type": "bool", "default": False},
            "restart_if": {"type": "list", "elements": "str", "default": ["always"], "choices": list(RESTART_CONDITIONS)},
            "restart_remedies": {"type": "list", "elements": "str", "choices": list(REMEDIES)},
            "allow_escrows_pruned": {"type": "bool", "default": False},
            "trust_input_status": {"type": "bool", "default": False},
            "max_status_age": {"type": "int", "default": 300},
            "batch": {"type": "str", "default": "none", "choices": ["none", "reads", "all"]},
            "write_rate": {"type": "float"},
            "wait": {"type": "bool", "default": False},
            "wait_timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
            "wait_interval": {"type": "float", "default": DEFAULT_INTERVAL},
            "canary_size": {"type": "int", "default": 0},
        }),
        "mutually_exclusive": [("jobs", "service_principal_id"), ("jobs", "job_id"), ("jobs", "template_id"), ("job_id", "template_id")],
        "required_one_of": [("service_principal_id", "jobs")],
        "supports_check_mode": True,
    }


def state_spec():
    """sync_job: GraphModule's keyword arguments."""
    return {
        "argument_spec": job_options(**{
            "state": {"type": "str", "required": True, "choices": list(JOB_STATES)},
            "allow_escrows_pruned": {"type": "bool", "default": False},
        }),
        "mutually_exclusive": [("jobs", "service_principal_id"), ("jobs", "job_id")],
        "required_one_of": [("service_principal_id", "jobs")],
        "required_together": [("service_principal_id", "job_id")],
        "supports_check_mode": True,
    }


def credentials_spec():
    """sync_job_credentials: GraphModule's keyword arguments."""
    return {
        "argument_spec": {
            "service_principal_id": {"type": "str", "required": True},
            "job_id": {"type": "str", "required": True},
            "credentials": {"type": "dict", "no_log": True},
            "use_saved_credentials": {"type": "bool", "default": False},
            "test_only": {"type": "bool", "default": False},
        },
        "supports_check_mode": True,
    }
