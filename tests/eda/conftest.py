"""End-to-end harness for self-heal: real ansible-rulebook (its own venv, .build/eda), the INSTALLED collection, the sandbox.

The sandbox fixtures and the environment of an Ansible run (ansible_env) come from the harness all suites share,
entra_sandbox.pytest_plugin (loaded by tests/tools/pytest.sh). Every count a test asserts comes from the sandbox (its
restart counters and request log), never from the rulebook's word.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from entra_sandbox.pytest_plugin import ansible_env
from entra_sandbox.testing import stop_process

# The one way test files reach this harness: `import entra_eda_harness as HARNESS` (conftest.py has no importable name
# in pytest's importlib mode; it is loaded before the test files of this folder, so it registers itself).
sys.modules.setdefault("entra_eda_harness", sys.modules[__name__])

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EDA_VENV = os.environ.get("ENTRA_SYNC_EDA_VENV") or os.path.join(ROOT, ".build", "eda")
EDA_BIN = os.path.join(EDA_VENV, "bin")
MAIN_BIN = os.path.dirname(sys.executable)
BUILD_HINT = "Run `make eda-test` (it builds first)."
INVENTORY = """all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


def eda_executable():
    path = os.path.join(EDA_BIN, "ansible-rulebook")
    if not os.access(path, os.X_OK):
        pytest.fail("%s is missing: run `make eda-test`, which installs tests/requirements-eda.txt there." % path, pytrace=False)
    return path


def base_env(sandbox, tmp_path, **overrides):
    # Both the rulebook's restarts and a fleet run on this "controller" share one lease directory; the source's default
    # state file goes under the user's state directory: this test's own.
    own = {"ENTRA_SYNC_LEASE_DIR": str(tmp_path / "leases"), "XDG_STATE_HOME": str(tmp_path / "xdg-state")}
    return ansible_env(sandbox, BUILD_HINT, own, overrides)


class Rulebook:
    """ansible-rulebook -r <rulebook> (entra.sync.self_heal) in a subprocess; its output goes to a file the test reads."""

    def __init__(self, sandbox, tmp_path, variables, name="rulebook", rulebook="entra.sync.self_heal", args=(), env=None):
        self.tmp_path = tmp_path
        self.vars_file = tmp_path / ("%s-vars.json" % name)
        self.vars_file.write_text(json.dumps(variables))
        self.inventory = tmp_path / "inventory.yml"
        self.inventory.write_text(INVENTORY)
        self.out_path = tmp_path / ("%s.out" % name)
        self.env = base_env(sandbox, tmp_path, PATH=EDA_BIN + os.pathsep + os.environ.get("PATH", ""), **(env or {}))
        self.rulebook = rulebook
        self.args = list(args)
        self.process = None
        self._out = None

    def start(self):
        # pylint: disable=consider-using-with  # closed in stop()
        self._out = open(self.out_path, "wb")
        cmd = [eda_executable(), "-r", self.rulebook, "-i", str(self.inventory), "--vars", str(self.vars_file),
               "--shutdown-delay", "1", "-v"] + self.args
        self.process = subprocess.Popen(cmd, stdout=self._out, stderr=subprocess.STDOUT, env=self.env, cwd=str(self.tmp_path))
        return self

    def output(self):
        return self.out_path.read_text(errors="replace")

    def wait_for(self, what, predicate, deadline_s=240, every=0.5):
        """Poll until predicate() is true; fail (with the output) if the rulebook exits or the deadline passes first."""
        deadline = time.monotonic() + deadline_s
        while True:
            value = predicate()
            if value:
                return value
            if self.process.poll() is not None:
                pytest.fail("ansible-rulebook exited (%s) while waiting for %s:\n%s" % (self.process.returncode, what, self.output()[-6000:]))
            if time.monotonic() > deadline:
                pytest.fail("gave up waiting for %s after %s s:\n%s" % (what, deadline_s, self.output()[-6000:]))
            time.sleep(every)

    def stop(self, timeout=60):
        """SIGTERM, then the exit status (None if it had to be killed).

        ansible-rulebook runs the rules engine in an embedded JVM, whose own SIGTERM handler ends the process with the
        conventional 143 (128 + SIGTERM) when it gets the signal first; ansible-rulebook's handler returns 0.
        """
        return stop_process(self.process, timeout, (self._out,))


