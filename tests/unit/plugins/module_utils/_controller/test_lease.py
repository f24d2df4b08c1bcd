"""The controller-local job leases and the Restarter that holds them: never one job restarted twice by two runs."""

import os
import resource
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.entra.sync.plugins.module_utils._controller.lease import (
    ENV_DIR,
    ENV_TIMEOUT,
    MAX_TRUSTED_STATUS_AGE,
    JobLeases,
    default_directory,
    is_current,
    lease_key,
    lease_name,
    prune_stale,
    stale_after,
)
from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError
from ansible_collections.entra.sync.plugins.module_utils._jobs.job import job_from_dict
from ansible_collections.entra.sync.plugins.module_utils._jobs.targets import JobTarget
from ansible_collections.entra.sync.plugins.module_utils._service.leased_restart import LeasedRestarter, leases_per_slice
from ansible_collections.entra.sync.plugins.module_utils._service.restart import RestartPlan

SP = "8A1B2C3D-4E5F-4A6B-9C8D-7E6F5A4B3C2D"
JOB = "scim.0123456789abcdef0123456789abcdef"
KEY = lease_key(SP, JOB)


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = 0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += seconds


def leases(tmp_path, timeout=1.0):
    clock = FakeClock()
    return JobLeases(str(tmp_path / "leases"), timeout, clock=clock, sleep=clock.sleep)


def test_a_held_lease_is_missed_by_a_second_holder_until_released(tmp_path):
    first, second = leases(tmp_path), leases(tmp_path)
    with first.hold([KEY]) as held:
        assert held.holds(KEY)
        with second.hold([KEY, lease_key(SP, "other.1")]) as waiting:
            assert waiting.missed == {KEY}
            assert waiting.holds(lease_key(SP, "other.1"))
        assert second.clock.sleeps > 0  # it waited for the timeout before giving up
    with second.hold([KEY]) as held_after:
        assert held_after.holds(KEY) and not held_after.missed


def test_the_stamp_is_seen_by_the_next_holder(tmp_path):
    store = leases(tmp_path)
    with store.hold([KEY]) as held:
        assert held.last_restart(KEY) is None
        held.stamp(KEY, when=1000.0)
    with store.hold([(SP.lower(), JOB)]) as held:
        assert held.last_restart(KEY) == 1000.0
        assert held.restarted_since(KEY, 999.0) and not held.restarted_since(KEY, 1001.0)


def test_lease_files_have_safe_names_and_the_env_picks_directory_and_timeout(tmp_path):
    assert lease_name(SP, "../../etc/passwd") == lease_name(SP.lower(), "../../etc/passwd")
    assert "/" not in lease_name(SP, "../x") and lease_name(SP, "a") != lease_name(SP, "b")
    store = JobLeases.from_env(environ={ENV_DIR: str(tmp_path), ENV_TIMEOUT: "7"})
    assert (store.directory, store.timeout) == (str(tmp_path), 7.0)


