"""The folders and files the collection keeps on the controller, through real ansible-playbook: a lease directory, a
report folder or an escalation file another local user made, can write in or points elsewhere is refused with a message
that says what to do, before any request; nothing is restarted and nothing is written into it.

The cases with another owner chown to `nobody` and need root (CI runs the tests as root); they skip elsewhere.
"""

import json
import os
import stat

import pytest

RESTART = "entra.sync.sync_job_restart"
NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user (nobody) needs root; CI runs the tests as root")


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def _lease_dir(tmp_path, kind):
    """A lease directory as another local user could have left it: theirs, open to all, or a link to elsewhere."""
    directory = tmp_path / "leases"
    if kind == "link":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        directory.symlink_to(tmp_path / "elsewhere")
        return directory, "it is a symbolic link"
    directory.mkdir()
    os.chmod(directory, 0o777)
    if kind == "nobody":
        os.chown(directory, NOBODY, NOBODY)
        return directory, "(owner nobody (uid %d), mode 0777): it belongs to another user, not to you (root (uid 0))" % NOBODY
    return directory, "mode 0777): other users can write in it. Run `chmod go-w %s`" % directory


@pytest.mark.parametrize("kind", [pytest.param("nobody", marks=needs_root), "open", "link"])
def test_a_lease_directory_not_yours_alone_is_refused_before_any_request(tenant, run_tasks, tmp_path, kind):
    ids = tenant.make_fleet({1: ["Quarantine", "Quarantine"]})
    directory, words = _lease_dir(tmp_path, kind)
    one = {"service_principal_id": ids[(1, 0)][0], "job_id": ids[(1, 0)][1]}
    jobs = [{"service_principal_id": sp, "job_id": job} for sp, job in (ids[(1, 0)], ids[(1, 1)])]
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": one},
        {"module": RESTART, "args": {"jobs": jobs}},
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 0)][0]}},
    ], env={"ENTRA_SYNC_LEASE_DIR": str(directory), "ENTRA_SYNC_LEASE_TIMEOUT": "120"})
    for result in run.results:
        assert result["failed"] and result["changed"] is False, run.describe()
        assert "Refusing the lease directory %s (owner " % directory in result["msg"] and words in result["msg"], result["msg"]
        assert result["msg"].endswith("or choose another path with ENTRA_SYNC_LEASE_DIR."), result["msg"]
    assert run.elapsed < 100, "refused at once, not after waiting for the lease timeout (120 s)"
    assert tenant.admin.counters()["totals"]["restarts"] == 0
    assert [entry for entry in tenant.log() if entry["kind"] not in ("token", "managed_identity")] == []
    assert list(directory.iterdir()) == []


def test_check_mode_takes_no_lease_so_it_reads_past_a_refused_directory(tenant, run_task, tmp_path):
    ids = tenant.make_fleet({1: ["Quarantine"]})
    directory, _words = _lease_dir(tmp_path, "open")
    run = run_task(tenant.sandbox, RESTART, {"service_principal_id": ids[(1, 0)][0], "job_id": ids[(1, 0)][1]}, check=True,
                   env={"ENTRA_SYNC_LEASE_DIR": str(directory)})
    assert run.result["action"] == "would_restart", run.describe()
    assert list(directory.iterdir()) == [] and tenant.admin.counters()["totals"]["restarts"] == 0


def test_the_lease_directory_defaults_to_the_users_runtime_directory(tenant, run_task, tmp_path):
    ids = tenant.make_fleet({1: ["Quarantine"], 2: ["Quarantine"]})
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    env = {"ENTRA_SYNC_LEASE_DIR": None, "XDG_RUNTIME_DIR": str(runtime)}
    run = run_task(tenant.sandbox, RESTART, {"service_principal_id": ids[(1, 0)][0], "job_id": ids[(1, 0)][1]}, env=env)
    assert run.result["action"] == "restarted", run.describe()
    leases = runtime / "entra_sync_leases"
    assert _mode(leases) == 0o700 and [_mode(path) for path in leases.iterdir()] == [0o600]
    # A runtime directory that is not this user's alone is not used: the leases go to the temporary directory, judged there.
    os.chmod(runtime, 0o777)
    run = run_task(tenant.sandbox, RESTART, {"service_principal_id": ids[(2, 0)][0], "job_id": ids[(2, 0)][1]}, env=env)
    assert run.result["action"] == "restarted", run.describe()
    assert len(list(leases.iterdir())) == 1
    assert tenant.restarts() == {ids[(1, 0)]: 1, ids[(2, 0)]: 1}


@pytest.mark.parametrize("kind", [pytest.param("nobody", marks=needs_root), "open", "link"])
def test_a_report_folder_not_yours_alone_is_refused(sandbox, run_tasks, tmp_path, kind):
    directory, words = _lease_dir(tmp_path, kind)
    args = {"path": str(directory), "report": {"summary": {"restarted": 1}}, "markdown": "# Report"}
    run = run_tasks(sandbox, [{"module": "entra.sync.fleet_report_files", "args": args},
                              {"module": "entra.sync.fleet_report_files", "args": args, "check_mode": True}])
    for result in run.results:
        assert result["failed"] and "Refusing the report directory %s" % directory in result["msg"], run.describe()
        assert words in result["msg"] and "entra_sync_report_dir" in result["msg"]
    assert list(directory.iterdir()) == []


def _escalation_vars(path):
    job = {"tenant_id": "t", "service_principal_id": "00000000-0000-4000-8000-000000000001", "service_principal_name": "App",
           "job_id": "scim.1", "template_id": "scim", "status_code": "Quarantine", "quarantine_reason": "TooManyDeletes",
           "quarantine": {"error": {"code": "TooManyDeletes"}}}
    event = {"job": job, "relapses": 0, "observed_at": "2026-11-30T12:00:00Z", "heal": {"reason": "a person approves the deletes"}}
    return {"ansible_eda": {"event": {"entra_sync": event}}, "entra_sync_heal_escalation_file": str(path)}


def test_the_escalation_file_is_made_0600_and_a_linked_one_is_refused(sandbox, run_playbook, tmp_path):
    folder = tmp_path / "escalations"
    run = run_playbook(sandbox, "entra.sync.escalate", _escalation_vars(folder / "escalations.jsonl"))
    assert run.rc == 0, run.describe()
    lines = (folder / "escalations.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["reason"] == "a person approves the deletes"
    assert _mode(folder) == 0o700 and _mode(folder / "escalations.jsonl") == 0o600

    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (folder / "linked.jsonl").symlink_to(victim)
    run = run_playbook(sandbox, "entra.sync.escalate", _escalation_vars(folder / "linked.jsonl"))
    assert run.rc != 0 and "Refusing the file %s" % (folder / "linked.jsonl") in run.stdout, run.describe()
    assert "it is a symbolic link" in run.stdout and victim.read_text() == "keep\n"


@needs_root
def test_an_escalation_folder_another_user_made_is_refused(sandbox, run_playbook, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o700)
    os.chown(folder, NOBODY, NOBODY)
    run = run_playbook(sandbox, "entra.sync.escalate", _escalation_vars(folder / "escalations.jsonl"))
    assert run.rc != 0 and "(owner nobody (uid %d), mode 0700): it belongs to another user" % NOBODY in run.stdout, run.describe()
    assert list(folder.iterdir()) == []
