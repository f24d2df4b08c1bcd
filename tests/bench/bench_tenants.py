"""The scale-out rows of `make bench` (issue 16): 20 tenants of 500 service principals each on one sandbox, each tenant
with its own throttle buckets (the sandbox keys its buckets by app and tenant), 80 ms per Graph call.

  tenants-per_host  entra.sync.restart_jobs in its per-host form: -i a static inventory of the tenants (group
                    entra_tenants, the credentials from the environment), forks 20
  tenants-list      the same 20 tenants as the entra_sync_tenants list on localhost, one after the other
  tenants-plugin    the per-host form over the entra.sync.sync_jobs inventory's tenant mode (host_per: tenant): the
                    plugin signs in to each tenant while it parses, and graph_token reuses that sign-in, so the run
                    should make one token request per tenant
  tenant-single     one tenant alone in the per-host form (--limit that host): the slowest of the SINGLE_RUNS tenants
                    with the most work; the per-host row's wall time over this one's is the scale-out ratio
  tenants-sliced    the 20 tenants in 4 slices (--limit per slice, host i in slice i mod 4 as AWX splits), the 4 runs at
                    the same time, each with its own report dir; then entra.sync.merge_reports, and the merged report
                    compared with the per-host run's (apart from timestamps)

And the many-tenant row (issue 25), on its own sandbox of MANY_TENANTS tenants of MANY_SERVICE_PRINCIPALS each:
  tenants100        the per-host form over the static inventory, forks 20 (as tenants-per_host): wall, CPU per tenant,
                    token requests (one per tenant), every quarantined job restarted once
"""

import json
import os
import sys
import time

from bench_fleets import busiest_tenants, report_differences, slices, stable_report, tenant_hosts, tenant_inventory, tenant_plugin_inventory
from bench_measure import DEFAULT_THROTTLE, log_position, measured_row, playbook_env, run_playbooks, task_seconds, tenant_spans

from entra_sandbox.testing import SandboxProcess

TENANTS = 20
TENANT_SERVICE_PRINCIPALS = 500
FORKS = 20
SLICES = 4
SINGLE_RUNS = 3
MANY_TENANTS = 100
MANY_SERVICE_PRINCIPALS = 100


