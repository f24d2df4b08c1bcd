# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report_files: the report's two files, written whole, with their modes, only when they change."""

import json
import os
import stat

import pytest

from ansible_collections.entra.sync.plugins.module_utils._fleet.report_files import fleet_report_result, report_contents
from ansible_collections.entra.sync.plugins.plugin_utils.controller import runs_on_controller

REPORT = {"summary": {"restarted": 2}, "tenants": ["t1"], "started_at": "2026-11-30T12:00:00Z"}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_report_contents_sorted_json_and_markdown_with_a_final_newline():
    contents = report_contents(REPORT, "# Report")
    assert json.loads(contents["report.json"]) == REPORT
    assert contents["report.json"].index('"started_at"') < contents["report.json"].index('"summary"')
    assert contents["report.md"] == "# Report\n"
    assert set(report_contents(REPORT, None)) == {"report.json"}


def test_writes_both_files_with_their_modes_then_nothing_when_unchanged(tmp_path):
    directory = tmp_path / "reports" / "run"
    first = fleet_report_result(str(directory), REPORT, "# Report\n", check_mode=False)
    assert first == {"changed": True, "files": [str(directory / "report.json"), str(directory / "report.md")]}
    assert json.loads((directory / "report.json").read_text()) == REPORT
    assert mode(directory) == 0o750 and mode(directory / "report.json") == 0o640 and mode(directory / "report.md") == 0o640
    assert fleet_report_result(str(directory), REPORT, "# Report\n", check_mode=False)["changed"] is False
    assert [name for name in os.listdir(directory) if name.startswith(".report-")] == []  # no temporary file left


def test_check_mode_says_what_would_change_and_writes_nothing(tmp_path):
    directory = tmp_path / "r"
    assert fleet_report_result(str(directory), REPORT, None, check_mode=True)["changed"] is True
    assert not directory.exists()
    fleet_report_result(str(directory), REPORT, None, check_mode=False)
    changed = dict(REPORT, summary={"restarted": 3})
    assert fleet_report_result(str(directory), changed, None, check_mode=True)["changed"] is True
    assert json.loads((directory / "report.json").read_text()) == REPORT


@pytest.mark.parametrize("directory, report, words", [
    ("", REPORT, "path must name the report directory"),
    ("/tmp/x", ["not", "a", "dict"], "report must be a dictionary"),
])
def test_bad_inputs_say_what_to_pass(directory, report, words):
    result = fleet_report_result(directory, report, None, check_mode=False)
    assert result["failed"] and words in result["msg"]


def test_an_unwritable_place_names_the_directory_and_what_to_do(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = fleet_report_result(str(blocker / "reports"), REPORT, None, check_mode=False)
    assert result["failed"] and str(blocker / "reports") in result["msg"] and "entra_sync_report_dir" in result["msg"]


@pytest.mark.parametrize("connection, environment, here", [
    ("local", [{}], True),
    ("ansible.builtin.local", None, True),
    ("ssh", [{}], False),
    ("local", [{"HTTPS_PROXY": "http://proxy:3128"}], False),
])
def test_runs_on_controller_only_for_a_local_connection_without_a_task_environment(connection, environment, here):
    assert runs_on_controller(connection, environment) is here
