# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's files: report.json and report.md in one directory, each replaced whole (never half written).

fleet_report_files' action plugin writes them in the controller's process; its module writes them where the task runs.
The directory and the files are this user's alone (private_files.py): made 0700 and 0600; an existing directory is
used when this user owns it and nobody else can write in it (a shared project folder of yours with mode 0755 is fine).
"""

import json
import os

from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import Place, read_private_file, write_private_file
from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "report": {"type": "dict", "required": True},
    "markdown": {"type": "str"},
}
REPORT_PLACE = Place("the report directory", "the report file", "entra_sync_report_dir")


def report_contents(report, markdown):
    """{file name: text} of a report (pure): the JSON sorted and indented, and the Markdown when there is one."""
    contents = {"report.json": json.dumps(report, indent=4, sort_keys=True, ensure_ascii=False) + "\n"}
    if markdown is not None:
        contents["report.md"] = markdown if markdown.endswith("\n") else markdown + "\n"
    return contents


def _current(path):
    try:
        return read_private_file(path, REPORT_PLACE)
    except UnicodeDecodeError:
        return None


def write_report_files(directory, contents, check_mode=False):
    """Write each file whose text differs; returns (changed, [path, ...]). LocalFileError names the path and what to do."""
    paths = [os.path.join(os.path.abspath(os.path.expanduser(directory)), name) for name in sorted(contents)]
    stale = [(path, contents[os.path.basename(path)]) for path in paths if _current(path) != contents[os.path.basename(path)]]
    if check_mode or not stale:
        return bool(stale), paths
    for path, text in stale:
        write_private_file(path, text, REPORT_PLACE)
    return True, paths


def fleet_report_result(directory, report, markdown, check_mode):
    """fleet_report_files' result for a report (the module and its action plugin alike)."""
    if not isinstance(report, dict):
        return {"failed": True, "msg": "report must be a dictionary (the fleet run's report), got %s" % type(report).__name__}
    if not directory:
        return {"failed": True, "msg": "path must name the report directory, for example path: reports/2026-11-30"}
    try:
        changed, paths = write_report_files(directory, report_contents(report, markdown), check_mode)
    except LocalFileError as exc:
        return {"failed": True, "msg": "could not write the report in %s: %s" % (directory, exc)}
    return {"changed": changed, "files": paths}
