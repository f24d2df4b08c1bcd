"""Pure helpers of `make bench`: the fleets it seeds, the static tenant inventory, the slices, the report comparison.

No I/O here: bench.py and bench_tenants.py write the files and run the playbooks; tests/unit/tools/test_bench_fleets.py
covers these.
"""

# Templates the small fleet's jobs cycle through (graph-facts.md "templateIds seen").
SMALL_FLEET_TEMPLATES = ("scim", "AD2AADProvisioning", "aws", "SfSandboxOutDelta", "Azure2Azure", "dataBricks")
# Report keys whose values are clocks or durations: they differ between two runs of the same fleet.
TIMING_KEYS = frozenset(("started_at", "finished_at", "at", "waited_seconds", "polls"))


def small_fleet_spec(service_principals=500, jobs=100, quarantined=50):
    """The sandbox's explicit fleet (POST /_sandbox/fleet `service_principals_list`) for the small-fleet row.

    `jobs` service principals, spread evenly over the tenant, have one job each; the others have none, as most apps do.
    `quarantined` of the jobs, spread evenly too, are in quarantine; the rest are Active.
    """
    if not 0 < jobs <= service_principals:
        raise ValueError("jobs must be between 1 and service_principals (%d), got %r" % (service_principals, jobs))
    if not 0 <= quarantined <= jobs:
        raise ValueError("quarantined must be between 0 and jobs (%d), got %r" % (jobs, quarantined))
    step = service_principals // jobs
    specs = []
    for index in range(service_principals):
        spec = {"displayName": "Bench App %d" % (index + 1)}
        number, offset = divmod(index, step)
        if offset == 0 and number < jobs:
            # Job `number` is quarantined when the running share of quarantined jobs steps up at it.
            in_quarantine = (number + 1) * quarantined // jobs > number * quarantined // jobs
            spec["jobs"] = [{"template_id": SMALL_FLEET_TEMPLATES[number % len(SMALL_FLEET_TEMPLATES)],
                             "status_code": "Quarantine" if in_quarantine else "Active"}]
        specs.append(spec)
    return specs


def tenant_hosts(tenant_ids):
    """[(host name, tenant id), ...]: one inventory host per tenant, named tenant01, tenant02, ... in the given order."""
    width = max(2, len(str(len(tenant_ids))))
    return [("tenant%0*d" % (width, number), tenant_id) for number, tenant_id in enumerate(tenant_ids, start=1)]


def tenant_inventory(hosts):
    """A static inventory (YAML's JSON subset) of the tenants as hosts of the `entra_tenants` group.

    Only the tenant id per host: the credentials come from the environment (one multi-tenant app), as docs/fleet.md
    shows for the per-host form.
    """
    return {"entra_tenants": {"hosts": {name: {"entra_sync_tenant_id": tenant_id} for name, tenant_id in hosts}}}


def tenant_plugin_inventory(hosts):
    """The same tenants as an inventory source of the entra.sync.sync_jobs plugin in its tenant mode (one host per
    tenant, in the group entra_tenants; the credentials from the environment)."""
    return {"plugin": "entra.sync.sync_jobs", "host_per": "tenant",
            "tenants": [{"tenant_id": tenant_id, "name": name} for name, tenant_id in hosts]}


def slices(names, count):
    """The hosts of each of `count` slices, the way AWX's job slicing splits an inventory: host i goes to slice i mod count."""
    if count < 1:
        raise ValueError("count must be at least 1, got %r" % count)
    return [list(names[index::count]) for index in range(count)]


def _is_job_list(value):
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) and "job_id" in item for item in value)


def _sort_key(item):
    return repr(sorted((key, repr(value)) for key, value in item.items()))


def stable_report(value, parent=""):
    """The report without what differs between two runs of the same fleet.

    Dropped: clocks and durations (TIMING_KEYS, the timeline's `at` among them, and any `*_at` key) and a wait's `reason`, which states the seconds
    waited. Lists of jobs are sorted: their order inside a tenant follows which answer came first. Everything else,
    the order of the tenant sections included, stays as it is.
    """
    if isinstance(value, dict):
        return {key: stable_report(item, key) for key, item in value.items()
                if key not in TIMING_KEYS and not key.endswith("_at") and not (parent == "wait" and key == "reason")}
    if isinstance(value, list):
        items = [stable_report(item, parent) for item in value]
        return sorted(items, key=_sort_key) if _is_job_list(value) else items
    return value


def report_differences(expected, actual, path="report"):
    """Where two stable reports differ: ["report.tenants[3].summary.restarted: 19 != 18", ...] (empty when equal)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                found.append("%s.%s: missing from the second" % (path, key))
            elif key not in expected:
                found.append("%s.%s: only in the second" % (path, key))
            else:
                found += report_differences(expected[key], actual[key], "%s.%s" % (path, key))
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return ["%s: %d items != %d" % (path, len(expected), len(actual))]
        found = []
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found += report_differences(left, right, "%s[%d]" % (path, index))
        return found
    return [] if expected == actual else ["%s: %r != %r" % (path, expected, actual)]


def busiest_tenants(jobs, count):
    """The `count` tenants with the most work (quarantined jobs, then jobs), from the sandbox's job list (GET /_sandbox/jobs)."""
    work = {}
    for job in jobs:
        quarantined, total = work.get(job["tenant_id"], (0, 0))
        work[job["tenant_id"]] = (quarantined + (job["status_code"] == "Quarantine"), total + 1)
    return sorted(work, key=lambda tenant_id: (-work[tenant_id][0], -work[tenant_id][1], tenant_id))[:count]
