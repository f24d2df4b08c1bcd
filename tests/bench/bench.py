"""`make bench`: the fleet restart side by side with the hand-written uri loop, on one sandbox, with the floor.

    PYTHONPATH=tests/sandbox ANSIBLE_COLLECTIONS_PATH=.build/collections .venv/bin/python tests/bench/bench.py \
        [--plan default|quick|full] [--only fleet,uri,per_host,tenants,tenants100] [--many-tenants 100]
        [--out tests/bench/results/latest.json]

Contenders (see docs/performance.md):
  uri       tests/bench/baseline/restart_uri.yml: the ansible.builtin.uri loop a user writes today (the comparison)
  per_host  the entra.sync.sync_jobs inventory + playbooks/restart_per_job.yml, forks 20
  fleet     playbooks/restart_jobs.yml with its defaults
  tenants   bench_tenants.py: 20 tenants of 500 service principals, the per-host form (forks 20; a static inventory and
            the sync_jobs inventory's tenant mode) vs the entra_sync_tenants list vs the slowest single tenant, and the
            same 20 tenants in 4 slices merged with entra.sync.merge_reports
  tenants100  bench_tenants.py: the per-host form over 100 tenants of 100 service principals (forks 20) on its own
            sandbox (--many-tenants N for fewer while developing)
Sizes: small (the explicit fleet of bench_fleets.small_fleet_spec: 500 service principals, 100 jobs, 50 quarantined),
S, L, XL (the sandbox's seeded generator: 1,000, 10,000, 50,000 service principals, about a quarter with jobs).
Each run starts from the same seeded fleet (the sandbox is reset before every run), so every contender restarts the
same quarantined jobs. Numbers come from the sandbox's request log and counters, from getrusage for CPU, and from
/proc (VmHWM) for peak memory. Every ansible-playbook run also counts its costs (issue 25): the tasks per host (the
bench_costs callback), the module processes (module_counter/sitecustomize.py: one line per module process as it exits,
with its CPU and peak memory), and the CPU split between ansible-playbook's main process, its workers and the modules;
the columns per tenant divide by the row's tenants (1 for the single-tenant rows).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from bench_costs_sum import target_notes
from bench_fleets import small_fleet_spec
from bench_measure import DEFAULT_THROTTLE, log_position, measured_row, playbook_env, run_playbooks, task_seconds
from bench_tenants import MANY_TENANTS, run_many_tenant_row, run_tenant_rows

from entra_sandbox.testing import SandboxProcess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# "small" is the explicit fleet of bench_fleets.small_fleet_spec: 500 service principals, 100 jobs, 50 quarantined.
SIZES = {"small": 500, "S": 1000, "L": 10000, "XL": 50000}
FLEET_CONCURRENCY = 20      # entra_sync_concurrency default
PER_HOST_FORKS = 20
BATCH_ITEMS = 20            # Graph's $batch limit
# The fleet playbook's default canary size (entra_sync_canary_size).
CANARY = 5
# The throttled pass: 20 writes per second, no burst (a bucket of 1).
TIGHT_WRITES = {"reads": DEFAULT_THROTTLE["reads"], "writes": {"rate": 20.0, "burst": 1}}

PLANS = {
    # (contender, size, latency_ms[, throttle[, fleet extra vars]]); ("tenants", "20x500", 80) is the five scale-out rows
    # of bench_tenants.py on their own 20-tenant sandbox (about 2 minutes on 2 cores); ("tenants100", "100x100", 80) the
    # many-tenant row on its own 100-tenant sandbox (about 1 minute). The default plan takes about 14 minutes on 2
    # cores, the uri loop at "small" about 6 of them (0.6 to 0.8 s per loop item). "full" adds
    # the uri loop at S (about 16 minutes), the 0 ms pass of uri, per_host, fleet S and XL, per_host at L, and the
    # batch=none and chunk_size=200 comparisons.
    "default": [
        ("tenants", "20x500", 80), ("tenants100", "100x100", 80), ("uri", "small", 80), ("fleet", "small", 80), ("per_host", "S", 80), ("fleet", "S", 80),
        ("fleet", "L", 80), ("fleet", "XL", 80), ("fleet", "L", 80, "tight"), ("fleet", "L", 0),
    ],
    "quick": [("fleet", "small", 80), ("fleet", "L", 80), ("fleet", "L", 80, "tight")],
    "full": [
        ("tenants", "20x500", 80), ("tenants100", "100x100", 80), ("uri", "small", 80), ("fleet", "small", 80),
        ("uri", "S", 80), ("per_host", "S", 80), ("fleet", "S", 80), ("per_host", "L", 80), ("fleet", "L", 80),
        ("fleet", "L", 80, "default", {"entra_sync_batch": "none"}), ("fleet", "L", 80, "default", {"entra_sync_chunk_size": 200}),
        ("fleet", "XL", 80), ("fleet", "L", 80, "tight"), ("fleet", "L", 80, "tight", {"entra_sync_chunk_size": 200}),
        ("uri", "S", 0), ("per_host", "S", 0), ("fleet", "S", 0), ("fleet", "L", 0), ("fleet", "XL", 0),
    ],
}

PER_HOST_INVENTORY = """plugin: entra.sync.sync_jobs
status_codes: [Quarantine]
concurrency: %d
compose:
  ansible_connection: "'local'"
  # a job host runs its module on the controller, with the controller's Python (no interpreter discovery per host)
  ansible_python_interpreter: "'%s'"
