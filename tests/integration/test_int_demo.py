"""make demo (tests/tools/demo.sh) says what it touched: the console list, the report paths (report.html with how to open
it), the jobs in report.md.

The demo's own script runs with its own sandbox, made smaller here (DEMO_SERVICE_PRINCIPALS) and kept in tmp_path.
restart_if always with no canary restarts every job found, so the console list is longer than its cap.
"""

import json
import os
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEMO = os.path.join(ROOT, "tests", "tools", "demo.sh")
CAP = 10


def test_demo_lists_the_jobs_it_touched_and_prints_both_report_paths(tmp_path):
    state = tmp_path / "demo"
    env = dict(os.environ, DEMO_STATE_DIR=str(state), DEMO_SERVICE_PRINCIPALS="60")
    extra = json.dumps({"entra_sync_restart_if": ["always"], "entra_sync_canary_size": 0})
    proc = subprocess.run(["bash", DEMO, "-e", extra], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "No inventory was parsed" not in output and "provided hosts list is empty" not in output, output[:3000]

    report_dir = state / "report"
    report = json.loads((report_dir / "report.json").read_text())
    restarted = [result for result in report["results"] if result["action"] == "restarted"]
    assert len(restarted) > CAP, "the fleet must be larger than the console cap for this test: %d" % len(restarted)
    touched = report["touched"]
    assert len(touched) == len([r for r in report["results"] if r["action"] in ("restarted", "failed", "unknown")])

    # the console: the first CAP jobs with name, ids and reason, then "and N more"
    for entry in touched[:CAP]:
        line = "%s: %s (service principal %s, job %s)" % (
            entry["action"], entry["service_principal_name"], entry["service_principal_id"], entry["job_id"])
        assert line in output, line
    assert touched[CAP]["job_id"] not in output.split("TASK [Summary]")[0].split("Show the jobs restarted")[-1]
    assert "and %d more (see the report)" % (len(touched) - CAP) in output
    for name in ("report.json", "report.md", "report.html"):
        assert "report written to %s" % (report_dir / name) in output
        assert str(report_dir / name) in output.split("TASK [Summary]")[1], "the playbook's summary names %s" % name
    assert "demo: open the report in a browser: xdg-open %s" % (report_dir / "report.html") in output

    # report.md lists every restarted job, with its service principal's name
    markdown = (report_dir / "report.md").read_text()
    for result in restarted:
        row = [line for line in markdown.splitlines() if ("| %s |" % result["job_id"]) in line]
        assert row and row[0].startswith("| restarted |"), (result["job_id"], markdown[-3000:])
        name = next(entry["service_principal_name"] for entry in touched if entry["job_id"] == result["job_id"])
        assert name and name in row[0]
