"""How `make bench` measures a run: processes started and timed, peak memory, the sandbox's request log, the floor.

Used by bench.py (one playbook per row) and bench_tenants.py (the multi-tenant and slicing rows, several playbooks at
the same time).
"""

import itertools
import json
import math
import os
import resource
import subprocess
import threading
import time
from collections import Counter

from bench_costs_sum import cost_figures, first_in_list, module_runs, sum_costs
from module_counter.sitecustomize import vm_hwm_kib

HERE = os.path.dirname(os.path.abspath(__file__))
# bench_costs (callback_plugins/) counts tasks per host; module_counter/sitecustomize.py counts module processes.
CALLBACK_DIR = os.path.join(HERE, "callback_plugins")
MODULE_COUNTER_DIR = os.path.join(HERE, "module_counter")

# Sandbox default throttle (graph-facts.md): reads 350/s burst 3500, writes 20/s burst 3000 per app and tenant.
DEFAULT_THROTTLE = {"reads": {"rate": 350.0, "burst": 3500}, "writes": {"rate": 20.0, "burst": 3000}}


def _proc_tree(root_pid):
    """{pid: (ppid, cmdline)} of root_pid and its descendants, from /proc."""
    parents, cmdlines = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as handle:
                stat = handle.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents[int(name)] = ppid
    tree = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                changed = True
    for pid in tree:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                cmdlines[pid] = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            cmdlines[pid] = ""
    return cmdlines


class MemorySampler(threading.Thread):
    """Peak RSS (VmHWM) of the ansible-playbook processes and of the module processes (AnsiballZ_*), sampled.

    The controller's peak is the largest of every ansible-playbook process of the tree: the main one and its workers
    (forks, with the same command line), where an action plugin may do a module's work. It is the largest single
    process, not a sum (a fork shares most of its pages with the main process). A module process is seen here only
    when it lives across a sample and has AnsiballZ_ on its command line (not when pipelined); module_counter's lines
    give every module process's own peak, and measured_row keeps the larger of the two.
    """

    def __init__(self, root_pid, interval=0.25):
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.interval = interval
        self.controller_kib = 0
        self.module_kib = 0
        self.module_name = ""
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def sample(self):
        for pid, cmdline in _proc_tree(self.root_pid).items():
            hwm = vm_hwm_kib(pid)
            if pid == self.root_pid or "ansible-playbook" in cmdline:
                self.controller_kib = max(self.controller_kib, hwm)
            elif "AnsiballZ_" in cmdline and hwm > self.module_kib:
                self.module_kib = hwm
                self.module_name = cmdline.rsplit("AnsiballZ_", 1)[1].split(".py")[0]

    def stop(self):
        self._done.set()
        self.join()


def classify(entry):
    """What one logged Graph call was."""
    path, method = entry["path"], entry["method"]
    if entry["kind"] == "batch":
        return "batch"
    tail = path.split("/synchronization/jobs", 1)
    if len(tail) == 1:
        return "list_sps" if path.rstrip("/").lower().endswith("/serviceprincipals") else "get_sp"
    rest = tail[1].strip("/")
    if not rest:
        return "list_jobs"
    if method == "POST":
        return rest.rsplit("/", 1)[-1]  # restart / start / pause
    return "get_job"


def request_counts(admin, since):
    """Counts by kind of everything the sandbox served after log sequence `since`, and the times of accepted restarts."""
    http, items, statuses, throttled = Counter(), Counter(), Counter(), Counter()
    spans, accepted = {}, []
    while True:
        page = admin._call("GET", "/log", params={"since": since, "limit": 20000})  # pylint: disable=protected-access
        entries = page["entries"]
        for entry in entries:
            kind = classify(entry)
            if entry["kind"] == "batch_item":
                items[kind] += 1
            else:
                http[kind] += 1
                if entry["kind"] == "graph":
                    items[kind] += 1
            statuses[entry["status"]] += 1
            if entry["status"] == 429 and entry["kind"] != "batch":
                throttled[kind] += 1
            if kind == "restart" and 200 <= entry["status"] < 300:
                accepted.append(entry["time"])
            if entry["kind"] in ("graph", "batch_item", "token"):
                key = "token" if entry["kind"] == "token" else kind
                first, last = spans.get(key, (entry["time"], entry["time"]))
                spans[key] = (min(first, entry["time"]), max(last, entry["time"]))
        if not entries:
            break
        since = entries[-1]["seq"]
    return http, items, statuses, spans, throttled, sorted(accepted)


