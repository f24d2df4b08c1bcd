# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/bench/bench_fleets.py: the fleets `make bench` seeds, its tenant inventory, its slices and its report comparison."""

import importlib.util
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
_SPEC = importlib.util.spec_from_file_location("bench_fleets", os.path.join(ROOT, "tests", "bench", "bench_fleets.py"))
bench_fleets = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench_fleets)


def _jobs(specs):
    return [job for spec in specs for job in spec.get("jobs", [])]


def test_small_fleet_has_the_issue_counts():
    specs = bench_fleets.small_fleet_spec()
    jobs = _jobs(specs)
    assert len(specs) == 500
    assert len(jobs) == 100
    assert sum(1 for job in jobs if job["status_code"] == "Quarantine") == 50
    assert {job["status_code"] for job in jobs} == {"Quarantine", "Active"}
    # one job per service principal that has any, spread over the whole tenant (every page of 999 has some)
    assert all(len(spec.get("jobs", [])) <= 1 for spec in specs)
    assert specs[495].get("jobs") and not specs[499].get("jobs")


@pytest.mark.parametrize("service_principals, jobs, quarantined", [(10, 3, 1), (7, 7, 7), (1000, 30, 0), (501, 100, 33)])
def test_small_fleet_counts_for_other_sizes(service_principals, jobs, quarantined):
    found = _jobs(bench_fleets.small_fleet_spec(service_principals, jobs, quarantined))
    assert len(found) == jobs
    assert sum(1 for job in found if job["status_code"] == "Quarantine") == quarantined


def test_small_fleet_templates_are_the_sandbox_ones():
    templates = {job["template_id"] for job in _jobs(bench_fleets.small_fleet_spec())}
    assert templates == set(bench_fleets.SMALL_FLEET_TEMPLATES)


@pytest.mark.parametrize("args, message", [((10, 11, 0), "jobs must be between"), ((10, 0, 0), "jobs must be between"),
                                           ((10, 5, 6), "quarantined must be between")])
def test_small_fleet_refuses_impossible_counts(args, message):
    with pytest.raises(ValueError, match=message):
        bench_fleets.small_fleet_spec(*args)


def test_tenant_inventory_is_the_entra_tenants_group():
    hosts = bench_fleets.tenant_hosts(["id-a", "id-b"])
    assert hosts == [("tenant01", "id-a"), ("tenant02", "id-b")]
    inventory = bench_fleets.tenant_inventory(hosts)
    assert inventory == {"entra_tenants": {"hosts": {"tenant01": {"entra_sync_tenant_id": "id-a"},
                                                     "tenant02": {"entra_sync_tenant_id": "id-b"}}}}
    assert bench_fleets.tenant_hosts(["x"] * 120)[-1][0] == "tenant120"


def test_tenant_plugin_inventory_is_the_tenant_mode():
    inventory = bench_fleets.tenant_plugin_inventory([("tenant01", "id-a")])
    assert inventory == {"plugin": "entra.sync.sync_jobs", "host_per": "tenant", "tenants": [{"tenant_id": "id-a", "name": "tenant01"}]}
    assert "client_secret" not in repr(inventory)


def test_slices_split_round_robin_like_awx():
    names = ["t%02d" % number for number in range(1, 21)]
    parts = bench_fleets.slices(names, 4)
    assert parts[0] == ["t01", "t05", "t09", "t13", "t17"]
    assert sorted(name for part in parts for name in part) == names
    assert bench_fleets.slices(["a", "b"], 4) == [["a"], ["b"], [], []]
    with pytest.raises(ValueError, match="at least 1"):
        bench_fleets.slices(names, 0)


def test_busiest_tenants_orders_by_quarantined_then_jobs():
    jobs = ([{"tenant_id": "a", "status_code": "Quarantine"}] + [{"tenant_id": "b", "status_code": "Quarantine"}] * 2
            + [{"tenant_id": "c", "status_code": "Quarantine"}, {"tenant_id": "c", "status_code": "Active"}])
    assert bench_fleets.busiest_tenants(jobs, 2) == ["b", "c"]
    assert bench_fleets.busiest_tenants(jobs, 5) == ["b", "c", "a"]


def _report(started, order, waited):
    results = [{"job_id": "j%d" % number, "action": "restarted", "tenant_id": "t1"} for number in order]
    results[0]["wait"] = {"healthy": True, "polls": 1, "waited_seconds": waited, "reason": "Active after %.1f s" % waited}
    return {"started_at": started, "finished_at": started, "tenants": [{"tenant_id": "t1", "results": results,
                                                                       "summary": {"restarted": len(order)}}]}


def test_stable_report_drops_clocks_and_sorts_job_lists():
    first = bench_fleets.stable_report(_report("2026-01-01T00:00:00Z", [1, 2, 3], 2.1))
    second = bench_fleets.stable_report(_report("2026-01-01T00:09:00Z", [1, 3, 2], 4.0))
    assert "started_at" not in first
    assert bench_fleets.report_differences(first, second) == []


def test_report_differences_name_the_path():
    unsliced = bench_fleets.stable_report(_report("x", [1, 2, 3], 2.0))
    merged = bench_fleets.stable_report(_report("x", [1, 2], 2.0))
    assert bench_fleets.report_differences(unsliced, merged) == [
        "report.tenants[0].results: 3 items != 2", "report.tenants[0].summary.restarted: 3 != 2"]
    extra = dict(merged, stopped="")
    assert bench_fleets.report_differences(merged, extra) == ["report.stopped: only in the second"]
    assert bench_fleets.report_differences(extra, merged) == ["report.stopped: missing from the second"]


def test_tenant_sections_keep_their_order():
    one = {"tenants": [{"tenant_id": "a"}, {"tenant_id": "b"}]}
    other = {"tenants": [{"tenant_id": "b"}, {"tenant_id": "a"}]}
    assert bench_fleets.report_differences(bench_fleets.stable_report(one), bench_fleets.stable_report(other))


def test_stable_report_drops_the_timeline_clock():
    first = {"timeline": [{"at": "2026-01-01T00:00:00Z", "step": "start", "tenant_id": ""}]}
    later = {"timeline": [{"at": "2026-01-01T00:04:44Z", "step": "start", "tenant_id": ""}]}
    assert bench_fleets.report_differences(bench_fleets.stable_report(first), bench_fleets.stable_report(later)) == []
    assert bench_fleets.stable_report(first) == {"timeline": [{"step": "start", "tenant_id": ""}]}