@pytest.fixture
def rulebooks(fresh_sandbox, tmp_path):
    """Start rulebooks with rulebooks(variables); every one still running is stopped at the end."""
    started = []

    def start(variables, name="rulebook", **options):
        rulebook = Rulebook(fresh_sandbox, tmp_path, variables, name, **options).start()
        started.append(rulebook)
        return rulebook

    yield start
    for rulebook in started:
        rulebook.stop()


class Fleet:
    """An explicit fleet in the sandbox's first tenant: one service principal per job, named for what the test does."""

    def __init__(self, sandbox, names):
        self.sandbox = sandbox
        specs = [{"displayName": name, "jobs": [{"template_id": "scim"}]} for name in names]
        sandbox.admin.set_fleet(service_principals_list=specs)
        sandbox.reload_config()
        by_name = {job["display_name"]: job for job in sandbox.admin.jobs(sandbox.tenant_id)}
        self.ids = {name: (by_name[name]["service_principal_id"], by_name[name]["job_id"]) for name in names}

    def quarantine(self, name, reason=None, error=None, tenant_actionable=False, relapse=None, days=None):
        """Quarantine a job as Microsoft would: by default an escrow threshold with no error (a restart fixes it);
        error: the quarantine's error code; days: how long ago its quarantine series began (28: the job is disabled)."""
        sp_id, job_id = self.ids[name]
        fields = {"status_code": "Quarantine"}
        if reason:
            fields["quarantine_reason"] = reason
        if error:
            fields["quarantine_error"] = {"code": error, "message": "from the service", "tenant_actionable": tenant_actionable}
        if relapse is not None:
            fields["relapse"] = relapse
        if days is not None:
            fields["quarantine_days"] = days
        self.sandbox.admin.set_job(sp_id, job_id, **fields)

    def discovered(self):
        """True once the source has listed the jobs of every service principal (its first discovery)."""
        listed = {entry["path"].rsplit("/servicePrincipals/", 1)[-1].split("/")[0] for entry in self.sandbox.admin.log()
                  if entry["method"] == "GET" and entry["path"].endswith("/synchronization/jobs")}
        return all(sp_id in listed for sp_id, _job_id in self.ids.values())

    def restarts(self):
        """{name: restarts} from the sandbox's own counters."""
        return {name: self.sandbox.admin.job(*ids)["summary"]["restarts"] for name, ids in self.ids.items()}

    def job_reads(self, name, since=0):
        """Log entries of reads of one job (the source's polls read every known job once)."""
        sp_id, job_id = self.ids[name]
        suffix = "/servicePrincipals/%s/synchronization/jobs/%s" % (sp_id, job_id)
        return [entry for entry in self.sandbox.admin.log(since=since) if entry["method"] == "GET" and entry["path"].endswith(suffix)]

    def restart_posts(self, since=0):
        """{name: [seq of each restart POST the service accepted]}."""
        by_path = {"/v1.0/servicePrincipals/%s/synchronization/jobs/%s/restart" % ids: name for name, ids in self.ids.items()}
        posts = {}
        for entry in self.sandbox.admin.log(since=since):
            name = by_path.get(entry["path"]) or by_path.get("/v1.0" + entry["path"])
            if entry["method"] == "POST" and name and entry["status"] == 204:
                posts.setdefault(name, []).append(entry["seq"])
        return posts


CLEAN_STOP = (0, 143)


def last_seq(sandbox):
    entries = sandbox.admin.log(since=0)
    return entries[-1]["seq"] if entries else 0


def escalations(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
