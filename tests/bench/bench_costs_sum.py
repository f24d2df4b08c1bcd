"""Pure helpers of `make bench` for the cost of a run (issue 25): the module processes' lines, the costs files of
several playbooks summed, the figures per tenant, and the issue's targets side by side with what a run measured.

No I/O here: bench_measure.py reads the files; tests/unit/tools/test_bench_costs_sum.py covers these.
"""

import json

# Issue 25's targets (make bench, side by side in one run; never timed assertions).
TARGETS = {"tenants_ratio": 2.0, "cpu_per_tenant_s": 1.5, "small_wall_s": 5.0, "uri_over_fleet": 50.0, "efficiency_l": 0.75, "xl_mb": 300.0}


def first_in_list(first, existing, separator):
    """A list setting (a path list, Ansible's enabled callbacks) with `first` in front and what it held kept after it:
    the bench adds its own entry without dropping any a row already sets."""
    kept = [entry.strip() for entry in (existing or "").split(separator) if entry.strip() and entry.strip() != first]
    return separator.join([first] + kept)


def module_runs(lines):
    """The module processes of a run from module_counter's lines (one JSON object per process; a torn or empty line is
    skipped): {"runs", "by_module", "cpu_s", "peak_kib", "peak_of"}."""
    summary = empty_modules()
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or "module" not in entry:
            continue
        summary["runs"] += 1
        summary["by_module"][entry["module"]] = summary["by_module"].get(entry["module"], 0) + 1
        summary["cpu_s"] += entry.get("cpu_s", 0.0)
        if entry.get("peak_kib", 0) > summary["peak_kib"]:
            summary["peak_kib"], summary["peak_of"] = entry["peak_kib"], entry["module"]
    summary["cpu_s"] = round(summary["cpu_s"], 2)
    return summary


def empty_modules():
    return {"runs": 0, "by_module": {}, "cpu_s": 0.0, "peak_kib": 0, "peak_of": ""}


def sum_costs(parts):
    """The costs of several playbooks run at the same time (the slices) as one: tasks and CPU added up per host and in
    all, module runs added up, the largest module peak kept. Each part is {"hosts", "cpu", "modules"}; a part whose
    callback wrote nothing has no "hosts" (None when no part has any)."""
    if not parts or all(part.get("hosts") is None for part in parts):
        return None
    hosts, cpu, modules = {}, {"main_s": 0.0, "children_s": 0.0}, empty_modules()
    for part in parts:
        for host, counts in (part.get("hosts") or {}).items():
            mine = hosts.setdefault(host, {"tasks": 0, "skipped": 0, "by_action": {}})
            mine["tasks"] += counts["tasks"]
            mine["skipped"] += counts["skipped"]
            for action, count in counts["by_action"].items():
                mine["by_action"][action] = mine["by_action"].get(action, 0) + count
        for key in cpu:
            cpu[key] = round(cpu[key] + (part.get("cpu") or {}).get(key, 0.0), 2)
        theirs = part.get("modules") or empty_modules()
        modules["runs"] += theirs["runs"]
        modules["cpu_s"] = round(modules["cpu_s"] + theirs["cpu_s"], 2)
        for name, count in theirs["by_module"].items():
            modules["by_module"][name] = modules["by_module"].get(name, 0) + count
        if theirs["peak_kib"] > modules["peak_kib"]:
            modules["peak_kib"], modules["peak_of"] = theirs["peak_kib"], theirs["peak_of"]
    return {"hosts": hosts, "cpu": cpu, "modules": modules}


def cost_figures(costs, cpu_s, tenants):
    """The row's cost columns: CPU per tenant, tasks per host (that ran, and skipped), module runs in all and per tenant,
    and the CPU split: main (ansible-playbook's own process), modules (the module processes, each measured at its
    exit), workers (the rest of cpu_s: Ansible's worker processes, templating and action plugins in them, and the shells
    that start modules). Without costs (the callback wrote nothing) only the CPU per tenant."""
    tenants = max(tenants, 1)
    figures = {"cpu_per_tenant_s": round(cpu_s / tenants, 2)}
    if not costs:
        return figures
    hosts = costs["hosts"].values()
    ran = sum(host["tasks"] - host["skipped"] for host in hosts)
    main, modules = costs["cpu"]["main_s"], costs["modules"]["cpu_s"]
    figures.update({
        "tasks_per_host": round(ran / max(len(hosts), 1), 1),
        "skipped_per_host": round(sum(host["skipped"] for host in hosts) / max(len(hosts), 1), 1),
        "module_runs": costs["modules"]["runs"], "module_runs_per_tenant": round(costs["modules"]["runs"] / tenants, 1),
        "cpu_split": {"main_s": round(main, 2), "workers_s": round(max(cpu_s - main - modules, 0.0), 2), "modules_s": round(modules, 2)},
    })
    return figures


