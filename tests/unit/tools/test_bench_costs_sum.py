# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/bench/bench_costs_sum.py, the module counter and the bench_costs callback: what `make bench` counts per run."""

import importlib.util
import json
import os
from types import SimpleNamespace

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BENCH = os.path.join(ROOT, "tests", "bench")


def _load(name, *path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCH, *path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


costs_sum = _load("bench_costs_sum", "bench_costs_sum.py")
counter = _load("bench_module_counter", "module_counter", "sitecustomize.py")
callback = _load("bench_costs_callback", "callback_plugins", "bench_costs.py")


@pytest.mark.parametrize("first, existing, separator, expected", [
    ("bench_costs", None, ",", "bench_costs"),
    ("bench_costs", "", ",", "bench_costs"),
    ("bench_costs", "ara_default, profile_tasks", ",", "bench_costs,ara_default,profile_tasks"),
    ("bench_costs", "profile_tasks,bench_costs", ",", "bench_costs,profile_tasks"),
    ("/b/counter", "tests/sandbox:/x", ":", "/b/counter:tests/sandbox:/x"),
])
def test_first_in_list_keeps_what_the_row_set(first, existing, separator, expected):
    assert costs_sum.first_in_list(first, existing, separator) == expected


@pytest.mark.parametrize("entries, expected", [
    (["/tmp/ansible_entra.sync.sync_job_restart_payload_x1/ansible_entra.sync.sync_job_restart_payload.zip", "/usr/lib"],
     "entra.sync.sync_job_restart"),
    (["/usr/lib/python3.11", "/tmp/ansible_ansible.legacy.command_payload_a/ansible_ansible.legacy.command_payload.zip"],
     "ansible.legacy.command"),
    (["/usr/lib/python3.11", "/work/.venv/lib/python3.11/site-packages"], None),
    (["/tmp/ansible__payload.zip", "/tmp/ansible_x_payload.zip.bak"], None),
])
def test_module_counter_names_the_module_from_the_payload(entries, expected):
    assert counter.module_name(entries) == expected


def _line(module, cpu, peak):
    return json.dumps({"module": module, "cpu_s": cpu, "peak_kib": peak, "wall_s": 1.0})


def test_module_runs_sums_the_lines_and_skips_torn_ones():
    lines = [_line("entra.sync.sync_job_info", 0.5, 37000), _line("entra.sync.sync_job_restart", 0.25, 39000),
             _line("entra.sync.sync_job_info", 0.5, 36000), '{"module": "entra.sy', "", "[]"]
    assert costs_sum.module_runs(lines) == {"runs": 3, "by_module": {"entra.sync.sync_job_info": 2, "entra.sync.sync_job_restart": 1},
                                            "cpu_s": 1.25, "peak_kib": 39000, "peak_of": "entra.sync.sync_job_restart"}
    assert costs_sum.module_runs([]) == costs_sum.empty_modules()


def _part(hosts, main, children, modules):
    return {"hosts": hosts, "cpu": {"main_s": main, "children_s": children}, "modules": modules}


def test_sum_costs_adds_the_slices_up():
    first = _part({"tenant01": {"tasks": 30, "skipped": 10, "by_action": {"set_fact": 12, "sync_job_info": 1}},
                   "tenant05": {"tasks": 20, "skipped": 5, "by_action": {"set_fact": 10}}},
                  2.0, 10.0, costs_sum.module_runs([_line("entra.sync.sync_job_info", 0.5, 37000)]))
    second = _part({"tenant02": {"tasks": 25, "skipped": 8, "by_action": {"set_fact": 11, "sync_job_info": 1}},
                    "tenant01": {"tasks": 1, "skipped": 0, "by_action": {"debug": 1}}},
                   1.5, 8.25, costs_sum.module_runs([_line("entra.sync.sync_job_info", 0.75, 41000), _line("x.y.z", 0.25, 20000)]))
    total = costs_sum.sum_costs([first, second])
    assert total["hosts"]["tenant01"] == {"tasks": 31, "skipped": 10, "by_action": {"set_fact": 12, "sync_job_info": 1, "debug": 1}}
    assert sorted(total["hosts"]) == ["tenant01", "tenant02", "tenant05"]
    assert total["cpu"] == {"main_s": 3.5, "children_s": 18.25}
    assert total["modules"] == {"runs": 3, "by_module": {"entra.sync.sync_job_info": 2, "x.y.z": 1}, "cpu_s": 1.5,
                                "peak_kib": 41000, "peak_of": "entra.sync.sync_job_info"}


def test_sum_costs_without_any_callback_file_is_none():
    assert costs_sum.sum_costs([]) is None
    assert costs_sum.sum_costs([{"modules": costs_sum.empty_modules()}]) is None
    # a slice whose callback wrote nothing does not hide the others
    one = _part({"h": {"tasks": 2, "skipped": 1, "by_action": {"debug": 1}}}, 1.0, 1.0, costs_sum.empty_modules())
    assert costs_sum.sum_costs([one, {"modules": costs_sum.empty_modules()}])["hosts"] == one["hosts"]


def test_cost_figures_per_tenant_and_the_cpu_split():
    costs = _part({"tenant%02d" % number: {"tasks": 40, "skipped": 15, "by_action": {}} for number in range(1, 5)}, 3.0, 17.0,
                  costs_sum.module_runs([_line("m", 1.0, 1)] * 6))
    assert costs_sum.cost_figures(costs, 20.0, 4) == {
        "cpu_per_tenant_s": 5.0, "tasks_per_host": 25.0, "skipped_per_host": 15.0, "module_runs": 6, "module_runs_per_tenant": 1.5,
        "cpu_split": {"main_s": 3.0, "workers_s": 11.0, "modules_s": 6.0}}
    assert costs_sum.cost_figures(None, 7.5, 1) == {"cpu_per_tenant_s": 7.5}
    # the rest is never negative (the callback's main_s is read a moment after the run's total)
    assert costs_sum.cost_figures(costs, 8.0, 0)["cpu_split"]["workers_s"] == 0.0


def _row(contender, size="20x500", latency_ms=80, **values):
    row = {"contender": contender, "size": size, "latency_ms": latency_ms, "throttle": "default", "extra_vars": {}, "wall_s": 10.0,
           "cpu_s": 10.0, "efficiency": None, "floor_s": 0.0, "controller_peak_mb": 100.0, "module_peak_mb": 40.0, "module_peak_of": "m",
           "tenants": 1, "costs_figures": {"cpu_per_tenant_s": 10.0}}
    row.update(values)
    return row


def test_target_notes_side_by_side_with_the_cpu_bound():
    figures = {"cpu_per_tenant_s": 1.2, "tasks_per_host": 20.0, "skipped_per_host": 10.0, "module_runs": 30, "module_runs_per_tenant": 1.5,
               "cpu_split": {"main_s": 4.0, "workers_s": 14.0, "modules_s": 6.0}}
    rows = [_row("tenants-per_host", wall_s=14.0, cpu_s=24.0, tenants=20, costs_figures=figures), _row("tenant-single", wall_s=8.0),
            _row("fleet", size="small", wall_s=4.0), _row("uri", size="small", wall_s=180.0)]
    notes = costs_sum.target_notes(rows, 2)
    assert notes[0] == ("target: 20x500 per-host wall / slowest single tenant: 1.75 (14.0 s / 8.0 s; target <= 2.0): met; CPU bound: "
                        "24.0 s of CPU on 2 cores is at least 12.0 s of wall, 1.50x the single tenant")
    assert notes[1] == ("target: 20x500 CPU per tenant: 1.20 s (target <= 1.5 s): met (main 4.0 s, workers 14.0 s, modules 6.0 s; "
                        "20.0 tasks per host, 1.5 module runs per tenant)")
    assert notes[2] == "target: small fleet: 4.0 s end to end (target <= 5 s): met"
    assert notes[3] == "target: small fleet: the uri loop / the fleet 45.0x (180.0 s / 4.0 s; target >= 50x): MISSED"
    assert len(notes) == 4


def test_target_notes_for_l_xl_and_many_tenants():
    rows = [_row("fleet", size="L", wall_s=30.0, floor_s=24.0, efficiency=0.8),
            _row("fleet", size="L", latency_ms=80, throttle="tight", efficiency=0.1),
            _row("fleet", size="XL", controller_peak_mb=120.0, module_peak_mb=310.0, module_peak_of="entra.sync.sync_job_restart"),
            _row("tenants100", size="100x100", wall_s=250.0, cpu_s=300.0, tenants=100, service_principals=10000, token_requests=100,
                 token_requests_by_tenant={"t%d" % number: 1 for number in range(100)}, restarts=370, quarantined=900, restarted_twice=0,
                 report_restarted=370, report_to_do=530)]
    notes = costs_sum.target_notes(rows, 2)
    assert notes[0] == ("target: 100 tenants x 100: 250.0 s wall, CPU per tenant 3.00 s; token requests 100 (one each); the sandbox "
                        "accepted 370 restarts (the report: 370 restarted and 530 left to another remedy, of 900 quarantined), "
                        "restarted twice 0")
    assert notes[1] == "target: L at 80 ms: 80% of the floor (30.0 s vs 24.0 s; target >= 75%): met"
    assert notes[2] == ("target: XL memory: controller 120 MB (the largest ansible-playbook process, main or worker), module 310 MB "
                        "(entra.sync.sync_job_restart) (target < 300 MB): MISSED")
    assert costs_sum.target_notes([], 2) == []


class _Result:
    def __init__(self, host, action):
        self._host = SimpleNamespace(get_name=lambda: host)
        self._task = SimpleNamespace(action=action)


def test_callback_counts_tasks_per_host(tmp_path, monkeypatch):
    plugin = callback.CallbackModule()
    plugin.v2_runner_on_ok(_Result("tenant01", "ansible.builtin.set_fact"))
    plugin.v2_runner_on_ok(_Result("tenant01", "entra.sync.graph_token"))
    plugin.v2_runner_on_skipped(_Result("tenant01", "entra.sync.sync_job_restart"))
    plugin.v2_runner_on_failed(_Result("tenant02", "entra.sync.sync_job_info"))
    path = tmp_path / "costs.json"
    monkeypatch.setenv("ENTRA_BENCH_COSTS", str(path))
    plugin.v2_playbook_on_stats(None)
    written = json.loads(path.read_text())
    assert written["hosts"] == {"tenant01": {"tasks": 3, "skipped": 1, "by_action": {"set_fact": 1, "graph_token": 1}},
                                "tenant02": {"tasks": 1, "skipped": 0, "by_action": {"sync_job_info": 1}}}
    assert set(written["cpu"]) == {"main_s", "children_s"} and written["cpu"]["main_s"] > 0
