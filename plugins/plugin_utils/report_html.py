# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html: the fleet report as one self-contained page (inline CSS and SVG, nothing loaded from anywhere, no
script), rendered on the controller with Jinja2 from templates/report.html.j2 beside this file.

Autoescape is on: every value of the report is HTML-escaped by the template; the charts are SVG text that
report_charts.py escaped itself, the one thing inserted as it is (Markup).
"""

import os

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ansible_collections.entra.sync.plugins.plugin_utils.report_view import build_view

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE = "report.html.j2"
# The colours of report_charts.py's tone-* classes (light, dark): the Okabe-Ito palette, which readers with a colour
# vision deficiency can tell apart; every value is written as text too.
TONES = {
    "before": ("#8c959f", "#6e7681"), "after": ("#0072b2", "#58a6ff"),
    "quarantine": ("#e69f00", "#e69f00"), "active": ("#009e73", "#2ea97f"), "paused": ("#999999", "#8b949e"),
    "idle": ("#cc79a7", "#cc79a7"), "unknown": ("#56b4e9", "#56b4e9"), "other": ("#b8a500", "#f0e442"),
    "failed": ("#d55e00", "#f07b2e"),
    "restart": ("#009e73", "#2ea97f"), "credentials": ("#d55e00", "#f07b2e"), "fix_target": ("#e69f00", "#e69f00"),
    "approve_deletes": ("#cc79a7", "#cc79a7"), "support": ("#0072b2", "#58a6ff"), "clean_up_errors": ("#b8a500", "#f0e442"),
    "none": ("#999999", "#8b949e"),
    "inputs": ("#c8ced6", "#484f58"), "signin": ("#cc79a7", "#cc79a7"), "discovery": ("#56b4e9", "#56b4e9"),
    "canary": ("#e69f00", "#e69f00"), "chunk": ("#009e73", "#2ea97f"), "chunkalt": ("#00664a", "#56d4a8"),
    "readagain": ("#0072b2", "#58a6ff"), "report": ("#8c959f", "#8b949e"),
}
_CHARTS = ("status_chart", "remedy_chart", "timeline_chart", "trend_chart")


def environment():
    return Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True)


def render_report_html(report, history=(), files=()):
    """report.html's text for a report; history: the entries of history.jsonl (this run's included)."""
    view = build_view(report, list(history), list(files))
    for name in _CHARTS:
        view[name] = Markup(view[name]) if view[name] else None
    for tenant in view["tenants"]:
        tenant["chart"] = Markup(tenant["chart"])
    return environment().get_template(TEMPLATE).render(view=view, tones=TONES)