def _verdict(met):
    return "met" if met else "MISSED"


def _find(rows, **wanted):
    return next((row for row in rows if all(row.get(key) == value for key, value in wanted.items()) and not row.get("extra_vars")), None)


def _tenant_targets(rows, cores):
    notes = []
    per_host, single = _find(rows, contender="tenants-per_host"), _find(rows, contender="tenant-single")
    if per_host and single:
        ratio, bound = per_host["wall_s"] / single["wall_s"], per_host["cpu_s"] / cores
        notes.append("20x500 per-host wall / slowest single tenant: %.2f (%.1f s / %.1f s; target <= %.1f): %s; CPU bound: %.1f s of CPU "
                     "on %d cores is at least %.1f s of wall, %.2fx the single tenant" % (
                         ratio, per_host["wall_s"], single["wall_s"], TARGETS["tenants_ratio"], _verdict(ratio <= TARGETS["tenants_ratio"]),
                         per_host["cpu_s"], cores, bound, bound / single["wall_s"]))
    if per_host:
        cpu = per_host["cpu_s"] / max(per_host.get("tenants") or 1, 1)
        notes.append("20x500 CPU per tenant: %.2f s (target <= %.1f s): %s%s" % (
            cpu, TARGETS["cpu_per_tenant_s"], _verdict(cpu <= TARGETS["cpu_per_tenant_s"]), _split_text(per_host)))
    many = _find(rows, contender="tenants100")
    if many:
        tenants = many["tenants"]
        counts = sorted(many["token_requests_by_tenant"].values())
        notes.append("%d tenants x %d: %.1f s wall, CPU per tenant %.2f s%s; token requests %d (%s); the sandbox accepted %d restarts "
                     "(the report: %s restarted and %s left to another remedy, of %d quarantined), restarted twice %d" % (
                         tenants, many["service_principals"] // max(tenants, 1), many["wall_s"], many["cpu_s"] / max(tenants, 1),
                         _split_text(many), many["token_requests"], "one each" if counts == [1] * tenants else "by tenant %s" % counts,
                         many["restarts"], many.get("report_restarted", "?"), many.get("report_to_do", "?"), many["quarantined"],
                         many["restarted_twice"]))
    return notes


def _split_text(row):
    figures = row.get("costs_figures") or {}
    if "cpu_split" not in figures:
        return ""
    split = figures["cpu_split"]
    return " (main %.1f s, workers %.1f s, modules %.1f s; %.1f tasks per host, %.1f module runs per tenant)" % (
        split["main_s"], split["workers_s"], split["modules_s"], figures["tasks_per_host"], figures["module_runs_per_tenant"])


def target_notes(rows, cores):
    """Issue 25's targets next to what this run measured, one line each, for the rows the run has."""
    notes = _tenant_targets(rows, max(cores, 1))
    small, uri = _find(rows, contender="fleet", size="small", latency_ms=80, throttle="default"), _find(rows, contender="uri", size="small", latency_ms=80)
    if small:
        notes.append("small fleet: %.1f s end to end (target <= %.0f s): %s" % (
            small["wall_s"], TARGETS["small_wall_s"], _verdict(small["wall_s"] <= TARGETS["small_wall_s"])))
    if small and uri:
        ratio = uri["wall_s"] / small["wall_s"]
        notes.append("small fleet: the uri loop / the fleet %.1fx (%.1f s / %.1f s; target >= %.0fx): %s" % (
            ratio, uri["wall_s"], small["wall_s"], TARGETS["uri_over_fleet"], _verdict(ratio >= TARGETS["uri_over_fleet"])))
    large = _find(rows, contender="fleet", size="L", latency_ms=80, throttle="default")
    if large and large.get("efficiency"):
        notes.append("L at 80 ms: %.0f%% of the floor (%.1f s vs %.1f s; target >= %.0f%%): %s" % (
            100 * large["efficiency"], large["wall_s"], large["floor_s"], 100 * TARGETS["efficiency_l"],
            _verdict(large["efficiency"] >= TARGETS["efficiency_l"])))
    xl = _find(rows, contender="fleet", size="XL", latency_ms=80, throttle="default")
    if xl:
        worst = max(xl["controller_peak_mb"], xl["module_peak_mb"])
        notes.append("XL memory: controller %.0f MB (the largest ansible-playbook process, main or worker), module %.0f MB (%s) (target < %.0f MB): %s" % (
            xl["controller_peak_mb"], xl["module_peak_mb"], xl.get("module_peak_of") or "none", TARGETS["xl_mb"], _verdict(worst < TARGETS["xl_mb"])))
    return ["target: " + note for note in notes]
