# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's files: report.json, report.md and report.html in one directory, each replaced whole (never half
written), and the run's line in the report history (report_history.py).

fleet_report_files' action plugin writes them in the controller's process; its module writes them where the task runs.
report.html is rendered on the controller (Jinja2, plugin_utils/report_html.py) and handed to the module as text.
The directory and the files are this user's alone (private_files.py): made 0700 and 0600; an existing directory is
used when this user owns it and nobody else can write in it (a shared project folder of yours with mode 0755 is fine).
"""

import json
import os

from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import Place, read_private_file, write_private_file
from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError
from ansible_collections.entra.sync.plugins.module_utils._fleet.report_history import append_history, history_entry

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "report": {"type": "dict", "required": True},
    "markdown": {"type": "str"},
    "html": {"type": "str"},
    "history": {"type": "path"},
}
REPORT_PLACE = Place("the report directory", "the report file", "entra_sync_report_dir")


def report_contents(report, markdown, html=None):
    """{file name: text} of a report (pure): the JSON sorted and indented, the Markdown and the HTML when given."""
    contents = {"report.json": json.dumps(report, indent=4, sort_keys=True, ensure_ascii=False) + "\n"}
    for name, text in (("report.md", markdown), ("report.html", html)):
        if text is not None:
            contents[name] = text if text.endswith("\n") else text + "\n"
    return contents


def report_path(directory, name):
    return os.path.join(os.path.abspath(os.path.expanduser(directory)), name)


def _current(path):
    try:
        return read_private_file(path, REPORT_PLACE)
    except UnicodeDecodeError:
        return None


def write_report_files(directory, contents, check_mode=False):
    """Write each file whose text differs; returns (changed, [path, ...]). LocalFileError names the path and what to do."""
    paths = [report_path(directory, name) for name in sorted(contents)]
    stale = [(path, contents[os.path.basename(path)]) for path in paths if _current(path) != contents[os.path.basename(path)]]
    if check_mode or not stale:
        return bool(stale), paths
    for path, text in stale:
        write_private_file(path, text, REPORT_PLACE)
    return True, paths


def check_params(params):
    """The message for a bad parameter, or None (before anything is written)."""
    if not isinstance(params.get("report"), dict):
        return "report must be a dictionary (the fleet run's report), got %s" % type(params.get("report")).__name__
    if not params.get("path"):
        return "path must name the report directory, for example path: reports/2026-11-30"
    return None


def fleet_report_result(params, check_mode, known_history=None):
    """fleet_report_files' result (the module and its action plugin alike): the files written, and the run's line in
    the history folder when params names one (known_history: its entries, when the caller has read them already)."""
    problem = check_params(params)
    if problem:
        return {"failed": True, "msg": problem}
    directory, report = params["path"], params["report"]
    try:
        changed, paths = write_report_files(directory, report_contents(report, params.get("markdown"), params.get("html")), check_mode)
    except LocalFileError as exc:
        return {"failed": True, "msg": "could not write the report in %s: %s" % (directory, exc)}
    result = {"changed": changed, "files": paths}
    if params.get("history"):
        html = report_path(directory, "report.html") if params.get("html") is not None else None
        try:
            appended, result["history"] = append_history(params["history"], history_entry(report, html), check_mode, known_history)
        except LocalFileError as exc:
            return {"failed": True, "msg": "could not add the run to the report history in %s: %s" % (params["history"], exc)}
        result["changed"] = changed or appended
    return result
