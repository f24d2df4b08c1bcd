"""fleet_report_files, the step every report playbook ends with: report.html rendered on the controller either way, the
files written in the controller's process (a local connection) or by the module (a task with an `environment`, as on
another host, where the history is read from that host), the same page both ways; the history's trend grows run by
run; a report history folder others can write in is refused before anything is written."""

import os

import pytest

REPORT = {
    "form": "tenant_list", "started_at": "2026-11-30T12:00:00Z", "finished_at": "2026-11-30T12:01:00Z", "tenants": ["t1"],
    "restart_if": ["quarantined"], "reset_scope": [], "jobs_found": 3, "summary": {"restarted": 1, "skipped": 2, "failed": 0, "unknown": 0},
    "counts_before": {"scim": {"Quarantine": 1, "Active": 2}}, "counts_after": {"scim": {"Active": 3}}, "failed_or_unknown": [],
    "touched": [{"tenant_id": "t1", "service_principal_id": "sp-1", "service_principal_name": "App 1", "job_id": "scim.one",
                 "action": "restarted", "reason": "status Quarantine matches restart_if quarantined"}],
    "timeline": [{"tenant_id": "", "step": "start", "at": "2026-11-30T12:00:00.100Z"}, {"tenant_id": "t1", "step": "start", "at": "2026-11-30T12:00:01Z"},
                 {"tenant_id": "t1", "step": "sign-in", "at": "2026-11-30T12:00:02Z"}, {"tenant_id": "", "step": "report", "at": "2026-11-30T12:00:59Z"}],
}


def _task(directory, history, report=None, module_path=False):
    task = {"module": "entra.sync.fleet_report_files", "args": {"path": str(directory), "report": report or REPORT, "history": str(history)}}
    if module_path:
        task["environment"] = {"ENTRA_SYNC_REPORT_TEST": "1"}  # a task environment: the module runs, not the action plugin's writer
    return task


def test_the_module_writes_the_same_page_with_the_history_read_where_it_runs(sandbox, run_tasks, tmp_path):
    later = dict(REPORT, started_at="2026-11-30T13:00:00Z", finished_at="2026-11-30T13:01:00Z")
    run = run_tasks(sandbox, [_task(tmp_path / "here", tmp_path / "history-here"), _task(tmp_path / "there", tmp_path / "history-there", module_path=True),
                              _task(tmp_path / "there2", tmp_path / "history-there", later, module_path=True)])
    assert [result.get("failed", False) for result in run.results] == [False, False, False], run.describe()
    here, there = (tmp_path / "here" / "report.html").read_text(), (tmp_path / "there" / "report.html").read_text()
    assert here.replace(str(tmp_path / "here"), "X") == there.replace(str(tmp_path / "there"), "X"), "the same page both ways"
    assert '<title id="trend-title">The last run</title>' in there
    # the second module run read the first one's line where the module runs
    assert '<title id="trend-title">The last 2 runs</title>' in (tmp_path / "there2" / "report.html").read_text()
    for folder in ("history-here", "history-there"):
        assert oct(os.stat(tmp_path / folder / "history.jsonl").st_mode & 0o777) == "0o600"
    assert len((tmp_path / "history-there" / "history.jsonl").read_text().splitlines()) == 2
    assert run.results[1]["files"] == [str(tmp_path / "there" / name) for name in ("report.html", "report.json")]


@pytest.mark.parametrize("module_path", [False, True])
def test_a_history_folder_others_can_write_in_is_refused_and_nothing_is_written(sandbox, run_tasks, tmp_path, module_path):
    loose = tmp_path / "history"
    loose.mkdir()
    os.chmod(loose, 0o777)
    run = run_tasks(sandbox, [_task(tmp_path / "report", loose, module_path=module_path)])
    result = run.result
    assert result["failed"] and "Refusing the report history folder %s" % loose in result["msg"], run.describe()
    assert "entra_sync_report_history" in result["msg"] and list(loose.iterdir()) == []
