# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the fleet playbooks: which discovered jobs to restart, and counts for the report."""

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet import tenant_part
from ansible_collections.entra.sync.plugins.module_utils._fleet.fleet_inputs import check_fleet_inputs
from ansible_collections.entra.sync.plugins.module_utils._fleet.inventory_hosts import parse_tenants
from ansible_collections.entra.sync.plugins.module_utils._fleet.tenant_part import action_counts
from ansible_collections.entra.sync.plugins.module_utils._jobs.counts import job_counts
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import decide_restart, validate_conditions
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import job_from_dict


def restart_candidates(jobs, restart_if):
    """The jobs (as sync_job_info returns them) whose status matches restart_if, in input order.

    The same pure decision the modules use, applied to the status discovery just read, so no job is read twice.
    """
    try:
        conditions = validate_conditions(restart_if)
    except InputError as exc:
        raise AnsibleFilterError(str(exc)) from None
    if not isinstance(jobs, list):
        raise AnsibleFilterError("restart_candidates expects a list of jobs, got %s" % type(jobs).__name__)
    return [job for job in jobs if isinstance(job, dict) and decide_restart(job_from_dict(job), conditions).restart]


def report_entry(result):
    """The report's line for one job: who, what was done and why."""
    try:
        return tenant_part.report_entry(result)
    except InputError as exc:
        raise AnsibleFilterError(str(exc)) from None


def tenant_entry(value):
    """One item of entra_sync_tenants, by the inventory plugin's tenant parser."""
    try:
        return parse_tenants([value])[0]
    except InputError as exc:
        raise AnsibleFilterError("entra_sync_tenants: %s" % exc) from None


def fleet_inputs(inputs):
    """Check a fleet run's inputs, each with its own rule and message, before anything is sent; return them typed.

    inputs: the playbook's inputs by name without the entra_sync_ prefix. With no tenants, the run's tenant is
    the one the environment names, as for the modules.
    """
    try:
        return check_fleet_inputs(inputs, os.environ)
    except InputError as exc:
        raise AnsibleFilterError("entra.sync.restart_jobs: bad input, nothing was sent:\n%s" % exc) from None


class FilterModule:
    def filters(self):
        return {
            "restart_candidates": restart_candidates,
            "job_counts": job_counts,
            "action_counts": action_counts,
            "report_entry": report_entry,
            "tenant_entry": tenant_entry,
            "fleet_inputs": fleet_inputs,
        }
