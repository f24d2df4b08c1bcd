# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers of the sync_jobs inventory plugin: tenants, host names, host variables and groups.

No I/O and no Ansible controller imports, so everything here is unit-tested without a server or an inventory.
The jobs are the snake_case dicts of Job.to_dict() plus ``tenant_id`` (the shape the plugin caches).
"""

import re
import unicodedata

from ansible_collections.entra.sync.plugins.module_utils._exceptions import InputError
from ansible_collections.entra.sync.plugins.module_utils._jobs.decisions import matching_conditions
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import job_from_dict
from ansible_collections.entra.sync.plugins.module_utils._jobs.remedy import diagnose_dict

HOSTVAR_PREFIX = "entra_sync_"
NAME_SEPARATOR = "__"
SLUG_MAX = 40
HOSTNAME_STYLES = ("display_name", "id")

# What one entry of the tenants option may set for its tenant; everything else is shared by every tenant.
TENANT_KEYS = (
    "tenant_id", "client_id", "client_secret", "client_certificate_path", "client_certificate_password",
    "federated_token_file", "managed_identity", "auth_method", "access_token",
)
# A tenant host's variables (entra_sync_ + the name): the module options each tenant may set for itself. The ready
# token is entra_sync_tenant_access_token, as entra_sync_access_token is the graph_auth role's fact.
HOST_TENANT_VARS = {
    "tenant_id": "tenant_id", "client_id": "client_id", "client_secret": "client_secret",
    "client_certificate_path": "client_certificate_path", "client_certificate_password": "client_certificate_password",
    "federated_token_file": "federated_token_file", "managed_identity": "managed_identity", "auth_method": "auth_method",
    "token_cache_path": "token_cache_path", "tenant_access_token": "access_token",
}
SECRET_TENANT_KEYS = ("client_secret", "client_certificate_password", "access_token")
# The sign-in options a tenant host may carry in the inventory (never a secret): what the tenant mode exports as host vars.
PUBLIC_SIGN_IN_OPTIONS = tuple(option for option in HOST_TENANT_VARS.values() if option not in SECRET_TENANT_KEYS + ("tenant_id",))

_SLUG_DROP = re.compile(r"[^a-z0-9]+")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


# ---- tenants ---------------------------------------------------------------------------------------------------

def parse_tenants(value, keys=TENANT_KEYS):
    """The tenants option as a list of dicts of `keys` (each with tenant_id); [] when not given.

    Each item is a tenant id (a string) or a dict with tenant_id and optional per-tenant sign-in options.
    Duplicates are refused: they would list the same jobs twice.
    """
    if value is None or value == []:
        return []
    if not isinstance(value, list):
        raise InputError("tenants must be a list of tenant ids or of dicts with tenant_id, got %s." % type(value).__name__)
    tenants = []
    seen = set()
    for index, item in enumerate(value):
        if isinstance(item, str):
            item = {"tenant_id": item}
        if not isinstance(item, dict):
            raise InputError("tenants[%d] must be a tenant id or a dict with tenant_id, got %s." % (index, type(item).__name__))
        unknown = sorted(str(key) for key in item if key not in keys)
        if unknown:
            raise InputError(
                "tenants[%d] has unknown keys %s: use %s (other options are shared by every tenant)."
                % (index, ", ".join(unknown), ", ".join(keys))
            )
        tenant_id = item.get("tenant_id")
        if not isinstance(tenant_id, str) or not tenant_id.strip():
            raise InputError("tenants[%d] needs a tenant_id (the directory id or a verified domain)." % index)
        entry = {key: item[key] for key in keys if item.get(key) is not None}
        entry["tenant_id"] = tenant_id.strip()
        if entry["tenant_id"].lower() in seen:
            raise InputError("tenants lists %s twice." % entry["tenant_id"])
        seen.add(entry["tenant_id"].lower())
        tenants.append(entry)
    return tenants


def tenant_get_option(get_option, overrides):
    """A get_option for one tenant: its own values first, then the plugin's options."""
    def get(name):
        if name in overrides:
            return overrides[name]
        return get_option(name)
    return get


def check_shared_access_token(tenants, access_token):
    """An access token is issued for one tenant: with several tenants each one needs its own, or none at all."""
    if access_token and len(tenants) > 1:
        missing = [tenant["tenant_id"] for tenant in tenants if "access_token" not in tenant]
        if missing:
            raise InputError(
                "access_token (or ENTRA_SYNC_ACCESS_TOKEN) is set but tenants lists %d tenants, and a token is valid for one tenant "
                "only: give each tenant its own access_token in tenants, or sign in with a credential (client_secret, "
                "client_certificate_path, federated_token_file, managed_identity) shared by every tenant. Tenants without "
                "their own token: %s." % (len(tenants), ", ".join(missing))
            )