"""


# ---- contenders ---------------------------------------------------------------------------------------------------

def playbook_command(bin_dir, contender, workdir, extra):
    if contender == "uri":
        return [os.path.join(bin_dir, "ansible-playbook"), os.path.join(HERE, "baseline", "restart_uri.yml")], {}
    if contender == "fleet":
        cmd = [os.path.join(bin_dir, "ansible-playbook"), "entra.sync.restart_jobs"]
        for name, value in extra.items():
            cmd += ["-e", json.dumps({name: value})]
        return cmd, {}
    if contender == "per_host":
        inventory = os.path.join(workdir, "bench.sync_jobs.yml")
        with open(inventory, "w", encoding="utf-8") as handle:
            handle.write(PER_HOST_INVENTORY % (FLEET_CONCURRENCY, sys.executable))
        return [os.path.join(bin_dir, "ansible-playbook"), "-i", inventory, "-f", str(PER_HOST_FORKS),
                "entra.sync.restart_per_job"], {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}
    raise ValueError(contender)


def reset_fleet(admin, size, latency_ms, throttle):
    """The sandbox back to the row's seeded fleet: the generator at S/L/XL, the explicit small fleet at `small`."""
    fleet = {"service_principals_list": small_fleet_spec()} if size == "small" else None
    admin.reset(service_principals=SIZES[size], fleet=fleet, faults={"latency_ms": latency_ms}, throttle=throttle)
    jobs = admin.jobs()
    return len(jobs), sum(1 for job in jobs if job["status_code"] == "Quarantine")


