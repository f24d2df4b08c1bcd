# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html's charts: well-formed SVG with a title and a description, every value as text, every label escaped,
lengths in proportion."""

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.entra.sync.plugins.plugin_utils import report_charts as charts

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & \'q\''


def parse(svg):
    root = ET.fromstring(svg)  # well-formed, or this raises
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    title, desc = root.find(SVG + "title"), root.find(SVG + "desc")
    assert root.get("aria-labelledby") == "%s %s" % (title.get("id"), desc.get("id"))
    return root


def texts(root):
    """What each <text> shows (a <title> inside one is its tooltip, not shown)."""
    return [(node.text or "") + "".join(child.tail or "" for child in node) for node in root.iter(SVG + "text")]


def bars(root):
    return [node for node in root.iter(SVG + "rect") if (node.get("class") or "").startswith("tone-") and node.find(SVG + "title") is not None]


@pytest.mark.parametrize("value, ceiling", [(-3, 1), (0, 1), (0.3, 0.5), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (4999, 5000)])
def test_nice_ceiling(value, ceiling):
    assert charts.nice_ceiling(value) == pytest.approx(ceiling)


@pytest.mark.parametrize("span, labels", [
    (4, ["0 s", "0.5 s", "1 s", "1.5 s", "2 s", "2.5 s", "3 s", "3.5 s", "4 s"]),
    (30, ["0 s", "5 s", "10 s", "15 s", "20 s", "25 s", "30 s"]),
    (600, ["0 min", "2 min", "4 min", "6 min", "8 min", "10 min"]),
])
def test_time_ticks(span, labels):
    assert [label for dummy, label in charts.time_ticks(span)] == labels


def test_bar_chart_draws_each_value_in_proportion_and_writes_it():
    root = parse(charts.bar_chart("s", "Jobs by status", "Quarantine: 8 before, 2 after", [("Quarantine", [8, 2]), ("Active", [4, 10])],
                                  [("before", "before"), ("after", "after")]))
    assert root.find(SVG + "title").text == "Jobs by status" and root.find(SVG + "desc").text == "Quarantine: 8 before, 2 after"
    widths = [float(node.get("width")) for node in bars(root)]
    assert widths[0] == pytest.approx(4 * widths[1], rel=1e-2) and widths[3] == pytest.approx(2.5 * widths[2], rel=1e-2)
    assert {"8", "2", "4", "10", "Quarantine", "Active", "before", "after"} <= set(texts(root))


def test_every_label_and_title_is_escaped():
    svg = charts.bar_chart(EVIL, EVIL, EVIL, [(EVIL, [1])], [(EVIL, EVIL)])
    assert "<script" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.find(SVG + "title").text == EVIL
    for svg in (charts.stacked_bars("t", EVIL, EVIL, [(EVIL, {EVIL: 2})], {EVIL: EVIL}),
                charts.timeline_chart("t", EVIL, EVIL, [(EVIL, [(EVIL, EVIL, 0, 1)])], 2, [(EVIL, EVIL)]),
                charts.trend_chart("t", EVIL, EVIL, [(EVIL, {"k": 1})], [("k", EVIL, EVIL)])):
        assert "<script" not in svg
        parse(svg)


def test_stacked_bars_fill_each_row_by_share_and_end_in_the_total():
    rows = [("before", {"Quarantine": 1, "Active": 3}), ("after", {"Active": 4})]
    root = parse(charts.stacked_bars("t", "Tenant a", "before: Quarantine 1, Active 3", rows, {"Quarantine": "quarantine", "Active": "active"}))
    widths = [float(node.get("width")) for node in bars(root)]
    assert widths[1] == pytest.approx(3 * widths[0], rel=1e-2) and widths[2] == pytest.approx(widths[0] + widths[1], rel=1e-2)
    assert texts(root).count("4") == 2


def test_an_empty_chart_is_still_a_chart():
    for svg in (charts.bar_chart("e", "Nothing", "no jobs", [], [("before", "before")]),
                charts.stacked_bars("e", "Nothing", "no jobs", [("before", {})], {}),
                charts.timeline_chart("e", "Nothing", "no steps", [], 0, []),
                charts.trend_chart("e", "Nothing", "no runs", [], [("k", "k", "k")])):
        parse(svg)


def test_timeline_places_each_step_from_its_start_to_its_end_within_the_run():
    rows = [("run", [("report", "report", 10, 12)]), ("contoso", [("sign-in", "signin", 1, 2), ("discovery", "discovery", 2, 6)]),
            ("late", [("chunk 1", "chunk", 11, 30)])]
    root = parse(charts.timeline_chart("t", "Timeline", "12 s", rows, 12, [("sign-in", "signin")]))
    steps = {node.find(SVG + "title").text.split(": ")[0]: (float(node.get("x")), float(node.get("width"))) for node in bars(root)}
    assert steps["contoso, discovery"][1] == pytest.approx(4 * steps["contoso, sign-in"][1], rel=1e-2)
    assert steps["contoso, discovery"][0] == pytest.approx(steps["contoso, sign-in"][0] + steps["contoso, sign-in"][1], rel=1e-2)
    # a step past the run's end is cut at it
    assert steps["late, chunk 1"][0] + steps["late, chunk 1"][1] == pytest.approx(steps["run, report"][0] + steps["run, report"][1], rel=1e-2)
    long_label = charts.timeline_chart("t", "T", "d", [("x" * 60, [])], 1, [])
    assert "x" * 60 in long_label and "x" * 27 + "\u2026" in long_label, "cut on the axis, whole in its <title>"


def test_trend_marks_every_run_and_names_the_first_and_the_last():
    points = [("2026-11-01 10:00", {"q": 4, "r": 4}), ("2026-11-02 10:00", {"q": 2, "r": 1}), ("2026-11-03 10:00", {"q": 0, "r": 0})]
    root = parse(charts.trend_chart("t", "Runs", "3 runs", points, [("q", "quarantined", "quarantine"), ("r", "restarted", "active")]))
    markers = [node.find(SVG + "title").text for node in root.iter(SVG + "circle")]
    assert len(markers) == 6 and "2026-11-02 10:00: quarantined 2" in markers
    assert len(list(root.iter(SVG + "polyline"))) == 2
    heights = {node.find(SVG + "title").text: float(node.get("cy")) for node in root.iter(SVG + "circle")}
    assert heights["2026-11-01 10:00: quarantined 4"] < heights["2026-11-02 10:00: quarantined 2"] < heights["2026-11-03 10:00: quarantined 0"]
    assert "2026-11-01 10:00" in texts(root) and "2026-11-03 10:00" in texts(root) and "2026-11-02 10:00" not in texts(root)
