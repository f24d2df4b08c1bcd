# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: sync_jobs
short_description: Microsoft Entra provisioning and Cloud Sync jobs as inventory hosts
description:
  - One host per synchronization job of every service principal of the tenant (or of several tenants), read through Microsoft Graph.
  - Host variables hold the job's status (prefix C(entra_sync_)), so a play can target, for example, the quarantined jobs
    and restart them with M(entra.sync.sync_job_restart) on C(localhost) or with C(delegate_to).
  - The source file name must end in C(sync_jobs.yml) or C(sync_jobs.yaml), for example C(prod.sync_jobs.yml).
  - "Host names are C(<display name slug>__<job id>): the service principal's display name in lowercase ASCII letters, digits
    and C(_) (at most 40 characters; its object id when it has no name), two underscores, then the job id. When two jobs
    would get the same name, both get C(<slug>__<service principal id>__<job id>) instead (and C(__<tenant id>) at the end
    if they are still the same). With O(hostnames=id) names are C(<service principal id>__<job id>), which never change
    when an application is renamed."
  - "Host variables: C(entra_sync_tenant_id), C(entra_sync_service_principal_id), C(entra_sync_service_principal_name),
    C(entra_sync_app_id), C(entra_sync_job_id), C(entra_sync_template_id), C(entra_sync_status_code),
    C(entra_sync_schedule_state), C(entra_sync_schedule_interval), C(entra_sync_quarantine_reason),
    C(entra_sync_quarantine_error_code), C(entra_sync_quarantine_error_message), C(entra_sync_quarantine_tenant_actionable),
    C(entra_sync_quarantine), C(entra_sync_last_execution_state), C(entra_sync_last_execution_error), C(entra_sync_last_execution_time_began),
    C(entra_sync_last_execution_time_ended), C(entra_sync_last_successful_execution_time),
    C(entra_sync_count_successive_complete_failures), C(entra_sync_escrows_pruned), C(entra_sync_steady_state_last_achieved_time),
    C(entra_sync_troubleshooting_url), C(entra_sync_synchronized_entry_counts) (the fields M(entra.sync.sync_job_info) returns),
    C(entra_sync_conditions), the O(entra.sync.sync_job_restart#module:restart_if) conditions the job matches, and what
    fixes the job as M(entra.sync.sync_job_info) says it: C(entra_sync_remedy) (C(none), C(restart), C(credentials),
    C(fix_target), C(approve_deletes), C(support) or C(clean_up_errors); a job that is not quarantined is C(none) unless
    it is paused with C(escrowsPruned)), C(entra_sync_remedy_reason) (what a person does) and C(entra_sync_disables_at)
    (when a quarantine disables the job, null when unknown)."
  - "A group per remedy comes from O(keyed_groups) with C(key: entra_sync_remedy) and C(prefix: remedy): C(remedy_restart),
    C(remedy_credentials), C(remedy_approve_deletes) and so on (see the examples)."
  - With O(condition_groups) (the default), each host is also in a group per condition it matches, named as the
    O(entra.sync.sync_job_restart#module:restart_if) conditions are, C(quarantined), C(failed), C(entry_errors) and C(paused).
  - Text read from Graph (display names, error messages) that looks like a Jinja2 template is marked unsafe, so it is
    never templated.
  - A service principal whose jobs cannot be read (for example a 5xx error after the retries) is named in a warning and in
    the C(entra_sync_inventory_errors) variable of the C(all) group; the other jobs are still listed. A tenant that
    cannot be listed at all (sign-in or permission error) fails the source.
  - "With O(host_per=tenant), the hosts are the tenants instead: one host per tenant, in the group C(entra_tenants), for the
    per-host form of the C(entra.sync.restart_jobs) playbook (C(forks) run tenants in parallel, AWX job slicing splits
    them). Its name is the C(name) of its O(tenants) item, else the tenant id (or domain) as given. Its variables are
    C(entra_sync_tenant_id), the non-secret sign-in options its item or the source file sets (C(entra_sync_client_id),
    C(entra_sync_auth_method), C(entra_sync_client_certificate_path), C(entra_sync_federated_token_file),
    C(entra_sync_managed_identity), C(entra_sync_token_cache_path); the environment's are left out, since the play reads the
    same environment variables), the counts of the jobs that O(template_ids), O(status_codes) and O(service_principal_filter)
    keep: C(entra_sync_jobs_found), C(entra_sync_job_counts) (by template id, then status code, the shape of the fleet
    report's C(counts_before)) and C(entra_sync_service_principals_read), and C(entra_sync_inventory_error) (null when the
    tenant was read). No host is made per job."
  - "With O(host_per=tenant), a tenant that cannot be read (its sign-in fails, a permission is missing, the listing fails) is
    still a host: its counts are null, C(entra_sync_inventory_error) holds the reason, a warning names it, and the other
    tenants are read as usual. A bad option (a missing credential, an unreadable certificate, a bad tenant id) still fails
    the source before any request."
  - "Secrets (C(client_secret), C(client_certificate_password), C(access_token)) are never host or group variables, in either
    mode: the play gets them from the environment, a vault or an AWX credential."
  - "With O(host_per=tenant), the sign-in to each tenant is kept in the memory of the process that parsed the inventory. In
    C(ansible-playbook), the M(entra.sync.graph_token) tasks that name the same tenant and client (with no other credential)
    get that sign-in's token, renewed when it nears expiry, instead of signing in again: the per-host form signs in once per
    tenant per run. Nothing is written to the cache or the inventory for it. (In AWX the inventory update runs in its own
    process, so each job signs in itself.)"
  - With the cache on, the jobs of each tenant (before the template and status filters) are kept in the cache and the
    hosts are built from them, so changing O(compose), O(keyed_groups), O(template_ids) or O(status_codes) needs no new
    read. A tenant where some service principal could not be read is not cached.
version_added: 0.1.0
author:
  - entra.sync maintainers (@entra-sync)
extends_documentation_fragment:
  - entra.sync.graph
  - entra.sync.graph.plugins
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; makes the file a source for it.
    type: str
    required: true
    choices: [entra.sync.sync_jobs]
  tenants:
    description:
      - The tenants to read, with the same app credentials. Each item is a tenant id (or verified domain), or a dictionary with
        C(tenant_id) and optionally its own C(client_id), C(client_secret), C(client_certificate_path), C(client_certificate_password),
        C(federated_token_file), C(managed_identity), C(auth_method), C(token_cache_path) or C(access_token); the other options
        apply to every tenant.
      - An item may also set C(name), the host name of that tenant with O(host_per=tenant) (default its C(tenant_id)).
      - When empty, the one tenant of O(tenant_id) is read.
      - With O(host_per=tenant), up to 8 tenants are read at the same time, each with O(concurrency) requests (each tenant has
        its own throttling budget).
      - An O(access_token) is valid for one tenant only, so with several tenants each needs its own C(access_token) in its item,
        or none of them uses a token.
    type: list
    elements: raw
    default: []
  template_ids:
    description:
      - Only jobs made from these templates (for example V(scim), V(AD2AADProvisioning)), compared case-insensitively. Empty for all.
    type: list
    elements: str
    default: []
  status_codes:
    description:
      - Only jobs whose status code is one of these (V(Quarantine), V(Active), V(Paused), V(NotRun), V(NotConfigured)),
        compared case-insensitively. Empty for all.
    type: list
    elements: str
    default: []
  service_principal_filter:
    description:
      - An OData C($filter) on C(/servicePrincipals) that limits the service principals read, for example V(startswith(displayName,'HR')).
    type: str
  concurrency:
    description:
      - How many service principals' jobs are read at the same time, from 1 to 64.
    type: int
    default: 10
  hostnames:
    description:
      - V(display_name) (the default) names hosts C(<display name slug>__<job id>), for example
        C(hr_workday__Workday2AD.5d1c...), the application's name and then the job id, which starts with its template id.
        Names stay unique; the rule for names that would be shared is in the description above.
      - V(id) names them C(<service principal id>__<job id>), which does not change when an application is renamed.
    type: str
    default: display_name
    choices: [display_name, id]
  host_per:
    description:
      - V(job) (the default) makes one host per synchronization job.
      - V(tenant) makes one host per tenant of O(tenants) (or the one tenant of O(tenant_id)), in the group C(entra_tenants),
        with its discovery counts as variables; see the description above.
    type: str
    default: job
    choices: [job, tenant]
  condition_groups:
    description:
      - Add each host to the groups C(quarantined), C(failed), C(entry_errors) and C(paused) that its status matches.
      - Not used with O(host_per=tenant).
    type: bool
    default: true
notes:
  - >-
    Permissions: application permission C(Synchronization.Read.All) (or C(Synchronization.ReadWrite.All)) to read the
    jobs, and C(Application.Read.All) to list the service principals, both with admin consent. For a delegated (user)
    token, the same permissions as delegated permissions, and the signed-in user needs a directory role that covers the
    app's provisioning (Application Administrator or Cloud Application Administrator; Hybrid Identity Administrator for
    Cloud Sync jobs).
  - String options given in the source file (not through the environment) may be templates, for example
    V({{ lookup('ansible.builtin.env', 'MY_SECRET'\) }}); they are templated before use.
  - In AWX or Ansible Automation Platform, attach the built-in Microsoft Azure Resource Manager credential (or a custom credential
    that injects the environment variables above) to the inventory source.
seealso:
  - name: List synchronization jobs (Microsoft Graph)
    link: https://learn.microsoft.com/graph/api/synchronization-synchronization-list-jobs
    description: "Microsoft Graph API reference of List synchronization jobs: the request, the permissions it needs, its answers."
  - module: entra.sync.sync_job_info
  - module: entra.sync.sync_job_restart
requirements:
  - cryptography >= 3.4 (only to sign in with a client certificate, O(client_certificate_path))
"""

EXAMPLES = r"""
---
# prod.sync_jobs.yml: every job of the tenant of AZURE_TENANT_ID, signed in with AZURE_CLIENT_ID and AZURE_CLIENT_SECRET
plugin: entra.sync.sync_jobs

---
# hr.sync_jobs.yml: SCIM and Workday jobs of HR apps, grouped by template and status, cached for 10 minutes
plugin: entra.sync.sync_jobs
template_ids: [scim, Workday2AD]
service_principal_filter: "startswith(displayName,'HR')"
keyed_groups:
  - key: entra_sync_template_id
    prefix: template
  - key: entra_sync_status_code
    prefix: status
compose:
  ansible_connection: "'local'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/entra_sync_inventory
cache_timeout: 600

---
# remedies.sync_jobs.yml: the jobs grouped by what fixes them: remedy_restart (a restart can fix it), remedy_credentials,
# remedy_fix_target, remedy_approve_deletes, remedy_support, remedy_clean_up_errors (and remedy_none for the healthy ones),
# and soon_disabled for the quarantines that disable their job within 7 days.
plugin: entra.sync.sync_jobs
keyed_groups:
  - key: entra_sync_remedy
    prefix: remedy
groups:
  soon_disabled: >-
    entra_sync_disables_at is not none
    and (entra_sync_disables_at | to_datetime('%Y-%m-%dT%H:%M:%SZ') - now(utc=true).replace(tzinfo=none)).days < 7

---
# msp.sync_jobs.yml: two customer tenants, one app registration consented in both, a group per tenant
plugin: entra.sync.sync_jobs
tenants:
  - 11111111-1111-1111-1111-111111111111
  - tenant_id: contoso.onmicrosoft.com
    client_id: 22222222-2222-2222-2222-222222222222
keyed_groups:
  - key: entra_sync_tenant_id
    prefix: tenant

---
# tenants.sync_jobs.yml: one host per customer tenant (group entra_tenants) for the per-host fleet run, signed in with one
# multi-tenant app: AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or an AWX credential) in the environment of the inventory
# update and of the job. The counts count the quarantined jobs only; tenants with some go in the group needs_restart.
plugin: entra.sync.sync_jobs
host_per: tenant
tenants:
  - tenant_id: 11111111-1111-1111-1111-111111111111
    name: fabrikam
  - tenant_id: contoso.onmicrosoft.com
    name: contoso
  - tenant_id: 33333333-3333-3333-3333-333333333333
    client_id: 44444444-4444-4444-4444-444444444444
    client_certificate_path: /etc/entra/northwind.pem
status_codes: [Quarantine]
groups:
  needs_restart: entra_sync_jobs_found | default(0, true) > 0
  unreadable: entra_sync_inventory_error is not none
"""

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.entra.sync.plugins.module_utils._auth.registry import remember
from ansible_collections.entra.sync.plugins.module_utils._exceptions import EntraSyncError, InputError
from ansible_collections.entra.sync.plugins.module_utils._fleet.inventory_hosts import (
    PUBLIC_SIGN_IN_OPTIONS,
    check_shared_access_token,
    condition_groups,
    describe_read_error,
    host_names,
    host_vars,
    parse_tenants,
    tenant_get_option,
    unique_jobs,
)
from ansible_collections.entra.sync.plugins.module_utils._fleet.tenant_hosts import (
    INVENTORY_TENANT_KEYS,
    TENANT_GROUP,
    check_host_per,
    describe_tenant_error,
    public_sign_in_options,
    tenant_host_names,
    tenant_host_vars,
)
from ansible_collections.entra.sync.plugins.module_utils._graph.concurrency import MAX_CONCURRENCY, run_bounded
from ansible_collections.entra.sync.plugins.module_utils._service.connect import connect
from ansible_collections.entra.sync.plugins.module_utils._service.discovery import JobFilter, scan_tenant
from ansible_collections.entra.sync.plugins.module_utils._settings.options import GRAPH_ARGSPEC

FILE_SUFFIXES = ("sync_jobs.yml", "sync_jobs.yaml")
CACHE_FORMAT = 2  # 2: a tenant's entry also holds service_principals_read
ERRORS_VAR = "entra_sync_inventory_errors"
MAX_WARNINGS = 10
TENANTS_AT_ONCE = 8
# Connection options a source file may write as a template (string options only).
TEMPLATED_OPTIONS = tuple(name for name, spec in GRAPH_ARGSPEC.items() if spec.get("type") in ("str", "path"))


def make_unsafe(value):
    """Mark remote text that could be read as a template (it holds '{' or '}') unsafe, in nested data too.

    Text without braces can never be templated, so it is left as is: ansible-inventory --list then shows plain strings.
    """
    if isinstance(value, dict):
        return {make_unsafe(key): make_unsafe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [make_unsafe(item) for item in value]
    if isinstance(value, str) and ("{" in value or "}" in value):
        return wrap_var(value)
    return value


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """One host per Microsoft Entra synchronization job, or per tenant (host_per: tenant)."""

    NAME = "entra.sync.sync_jobs"
    _source_options = frozenset()  # the keys of the source file being parsed

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(FILE_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._source_options = set(self._read_config_data(path) or ())

        concurrency = self._concurrency()
        per_tenant = self._per_tenant()
        entries, connections = self._tenants(concurrency)
        try:
            names = tenant_host_names(entries, [connection.known_tenant_id() for connection in connections]) if per_tenant else None
        except InputError as exc:
            for connection in connections:
                connection.close()
            raise AnsibleParserError(str(exc)) from None
        sp_filter = self._text_option("service_principal_filter")

        use_cache = bool(self.get_option("cache"))
        cache_key = self.get_cache_key(path)
        cached = {}
        if use_cache and cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = {}
        cached_tenants = cached.get("tenants", {}) if isinstance(cached, dict) and cached.get("format") == CACHE_FORMAT else {}

        try:
            # Each tenant has its own throttling budget, so the tenant mode (made for many tenants) reads them side by side,
            # each with `concurrency` requests; job mode reads them one after another, as it always has.
            reads = run_bounded(connections, lambda connection: self._cached_or_read(connection, cached_tenants, sp_filter, concurrency, per_tenant),
                                TENANTS_AT_ONCE if per_tenant else 1)
        finally:
            for connection in connections:
                connection.close()

        if per_tenant:
            self._populate_tenants(entries, names, connections, reads)
        else:
            self._populate([job for read in reads for job in read["jobs"]], [error for read in reads for error in read["errors"]])

        fresh = {read["label"]: read["cache_entry"] for read in reads if read.get("cache_entry")}
        if use_cache and fresh:
            kept = dict(cached_tenants)
            kept.update(fresh)
            self._cache[cache_key] = {"format": CACHE_FORMAT, "tenants": kept}

    # ---- options ---------------------------------------------------------------------------------------------------

    def _template(self, value):
        if isinstance(value, str) and self.templar.is_template(value):
            return self.templar.template(value)
        return value

    def _option(self, name):
        """get_option, with a string given as a template in the source file templated (never one from the environment)."""
        # The source file's own keys, not get_option_and_origin(): ansible-core 2.17's reads the configuration again
        # and misses the values the source file set.
        value = self.get_option(name)
        if name in TEMPLATED_OPTIONS and name in self._source_options:
            value = self._template(value)
        return value

    def _text_option(self, name):
        value = self.get_option(name)
        if isinstance(value, str):
            value = value.strip()
        return value or None

    def _concurrency(self):
        value = self.get_option("concurrency")
        if not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
            raise AnsibleParserError("concurrency %s is out of range: use 1 to %d." % (value, MAX_CONCURRENCY))
        return value

    def _per_tenant(self):
        try:
            return check_host_per(self.get_option("host_per")) == "tenant"
        except InputError as exc:
            raise AnsibleParserError(str(exc)) from None

    def _tenants(self, concurrency):
        """(tenant items, templated; a Connection for each); every local check of every tenant is made before any request."""
        try:
            entries = parse_tenants(self.get_option("tenants"), INVENTORY_TENANT_KEYS) or [{}]
            check_shared_access_token(entries, self._option("access_token"))
        except InputError as exc:
            raise AnsibleParserError(str(exc)) from None
        templated, connections, warnings = [], [], set()
        for entry in entries:
            try:
                overrides = {key: self._template(value) for key, value in entry.items()}
                templated.append(overrides)
                connections.append(connect(tenant_get_option(self._option, overrides), pool_size=concurrency, warn=warnings.add))
            except EntraSyncError as exc:
                for connection in connections:
                    connection.close()
                where = "tenant %s: " % entry["tenant_id"] if len(entries) > 1 else ""
                raise AnsibleParserError(where + str(exc)) from None
        for warning in sorted(warnings):
            self.display.warning(warning)
        return templated, connections

    # ---- reading -----------------------------------------------------------------------------------------------------

    def _cached_or_read(self, connection, cached_tenants, sp_filter, concurrency, per_tenant):
        """One tenant's read: {label, jobs (unfiltered), errors, service_principals_read, error, cache_entry}."""
        label = connection.known_tenant_id() or ""
        entry = cached_tenants.get(label)
        if isinstance(entry, dict) and entry.get("service_principal_filter") == sp_filter and isinstance(entry.get("jobs"), list):
            return {"label": label, "jobs": entry["jobs"], "errors": [], "error": None,
                    "service_principals_read": entry.get("service_principals_read")}
        read = self._read_tenant(connection, sp_filter, concurrency)
        if read["error"] is not None:
            if not per_tenant:
                raise AnsibleParserError(read["error"])
            # In tenant mode a tenant that cannot be read is still a host, with the reason: the play reports it, the others run.
            return read
        if per_tenant:  # the tenant hosts' graph_token tasks reuse this sign-in in this run (see _auth/registry.py)
            remember(connection.credential)
        if not read["errors"]:
            read["cache_entry"] = {"service_principal_filter": sp_filter, "jobs": read["jobs"],
                                   "service_principals_read": read["service_principals_read"]}
        return read

    @staticmethod
    def _read_tenant(connection, sp_filter, concurrency):
        """{label, jobs (unfiltered), errors, service_principals_read, error}: error is the message of a tenant-wide
        failure (sign-in, permission, listing), None when the jobs were read."""
        label = connection.known_tenant_id() or ""
        where = " of tenant %s" % label if label else ""
        failed = {"label": label, "jobs": [], "errors": [], "service_principals_read": None}
        try:
            scan = scan_tenant(connection.api, JobFilter(), sp_filter, concurrency)
        except EntraSyncError as exc:
            return dict(failed, error="The synchronization jobs%s could not be listed: %s" % (where, exc))
        if scan.errors and len(scan.errors) >= scan.service_principals_read:
            # Nothing could be read (typically a missing permission): an empty inventory would hide it.
            return dict(failed, error="No service principal's jobs%s could be read (%d tried); the first error: %s"
                        % (where, scan.service_principals_read, scan.errors[0]["message"]))
        jobs = []
        for job in scan.jobs:
            data = job.to_dict()
            data["tenant_id"] = label or None
            jobs.append(data)
        errors = [dict(error, tenant_id=label or None) for error in scan.errors]
        return {"label": label, "jobs": jobs, "errors": errors, "error": None, "service_principals_read": scan.service_principals_read}

    # ---- hosts -------------------------------------------------------------------------------------------------------

    def _add_constructed(self, name, variables):
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)

    def _set_host(self, name, variables):
        self.inventory.add_host(name)
        for key, value in variables.items():
            self.inventory.set_variable(name, key, value)

    def _populate(self, jobs, errors):
        jobs = JobFilter.from_lists(self.get_option("template_ids"), self.get_option("status_codes")).select(unique_jobs(jobs))
        jobs.sort(key=lambda job: tuple((job.get(name) or "") for name in ("tenant_id", "service_principal_id", "job_id")))
        names = host_names(jobs, self.get_option("hostnames"))
        with_condition_groups = self.get_option("condition_groups")

        for name, job in zip(names, jobs, strict=True):
            variables = make_unsafe(host_vars(job))
            self._set_host(name, variables)
            if with_condition_groups:
                for group in condition_groups(job):
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, name)
            self._add_constructed(name, variables)
        self._report_read_errors(errors)

    def _populate_tenants(self, entries, names, connections, reads):
        """host_per: tenant: one host per tenant in the group entra_tenants, with its sign-in options (never a secret)
        and the counts of the jobs the filters keep."""
        job_filter = JobFilter.from_lists(self.get_option("template_ids"), self.get_option("status_codes"))
        source_options = {name: self._option(name) for name in PUBLIC_SIGN_IN_OPTIONS if name in self._source_options}
        self.inventory.add_group(TENANT_GROUP)
        errors = []
        for entry, name, connection, read in zip(entries, names, connections, reads, strict=True):
            tenant_id = connection.known_tenant_id()
            if read["error"] is not None:
                self.display.warning(describe_tenant_error(tenant_id, read["error"]))
                errors.append({"tenant_id": tenant_id, "service_principal_id": None, "message": read["error"]})
            jobs = job_filter.select(unique_jobs(read["jobs"]))
            variables = make_unsafe(tenant_host_vars(tenant_id, public_sign_in_options(entry, source_options), jobs,
                                                     read["service_principals_read"], read["error"]))
            self._set_host(name, variables)
            self.inventory.add_child(TENANT_GROUP, name)
            self._add_constructed(name, variables)
            errors.extend(read["errors"])
        self._report_read_errors(errors)

    def _report_read_errors(self, errors):
        """Warn about the service principals whose jobs could not be read, and list them in the all group's ERRORS_VAR."""
        sp_errors = [error for error in errors if error.get("service_principal_id")]
        for error in sp_errors[:MAX_WARNINGS]:
            self.display.warning(describe_read_error(error, error.get("tenant_id")))
        if len(sp_errors) > MAX_WARNINGS:
            self.display.warning("entra.sync.sync_jobs: %d more service principals could not be read: see the %s variable of the all group."
                                 % (len(sp_errors) - MAX_WARNINGS, ERRORS_VAR))
        # Kept beside what an earlier sync_jobs source of the same inventory reported.
        earlier = self.inventory.groups["all"].get_vars().get(ERRORS_VAR) or []
        self.inventory.set_variable("all", ERRORS_VAR, list(earlier) + make_unsafe([
            {"tenant_id": error.get("tenant_id"), "service_principal_id": error.get("service_principal_id"), "message": error.get("message")}
            for error in errors
        ]))
