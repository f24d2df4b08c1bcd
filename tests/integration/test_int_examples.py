"""The example playbooks in examples/, run from the INSTALLED collection (they ship in the tarball) against the sandbox.

Each test asserts what reached the sandbox (its request log and restart counters), not only the exit status.
"""

import json
import os
import re

import pytest

LAYOUT = {
    1: ["Quarantine", "Active"],
    2: ["Quarantine", ("Active", {"last_execution_state": "Failed"})],
    3: [("Paused", {"schedule_state": "Paused"}), "NotRun"],
    4: ["Quarantine"],
    5: [],
}


def _example(name):
    """The path of an example inside the installed collection (the first ANSIBLE_COLLECTIONS_PATH entry)."""
    root = (os.environ.get("ANSIBLE_COLLECTIONS_PATH") or "").split(os.pathsep)[0]
    path = os.path.join(root, "ansible_collections", "entra", "sync", "examples", name)
    if not os.path.isfile(path):
        pytest.fail("%s is not in the installed collection: examples/ must ship in the tarball (galaxy.yml build_ignore)" % path,
                    pytrace=False)
    return path


def _quarantined(ids, layout):
    return {ids[(sp, n)] for sp, codes in layout.items() for n, code in enumerate(codes)
            if (code if isinstance(code, str) else code[0]) == "Quarantine"}


def _job_requests(log, job_id):
    """Log entries that address this one job (reads, restart), in log order; tenant-wide listings are not among them."""
    pattern = re.compile(r"/synchronization/jobs/%s(/[a-z]+)?$" % re.escape(job_id))
    return [entry for entry in log if pattern.search(entry["path"])]


def test_restart_one_job_check_mode_sends_no_post_then_restarts_it_once(tenant, run_playbook):
    ids = tenant.make_fleet(LAYOUT)
    sp_id, job_id = ids[(1, 0)]
    args = {"service_principal_id": sp_id, "job_id": job_id}
    playbook = _example("restart_one_job.yml")

    check = run_playbook(tenant.sandbox, playbook, args, check=True, extra_args=["--diff"])
    assert check.rc == 0, check.describe()
    assert "%s: would_restart" % job_id in check.stdout, check.describe()
    assert '"status_code": "Quarantine"' in check.stdout, "--diff shows the status found:\n" + check.describe()
    log = tenant.log()
    assert tenant.graph_posts(log) == [], "check mode sent POSTs: %s" % tenant.graph_posts(log)
    assert [e["method"] for e in _job_requests(log, job_id)] == ["GET"], "check mode reads the job once"
    assert tenant.admin.counters()["totals"]["restarts"] == 0
    assert tenant.admin.job(sp_id, job_id)["summary"]["status_code"] == "Quarantine"

    tenant.admin.clear_log()
    real = run_playbook(tenant.sandbox, playbook, args)
    assert real.rc == 0, real.describe()
    assert "%s: restarted" % job_id in real.stdout, real.describe()
    assert tenant.restarts() == {(sp_id, job_id): 1}
    (post,) = tenant.restart_posts(tenant.log())
    assert post["path"].endswith("/%s/restart" % job_id) and post["body"] == {"criteria": {}}


def test_restart_quarantined_restarts_each_once_with_one_sign_in_and_converges(tenant, run_playbook):
    second = {50: ["Quarantine"]}  # another tenant: never touched
    ids = tenant.make_fleet(LAYOUT, second_tenant=second)
    quarantined = _quarantined(ids, LAYOUT)
    assert len(quarantined) == 3
    playbook = _example("restart_quarantined.yml")

    run = run_playbook(tenant.sandbox, playbook)
    assert run.rc == 0, run.describe()
    assert "restarted: 3" in run.stdout, run.describe()
    log = tenant.log()
    assert tenant.restarts() == {key: 1 for key in quarantined}
    assert len(tenant.restart_posts(log)) == 3
    assert len(tenant.token_requests(log)) == 1, "the role signs in once for the play"
    assert tenant.admin.counters()["totals"]["jobs_restarted_more_than_once"] == 0

    tenant.admin.clear_log()
    again = run_playbook(tenant.sandbox, playbook)
    assert again.rc == 0, again.describe()
    assert "0 quarantined job(s) found; nothing to restart" in again.stdout, again.describe()
    assert tenant.graph_writes(tenant.log()) == []
    assert tenant.restarts() == {key: 1 for key in quarantined}


def _batches(log, jobs):
    """Group jobs into the batches the log shows: a job starts a new batch when its first request comes after the last
    request of every job before it. Jobs are (sp_id, job_id); returns lists of job ids in log order."""
    spans = []
    for _sp_id, job_id in jobs:
        seqs = [entry["seq"] for entry in _job_requests(log, job_id)]
        assert seqs, "no request for %s" % job_id
        spans.append((seqs[0], seqs[-1], job_id))
    spans.sort()
    batches, end = [], None
    for first, last, job_id in spans:
        if end is None or first > end:
            batches.append([])
        batches[-1].append(job_id)
        end = last if end is None else max(end, last)
    return batches