class TenantBench:
    """One many-tenant sandbox and the files the runs share (the inventory, the report dirs, the logs)."""

    def __init__(self, sandbox, workdir, log_dir, latency_ms, service_principals=TENANT_SERVICE_PRINCIPALS):
        self.sandbox = sandbox
        self.log_dir = log_dir
        self.latency_ms = latency_ms
        self.service_principals = service_principals
        self.hosts = tenant_hosts([tenant["id"] for tenant in sandbox.config["tenants"]])
        self.size = "%dx%d" % (len(self.hosts), service_principals)
        self.workdir = os.path.join(workdir, "tenants-" + self.size)
        os.makedirs(self.workdir, exist_ok=True)
        self.inventory = os.path.join(self.workdir, "tenants.yml")
        with open(self.inventory, "w", encoding="utf-8") as handle:
            json.dump(tenant_inventory(self.hosts), handle, indent=2)  # JSON is YAML: the yaml inventory plugin reads it
        self.plugin_inventory = os.path.join(self.workdir, "tenants.sync_jobs.yml")
        with open(self.plugin_inventory, "w", encoding="utf-8") as handle:
            json.dump(tenant_plugin_inventory(self.hosts), handle, indent=2)
        self.playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

    def report_dir(self, name):
        return os.path.join(self.workdir, "reports", name)

    def per_host_command(self, report_dir, limit=None, inventory=None):
        cmd = [self.playbook, "-i", inventory or self.inventory, "-f", str(FORKS), "entra.sync.restart_jobs", "-e", "entra_sync_report_dir=" + report_dir]
        return cmd + (["--limit", ",".join(limit)] if limit else [])

    def list_command(self, report_dir):
        extra = {"entra_sync_tenants": [tenant_id for _name, tenant_id in self.hosts], "entra_sync_report_dir": report_dir}
        return [self.playbook, "entra.sync.restart_jobs", "-e", json.dumps(extra)]

    def run(self, name, commands, contender, tenant_ids):
        """Reset the tenants, run the commands at the same time, and measure: one row about `tenant_ids`."""
        self.sandbox.admin.reset(service_principals=self.service_principals, faults={"latency_ms": self.latency_ms}, throttle=DEFAULT_THROTTLE)
        jobs = [job for job in self.sandbox.admin.jobs() if job["tenant_id"] in tenant_ids]
        since = log_position(self.sandbox.admin)
        runs = []
        for index, cmd in enumerate(commands):
            stem = os.path.join(self.log_dir, name + ("-%d" % (index + 1) if len(commands) > 1 else ""))
            # A tenant inventory that cannot be parsed fails the run instead of leaving it with no hosts (the list form
            # has no inventory: implicit localhost).
            strict = {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"} if "-i" in cmd else {}
            env = playbook_env(self.sandbox.env, stem + ".ansible.log", FORKS, strict)
            runs.append((cmd, env, stem + ".log"))
        execution = run_playbooks(runs, self.workdir)
        # bench.py's floor counts one tenant's requests against one bucket; here they spread over many tenants.
        row, _accepted = measured_row(self.sandbox.admin, since, execution, name, self.latency_ms, DEFAULT_THROTTLE, FORKS, with_floor=False,
                                      tenants=len(tenant_ids))
        row.update({"contender": contender, "size": self.size, "throttle": "default", "extra_vars": {}, "tenants": len(tenant_ids),
                    "service_principals": self.service_principals * len(tenant_ids), "jobs": len(jobs),
                    "quarantined": sum(1 for job in jobs if job["status_code"] == "Quarantine"), "log": runs[0][2],
                    "task_seconds": task_seconds(runs[0][1]["ANSIBLE_LOG_PATH"]),
                    "tenant_spans": tenant_spans(self.sandbox.admin, since, execution.started_epoch)})
        figures = row["costs_figures"]
        print("bench: %-26s wall %7.1f s  cpu %6.1f s (%.2f s per tenant)  http %6d  restarts %4d  429s %4d  tokens %d  module runs %s  rc %s" % (
            name, row["wall_s"], row["cpu_s"], figures["cpu_per_tenant_s"], row["http_total"], row["restarts"], row["status_429"],
            row["token_requests"], figures.get("module_runs", "?"), ",".join(str(code) for code in execution.returncodes)), flush=True)
        return row

    def per_host(self):
        return self.run("tenants-per_host-%s-%dms" % (self.size, self.latency_ms), [self.per_host_command(self.report_dir("per_host"))],
                        "tenants-per_host", self.tenant_ids)

    def many(self):
        """The per-host form over every tenant, with what its report says it restarted and which quarantined jobs it left
        to another remedy (a fix, new credentials, support): the two add up to the quarantined jobs."""
        row = self.run("many-per_host-%s-%dms" % (self.size, self.latency_ms), [self.per_host_command(self.report_dir("per_host"))],
                       "tenants100", self.tenant_ids)
        try:
            with open(os.path.join(self.report_dir("per_host"), "report.json"), encoding="utf-8") as handle:
                report = json.load(handle)
            row.update(report_restarted=report["summary"]["restarted"],
                       report_to_do=sum(1 for job in report["to_do"] if job.get("status_code") == "Quarantine"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            row["report_problem"] = str(exc)
        return row

    def per_host_plugin(self):
        return self.run("tenants-plugin-%s-%dms" % (self.size, self.latency_ms),
                        [self.per_host_command(self.report_dir("plugin"), inventory=self.plugin_inventory)], "tenants-plugin", self.tenant_ids)

    def sequential_list(self):
        return self.run("tenants-list-%s-%dms" % (self.size, self.latency_ms), [self.list_command(self.report_dir("list"))],
                        "tenants-list", self.tenant_ids)

    def slowest_single(self, count):
        """The per-host form on one tenant at a time, for the `count` tenants with the most work: the slowest run."""
        self.sandbox.admin.reset(service_principals=self.service_principals)
        names = dict((tenant_id, name) for name, tenant_id in self.hosts)
        rows = []
        for tenant_id in busiest_tenants(self.sandbox.admin.jobs(), count):
            name = "tenant-single-%d-%dms-%s" % (self.service_principals, self.latency_ms, names[tenant_id])
            rows.append(self.run(name, [self.per_host_command(self.report_dir(names[tenant_id]), [names[tenant_id]])],
                                 "tenant-single", [tenant_id]))
        slowest = max(rows, key=lambda row: row["wall_s"])
        slowest["single_walls"] = {row["name"]: row["wall_s"] for row in rows}
        return slowest

    def sliced(self, unsliced):
        """The tenants in SLICES slices at the same time, their reports merged and compared with the unsliced run's."""
        parts = slices([name for name, _tenant_id in self.hosts], SLICES)
        dirs = [self.report_dir("slice-%d" % (index + 1)) for index in range(SLICES)]
        row = self.run("tenants-sliced-%dx%d-%dms" % (SLICES, len(parts[0]), self.latency_ms),
                       [self.per_host_command(report_dir, part) for report_dir, part in zip(dirs, parts, strict=True)],
                       "tenants-sliced", self.tenant_ids)
        merged_dir = self.report_dir("merged")
        reports = [os.path.join(report_dir, "report.json") for report_dir in dirs]
        missing = ["slice %d wrote no report.json (see %s)" % (index + 1, row["log"].replace("-1.log", "-%d.log" % (index + 1)))
                   for index, path in enumerate(reports) if not os.path.exists(path)]
        extra = {"entra_sync_merge_reports": reports, "entra_sync_report_dir": merged_dir}
        merge_log = os.path.join(self.log_dir, "merge_reports")
        merge = run_playbooks([([self.playbook, "entra.sync.merge_reports", "-e", json.dumps(extra)],
                                playbook_env(self.sandbox.env, merge_log + ".ansible.log"), merge_log + ".log")], self.workdir)
        differences = missing or _compare_reports(os.path.join(self.report_dir("per_host"), "report.json"), os.path.join(merged_dir, "report.json"))
        row.update({"merge_s": merge.wall_s, "merge_returncode": merge.returncode, "merged_equal": not differences,
                    "merged_differences": differences[:20], "unsliced_restarts": unsliced["restarts"]})
        if merge.returncode:
            row["returncode"] = merge.returncode
        return row

    @property
    def tenant_ids(self):
        return [tenant_id for _name, tenant_id in self.hosts]


def _compare_reports(unsliced_path, merged_path):
    """The differences between two report.json files apart from timestamps; a missing file is a difference too."""
    reports = []
    for path in (unsliced_path, merged_path):
        try:
            with open(path, encoding="utf-8") as handle:
                reports.append(stable_report(json.load(handle)))
        except (OSError, ValueError) as exc:
            return ["%s: %s" % (path, exc)]
    return report_differences(reports[0], reports[1])


def _token_note(row):
    counts = sorted(row["token_requests_by_tenant"].values())
    return "tenants: %s token requests %d for %d tenants (%s)" % (
        row["name"], row["token_requests"], row["tenants"], "one each" if counts == [1] * row["tenants"] else "by tenant %s" % counts)


def tenant_notes(per_host, plugin, listed, single, sliced):
    """The lines the scale-out rows add under the table."""
    notes = ["tenants: %s FAILED (rc %s): its figures are not comparable, see %s" % (row["name"], row["returncodes"], row["log"])
             for row in (per_host, plugin, listed, single, sliced) if row and row["returncode"]]
    if per_host and single:
        notes.append("tenants: per-host form %.1f s for %d tenants (forks %d) vs the slowest single tenant %.1f s (of %s): %.2fx; "
                     "the run used %.1f s of CPU, %.1f s of wall on %d cores at the least" % (
                         per_host["wall_s"], per_host["tenants"], FORKS, single["wall_s"],
                         ", ".join("%.1f s" % wall for wall in single["single_walls"].values()), per_host["wall_s"] / single["wall_s"],
                         per_host["cpu_s"], per_host["cpu_s"] / (os.cpu_count() or 1), os.cpu_count() or 1))
    if per_host and per_host["tenant_spans"]:
        starts = sorted(first for first, _last in per_host["tenant_spans"].values())
        lengths = sorted(last - first for first, last in per_host["tenant_spans"].values())
        notes.append("tenants: per-host form, each tenant's requests from its first to its last: %.1f s (median), %.1f s (longest); "
                     "the first tenant's first request at %.1f s, the last tenant's first at %.1f s" % (
                         lengths[len(lengths) // 2], lengths[-1], starts[0], starts[-1]))
    if per_host and listed:
        notes.append("tenants: the entra_sync_tenants list form %.1f s (one tenant after the other) vs the per-host form %.1f s: %.2fx" % (
            listed["wall_s"], per_host["wall_s"], listed["wall_s"] / per_host["wall_s"]))
    notes += [_token_note(row) for row in (per_host, plugin) if row]
    if sliced:
        notes.append("sliced: %d slices at the same time %.1f s, merge %.1f s; merged report %s the unsliced run's (apart from timestamps)%s; "
                     "restarts %d (unsliced %d), restarted twice %d" % (
                         SLICES, sliced["wall_s"], sliced["merge_s"], "equals" if sliced["merged_equal"] else "DIFFERS from",
                         "" if sliced["merged_equal"] else ": " + "; ".join(sliced["merged_differences"][:3]),
                         sliced["restarts"], sliced["unsliced_restarts"], sliced["restarted_twice"]))
    return notes


def run_tenant_rows(workdir, log_dir, latency_ms, single_runs=SINGLE_RUNS):
    """The five scale-out rows on their own 20-tenant sandbox: (rows, notes)."""
    started = time.monotonic()
    with SandboxProcess(os.path.join(workdir, "sandbox-tenants"), service_principals=TENANT_SERVICE_PRINCIPALS, tenants=TENANTS,
                        ready_timeout=120) as sandbox:
        bench = TenantBench(sandbox, workdir, log_dir, latency_ms)
        per_host = bench.per_host()
        plugin = bench.per_host_plugin()
        listed = bench.sequential_list()
        single = bench.slowest_single(single_runs)
        sliced = bench.sliced(per_host)
    print("bench: the scale-out rows took %.0f s" % (time.monotonic() - started), flush=True)
    return [per_host, plugin, listed, single, sliced], tenant_notes(per_host, plugin, listed, single, sliced)


def run_many_tenant_row(workdir, log_dir, latency_ms, tenants=MANY_TENANTS, service_principals=MANY_SERVICE_PRINCIPALS):
    """The many-tenant row on its own sandbox: (rows, notes); bench_costs_sum.target_notes states its figures."""
    started = time.monotonic()
    with SandboxProcess(os.path.join(workdir, "sandbox-tenants%d" % tenants), service_principals=service_principals, tenants=tenants,
                        ready_timeout=120) as sandbox:
        row = TenantBench(sandbox, workdir, log_dir, latency_ms, service_principals).many()
    print("bench: the %d-tenant row took %.0f s" % (tenants, time.monotonic() - started), flush=True)
    if row["returncode"]:
        return [row], ["tenants100: %s FAILED (rc %s): its figures are not comparable, see %s" % (row["name"], row["returncodes"], row["log"])]
    return [row], []
