"""The per-host form run as AWX runs a sliced job template: ansible-runner, the sync_jobs inventory plugin, two slices."""

import json
import os
import sys

import ansible_runner

BIN_DIR = os.path.dirname(sys.executable)
# What AWX needs in the project: a playbook of its own that imports the collection's playbook.
WRAPPER = [{"ansible.builtin.import_playbook": "entra.sync.restart_per_job"}]


def _private_data_dir(tmp_path):
    private = tmp_path / "awx-job"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "project" / "restart_per_job.yml").write_text(json.dumps(WRAPPER))
    (private / "inventory" / "jobs.sync_jobs.yml").write_text(json.dumps({"plugin": "entra.sync.sync_jobs", "hostnames": "id"}))
    return private


def _run_slice(private, sandbox, limit):
    env = dict(sandbox.env)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "PATH": BIN_DIR + os.pathsep + os.environ.get("PATH", ""),
    })
    return ansible_runner.run(
        private_data_dir=str(private), playbook="restart_per_job.yml", inventory=str(private / "inventory" / "jobs.sync_jobs.yml"),
        limit=limit, envvars=env, extravars={"entra_sync_serial": 3}, quiet=True,
    )


def test_two_slices_restart_every_quarantined_job_once(tenant, tmp_path):
    ids = tenant.make_fleet({sp: ["Quarantine", "Active"] for sp in range(1, 9)})
    quarantined = {ids[(sp, 0)] for sp in range(1, 9)}
    hosts = sorted("%s__%s" % key for key in ids.values())
    private = _private_data_dir(tmp_path)

    slices = [hosts[:8], hosts[8:]]
    for number, names in enumerate(slices):
        run = _run_slice(private, tenant.sandbox, ",".join(names + ["localhost"]))
        assert run.rc == 0, "slice %d: %s\n%s" % (number, run.status, run.stdout.read()[-4000:])
        stats = run.stats
        assert set(stats["ok"]) >= set(names), stats
        assert not stats["failures"], stats

    assert tenant.restarts() == {key: 1 for key in quarantined}
    log = tenant.log()
    # per slice, one sign-in: the play's role signs in in the controller's process, where MSAL's cache already holds
    # the token the inventory source got
    assert len(tenant.token_requests(log)) == len(slices), tenant.token_requests(log)