def tenant_spans(admin, since, started_epoch):
    """{tenant_id: [first, last]}: seconds from the start of the run to each tenant's first and last request (token
    requests included), from the sandbox's log after `since`."""
    spans = {}
    while True:
        entries = admin._call("GET", "/log", params={"since": since, "limit": 20000})["entries"]  # pylint: disable=protected-access
        for entry in entries:
            if entry["tenant_id"] and entry["kind"] in ("graph", "batch_item", "token"):
                first, last = spans.get(entry["tenant_id"], (entry["time"], entry["time"]))
                spans[entry["tenant_id"]] = (min(first, entry["time"]), max(last, entry["time"]))
        if not entries:
            break
        since = entries[-1]["seq"]
    return {tenant_id: [round(first - started_epoch, 2), round(last - started_epoch, 2)] for tenant_id, (first, last) in spans.items()}


def floor_seconds(http, items, latency_s, concurrency, throttle):
    """The least wall time for these requests: latency over the concurrency allowed, or the throttle's permit.

    Pages of /servicePrincipals follow one another (each holds the next link); every other request can overlap up
    to `concurrency`. Reads and writes refill their own bucket; a request is a read or a write on its own, also
    inside $batch (graph-facts.md). The floor is the largest of the three bounds.
    """
    pages = http.get("list_sps", 0)
    others = sum(count for kind, count in http.items() if kind != "list_sps")
    latency_floor = pages * latency_s + math.ceil(others / max(concurrency, 1)) * latency_s
    writes = sum(count for kind, count in items.items() if kind in ("restart", "start", "pause"))
    reads = sum(count for kind, count in items.items() if kind not in ("restart", "start", "pause", "batch"))
    read_floor = max(0.0, reads - throttle["reads"]["burst"]) / throttle["reads"]["rate"]
    write_floor = max(0.0, writes - throttle["writes"]["burst"]) / throttle["writes"]["rate"]
    return max(latency_floor, read_floor, write_floor), {"latency": latency_floor, "reads": read_floor, "writes": write_floor}


def task_seconds(path, top=8):
    """The slowest tasks of a run, from the time stamps of Ansible's log: [[task, seconds], ...]."""
    stamps = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if " TASK [" not in line:
                    continue
                stamp = line[:23]
                try:
                    when = time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + int(stamp[20:23]) / 1000.0
                except ValueError:
                    continue
                stamps.append((when, line.split("TASK [", 1)[1].split("]", 1)[0]))
    except OSError:
        return []
    durations = Counter()
    for (when, task), (after, _next) in itertools.pairwise(stamps):
        durations[task] += after - when
    return [[task, round(seconds, 1)] for task, seconds in durations.most_common(top)]


class Execution:
    """What running one or more playbooks at the same time took: wall time until the last ended, CPU of every process
    they started (the sandbox is not counted), peak memory over all of them."""

    def __init__(self, wall_s, cpu_s, returncodes, samplers, started_epoch, costs=None):
        self.wall_s = wall_s
        self.cpu_s = cpu_s
        self.returncodes = returncodes
        self.returncode = max(returncodes, key=abs) if returncodes else 0
        self.controller_kib = max((sampler.controller_kib for sampler in samplers), default=0)
        largest = max(samplers, key=lambda sampler: sampler.module_kib, default=None)
        self.module_kib = largest.module_kib if largest else 0
        self.module_name = largest.module_name if largest else ""
        self.started_epoch = started_epoch
        # bench_costs_sum.sum_costs of the runs' costs files: tasks per host, CPU split, module processes.
        self.costs = costs


def run_playbooks(runs, cwd):
    """Start every (command, env, log path) of `runs` at once and wait for all of them."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    started_epoch = time.time()
    handles, processes, samplers = [], [], []
    for _cmd, env, _log_path in runs:
        _remove_costs_files(env)  # the module lines are appended: a file left by an earlier run would add up
    try:
        for cmd, env, log_path in runs:
            handles.append(open(log_path, "w", encoding="utf-8"))  # pylint: disable=consider-using-with  # closed below
            processes.append(subprocess.Popen(cmd, env=env, stdout=handles[-1], stderr=subprocess.STDOUT, cwd=cwd))  # pylint: disable=consider-using-with
            samplers.append(MemorySampler(processes[-1].pid))
            samplers[-1].start()
        returncodes = [process.wait() for process in processes]
    finally:
        for sampler in samplers:
            sampler.stop()
        for handle in handles:
            handle.close()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    costs = sum_costs([read_costs(env) for _cmd, env, _log_path in runs])
    return Execution(round(wall, 2), round(cpu, 2), returncodes, samplers, started_epoch, costs)


def _remove_costs_files(env):
    for key in ("ENTRA_BENCH_COSTS", "ENTRA_BENCH_MODULES"):
        if env.get(key) and os.path.exists(env[key]):
            os.remove(env[key])


def read_costs(env):
    """One run's costs: the bench_costs callback's file ({"hosts", "cpu"}, nothing when it wrote none) and the module
    processes from module_counter's lines ({"modules"})."""
    costs = {}
    try:
        with open(env["ENTRA_BENCH_COSTS"], encoding="utf-8") as handle:
            costs.update(json.load(handle))
    except (KeyError, OSError, ValueError):
        pass
    try:
        with open(env["ENTRA_BENCH_MODULES"], encoding="utf-8") as handle:
            costs["modules"] = module_runs(handle)
    except (KeyError, OSError):
        costs["modules"] = module_runs([])
    return costs


