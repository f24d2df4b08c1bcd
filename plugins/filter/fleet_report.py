# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the fleet run over tenant hosts: each host's tenant, a failed tenant, the report, merging slices, the jobs
quarantined again and the words for the counts after."""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet import fleet_report as report
from ansible_collections.entra.sync.plugins.module_utils._fleet.fleet_inputs import check_host_tenant
from ansible_collections.entra.sync.plugins.module_utils._fleet.tenant_part import tenant_part


def host_tenant(host_vars, host):
    """The tenant of a tenant host (with its credentials) from its entra_sync_* variables, by name without the prefix."""
    try:
        return check_host_tenant({"host": host, "vars": host_vars})
    except InputError as exc:
        raise AnsibleFilterError("entra.sync.restart_jobs: bad input, nothing was sent:\n%s" % exc) from None


def tenant_failure(state):
    """Why a tenant failed ('' when it has not), from {error, stopped, stopped_by, results}."""
    if not isinstance(state, Mapping):
        raise AnsibleFilterError("tenant_failure expects a dictionary with error, stopped, stopped_by and results")
    return report.tenant_failure(state)


def first_failed_tenant(others, results, tenant_id):
    """'tenant X failed: why' for the first other tenant of the run that has failed, or ''."""
    return report.first_failed_tenant(others, results, tenant_id)


def _part(host, host_vars, finished):
    """A host's part of the run from its facts; a host that did not finish its play (it failed outside the tenant's
    tasks, so it is not among `finished`) gets an error instead."""
    if finished is None or host in finished:
        return tenant_part(host, host_vars)
    label = host_vars.get("entra_sync_tenant_label") or host
    return {"tenant_id": label, "host": host, "error": "the tenant's run did not finish: see host %s in the output" % host,
            "stopped": "", "stopped_by": "", "jobs_found": 0, "summary": {}, "counts_before": {}, "counts_after": {}}


def fleet_report(hosts, hostvars, run, finished=None):
    """report.json of the run, each host's part built here from the facts it left (tenant_part.py).

    finished: the hosts still in the report play (ansible_play_hosts); the others failed before their part was done.
    """
    if not isinstance(run, Mapping):
        raise AnsibleFilterError("fleet_report expects the run's details (form, started_at, finished_at, restart_if, reset_scope)")
    return report.assemble_report([_part(host, hostvars[host], finished) for host in hosts or []], run)


def quarantined_again(read_again, results, found=None):
    """The restarted jobs read again quarantined (entra_sync_verify_after), as the report lists them."""
    return report.quarantined_again(read_again, results, found or [])


def after_label(after_source):
    """How report.md and the console name the counts after a run: 'expected after the restarts (not read again)', ..."""
    return report.after_label(after_source)


def merge_reports(reports, sources=None):
    """One report from the report.json of each slice of a run, equal to an unsliced run's apart from its times."""
    if not isinstance(reports, list):
        raise AnsibleFilterError("merge_reports expects a list of reports")
    sources = list(sources or []) + ["report %d" % (index + 1) for index in range(len(sources or []), len(reports))]
    try:
        return report.merge_reports(reports, sources)
    except InputError as exc:
        raise AnsibleFilterError("entra.sync.merge_reports: %s" % exc) from None


class FilterModule:
    def filters(self):
        return {
            "host_tenant": host_tenant,
            "tenant_failure": tenant_failure,
            "first_failed_tenant": first_failed_tenant,
            "fleet_report": fleet_report,
            "merge_reports": merge_reports,
            "quarantined_again": quarantined_again,
            "after_label": after_label,
        }