def test_another_process_holding_the_lease_blocks_this_one(tmp_path):
    directory = str(tmp_path / "leases")
    holder = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        from ansible_collections.entra.sync.plugins.module_utils._controller.lease import JobLeases, lease_key
        with JobLeases(sys.argv[2], 5).hold([lease_key(sys.argv[3], sys.argv[4])]) as held:
            print("held" if held.handles else "missed", flush=True)
            sys.stdin.readline()
    """)
    root = sys.modules[JobLeases.__module__].__file__.rsplit("/ansible_collections/", 1)[0]
    proc = subprocess.Popen([sys.executable, "-c", holder, root, directory, SP, JOB], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with leases(tmp_path, timeout=0.2).hold([KEY]) as held:
            assert held.missed == {KEY}
    finally:
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait(30)
    with leases(tmp_path).hold([KEY]) as held:
        assert held.holds(KEY)


def raw(code):
    status = {"code": code, "lastExecution": {"state": "Failed" if code == "Quarantine" else "Succeeded"}}
    if code == "Quarantine":
        status["quarantine"] = {"reason": "EncounteredQuarantineException", "currentBegan": "2026-01-01T00:00:00Z"}
    return {"id": JOB, "templateId": "scim", "schedule": {"state": "Active"}, "status": status}


class FakeApi:
    """One job; a restart makes it Active. Counts reads and restarts."""

    batch_reads = False
    batch_writes = False

    def __init__(self, code="Quarantine"):
        self.code = code
        self.reads = 0
        self.restarts = 0

    def get_job(self, service_principal_id, job_id):
        self.reads += 1
        return raw(self.code)

    def restart(self, service_principal_id, job_id, body):
        self.restarts += 1
        self.code = "Active"

    def get_jobs_many(self, pairs, concurrency):
        return [(self.get_job(*pair), None) for pair in pairs]

    def restart_many(self, pairs, body, concurrency, on_sent=None):
        return [(self.restart(sp, job, body), None) for sp, job in pairs]


PLAN = RestartPlan(("quarantined",))


def test_a_restart_is_stamped_and_a_stale_trusted_status_is_read_again(tmp_path):
    """A self-heal restart, then a fleet chunk trusting a discovery read before it: the job is read again and skipped."""
    api = FakeApi()
    store = leases(tmp_path)
    heal = LeasedRestarter(api, PLAN, store).restart_many([JobTarget(SP.lower(), JOB)])[0]
    assert heal.result["action"] == "restarted" and api.restarts == 1
    stale = {0: job_from_dict({"service_principal_id": SP.lower(), "job_id": JOB, "status_code": "Quarantine"})}
    fleet = LeasedRestarter(api, PLAN, store).restart_many([JobTarget(SP.lower(), JOB, 0)], 4, stale)
    assert fleet[0].result["action"] == "skipped"
    assert api.restarts == 1 and api.reads == 2


def test_a_status_read_before_another_runs_restart_is_read_again_under_the_lease(tmp_path):
    api = FakeApi()
    store = leases(tmp_path)
    found_before = job_from_dict({"service_principal_id": SP.lower(), "job_id": JOB, "status_code": "Quarantine"})
    LeasedRestarter(api, PLAN, store).restart_many([JobTarget(SP.lower(), JOB)])[0]
    outcome = LeasedRestarter(api, PLAN, store).restart_many([JobTarget(SP.lower(), JOB, 0)], 1, {0: found_before})[0]
    assert outcome.result["action"] == "skipped" and api.restarts == 1


def test_a_job_whose_lease_stays_held_is_failed_not_restarted(tmp_path):
    api = FakeApi()
    with leases(tmp_path).hold([KEY]):
        outcome = LeasedRestarter(api, PLAN, leases(tmp_path, timeout=0.1)).restart_many([JobTarget(SP.lower(), JOB)])[0]
        many = LeasedRestarter(api, PLAN, leases(tmp_path, timeout=0.1)).restart_many([JobTarget(SP.lower(), JOB, 0)], 4)
    assert outcome.result["action"] == "failed" and "lease" in outcome.result["reason"]
    assert many[0].result["action"] == "failed"
    assert api.restarts == 0


def test_check_mode_takes_no_lease(tmp_path):
    api = FakeApi()
    with leases(tmp_path).hold([KEY]):
        restarter = LeasedRestarter(api, RestartPlan(("quarantined",), check_mode=True), leases(tmp_path, timeout=0.1))
        outcome = restarter.restart_many([JobTarget(SP.lower(), JOB)])[0]
    assert outcome.result["action"] == "would_restart"


def test_a_restart_stamped_before_the_status_was_read_costs_no_second_read(tmp_path):
    api = FakeApi()
    store = leases(tmp_path)
    with store.hold([KEY]) as held:
        held.stamp(KEY, when=1.0)  # long before this run read the job
    outcome = LeasedRestarter(api, PLAN, store).restart_many([JobTarget(SP.lower(), JOB)])[0]
    assert outcome.result["action"] == "restarted" and api.reads == 1 and api.restarts == 1


def test_two_services_never_share_a_lease(tmp_path):
    one = JobLeases(str(tmp_path), 0.1, scope="https://127.0.0.1:8443")
    other = JobLeases(str(tmp_path), 0.1, scope="https://127.0.0.1:9443")
    with one.hold([KEY]) as held, other.hold([KEY]) as held_other:
        assert held.holds(KEY) and held_other.holds(KEY)


def test_a_trusted_status_read_after_the_last_restart_is_trusted(tmp_path):
    """A discovery read after an earlier run's restart: its status is used as is, no second read."""
    api = FakeApi()
    store = leases(tmp_path)
    with store.hold([KEY]) as held:
        held.stamp(KEY, when=1_700_000_000.0)  # 2023-11-14T22:13:20Z
    items = [{"service_principal_id": SP.lower(), "job_id": JOB, "status_code": "Quarantine", "status_read_at": "2023-11-14T22:20:00Z"}]
    given = {0: job_from_dict(items[0])}
    outcome = LeasedRestarter(api, PLAN, store, 10 ** 9, items).restart_many([JobTarget(SP.lower(), JOB, 0)], 4, given)
    assert outcome[0].result["action"] == "restarted" and api.reads == 0
    items[0]["status_read_at"] = "2023-11-14T22:00:00Z"  # read before that restart: read again
    outcome = LeasedRestarter(api, PLAN, store, 10 ** 9, items).restart_many([JobTarget(SP.lower(), JOB, 0)], 4, {0: job_from_dict(items[0])})
    assert outcome[0].result["action"] == "skipped" and api.reads == 1


