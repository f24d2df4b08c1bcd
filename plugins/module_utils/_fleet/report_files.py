# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's files: report.json and report.md in one directory, each replaced whole (never half written).

fleet_report_files' action plugin writes them in the controller's process; its module writes them where the task runs.
"""

import json
import os
import tempfile

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "report": {"type": "dict", "required": True},
    "markdown": {"type": "str"},
}
DIRECTORY_MODE = 0o750
FILE_MODE = 0o640


def report_contents(report, markdown):
    """{file name: text} of a report (pure): the JSON sorted and indented, and the Markdown when there is one."""
    contents = {"report.json": json.dumps(report, indent=4, sort_keys=True, ensure_ascii=False) + "\n"}
    if markdown is not None:
        contents["report.md"] = markdown if markdown.endswith("\n") else markdown + "\n"
    return contents


def _current(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None


def _replace(path, text):
    directory = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(prefix=".report-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_report_files(directory, contents, check_mode=False):
    """Write each file whose text differs; returns (changed, [path, ...]). Raises OSError with the path it names."""
    directory = os.path.abspath(os.path.expanduser(directory))
    paths = [os.path.join(directory, name) for name in sorted(contents)]
    stale = [(path, contents[os.path.basename(path)]) for path in paths if _current(path) != contents[os.path.basename(path)]]
    if check_mode or not stale:
        return bool(stale), paths
    os.makedirs(directory, mode=DIRECTORY_MODE, exist_ok=True)
    for path, text in stale:
        _replace(path, text)
    return True, paths


def fleet_report_result(directory, report, markdown, check_mode):
    """fleet_report_files' result for a report (the module and its action plugin alike)."""
    if not isinstance(report, dict):
        return {"failed": True, "msg": "report must be a dictionary (the fleet run's report), got %s" % type(report).__name__}
    if not directory:
        return {"failed": True, "msg": "path must name the report directory, for example path: reports/2026-11-30"}
    try:
        changed, paths = write_report_files(directory, report_contents(report, markdown), check_mode)
    except OSError as exc:
        return {"failed": True, "msg": "could not write the report in %s: %s; set another entra_sync_report_dir" % (directory, exc.strerror or exc)}
    return {"changed": changed, "files": paths}