def playbook_env(sandbox_env, ansible_log_path, forks=None, extra=None):
    """The environment of one ansible-playbook run against the sandbox, with Ansible's time-stamped log (task durations
    for "where the time goes") and its costs files beside that log: <stem>.costs.json from the bench_costs callback
    (added to the callbacks the environment already enables) and <stem>.modules.jsonl from the module processes
    (module_counter first on PYTHONPATH; a module process on the controller inherits it)."""
    env = dict(os.environ, **sandbox_env)
    env.update(extra or {})
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env["ANSIBLE_FORKS"] = str(forks or env.get("ANSIBLE_FORKS", "5"))
    env["ANSIBLE_LOG_PATH"] = ansible_log_path
    stem = ansible_log_path[:-len(".ansible.log")] if ansible_log_path.endswith(".ansible.log") else ansible_log_path
    env["ENTRA_BENCH_COSTS"] = stem + ".costs.json"
    env["ENTRA_BENCH_MODULES"] = stem + ".modules.jsonl"
    env["ANSIBLE_CALLBACK_PLUGINS"] = first_in_list(CALLBACK_DIR, env.get("ANSIBLE_CALLBACK_PLUGINS"), os.pathsep)
    env["ANSIBLE_CALLBACKS_ENABLED"] = first_in_list("bench_costs", env.get("ANSIBLE_CALLBACKS_ENABLED"), ",")
    env["PYTHONPATH"] = first_in_list(MODULE_COUNTER_DIR, env.get("PYTHONPATH"), os.pathsep)
    return env


def log_position(admin):
    """The sandbox log's last sequence number: request_counts(admin, since=this) sees only what comes after."""
    return admin._call("GET", "/log", params={"since": 0, "limit": 1})["last_seq"]  # pylint: disable=protected-access


def token_requests(counters):
    """All token requests the sandbox answered, and the most any one tenant made: (total, {tenant_id: count})."""
    per_tenant = {tenant_id: sum(per_app.values()) for tenant_id, per_app in counters["token_requests"].items()}
    return sum(per_tenant.values()), per_tenant


def measured_row(admin, since, execution, name, latency_ms, throttle, concurrency, with_floor=True, tenants=1):
    """The columns every row has, from the run and the sandbox's counters and log since `since`; and the times of the
    accepted restarts."""
    counters = admin.counters()
    http, items, statuses, spans, throttled, accepted = request_counts(admin, since)
    floor, bounds = floor_seconds(http, items, latency_ms / 1000.0, concurrency, throttle) if with_floor else (0.0, {})
    tokens, tokens_by_tenant = token_requests(counters)
    modules = (execution.costs or {}).get("modules") or {}
    module_kib, module_name = max((execution.module_kib, execution.module_name), (modules.get("peak_kib", 0), modules.get("peak_of", "")))
    return {
        "name": name, "latency_ms": latency_ms, "returncode": execution.returncode, "returncodes": execution.returncodes,
        "wall_s": execution.wall_s, "cpu_s": execution.cpu_s,
        "http_requests": dict(http), "http_total": sum(http.values()), "items": dict(items), "items_total": sum(items.values()),
        "token_requests": tokens, "token_requests_by_tenant": tokens_by_tenant, "status_429": counters["status_429"],
        "throttled_by_kind": dict(throttled), "restart_429": throttled.get("restart", 0), "statuses": {str(k): v for k, v in statuses.items()},
        "restarts": counters["totals"].get("restarts", 0), "restarted_twice": counters["totals"].get("jobs_restarted_more_than_once", 0),
        "controller_peak_mb": round(execution.controller_kib / 1024.0, 1), "module_peak_mb": round(module_kib / 1024.0, 1),
        "module_peak_of": module_name, "costs": execution.costs,
        "costs_figures": cost_figures(execution.costs, execution.cpu_s, tenants),
        "floor_s": round(floor, 2), "floor_bounds": {k: round(v, 2) for k, v in bounds.items()},
        "efficiency": round(floor / execution.wall_s, 3) if floor > 0 and execution.wall_s > 0 else None, "concurrency": concurrency,
        # Seconds from the start of the run to the first and the last request of each kind.
        "phases": {
            kind: [round(first - execution.started_epoch, 2), round(last - execution.started_epoch, 2)]
            for kind, (first, last) in sorted(spans.items(), key=lambda kv: kv[1])
        },
    }, accepted