class ManyJobsApi(FakeApi):
    """Any number of quarantined jobs, each its own; counts reads and restarts."""

    def get_job(self, service_principal_id, job_id):
        self.reads += 1
        return dict(raw("Quarantine"), id=job_id)

    def restart(self, service_principal_id, job_id, body):
        self.restarts += 1


def test_leases_per_slice_stays_a_quarter_of_the_open_file_limit():
    assert leases_per_slice(1024) == 200
    assert leases_per_slice(64) == 16
    assert leases_per_slice(2) == 1
    assert leases_per_slice(resource.RLIM_INFINITY) == 200


def test_a_jobs_list_longer_than_the_open_file_limit_is_restarted_a_slice_at_a_time(tmp_path):
    api = ManyJobsApi()
    targets = [JobTarget(SP.lower(), "scim.%032x" % number, number) for number in range(600)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(128, hard), hard))
    try:
        outcomes = LeasedRestarter(api, PLAN, leases(tmp_path)).restart_many(targets, 4)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert [outcome.result["action"] for outcome in outcomes] == ["restarted"] * 600
    assert [outcome.result["job_id"] for outcome in outcomes] == [target.job_id for target in targets]
    assert api.reads == 600 and api.restarts == 600
    assert len(list((tmp_path / "leases").iterdir())) == 600  # one lease file per job


# ---- the lease directory is this user's alone (private_files.py) -------------------------------------------------------

def test_the_default_is_the_users_runtime_directory_when_it_is_usable(tmp_path):
    runtime = str(tmp_path)
    assert default_directory({ENV_DIR: "/chosen", "XDG_RUNTIME_DIR": runtime}) == "/chosen"
    assert default_directory({"XDG_RUNTIME_DIR": runtime}) == os.path.join(runtime, "entra_sync_leases")
    in_tmp = default_directory({})
    assert os.path.basename(in_tmp) == "entra_sync_leases-%d" % os.geteuid()
    assert default_directory({"XDG_RUNTIME_DIR": runtime}, usable=lambda path: False) == in_tmp  # another user's, or loose
    assert default_directory({"XDG_RUNTIME_DIR": "relative/run"}) == in_tmp
    assert default_directory({"XDG_RUNTIME_DIR": str(tmp_path / "missing")}) == in_tmp