def run_one(sandbox, contender, size, latency_ms, throttle_name, workdir, extra, log_dir):
    throttle = TIGHT_WRITES if throttle_name == "tight" else DEFAULT_THROTTLE
    jobs_total, quarantined = reset_fleet(sandbox.admin, size, latency_ms, throttle)
    since = log_position(sandbox.admin)
    cmd, env_extra = playbook_command(os.path.dirname(sys.executable), contender, workdir, extra)
    name = "%s-%s-%dms%s" % (contender, size, latency_ms, "-throttled" if throttle_name == "tight" else "")
    if extra:
        name += " " + ",".join("%s=%s" % (key.replace("entra_sync_", ""), value) for key, value in sorted(extra.items()))
    file_name = name.replace(" ", "_").replace(",", "_").replace("=", "-")
    log_path = os.path.join(log_dir, file_name + ".log")
    ansible_log = os.path.join(log_dir, file_name + ".ansible.log")
    env = playbook_env(sandbox.env, ansible_log, PER_HOST_FORKS if contender == "per_host" else None, env_extra)
    execution = run_playbooks([(cmd, env, log_path)], workdir)
    concurrency = 1 if contender == "uri" else FLEET_CONCURRENCY if contender == "fleet" else PER_HOST_FORKS
    row, accepted = measured_row(sandbox.admin, since, execution, name, latency_ms, throttle, concurrency)
    row.update({"extra_vars": extra, "contender": contender, "size": size, "service_principals": SIZES[size], "jobs": jobs_total,
                "quarantined": quarantined, "throttle": throttle_name, "log": log_path, "task_seconds": task_seconds(ansible_log)})
    restarts = row["restarts"]
    if throttle_name == "tight":
        # The time the write limit forces: every restart at 20 per second, the first one free.
        row["write_limit_s"] = round(max(0, restarts - 1) / TIGHT_WRITES["writes"]["rate"], 2)
        # The same after the canary (its first CANARY restarts and its deliberate wait until they are healthy): from
        # the first accepted restart of the chunks to the last one.
        after_canary = accepted[CANARY:]
        if len(after_canary) > 1:
            row["after_canary_s"] = round(after_canary[-1] - after_canary[0], 2)
            row["after_canary_limit_s"] = round((len(after_canary) - 1) / TIGHT_WRITES["writes"]["rate"], 2)
    return row


SINGLE_MODULE = """- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - entra.sync.sync_job_restart:
        service_principal_id: "{{ sp }}"
        job_id: "{{ job }}"
"""
SINGLE_URI = """- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    base: "{{ lookup('env', 'ENTRA_SYNC_GRAPH_ENDPOINT') }}/v1.0/servicePrincipals/{{ sp }}/synchronization/jobs/{{ job | urlencode }}"
    headers: {Authorization: "Bearer {{ lookup('env', 'ENTRA_SYNC_ACCESS_TOKEN') }}"}
  tasks:
    - ansible.builtin.uri: {url: "{{ base }}", headers: "{{ headers }}", ca_path: "{{ lookup('env', 'ENTRA_SYNC_CA_PATH') }}"}
    - ansible.builtin.uri:
        url: "{{ base }}/restart"
        method: POST
        headers: "{{ headers }}"
        ca_path: "{{ lookup('env', 'ENTRA_SYNC_CA_PATH') }}"
        body_format: json
        body: {criteria: {}}
        status_code: 204
"""
MSAL_CHECK = """
import sys
from ansible_collections.entra.sync.plugins.modules import sync_job_restart  # noqa: F401
from ansible_collections.entra.sync.plugins.module_utils._auth.pick import credential_from_settings
from ansible_collections.entra.sync.plugins.module_utils._settings.options import settings_from_options
options = {"access_token": sys.argv[1], "graph_endpoint": "https://127.0.0.1:1"}
credential_from_settings(settings_from_options(options.get)).get_token()
print(",".join(name for name in ("msal", "cryptography", "jwt") if name in sys.modules) or "none")
"""


