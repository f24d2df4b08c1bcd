# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report history: a run's line, the trend's runs (each once, a merged run instead of its slices), the file's I/O."""

import json
import os
import stat

import pytest

from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError
from ansible_collections.entra.sync.plugins.module_utils._fleet.report_history import (
    append_history,
    history_entry,
    parse_history,
    read_history,
    trend_entries,
)

REPORT = {
    "started_at": "2026-11-30T12:00:00Z", "finished_at": "2026-11-30T12:01:00Z", "jobs_found": 10, "failed_tenants": ["t2"],
    "tenants": [{"tenant_id": "t2"}, {"tenant_id": "t1"}],
    "summary": {"restarted": 3, "skipped": 5, "failed": 1, "unknown": 1, "total": 10},
    "counts_before": {"scim": {"Quarantine": 4, "Active": 6}, "aws": {"Quarantine": 1}},
    "counts_after": {"scim": {"Quarantine": 1, "Active": 9}, "aws": {"Active": 1}},
}


def entry(started, finished, tenants, **totals):
    return dict({"started_at": started, "finished_at": finished, "tenants": tenants}, **totals)


def test_a_runs_line_holds_its_time_tenants_and_totals():
    assert history_entry(REPORT, "/r/report.html") == {
        "started_at": "2026-11-30T12:00:00Z", "finished_at": "2026-11-30T12:01:00Z", "tenants": ["t1", "t2"], "jobs_found": 10,
        "quarantined_before": 5, "quarantined_after": 1, "failed_tenants": 1, "restarted": 3, "skipped": 5, "failed": 1, "unknown": 1,
        "report": "/r/report.html"}
    # the list form names its tenants as ids; a report with nothing in it still makes a line
    assert history_entry({"tenants": ["b", "a"]})["tenants"] == ["a", "b"]
    assert history_entry({})["restarted"] == 0 and "report" not in history_entry({})


@pytest.mark.parametrize("entries, kept", [
    ([], []),
    # oldest first, each run once
    ([entry("10", "11", ["a"]), entry("01", "02", ["a"]), entry("10", "11", ["a"])], [("01", "02"), ("10", "11")]),
    # a merged run (a and b, from the earliest start to the latest finish) stands for its slices
    ([entry("01", "03", ["a"]), entry("02", "04", ["b"]), entry("01", "04", ["a", "b"])], [("01", "04")]),
    # a slice outside the merged run's time, or with another tenant, is a run of its own
    ([entry("05", "06", ["a"]), entry("01", "04", ["a", "b"])], [("01", "04"), ("05", "06")]),
    ([entry("02", "03", ["c"]), entry("01", "04", ["a", "b"])], [("02", "03"), ("01", "04")]),
    # a run of the same tenants is not a slice of another one
    ([entry("02", "03", ["a", "b"]), entry("01", "04", ["a", "b"])], [("02", "03"), ("01", "04")]),
    # what is not an entry is left out
    ([{"no": "time"}, "text", entry("01", "02", ["a"])], [("01", "02")]),
])
def test_trend_entries(entries, kept):
    assert [(item["started_at"], item["finished_at"]) for item in trend_entries(entries)] == kept


def test_trend_keeps_the_last_runs():
    entries = [entry("%02d" % index, "%02d" % (index + 1), ["a"]) for index in range(40)]
    assert [item["started_at"] for item in trend_entries(entries, limit=3)] == ["37", "38", "39"]


def test_parse_skips_torn_and_foreign_lines():
    text = '{"finished_at": "1"}\n{"finished_at": \n[1, 2]\n\n{"finished_at": "2"}\n'
    assert parse_history(text) == [{"finished_at": "1"}, {"finished_at": "2"}]


def test_append_makes_a_private_folder_and_file_and_adds_each_run_once(tmp_path):
    folder = tmp_path / "history"
    assert read_history(str(folder)) == []
    first = history_entry(REPORT)
    assert append_history(str(folder), first, check_mode=True) == (True, str(folder / "history.jsonl"))
    assert not folder.exists()
    assert append_history(str(folder), first) == (True, str(folder / "history.jsonl"))
    assert append_history(str(folder), dict(first)) == (False, str(folder / "history.jsonl"))
    second = history_entry(dict(REPORT, finished_at="2026-11-30T13:00:00Z"))
    append_history(str(folder), second)
    assert read_history(str(folder)) == [first, second]
    assert [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()] == [first, second]
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and stat.S_IMODE(os.stat(folder / "history.jsonl").st_mode) == 0o600


def test_a_link_or_a_folder_others_can_write_in_is_refused_saying_what_to_do(tmp_path):
    folder = tmp_path / "history"
    folder.mkdir(mode=0o700)
    (folder / "history.jsonl").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(LocalFileError) as caught:
        append_history(str(folder), history_entry(REPORT))
    assert "symbolic link" in str(caught.value) and "entra_sync_report_history" in str(caught.value)
    assert not (tmp_path / "elsewhere").exists()
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(loose, 0o777)
    with pytest.raises(LocalFileError) as caught:
        append_history(str(loose), history_entry(REPORT))
    assert "other users can write in it" in str(caught.value) and not (loose / "history.jsonl").exists()


def test_append_checks_the_entries_its_caller_read_without_reading_them_again(tmp_path):
    folder = tmp_path / "history"
    first = history_entry(REPORT)
    assert append_history(str(folder), first, known=[dict(first)]) == (False, str(folder / "history.jsonl"))
    assert not folder.exists()
    assert append_history(str(folder), first, known=[]) == (True, str(folder / "history.jsonl"))
    assert read_history(str(folder)) == [first]
