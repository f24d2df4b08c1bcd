"""The fleet report in ARA (make ara-test, a stage of make test): entra.sync.merge_reports run by the ansible-playbook of
the ARA venv (.build/ara, tests/tools/ara.sh) with ARA's callback on and its offline client (a SQLite database in
tmp_path), then the records read back with ARA's own CLI: the report's totals and the path of report.html. The same
run also adds the merged run to the report history. Without ARA's callback nothing is recorded (every other playbook
test runs without ARA)."""

import json
import os
import subprocess

import pytest

VENV = os.environ.get("ENTRA_SYNC_ARA_VENV", "")
pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(VENV, "bin", "ara")),
                                reason="no ARA venv: run tests/tools/ara.sh (make ara-test), which makes .build/ara")


def _slice(tenant, host, action):
    entry = {"tenant_id": tenant, "service_principal_id": "sp-" + host, "job_id": "scim." + host, "template_id": "scim",
             "status_code": "Quarantine", "action": action, "reason": "status Quarantine matches restart_if quarantined",
             "service_principal_name": "App " + host, "quarantine_error_code": None}
    return {
        "form": "tenant_hosts", "started_at": "2026-11-30T12:00:00Z", "finished_at": "2026-11-30T12:01:00Z", "restart_if": ["quarantined"],
        "reset_scope": [], "tenants": [{"tenant_id": tenant, "host": host, "error": "", "stopped": "", "stopped_by": "", "jobs_found": 2,
                                        "summary": {action: 1}, "counts_before": {"scim": {"Quarantine": 1, "Active": 1}},
                                        "counts_after": {"scim": {"Active": 2}}}],
        "failed_or_unknown": [entry] if action == "failed" else [], "touched": [entry], "results": [entry], "timeline": [],
    }


def _env(tmp_path, ara=True):
    env = dict(os.environ, ARA_API_CLIENT="offline", ARA_BASE_DIR=str(tmp_path / "ara"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false")
    if ara:
        plugins = subprocess.run([os.path.join(VENV, "bin", "python"), "-m", "ara.setup.callback_plugins"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        env["ANSIBLE_CALLBACK_PLUGINS"] = plugins
    return env


def _ara(tmp_path, *args):
    proc = subprocess.run([os.path.join(VENV, "bin", "ara"), *args, "-f", "json"], env=_env(tmp_path), capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(proc.stdout)


def _merge(tmp_path, ara=True):
    slices = []
    for name, tenant, action in (("a", "t-a", "restarted"), ("b", "t-b", "failed")):
        path = tmp_path / ("slice-%s.json" % name)
        path.write_text(json.dumps(_slice(tenant, "host-" + name, action)))
        slices.append(str(path))
    extra = {"entra_sync_merge_reports": slices, "entra_sync_report_dir": str(tmp_path / "merged"),
             "entra_sync_report_history": str(tmp_path / "history")}
    return subprocess.run([os.path.join(VENV, "bin", "ansible-playbook"), "entra.sync.merge_reports", "-e", json.dumps(extra)],
                          env=_env(tmp_path, ara), capture_output=True, text=True, timeout=300, check=False)


def test_the_report_step_records_its_totals_and_report_html_in_ara(tmp_path):
    run = _merge(tmp_path)
    # the merged report names the failed tenant: the playbook fails at its end, after writing and recording
    assert run.returncode == 2 and "1 of 2 tenants failed" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
    html = tmp_path / "merged" / "report.html"
    assert html.is_file()

    records = {record["key"]: record for record in _ara(tmp_path, "record", "list")}
    assert set(records) == {"entra_sync_report", "entra_sync_report_html"}
    assert (records["entra_sync_report"]["type"], records["entra_sync_report_html"]["type"]) == ("dict", "url")
    totals = _ara(tmp_path, "record", "show", str(records["entra_sync_report"]["id"]))
    assert "merge_reports.yml" in totals["playbook"], "recorded for the playbook that wrote the report"
    assert totals["value"]["restarted"] == 1 and totals["value"]["failed"] == 1 and totals["value"]["failed_tenants"] == ["t-b"]
    assert totals["value"]["verdict"].startswith("Needs attention: 1 job failed")
    link = _ara(tmp_path, "record", "show", str(records["entra_sync_report_html"]["id"]))
    assert link["value"] == "file://%s" % html

    # merge_reports adds the merged run to the history, once
    history = (tmp_path / "history" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["tenants"] for line in history] == [["t-a", "t-b"]]


def test_without_ara_callback_nothing_is_recorded(tmp_path):
    run = _merge(tmp_path, ara=False)
    assert run.returncode == 2 and (tmp_path / "merged" / "report.html").is_file(), run.stdout[-3000:]
    assert "ara_records" not in run.stdout and not (tmp_path / "ara").exists()