def single_job(sandbox, workdir, repeat=5):
    """One job restarted with a ready token: the module (one task: GET + POST) vs the same two calls with uri."""
    sandbox.admin.reset(service_principals=50, faults={"latency_ms": 0}, throttle=DEFAULT_THROTTLE)
    job = next(j for j in sandbox.admin.jobs())
    env = dict(os.environ, **sandbox.env)
    env["ENTRA_SYNC_ACCESS_TOKEN"] = sandbox.token()
    env.pop("ANSIBLE_LOG_PATH", None)
    bin_dir = os.path.dirname(sys.executable)
    times = {}
    for name, text in (("module", SINGLE_MODULE), ("uri", SINGLE_URI)):
        path = os.path.join(workdir, "single_%s.yml" % name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        runs = []
        for _round in range(repeat):
            started = time.monotonic()
            run = subprocess.run([os.path.join(bin_dir, "ansible-playbook"), path, "-e", "sp=%s job=%s" % (job["service_principal_id"], job["job_id"])],
                                 env=env, capture_output=True, text=True, check=False, cwd=workdir)
            runs.append(time.monotonic() - started)
            if run.returncode:
                raise RuntimeError("single-job %s run failed:\n%s" % (name, run.stdout[-2000:]))
        times[name] = sorted(runs)[len(runs) // 2]
    collections_root = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0]
    check_path = os.pathsep.join(filter(None, [collections_root, env.get("PYTHONPATH")]))
    check = subprocess.run([sys.executable, "-c", MSAL_CHECK, env["ENTRA_SYNC_ACCESS_TOKEN"]], capture_output=True, text=True, check=False,
                           env=dict(env, PYTHONPATH=check_path))
    return {"module_median_s": round(times["module"], 2), "uri_median_s": round(times["uri"], 2),
            "ratio": round(times["module"] / times["uri"], 2), "repeat": repeat,
            "heavy_imports_on_access_token_path": check.stdout.strip() or check.stderr.strip()[-300:]}


# ---- output -------------------------------------------------------------------------------------------------------

def _kinds(row):
    items = row["items"]
    text = " ".join("%s%d" % (SHORT.get(kind, kind), items[kind]) for kind in ("list_sps", "list_jobs", "get_job", "restart", "get_sp")
                    if items.get(kind))
    if row["http_requests"].get("batch"):
        text += " in %d batch" % row["http_requests"]["batch"]
    return text


def _figure(row, key, form):
    value = row["costs_figures"].get(key)
    return "-" if value is None else form % value


def _split(row):
    split = row["costs_figures"].get("cpu_split")
    return "%.1f/%.1f/%.1f" % (split["main_s"], split["workers_s"], split["modules_s"]) if split else "-"


# cpu/ten: CPU per tenant; tasks/host: tasks that ran per host; mods/ten: module processes per tenant; main/wrk/mod: the
# CPU of ansible-playbook's main process, of its workers (with the shells that start modules), of the module processes.
COLUMNS = [
    ("run", lambda r: r["name"]), ("SPs", lambda r: str(r["service_principals"])), ("jobs", lambda r: str(r["jobs"])),
    ("restarted", lambda r: str(r["restarts"])), ("wall s", lambda r: "%.1f" % r["wall_s"]), ("cpu s", lambda r: "%.1f" % r["cpu_s"]),
    ("HTTP", lambda r: str(r["http_total"])), ("by kind (items)", _kinds),
    ("tok", lambda r: str(r["token_requests"])), ("429", lambda r: str(r["status_429"])),
    ("ctl MB", lambda r: "%.0f" % r["controller_peak_mb"]), ("mod MB", lambda r: "%.0f" % r["module_peak_mb"]),
    ("floor s", lambda r: "%.1f" % r["floor_s"] if r["floor_bounds"] else "-"),
    ("eff", lambda r: "%.0f%%" % (100 * r["efficiency"]) if r["efficiency"] else "-"),
    ("cpu/ten s", lambda r: "%.2f" % r["costs_figures"]["cpu_per_tenant_s"]),
    ("tasks/host", lambda r: _figure(r, "tasks_per_host", "%.1f")), ("mods/ten", lambda r: _figure(r, "module_runs_per_tenant", "%.1f")),
    ("main/wrk/mod s", _split), ("rc", lambda r: str(r["returncode"])),
]
SHORT = {"list_sps": "sp", "list_jobs": "ls", "get_job": "get", "restart": "rst", "batch": "batch", "get_sp": "getsp"}


def table(rows):
    cells = [[column[0] for column in COLUMNS]] + [[column[1](row) for column in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    out = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |" for line in cells]
    out.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(out)


def comparisons(rows):
    by = {(r["contender"], r["size"], r["latency_ms"], r["throttle"]): r for r in rows if not r["extra_vars"]}
    notes = []
    small_uri, small = by.get(("uri", "small", 80, "default")), by.get(("fleet", "small", 80, "default"))
    if small:
        notes.append("small/80ms (%d service principals, %d jobs, %d quarantined): fleet %.1f s end to end%s" % (
            small["service_principals"], small["jobs"], small["quarantined"], small["wall_s"],
            "; the uri loop %.1f s: %.1fx faster" % (small_uri["wall_s"], small_uri["wall_s"] / small["wall_s"]) if small_uri else ""))
    large = by.get(("fleet", "L", 80, "default"))
    if large and large["efficiency"]:
        notes.append("L/80ms: efficiency %.0f%% (%.1f s vs a %.1f s floor)" % (100 * large["efficiency"], large["wall_s"], large["floor_s"]))
    for latency in (80, 0):
        uri, fleet = by.get(("uri", "S", latency, "default")), by.get(("fleet", "S", latency, "default"))
        if uri and fleet:
            notes.append("S/%dms: fleet is %.0fx faster than the uri loop (%.1f s vs %.1f s)" % (
                latency, uri["wall_s"] / fleet["wall_s"], fleet["wall_s"], uri["wall_s"]))
        large, xl = by.get(("fleet", "L", latency, "default")), by.get(("fleet", "XL", latency, "default"))
        if large and xl:
            per_l, per_xl = large["wall_s"] / large["jobs"], xl["wall_s"] / xl["jobs"]
            notes.append("XL/L per job at %dms: %.2fx (%.1f ms vs %.1f ms per job; floors %.1f vs %.1f ms per job)" % (
                latency, per_xl / per_l, 1000 * per_xl, 1000 * per_l, 1000 * xl["floor_s"] / xl["jobs"], 1000 * large["floor_s"] / large["jobs"]))
    tight = by.get(("fleet", "L", 80, "tight"))
    if tight:
        span = tight["phases"].get("restart", [0, 0])
        notes.append("throttled L: restarts from %.1f s to %.1f s = %.1f s vs %.1f s forced by the write limit (%.2fx); whole run %.1f s "
                     "vs floor %.1f s; %d 429s (%d on restarts) for %d restarts, %d restarted twice" % (
                         span[0], span[1], span[1] - span[0], tight["write_limit_s"], (span[1] - span[0]) / max(tight["write_limit_s"], 0.01),
                         tight["wall_s"], tight["floor_s"], tight["status_429"], tight["restart_429"], tight["restarts"], tight["restarted_twice"]))
        if tight.get("after_canary_s"):
            notes.append("throttled L after the canary: %.1f s for %d restarts vs %.1f s forced by the write limit (%.2fx)" % (
                tight["after_canary_s"], tight["restarts"] - CANARY, tight["after_canary_limit_s"],
                tight["after_canary_s"] / max(tight["after_canary_limit_s"], 0.01)))
    for row in rows:
        if row["contender"] == "fleet" and not row["extra_vars"] and row["throttle"] == "default" and row["size"] != "S":
            needed = row["items"].get("list_sps", 0) + row["items"].get("list_jobs", 0) - row["throttled_by_kind"].get("list_jobs", 0) + row["restarts"]
            notes.append("%s: %d Graph request items in %d HTTP requests; discovery + one restart per job needs %d; beyond that %d job "
                         "reads (canary polls, and the report's re-read with entra_sync_verify_after) and %d resent after a 429" % (
                             row["name"], row["items_total"], row["http_total"], needed, row["items"].get("get_job", 0),
                             sum(row["throttled_by_kind"].values())))
    return notes


def machine():
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        model = ""
    with open("/proc/meminfo", encoding="ascii") as handle:
        mem_kib = int(handle.readline().split()[1])
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem_kib / 1024 / 1024, 1),
            "python": platform.python_version(), "kernel": platform.release(), "loadavg_start": os.getloadavg()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", choices=sorted(PLANS), default="default")
    parser.add_argument("--only", default="", help="comma-separated contenders to keep (uri, per_host, fleet, tenants, tenants100)")
    parser.add_argument("--many-tenants", type=int, default=MANY_TENANTS, help="tenants of the tenants100 row (fewer while developing)")
    parser.add_argument("--sizes", default="", help="comma-separated sizes to keep (S, L, XL)")
    parser.add_argument("--latencies", default="", help="comma-separated latencies to keep (80, 0)")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], help="JSON extra vars for the fleet contender")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"))
    args = parser.parse_args()
    if not os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        sys.exit("set ANSIBLE_COLLECTIONS_PATH to the installed collection (make bench does)")
    plan = [(tuple(step) + ("default", {}))[:4] + ((step[4],) if len(step) > 4 else ({},)) for step in PLANS[args.plan]]
    if args.only:
        plan = [step for step in plan if step[0] in args.only.split(",")]
    if args.sizes:
        plan = [step for step in plan if step[1] in args.sizes.split(",")]
    if args.latencies:
        plan = [step for step in plan if str(step[2]) in args.latencies.split(",")]
    extra = {}
    for text in args.extra_vars:
        extra.update(json.loads(text))
    workdir = tempfile.mkdtemp(prefix="entra-bench-")
    log_dir = os.path.join(workdir, "logs")
    os.makedirs(log_dir)
    info = machine()
    print("bench: %d runs, work dir %s, load average %s" % (len(plan), workdir, " ".join("%.2f" % v for v in info["loadavg_start"])), flush=True)
    rows, scale_notes = [], []
    started = time.monotonic()
    with SandboxProcess(os.path.join(workdir, "sandbox"), service_principals=1000, tenants=1, ready_timeout=120) as sandbox:
        for contender, size, latency_ms, throttle_name, step_vars in plan:
            if contender == "tenants":
                tenant_rows, tenant_notes = run_tenant_rows(workdir, log_dir, latency_ms)
                rows += tenant_rows
                scale_notes += tenant_notes
                continue
            if contender == "tenants100":
                many_rows, many_notes = run_many_tenant_row(workdir, log_dir, latency_ms, tenants=args.many_tenants)
                rows += many_rows
                scale_notes += many_notes
                continue
            row = run_one(sandbox, contender, size, latency_ms, throttle_name, workdir,
                          dict(extra, **step_vars) if contender == "fleet" else {}, log_dir)
            rows.append(row)
            print("bench: %-26s wall %7.1f s  floor %6.1f s  http %6d  restarts %4d  429s %4d  tokens %d  rc %d  phases %s" % (
                row["name"], row["wall_s"], row["floor_s"], row["http_total"], row["restarts"], row["status_429"],
                row["token_requests"], row["returncode"], " ".join("%s %.1f-%.1f" % (k, v[0], v[1]) for k, v in row["phases"].items())), flush=True)
        single = single_job(sandbox, workdir) if args.plan != "quick" else None
    info["loadavg_end"] = os.getloadavg()
    info["bench_seconds"] = round(time.monotonic() - started, 1)
    print()
    print(table(rows))
    print()
    notes = comparisons(rows) + scale_notes + target_notes(rows, os.cpu_count() or 1)
    if single:
        notes.append("single job with a ready token: sync_job_restart %.2f s vs two uri tasks %.2f s (%.2fx, median of %d); heavy imports on "
                     "the access_token path: %s" % (single["module_median_s"], single["uri_median_s"], single["ratio"], single["repeat"],
                                                    single["heavy_imports_on_access_token_path"]))
    for note in notes:
        print("- " + note)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({"machine": info, "extra_vars": extra, "rows": rows, "notes": notes, "single_job": single,
                   "table": table(rows)}, handle, indent=2)
        handle.write("\n")
    print("\nbench: results in %s (%.0f s in all; load average at the end %s)" % (
        args.out, info["bench_seconds"], " ".join("%.2f" % v for v in info["loadavg_end"])))
    if any(row["returncode"] for row in rows):
        sys.exit("bench: a contender failed: see its log under %s" % log_dir)


if __name__ == "__main__":
    main()