# ---- host names --------------------------------------------------------------------------------------------------

def slug(text, max_length=SLUG_MAX):
    """A short lowercase ASCII form of a display name: 'HR Workday -> AD (prod)' -> 'hr_workday_ad_prod'; '' if nothing is left."""
    if not isinstance(text, str):
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_DROP.sub("_", ascii_text.lower()).strip("_")[:max_length].strip("_")


def safe_part(text):
    """An id made safe for a host name: characters other than letters, digits, '.', '_' and '-' become '_'."""
    return _UNSAFE_NAME_CHARS.sub("_", str(text or "")).strip("_") or "unknown"


def job_key(job):
    """What identifies a job: (tenant, service principal, job), compared case-insensitively."""
    return tuple((job.get(name) or "").lower() for name in ("tenant_id", "service_principal_id", "job_id"))


def unique_jobs(jobs):
    """The jobs with duplicates (same tenant, service principal and job) dropped, the first kept, order kept."""
    seen = set()
    out = []
    for job in jobs:
        key = job_key(job)
        if key not in seen:
            seen.add(key)
            out.append(job)
    return out


def _name_forms(job, style):
    """Candidate names for a job, shortest first; the next form is used when the previous one collides."""
    sp_id = safe_part(job.get("service_principal_id"))
    job_id = safe_part(job.get("job_id"))
    tenant = safe_part(job.get("tenant_id"))
    if style == "id":
        return [
            NAME_SEPARATOR.join((sp_id, job_id)),
            NAME_SEPARATOR.join((sp_id, job_id, tenant)),
        ]
    label = slug(job.get("service_principal_name")) or sp_id
    return [
        NAME_SEPARATOR.join((label, job_id)),
        NAME_SEPARATOR.join((label, sp_id, job_id)),
        NAME_SEPARATOR.join((label, sp_id, job_id, tenant)),
    ]


def host_names(jobs, style="display_name"):
    """One unique, stable host name per job (a list in the order of jobs; pass unique_jobs() output).

    ``display_name`` style: ``<display name slug>__<job id>``; every job whose name would be shared by another
    gets ``<slug>__<service principal id>__<job id>`` instead, then ``...__<tenant id>`` if still shared. The rule
    depends only on the set of jobs, never on the order Graph returned them in. ``id`` style:
    ``<service principal id>__<job id>`` (``__<tenant id>`` added when shared).
    """
    if style not in HOSTNAME_STYLES:
        raise InputError("hostnames %r is not known: use one of %s." % (style, ", ".join(HOSTNAME_STYLES)))
    forms = [_name_forms(job, style) for job in jobs]
    level = [0] * len(jobs)
    while True:
        owners = {}
        for index, candidates in enumerate(forms):
            owners.setdefault(candidates[level[index]], []).append(index)
        clashes = [indexes for indexes in owners.values() if len(indexes) > 1]
        moved = False
        for indexes in clashes:
            for index in indexes:
                if level[index] < len(forms[index]) - 1:
                    level[index] += 1
                    moved = True
        if not moved:
            break
    names = [candidates[level[index]] for index, candidates in enumerate(forms)]
    # Same job twice (not passed through unique_jobs): number the repeats rather than lose one.
    counts = {}
    for index, name in enumerate(names):
        counts[name] = counts.get(name, 0) + 1
        if counts[name] > 1:
            names[index] = "%s%s%d" % (name, NAME_SEPARATOR, counts[name])
    return names


# ---- host variables and groups -------------------------------------------------------------------------------------

def job_conditions(job):
    """The restart_if conditions the job matches (quarantined, failed, entry_errors, paused), as sync_job_restart sees them."""
    return list(matching_conditions(job_from_dict(job)))


def host_vars(job, prefix=HOSTVAR_PREFIX):
    """The host variables of one job: every field of the job dict (tenant_id included) with the prefix, plus
    ``<prefix>conditions``, the restart_if conditions it matches, and what fixes it (remedy, remedy_reason, disables_at;
    computed here, so a cache written before them still gives them)."""
    variables = {prefix + key: value for key, value in job.items()}
    variables.setdefault(prefix + "tenant_id", None)
    variables[prefix + "conditions"] = job_conditions(job)
    variables.update({prefix + key: value for key, value in diagnose_dict(job).items()})
    return variables


def condition_groups(job):
    """The default groups of a job: one per matching restart_if condition (quarantined, failed, entry_errors, paused)."""
    return job_conditions(job)


def describe_read_error(error, tenant_id=None):
    """One warning line for a service principal whose jobs could not be read."""
    where = " in tenant %s" % tenant_id if tenant_id else ""
    return "entra.sync.sync_jobs: the jobs of service principal %s%s could not be read, so its jobs are missing from the inventory: %s" % (
        error.get("service_principal_id"), where, error.get("message"))