def _rolling(run_playbook, tenant, extra_vars):
    inventory = _example("inventory/tenant.sync_jobs.yml")
    return run_playbook(tenant.sandbox, _example("rolling_restart.yml"), extra_vars, extra_args=["-i", inventory])


def test_rolling_restart_goes_batch_by_batch_and_stops_when_a_job_does_not_recover(tenant, run_playbook):
    # five quarantined jobs, serial 2: batches (1, 2), (3, 4), (5); the job of sp 3 falls back into quarantine after
    # its restart, so the roll stops after the second batch and sp 5 is never touched.
    layout = {sp: [("Quarantine", {"relapse": sp == 3}), "Active"] for sp in range(1, 6)}
    ids = tenant.make_fleet(layout)
    quarantined = sorted(_quarantined(ids, layout))  # host names are <sp id>__<job id>: sorted is the play's order
    job = {sp: ids[(sp, 0)][1] for sp in layout}
    run = _rolling(run_playbook, tenant, {"rolling_batch_size": 2, "rolling_wait_interval": 0.2, "rolling_wait_timeout": 10})
    assert run.rc != 0, run.describe()
    assert "relapsed" in run.stdout, run.describe()

    assert tenant.restarts() == {ids[(sp, 0)]: 1 for sp in (1, 2, 3, 4)}, run.describe()
    log = tenant.log()
    batches = _batches(log, quarantined[:4])
    # the first batch ran both its tasks on both hosts before the second batch sent anything
    assert sorted(batches[0]) == [job[1], job[2]], batches
    assert all(len(batch) <= 2 for batch in batches) and sorted(sum(batches[1:], [])) == [job[3], job[4]], batches
    assert not _job_requests(log, job[5]), "the roll must stop before the third batch"
    assert all(not _job_requests(log, ids[(sp, 1)][1]) for sp in layout), "only the quarantined group is in the play"
    # The play's graph_token signs in in the controller's process, where MSAL's cache already holds the token the
    # inventory source got: one sign-in for the whole run.
    assert len(tenant.token_requests(log)) == 1, "one sign-in for the inventory source and the play"


def test_report_jobs_counts_the_tenant_and_sends_nothing_but_reads(tenant, run_playbook, tmp_path):
    ids = tenant.make_fleet(LAYOUT)
    report_file = tmp_path / "report.json"
    run = run_playbook(tenant.sandbox, _example("report_jobs.yml"), {"report_file": str(report_file)})
    assert run.rc == 0, run.describe()

    report = json.loads(report_file.read_text())
    assert report["jobs"] == 7 and report["service_principals_read"] == 5
    assert report["by_status"] == {"Quarantine": 3, "Active": 2, "Paused": 1, "NotRun": 1}
    assert report["by_template"] == {"scim": 7}
    assert sorted((q["service_principal_id"], q["job_id"]) for q in report["quarantined"]) == sorted(_quarantined(ids, LAYOUT))
    assert all(q["quarantine_reason"] == "EncounteredQuarantineException" and q["service_principal_name"] for q in report["quarantined"])
    assert report["errors"] == []

    log = tenant.log()
    assert {e["method"] for e in log if e["kind"] not in ("token", "managed_identity", "batch")} == {"GET"}, "read-only: GETs only"
    assert tenant.admin.counters()["totals"] == dict(tenant.admin.counters()["totals"], restarts=0, starts=0, pauses=0)


@pytest.mark.parametrize("extra_vars, missing", [
    ({}, "service_principal_id and job_id are not set"),
    ({"service_principal_id": "00000000-0000-4000-8000-000000000001"}, "job_id is not set"),
])
def test_restart_one_job_without_the_job_says_what_to_pass(tenant, run_playbook, extra_vars, missing):
    tenant.make_fleet(LAYOUT)
    run = run_playbook(tenant.sandbox, _example("restart_one_job.yml"), extra_vars)
    text = " ".join(run.output.split())
    assert run.rc != 0, run.describe()
    assert missing in text and "-e service_principal_id=" in text and "-e job_id=" in text, run.describe()
    assert "is undefined" not in text, run.describe()
    assert tenant.log() == [], "nothing is sent without a job"


HEADER_COMMAND = re.compile(r"^#.*\b(ansible-playbook|ansible-inventory)\s+(.*)$")


def test_example_headers_run_from_the_checkout_root_like_the_docs():
    """Every command in an example's header names its files as examples/..., as docs/live-tenant.md does."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    folder = os.path.join(root, "examples")
    paths = [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".yml")]
    paths += [os.path.join(folder, "inventory", name) for name in sorted(os.listdir(os.path.join(folder, "inventory")))]
    commands = 0
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match = HEADER_COMMAND.match(line.strip())
                if not match:
                    continue
                commands += 1
                files = [word for word in match.group(2).split() if word.endswith(".yml")]
                assert files, line
                for name in files:
                    assert name.startswith("examples/") and os.path.isfile(os.path.join(root, name)), (path, line)
    assert commands >= 8
    with open(os.path.join(root, "docs", "live-tenant.md"), encoding="utf-8") as handle:
        assert "ansible-playbook examples/" in handle.read()
