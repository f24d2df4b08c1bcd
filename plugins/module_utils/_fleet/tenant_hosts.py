# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers of the sync_jobs inventory plugin's tenant mode (host_per: tenant): one host per tenant, in the group
entra_tenants, named after the tenant, with its non-secret sign-in options and its discovery counts as variables.

No I/O and no Ansible controller imports. A tenant's secrets (client_secret, client_certificate_password,
access_token) are never among its variables: the play gets them from the environment, a vault or an AWX credential.
"""

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet.inventory_hosts import HOSTVAR_PREFIX, PUBLIC_SIGN_IN_OPTIONS, TENANT_KEYS

TENANT_GROUP = "entra_tenants"
HOST_PER = ("job", "tenant")
# What a tenants item may set in the inventory plugin: the shared keys, the token cache, and the host name.
INVENTORY_TENANT_KEYS = TENANT_KEYS + ("token_cache_path", "name")
ERROR_VAR = HOSTVAR_PREFIX + "inventory_error"


def check_host_per(value):
    """host_per as given, or an InputError naming the choices."""
    if value not in HOST_PER:
        raise InputError("host_per %r is not known: use job (one host per synchronization job) or tenant (one host per tenant)." % (value,))
    return value


def tenant_host_names(entries, tenant_ids):
    """The host name of each tenant: its item's name, else its tenant id (or domain) as given.

    entries: the tenants items (dicts; {} for the one tenant of tenant_id); tenant_ids: the tenant each one signs in to,
    None when not known before signing in. Raises InputError for a tenant without either, or for a name used twice.
    """
    names, seen = [], {}
    for index, (entry, tenant_id) in enumerate(zip(entries, tenant_ids, strict=True)):
        name = entry.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise InputError("tenants[%d] name must be a non-empty string: the host name of that tenant." % index)
        name = (name or tenant_id or "").strip()
        if not name:
            raise InputError("host_per: tenant names each host after its tenant: set tenant_id (or AZURE_TENANT_ID), or list the "
                             "tenant in tenants with its tenant_id.")
        if name.lower() in seen:
            raise InputError("tenants gives the host name %s to two tenants (%s and %s): give each a name of its own."
                             % (name, seen[name.lower()], tenant_id))
        seen[name.lower()] = tenant_id
        names.append(name)
    return names


def public_sign_in_options(entry, source_options):
    """The non-secret sign-in options of one tenant: its item's own, else the source file's; the environment's are not
    included (the play reads the same environment variables itself)."""
    options = {}
    for name in PUBLIC_SIGN_IN_OPTIONS:
        value = entry.get(name)
        if value is None:
            value = source_options.get(name)
        if value is not None and value != "":
            options[name] = value
    return options


def job_counts(jobs):
    """{template_id: {status_code: count}} over job dicts, sorted (the shape of the fleet report's counts_before)."""
    counts = {}
    for job in jobs:
        by_status = counts.setdefault(str(job.get("template_id") or "unknown"), {})
        status = str(job.get("status_code") or "unknown")
        by_status[status] = by_status.get(status, 0) + 1
    return {template: dict(sorted(by_status.items())) for template, by_status in sorted(counts.items())}


def tenant_host_vars(tenant_id, sign_in_options, jobs=None, service_principals_read=None, error=None):
    """The variables of one tenant host.

    jobs: the tenant's job dicts after the template and status filters; None with error (the tenant could not be
    read), and then the counts are null, not zero: nothing is known about its jobs.
    """
    variables = {HOSTVAR_PREFIX + "tenant_id": tenant_id}
    variables.update((HOSTVAR_PREFIX + name, value) for name, value in sign_in_options.items() if name in PUBLIC_SIGN_IN_OPTIONS)
    known = error is None and jobs is not None
    variables[HOSTVAR_PREFIX + "jobs_found"] = len(jobs) if known else None
    variables[HOSTVAR_PREFIX + "job_counts"] = job_counts(jobs) if known else None
    variables[HOSTVAR_PREFIX + "service_principals_read"] = int(service_principals_read or 0) if known else None
    variables[ERROR_VAR] = error
    return variables


def describe_tenant_error(tenant_id, message):
    """One warning line for a tenant that could not be read in tenant mode."""
    return ("entra.sync.sync_jobs: tenant %s could not be read, so its host has no job counts and sets %s: %s"
            % (tenant_id, ERROR_VAR, message))
