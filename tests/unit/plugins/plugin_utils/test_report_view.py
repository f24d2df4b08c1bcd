# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What report.html shows: the verdict, the totals, the after label, the timeline's steps, the jobs in order, and a
report of any shape (the list form, a merged report, an empty one) shown without an error. Then the page itself:
escaped, self-contained, accessible."""

import copy
import re
from html.parser import HTMLParser

import pytest

from ansible_collections.entra.sync.plugins.module_utils._fleet.fleet_report import AFTER_LABELS, assemble_report
from ansible_collections.entra.sync.plugins.plugin_utils.ara import ara_records
from ansible_collections.entra.sync.plugins.plugin_utils.report_html import render_report_html
from ansible_collections.entra.sync.plugins.plugin_utils.report_view import (
    build_view,
    job_rows,
    timeline_rows,
    verdict,
    verdict_line,
)

EVIL = '<script>alert("x")</script>'
# report.html names the counts after as report.md and the console do.
AFTER_EXPECTED, AFTER_READ_AGAIN = AFTER_LABELS["restart_results"], AFTER_LABELS["read_again"]


def job(tenant, sp, job_id, action, reason="", **more):
    return dict({"tenant_id": tenant, "service_principal_id": sp, "job_id": job_id, "template_id": "scim", "status_code": "Quarantine",
                 "action": action, "reason": reason}, **more)


def part(tenant, host, at, results=(), error="", **more):
    results = list(results)
    touched = [dict(entry, service_principal_name="App " + entry["service_principal_id"]) for entry in results
               if entry["action"] in ("restarted", "failed", "unknown")]
    summary = {action: len([entry for entry in results if entry["action"] == action]) for action in ("restarted", "failed", "unknown")}
    return dict({
        "tenant_id": tenant, "host": host, "error": error, "stopped": "", "stopped_by": "", "jobs_found": 4, "summary": summary,
        "counts_before": {"scim": {"Quarantine": 3, "Active": 1}}, "counts_after": {"scim": {"Quarantine": 1, "Active": 3}},
        "failed_or_unknown": [entry for entry in results if entry["action"] in ("failed", "unknown")], "touched": touched, "results": results,
        "timeline": [{"tenant_id": tenant, "step": step, "at": "2026-11-30T12:00:%06.3fZ" % second} for step, second in at],
    }, **more)


def fleet_report():
    parts = [
        part("t-a", "contoso", [("start", 1), ("sign-in", 2), ("discovery", 4), ("canary", 6), ("chunk 1", 8), ("chunk 2", 9)],
             [job("t-a", "sp-2", "scim.b", "restarted"), job("t-a", "sp-1", "scim.a", "restarted")]),
        part("t-b", "fabrikam", [("start", 1), ("sign-in", 3), ("discovery", 5), ("chunk 1", 7)],
             [job("t-b", "sp-9", "scim.z", "failed", "HTTP 503 " + EVIL), job("t-b", "sp-3", "scim.c", "unknown", "no answer came back")]),
        part("t-c", "northwind", [("start", 1), ("failed", 2)], error="Report a sign-in failure: invalid_client"),
    ]
    run = {"form": "tenant_hosts", "started_at": "2026-11-30T12:00:00Z", "finished_at": "2026-11-30T12:00:11Z", "restart_if": ["quarantined"],
           "reset_scope": [], "timeline": [{"tenant_id": "", "step": "start", "at": "2026-11-30T12:00:00.500Z"},
                                           {"tenant_id": "", "step": "report", "at": "2026-11-30T12:00:10.000Z"}]}
    return assemble_report(parts, run)


def clean_report():
    report = assemble_report([part("t-a", "contoso", [("start", 1), ("sign-in", 2)], [job("t-a", "sp-1", "scim.a", "restarted")])],
                             {"form": "tenant_list", "tenant_ids": ["t-a"], "restart_if": ["quarantined"], "reset_scope": []})
    return report


@pytest.mark.parametrize("change, left_alone, tone, words", [
    ({}, 0, "bad", ["1 job failed", "1 with an unknown outcome", "2 of 3 tenants failed (fabrikam, northwind)", "Restarted 2 of 12 jobs found"]),
    ({"summary": {"restarted": 2, "failed": 0, "unknown": 0}, "failed_tenants": []}, 3, "warn",
     ["3 jobs left for a person (a restart does not fix them)", "Restarted 2 of 12"]),
    ({"summary": {"restarted": 2}, "failed_tenants": []}, 0, "ok", ["Restarted 2 of 12 jobs found; nothing failed"]),
    ({"summary": {}, "failed_tenants": []}, 0, "ok", ["Nothing to restart: 12 jobs found, none matched restart_if (quarantined)"]),
    ({"tenants": ["t-a"], "stopped": "canary in tenant t-a did not recover", "summary": {}, "failed_tenants": []}, 0, "bad",
     ["the run stopped: canary in tenant t-a did not recover"]),
])
def test_verdict(change, left_alone, tone, words):
    report = dict(fleet_report(), **change)
    found_tone, line = verdict(report, left_alone)
    assert found_tone == tone
    for word in words:
        assert word in line, line
    assert verdict_line(report, left_alone).startswith({"ok": "OK: ", "warn": "Needs a person: ", "bad": "Needs attention: "}[tone])


def test_the_after_counts_are_never_called_read_unless_they_were():
    assert build_view(fleet_report())["after_label"] == AFTER_EXPECTED == "expected after the restarts (not read again)"
    assert build_view(dict(fleet_report(), after_source="restart_results"))["after_label"] == AFTER_EXPECTED
    assert build_view(dict(fleet_report(), after_source="read_again"))["after_label"] == AFTER_READ_AGAIN


def test_timeline_rows_are_the_steps_between_events_with_the_run_row_first():
    rows, span = timeline_rows(fleet_report())
    assert span == pytest.approx(11.0)
    by_label = dict(rows)
    assert [label for label, dummy in rows] == ["run", "contoso", "fabrikam", "northwind"]
    assert by_label["run"] == [("inputs", "inputs", 0.5, 1.0), ("report", "report", 9.0, 10.0)]
    assert [(step, begin, end) for step, dummy, begin, end in by_label["contoso"]] == [
        ("sign-in", 1, 2), ("discovery", 2, 4), ("canary", 4, 6), ("chunk 1", 6, 8), ("chunk 2", 8, 9)]
    assert by_label["contoso"][3][1] != by_label["contoso"][4][1], "two chunks side by side in two shades"
    assert by_label["northwind"] == [("failed", "failed", 1, 2)]
    assert timeline_rows({"started_at": "2026-11-30T12:00:00Z"}) == ([], 0.0)


def test_the_trend_names_runs_by_minute_or_by_second_when_two_share_a_minute():
    entries = [{"started_at": "a", "finished_at": "2026-11-30T12:00:05Z", "tenants": ["t"], "restarted": 2},
               {"started_at": "b", "finished_at": "2026-11-30T13:00:05Z", "tenants": ["t"], "failed": 1, "unknown": 2}]
    assert build_view({}, entries)["trend_table"] == [("2026-11-30 12:00", 0, 2, 0), ("2026-11-30 13:00", 0, 0, 3)]
    entries[1]["finished_at"] = "2026-11-30T12:00:50Z"
    assert [row[0] for row in build_view({}, entries)["trend_table"]] == ["2026-11-30 12:00:05", "2026-11-30 12:00:50"]


def test_jobs_come_soonest_deadline_first_then_by_tenant_name_and_job():
    rows = job_rows([job("t2", "sp", "j1", "skipped"), job("t1", "sp", "j2", "skipped", disables_at="2026-12-20T00:00:00Z"),
                     job("t1", "sp", "j3", "skipped", disables_at="2026-12-02T00:00:00Z"), job("t1", "sp", "j0", "skipped")],
                    {("t1", "sp", "j0"): "Zeta"}, {"t2": "alpha"})
    assert [row["job_id"] for row in rows] == ["j3", "j2", "j1", "j0"]
    assert rows[3]["service_principal_name"] == "Zeta" and rows[2]["tenant"] == "alpha"


@pytest.mark.parametrize("report", [
    {}, {"tenants": ["t1", "t2"], "summary": {"restarted": 1}}, {"summary": None, "tenants": None, "timeline": "nonsense", "touched": [1, "x"]},
    clean_report(),
])
def test_any_report_renders(report):
    page = render_report_html(report, [{"finished_at": "2026-11-30T12:00:00Z", "restarted": 1}], ["/r/report.json"])
    assert page.startswith("<!DOCTYPE html>") and "<title>" in page


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.loads, self.th_without_scope, self.svg_titles = [], [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.loads += [value for name, value in attrs.items() if name in ("src", "href", "srcset", "action") and not (value or "").startswith("#")]
        self.th_without_scope += tag == "th" and "scope" not in attrs
        self.svg_titles += tag == "title" and "id" in attrs


def test_the_page_names_every_job_that_needs_a_person_escapes_everything_and_loads_nothing():
    report = fleet_report()
    page = render_report_html(report, [{"started_at": "1", "finished_at": "2026-11-29T12:00:00Z", "tenants": ["t-a"], "quarantined_before": 5}])
    parser = Page()
    parser.feed(page)
    assert "script" not in parser.tags and "&lt;script&gt;" in page and EVIL not in page
    assert parser.loads == [] and "url(" not in page and "@import" not in page
    assert "default-src 'none'" in page, "the Content-Security-Policy refuses anything a later change might load"
    assert parser.th_without_scope == 0 and parser.svg_titles >= 4, "a header scope on every th; status, tenants, timeline, trend charts"
    assert "prefers-color-scheme: dark" in page and "@media print" in page
    attention = page[page.index('id="attention"'):page.index('id="restarted-heading"')]
    for job_id in ("scim.z", "scim.c"):
        assert job_id in attention
    assert attention.index("scim.z") < attention.index("scim.c"), "failed, then unknown"
    restarted = page[page.index('id="restarted-heading"'):]
    assert restarted.index("scim.a") < restarted.index("scim.b"), "sorted"
    assert re.search(r'<code class="id">scim\.a</code>', page), "ids copyable as a whole"
    assert "Needs attention:" in page and "northwind" in page and "invalid_client" in page


def test_long_lists_start_closed_short_ones_open():
    report = fleet_report()
    many = [job("t-a", "sp-%03d" % index, "scim.%03d" % index, "restarted") for index in range(30)]
    report["touched"] = many
    page = render_report_html(report)
    restarted = page[page.index('id="restarted-heading"'):]
    assert "<details>\n<summary>Restarted: 30</summary>" in restarted
    report["touched"] = many[:3]
    assert "<details open>\n<summary>Restarted: 3</summary>" in render_report_html(report)


def test_remedies_are_charted_and_left_alone_jobs_listed_when_the_report_has_them():
    report = copy.deepcopy(fleet_report())
    report["remedy_counts"] = {"credentials": 2, "restart": 3, "fix_target": 0, "clean_up_errors": 1}
    report["to_do"] = [job("t-a", "sp-7", "scim.cred", "skipped", remedy="credentials", remedy_reason="get a new secret token",
                           disables_at="2026-12-01T00:00:00Z", disables_soon=True),
                       job("t-a", "sp-8", "scim.paused", "skipped", remedy="clean_up_errors", remedy_reason="clean up the errors")]
    view = build_view(report)
    assert view["remedy_table"] == [("restart", [3]), ("credentials", [2]), ("clean up errors", [1])]
    assert [row["job_id"] for row in view["left_alone"]] == ["scim.cred", "scim.paused"]
    assert view["verdict"]["text"].endswith("2 jobs left for a person (a restart does not fix them). Restarted 2 of 12 jobs found.")
    page = render_report_html(report)
    assert "Jobs that need something, by remedy" in page and "get a new secret token" in page
    attention = page[page.index('id="attention"'):page.index('id="restarted-heading"')]
    assert attention.index("scim.cred") < attention.index("scim.paused")
    assert '<strong class="soon">SOON</strong> 2026-12-01T00:00:00Z' in attention and "clean up errors" in attention


def test_ara_records_the_totals_and_report_html():
    records = dict((key, (value, kind)) for key, value, kind in ara_records(fleet_report(), "/r/report.html"))
    totals, kind = records["entra_sync_report"]
    assert kind == "dict" and totals["failed"] == 1 and totals["unknown"] == 1 and totals["restarted"] == 2
    assert totals["verdict"].startswith("Needs attention: ") and totals["failed_tenants"] == ["t-b", "t-c"]
    assert records["entra_sync_report_html"] == ("file:///r/report.html", "url")
