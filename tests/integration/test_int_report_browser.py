"""report.html in a real browser: the demo's fleet run with trouble (tests/tools/report_demo.py: failed jobs, unknown
outcomes, a tenant that cannot sign in, a clean run before it in the history), opened from disk by headless Chromium
(Debian's `chromium`). Checked: the text it rendered (the verdict, each failed and unknown job's id, the charts'
titles), that the page requested nothing (Chromium's net log), that no secret or token is in the page or the history,
and screenshots (light and dark) in .build/report-browser. Skipped, saying so, where no Chromium is installed.
"""

import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import browser  # noqa: E402  (tests/tools/browser.py)
import report_demo  # noqa: E402  (tests/tools/report_demo.py)

SHOTS = os.path.join(ROOT, ".build", "report-browser")

pytestmark = pytest.mark.skipif(browser.find_chromium() is None, reason=browser.SKIP_REASON)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return report_demo.run_demo(str(tmp_path_factory.mktemp("report-demo")))


def test_the_request_check_sees_a_page_that_loads_something(tmp_path):
    """The net log check can fail: a page with an image from a loopback port is caught."""
    page = tmp_path / "loads.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png" alt="x"><p>loads</p></body></html>')
    dom, requested = browser.dump_dom(str(page))
    assert requested == ["http://127.0.0.1:9/x.png"] and "loads" in dom
    assert browser.read_dom(dom)["loads"] == ["img src=http://127.0.0.1:9/x.png"]


def test_the_demo_report_renders_its_verdict_jobs_and_charts_and_loads_nothing(demo):
    report = json.loads(open(os.path.join(demo["report_dir"], "report.json"), encoding="utf-8").read())
    dom, requested = browser.dump_dom(demo["html"])
    assert requested == [], "report.html requested %s" % requested
    page = browser.read_dom(dom)
    assert page["loads"] == []
    text = page["text"]

    # the verdict, in one line at the top
    summary = report["summary"]
    assert summary["failed"] == report_demo.REFUSED and summary["unknown"] == report_demo.LOST, summary
    verdict = "entra.sync fleet report Needs attention: %d jobs failed; %d with an unknown outcome; 2 of 3 tenants failed (fabrikam, northwind)" % (
        summary["failed"], summary["unknown"])
    assert text.startswith(verdict), text[:400]
    assert "Restarted %d of %d jobs found." % (summary["restarted"], report["jobs_found"]) in text[:600]
    # every job that needs a person, by id, before the jobs restarted; the tenant that could not sign in, and why
    attention, restarted = text.split("Needs a person", 1)[1].split("Restarted: ", 1)
    failed = [entry for entry in report["failed_or_unknown"] if entry["action"] == "failed"]
    unknown = [entry for entry in report["failed_or_unknown"] if entry["action"] == "unknown"]
    assert {(entry["service_principal_id"], entry["job_id"]) for entry in failed + unknown} == set(demo["faulted"])
    for entry in failed + unknown:
        assert entry["job_id"] in attention and entry["service_principal_id"] in attention
    assert attention.index(failed[0]["job_id"]) < attention.index("Unknown outcome") < attention.index(unknown[0]["job_id"])
    for entry in report["touched"]:
        if entry["action"] == "restarted":
            assert entry["job_id"] in restarted
    assert "northwind" in text and "invalid_client" in text

    # the charts, by their titles
    titles = page["chart_titles"]
    assert titles[:1] == ["Jobs by status, before and expected after the restarts (not read again)"], titles
    assert "Timeline of the run" in titles and "The last 2 runs" in titles
    assert sorted(title for title in titles if title.startswith("Tenant ")) == sorted(
        "Tenant %s: jobs by status" % tenant_id for tenant_id in demo["tenants"].values())


def test_no_secret_or_token_in_the_report_or_the_history(demo):
    texts = {name: open(os.path.join(demo["report_dir"], name), encoding="utf-8").read() for name in ("report.html", "report.json", "report.md")}
    texts["history.jsonl"] = open(os.path.join(os.path.dirname(demo["report_dir"]), "history", "history.jsonl"), encoding="utf-8").read()
    assert len(demo["secrets"]) >= 3, "the wrong secret, the app's secret and at least one token"
    for name, text in texts.items():
        for secret in demo["secrets"]:
            assert secret not in text, "a secret or token in %s" % name


def test_screenshots_light_and_dark(demo):
    os.makedirs(SHOTS, exist_ok=True)
    for name, dark in (("report.png", False), ("report-dark.png", True)):
        path = os.path.join(SHOTS, name)
        if os.path.exists(path):
            os.unlink(path)
        assert browser.screenshot(demo["html"], path, dark=dark) == []
        with open(path, "rb") as handle:
            head = handle.read(8)
        assert head == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 20000, path
