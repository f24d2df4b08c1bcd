# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report_files: the report's files, written whole, with their modes, only when they change; the history line."""

import json
import os
import stat

import pytest

from ansible_collections.entra.sync.plugins.module_utils._fleet.report_files import fleet_report_result, report_contents
from ansible_collections.entra.sync.plugins.module_utils._fleet.report_history import read_history

REPORT = {"summary": {"restarted": 2}, "tenants": ["t1"], "started_at": "2026-11-30T12:00:00Z"}


def result(directory, report=None, markdown=None, check_mode=False, **more):
    return fleet_report_result(dict({"path": str(directory), "report": report or REPORT, "markdown": markdown}, **more), check_mode)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_report_contents_sorted_json_and_markdown_with_a_final_newline():
    contents = report_contents(REPORT, "# Report")
    assert json.loads(contents["report.json"]) == REPORT
    assert contents["report.json"].index('"started_at"') < contents["report.json"].index('"summary"')
    assert contents["report.md"] == "# Report\n"
    assert set(report_contents(REPORT, None)) == {"report.json"}
    assert report_contents(REPORT, None, "<html></html>")["report.html"] == "<html></html>\n"


def test_writes_both_files_with_their_modes_then_nothing_when_unchanged(tmp_path):
    directory = tmp_path / "reports" / "run"
    first = result(directory, markdown="# Report\n", html="<html></html>\n")
    assert first == {"changed": True, "files": [str(directory / "report.html"), str(directory / "report.json"), str(directory / "report.md")]}
    assert json.loads((directory / "report.json").read_text()) == REPORT
    assert mode(directory) == 0o700 and mode(directory / "report.json") == 0o600 and mode(directory / "report.md") == 0o600
    assert mode(directory / "report.html") == 0o600
    assert result(directory, markdown="# Report\n", html="<html></html>\n")["changed"] is False
    assert sorted(os.listdir(directory)) == ["report.html", "report.json", "report.md"]  # no temporary file left


def test_check_mode_says_what_would_change_and_writes_nothing(tmp_path):
    directory = tmp_path / "r"
    assert result(directory, check_mode=True)["changed"] is True
    assert not directory.exists()
    result(directory)
    changed = dict(REPORT, summary={"restarted": 3})
    assert result(directory, changed, check_mode=True)["changed"] is True
    assert json.loads((directory / "report.json").read_text()) == REPORT


@pytest.mark.parametrize("directory, report, words", [
    ("", REPORT, "path must name the report directory"),
    ("/tmp/x", ["not", "a", "dict"], "report must be a dictionary"),
])
def test_bad_inputs_say_what_to_pass(directory, report, words):
    answer = fleet_report_result({"path": directory, "report": report}, check_mode=False)
    assert answer["failed"] and words in answer["msg"]


def test_an_unwritable_place_names_the_directory_and_what_to_do(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    answer = result(blocker / "reports")
    assert answer["failed"] and str(blocker / "reports") in answer["msg"] and "entra_sync_report_dir" in answer["msg"]
    answer = result(tmp_path / "r", history=str(blocker / "history"))
    assert answer["failed"] and str(blocker / "history") in answer["msg"] and "entra_sync_report_history" in answer["msg"]


def test_the_history_gets_the_run_once_with_report_html_path(tmp_path):
    history = tmp_path / "history"
    first = result(tmp_path / "r", html="<html></html>", history=str(history))
    assert first["changed"] is True and first["history"] == str(history / "history.jsonl")
    assert mode(history) == 0o700 and mode(history / "history.jsonl") == 0o600
    again = result(tmp_path / "r", html="<html></html>", history=str(history))
    assert again["changed"] is False, "the same report (the step run again) is not a second run"
    assert [entry["report"] for entry in read_history(str(history))] == [str(tmp_path / "r" / "report.html")]
    assert result(tmp_path / "r", dict(REPORT, finished_at="2026-11-30T12:05:00Z"), history=str(history), check_mode=True)["changed"] is True
    assert len(read_history(str(history))) == 1, "check mode adds nothing"


def test_an_existing_report_folder_of_yours_is_used_as_it_is(tmp_path):
    """A report folder in a project folder of yours, readable by others (0755), is fine: nobody else can write in it."""
    directory = tmp_path / "project" / "reports"
    directory.mkdir(parents=True)
    os.chmod(directory, 0o755)
    assert result(directory)["changed"] is True
    assert mode(directory) == 0o755 and mode(directory / "report.json") == 0o600


@pytest.mark.parametrize("setup, words", [
    ("loose", "mode 0777): other users can write in it"),
    ("linked_dir", "it is a symbolic link"),
    ("linked_file", "Refusing the report file"),
    ("theirs", "(owner nobody (uid 65534), mode 0700): it belongs to another user"),
])
def test_a_report_folder_or_file_not_yours_alone_is_refused_in_check_mode_too(tmp_path, setup, words):
    if setup == "theirs" and os.geteuid() != 0:
        pytest.skip("chown to another user (nobody) needs root; CI runs the tests as root")
    directory, elsewhere = tmp_path / "reports", tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / "report.json").write_text("theirs")
    if setup == "linked_dir":
        directory.symlink_to(elsewhere)
    else:
        directory.mkdir(mode=0o700)
    if setup == "loose":
        os.chmod(directory, 0o777)
    if setup == "linked_file":
        (directory / "report.json").symlink_to(elsewhere / "report.json")
    if setup == "theirs":
        os.chown(directory, 65534, 65534)
    for check_mode in (True, False):
        answer = result(directory, markdown="# Report", check_mode=check_mode)
        assert answer["failed"] and words in answer["msg"] and "entra_sync_report_dir" in answer["msg"], answer
    assert (elsewhere / "report.json").read_text() == "theirs" and not (elsewhere / "report.md").exists()
    assert setup == "linked_dir" or sorted(os.listdir(directory)) in ([], ["report.json"])