def test_a_directory_others_can_write_in_is_refused_at_once_and_nothing_restarted(tmp_path):
    directory = tmp_path / "leases"
    directory.mkdir()
    os.chmod(directory, 0o777)
    store, api = leases(tmp_path), FakeApi()
    with pytest.raises(LocalFileError) as info:
        LeasedRestarter(api, PLAN, store).restart_many([JobTarget(SP.lower(), JOB)])
    text = str(info.value)
    assert text.startswith("Refusing the lease directory %s (owner " % directory) and "mode 0777): other users can write in it" in text
    assert "chmod go-w %s" % directory in text and text.endswith("or choose another path with ENTRA_SYNC_LEASE_DIR.")
    assert (api.reads, api.restarts, store.clock.now) == (0, 0, 0.0)  # refused before any read, without waiting
    assert list(directory.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user (nobody) needs root; CI runs the tests as root")
def test_a_directory_another_user_made_first_is_refused_not_waited_on(tmp_path):
    """The attack of issue 27: another user makes the lease directory first and holds a job's lease file in it."""
    directory = tmp_path / "leases"
    directory.mkdir(mode=0o777)
    os.chmod(directory, 0o777)
    held = directory / lease_name(SP, JOB)
    held.write_text("")
    for path in (held, directory):
        os.chown(path, 65534, 65534)
    store, api = leases(tmp_path), FakeApi()
    with pytest.raises(LocalFileError) as info:
        LeasedRestarter(api, PLAN, store).restart_many([JobTarget(SP.lower(), JOB)])
    assert "(owner nobody (uid 65534), mode 0777): it belongs to another user" in str(info.value) and str(directory) in str(info.value)
    assert (api.reads, api.restarts, store.clock.now) == (0, 0, 0.0)
    os.chmod(directory, 0o700)  # theirs, but closed: still not yours
    with pytest.raises(LocalFileError, match=r"\(owner nobody \(uid 65534\), mode 0700\): it belongs to another user"):
        store.prepare()
    assert [path.name for path in directory.iterdir()] == [held.name] and held.read_text() == ""


def test_a_linked_directory_is_refused(tmp_path):
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "leases").symlink_to(tmp_path / "real")
    with pytest.raises(LocalFileError, match="it is a symbolic link"):
        with leases(tmp_path).hold([KEY]):
            pass
    assert list((tmp_path / "real").iterdir()) == []


def _aged(path, seconds):
    old = os.stat(path).st_mtime - seconds
    os.utime(path, (old, old))


def test_prune_stale_deletes_old_lease_files_nobody_holds(tmp_path):
    first = leases(tmp_path)
    other = lease_key(SP, "other.job")
    with first.hold([KEY, other]):
        pass
    directory = tmp_path / "leases"
    old_file, new_file = directory / lease_name(SP, JOB), directory / lease_name(SP, "other.job")
    _aged(old_file, 7200)
    (directory / "notes.txt").write_text("not a lease")
    assert prune_stale(str(directory), 3600) == 1
    assert not old_file.exists() and new_file.exists() and (directory / "notes.txt").exists()
    assert prune_stale(str(tmp_path / "missing"), 3600) == 0


def test_prune_stale_leaves_a_held_lease_and_a_run_that_opened_a_pruned_file_takes_the_new_one(tmp_path):
    first = leases(tmp_path)
    path = tmp_path / "leases" / lease_name(SP, JOB)
    with first.hold([KEY]) as held:
        _aged(path, 7200)
        assert prune_stale(str(path.parent), 3600) == 0, "held by a run now"
        held.stamp(KEY, 5.0)
    _aged(path, 7200)
    # A run opens the file, then the pruner deletes it before that run locks it: the run must lock the path's new file.
    opened = first._open(KEY)  # pylint: disable=protected-access
    assert prune_stale(str(path.parent), 3600) == 1
    assert not is_current(opened, str(path))
    opened.close()
    with first.hold([KEY]) as held:
        assert held.holds(KEY) and held.last_restart(KEY) is None
        assert is_current(held.handles[KEY], str(path))


def test_stale_after_covers_the_lease_timeout_and_the_longest_trusted_status():
    assert stale_after(300) == MAX_TRUSTED_STATUS_AGE
    assert stale_after(MAX_TRUSTED_STATUS_AGE * 2) == MAX_TRUSTED_STATUS_AGE * 2
