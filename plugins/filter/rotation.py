# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for entra.sync.rotate_credentials: its jobs checked (no value kept), a tenant host's sign-in, each job's entry
and the report (module_utils/_fleet/rotation.py)."""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet import rotation


def rotation_inputs(inputs):
    """The rotation's inputs checked: jobs as [{index, service_principal_id, job_id, keys}] (never a value), test_only,
    reset_scope, wait_timeout, report_dir."""
    if not isinstance(inputs, Mapping):
        raise AnsibleFilterError("rotation_inputs expects a dictionary of the playbook's inputs")
    try:
        return rotation.check_rotation_inputs(inputs)
    except InputError as exc:
        raise AnsibleFilterError(str(exc)) from None


def saved_jobs(tested, status_code):
    """The saved jobs that had this status before, as {service_principal_id, job_id}."""
    return rotation.saved_jobs(tested, status_code)


def tenant_sign_in(host_vars, host):
    """A tenant host's sign-in options for module_defaults, from its entra_sync_* variables; {} for localhost."""
    if not isinstance(host_vars, Mapping):
        raise AnsibleFilterError("tenant_sign_in expects the host's variables (hostvars[inventory_hostname])")
    try:
        return rotation.tenant_sign_in(host_vars, host)
    except InputError as exc:
        raise AnsibleFilterError(rotation.BAD_INPUT + str(exc)) from None


def heal_credentials(mapping, job):
    """The credentials entra_sync_heal_credentials holds for a job (a job dict of an event): by job id, else service
    principal id. Use it only where the value is sent (a module option with no_log), never in a fact."""
    if not isinstance(job, Mapping):
        raise AnsibleFilterError("heal_credentials expects the job of a self-heal event")
    try:
        return rotation.credentials_for(mapping, job.get("service_principal_id"), job.get("job_id"))
    except InputError as exc:
        raise AnsibleFilterError(str(exc)) from None


def rotation_entries(checked, tested=None, started=None, restarted=None, tenant_id="", error="", test_only=False):
    """Each checked job's entry (tested, saved, restarted, healthy, outcome, error code) from the host's registered results."""
    return rotation.rotation_entries(checked, tested, started, restarted, tenant_id, error, test_only)


def rotation_report(parts, run):
    """report.json of a rotation from each host's part ({tenant_id, host, error, jobs})."""
    if not isinstance(run, Mapping):
        raise AnsibleFilterError("rotation_report expects the run's details (started_at, finished_at, test_only, reset_scope)")
    return rotation.rotation_report(parts, run)


class FilterModule:
    def filters(self):
        return {
            "heal_credentials": heal_credentials,
            "rotation_inputs": rotation_inputs,
            "saved_jobs": saved_jobs,
            "tenant_sign_in": tenant_sign_in,
            "rotation_entries": rotation_entries,
            "rotation_report": rotation_report,
        }
