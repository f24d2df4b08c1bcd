"""Integration harness: real `ansible-playbook` runs against the sandbox tenant, using the INSTALLED collection.

The sandbox fixtures (`sandbox`, `fresh_sandbox`) and the environment of an Ansible run (ansible_env) come from the
harness all suites share, entra_sandbox.pytest_plugin (loaded by tests/tools/pytest.sh).
Each run writes a playbook into tmp_path whose tasks register their result with `ignore_errors: true`; a last
ansible.builtin.debug task shows the registered results and the test-only callback callback_plugins/entra_int_results.py
writes them to a JSON file, so the tests read each module's real return.

The playbook's environment is os.environ + sandbox.env (+ overrides). REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are left
as this machine sets them on purpose: the collection must work despite them.
Test files that need the harness's helpers at import time: `import entra_int_harness as HARNESS` (registered below).
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest

from entra_sandbox.pytest_plugin import ansible_env

BIN_DIR = os.path.dirname(sys.executable)
ANSIBLE_PLAYBOOK = os.path.join(BIN_DIR, "ansible-playbook")
RUN_TIMEOUT = 180
CALLBACK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")
SAVE_TASK = "Save the registered results"
BUILD_HINT = ("Run `make integration`, or `make build` then "
              "`ANSIBLE_COLLECTIONS_PATH=$PWD/.build/collections bash tests/tools/pytest.sh tests/integration`.")

# The one way test files reach this harness: `import entra_int_harness as HARNESS`. pytest's importlib mode gives
# conftest.py no importable name, and it is loaded before the test files of this folder, so it registers itself.
sys.modules.setdefault("entra_int_harness", sys.modules[__name__])


@dataclass
class TaskRun:
    """One ansible-playbook run: its exit status, output, and the registered result(s) of its task(s)."""

    rc: int
    stdout: str
    stderr: str
    result: dict = None  # the first (or only) task's registered result
    results: list = field(default_factory=list)  # every task's registered result, in task order
    elapsed: float = 0.0

    @property
    def output(self):
        return self.stdout + "\n" + self.stderr

    def describe(self):
        return "ansible-playbook rc=%s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (self.rc, self.stdout[-6000:], self.stderr[-4000:])


def playbook_env(sandbox, env=None):
    """os.environ + sandbox.env + overrides (a value of None removes the variable): the shared ansible_env with this
    harness's settings (the venv's interpreter and tools, the results callback)."""
    return ansible_env(sandbox, BUILD_HINT, {
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR,
        "ANSIBLE_CALLBACKS_ENABLED": "entra_int_results",
        "PATH": BIN_DIR + os.pathsep + os.environ.get("PATH", ""),
    }, env)


def _execute(cmd, env, cwd):
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    return proc, time.monotonic() - started


def _verbosity_flags(verbosity):
    return ["-" + "v" * verbosity] if verbosity else []


class Runner:
    """Writes and runs playbooks in one test's tmp_path."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = 0

    def _next_dir(self):
        self.count += 1
        path = self.tmp_path / ("run%02d" % self.count)
        path.mkdir()
        return path

    def run_tasks(self, sandbox, tasks, check=False, diff=False, verbosity=0, env=None, extra_args=()):
        """tasks: a list of dicts {module, args, [any other task keyword, e.g. check_mode]}; returns a TaskRun with
        .results (one registered result per task) and .result (the first)."""
        workdir = self._next_dir()
        out_file = workdir / "results.json"
        play_tasks = []
        for index, task in enumerate(tasks):
            task = dict(task)
            module = task.pop("module")
            args = task.pop("args", {})
            entry = {"name": "task %d: %s" % (index, module), module: args, "register": "r%d" % index, "ignore_errors": True}
            entry.update(task)
            play_tasks.append(entry)
        names = ", ".join("r%d" % index for index in range(len(tasks)))
        # ansible.builtin.debug runs no module (no extra second per run); the entra_int_results callback writes it out.
        play_tasks.append({
            "name": SAVE_TASK,
            "ansible.builtin.debug": {"var": "saved"},
            "vars": {"saved": "{{ [%s] }}" % names},
        })
        play = [{"name": "integration", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": play_tasks}]
        playbook = workdir / "playbook.yml"
        playbook.write_text(json.dumps(play, indent=1))  # JSON is YAML
        cmd = [ANSIBLE_PLAYBOOK, str(playbook)] + _verbosity_flags(verbosity)
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        cmd += list(extra_args)
        run_env = playbook_env(sandbox, env)
        run_env["ENTRA_INT_RESULTS_FILE"] = str(out_file)
        proc, elapsed = _execute(cmd, run_env, str(workdir))
        run = TaskRun(proc.returncode, proc.stdout, proc.stderr, elapsed=elapsed)
        if not out_file.exists():
            pytest.fail("the playbook did not get to save its results:\n" + run.describe(), pytrace=False)
        run.results = json.loads(out_file.read_text())
        run.result = run.results[0] if run.results else None
        return run

    def run_task(self, sandbox, module, args, check=False, diff=False, verbosity=0, env=None):
        """One task of `module` with `args`; returns a TaskRun whose .result is the module's registered return."""
        return self.run_tasks(sandbox, [{"module": module, "args": args}], check=check, diff=diff, verbosity=verbosity, env=env)

    def run_playbook(self, sandbox, path_or_fqcn, extra_vars=None, check=False, verbosity=0, env=None, extra_args=()):
        """A playbook file or a collection playbook FQCN (e.g. entra.sync.restart_jobs); extra_vars passed as JSON."""
        workdir = self._next_dir()
        cmd = [ANSIBLE_PLAYBOOK, str(path_or_fqcn)] + _verbosity_flags(verbosity)
        if extra_vars:
            vars_file = workdir / "extra_vars.json"
            vars_file.write_text(json.dumps(extra_vars))
            cmd += ["-e", "@%s" % vars_file]
        if check:
            cmd.append("--check")
        cmd += list(extra_args)
        proc, elapsed = _execute(cmd, playbook_env(sandbox, env), str(workdir))
        return TaskRun(proc.returncode, proc.stdout, proc.stderr, elapsed=elapsed)


@pytest.fixture
def runner(tmp_path):
    return Runner(tmp_path)


@pytest.fixture
def run_task(runner):  # pylint: disable=redefined-outer-name
    return runner.run_task


@pytest.fixture
def run_tasks(runner):  # pylint: disable=redefined-outer-name
    return runner.run_tasks


@pytest.fixture
def run_playbook(runner):  # pylint: disable=redefined-outer-name
    return runner.run_playbook


# ---- ansible-inventory --list -------------------------------------------------------------------------------------

def plain(value):
    """ansible-core 2.19 shows untrusted inventory strings as {"__ansible_unsafe": text}: read them as text."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def write_inventory_source(tmp_path, config, name="test.sync_jobs.yml"):
    """A sync_jobs inventory source file with `config`."""
    path = tmp_path / name
    path.write_text(json.dumps(dict({"plugin": "entra.sync.sync_jobs"}, **config)))  # JSON is YAML
    return path


def run_inventory(sandbox, source, env=None, extra_args=()):
    """`ansible-inventory -i source --list`; a source that fails to parse fails the command (not just a warning)."""
    run_env = playbook_env(sandbox, dict({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}, **(env or {})))
    cmd = [os.path.join(BIN_DIR, "ansible-inventory"), "-i", str(source), "--list"] + list(extra_args)
    return subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)


def list_inventory(sandbox, source, listed=None, **kwargs):
    """The Inventory of a run_inventory that must succeed (listed: the file its --output writes, given in extra_args)."""
    proc = run_inventory(sandbox, source, **kwargs)
    assert proc.returncode == 0, "rc=%s\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-4000:])
    return Inventory(proc, listed)


class Inventory:
    """The parsed `ansible-inventory --list` output (of the command's stdout, or of the file its --output wrote)."""

    def __init__(self, proc, listed=None):
        self.proc = proc
        self.data = plain(json.loads(proc.stdout if listed is None else listed.read_text()))
        self.hostvars = self.data["_meta"]["hostvars"]

    def group(self, name):
        """Every host of a group (not of its children)."""
        return set(self.data.get(name, {}).get("hosts", []))

    @property
    def groups(self):
        return {name for name in self.data if name != "_meta"}

    def by_key(self):
        return {(v["entra_sync_service_principal_id"], v["entra_sync_job_id"]): name for name, v in self.hostvars.items()}

    @property
    def read_errors(self):
        """entra_sync_inventory_errors of the all group (--list shows group variables in each host's variables)."""
        values = [hostvars.get("entra_sync_inventory_errors") for hostvars in self.hostvars.values()]
        values.append(self.data.get("all", {}).get("vars", {}).get("entra_sync_inventory_errors"))
        known = [value for value in values if value is not None]
        assert known and all(value == known[0] for value in known), values
        return known[0]


# ---- sandbox helpers ---------------------------------------------------------------------------------------------

def sp_guid(index):
    """A fixed, readable service principal object id."""
    return "00000000-0000-4000-8000-%012d" % index


def job_hex(index):
    return "%032x" % (0xABC0000 + index)


class Tenant:
    """The fresh sandbox, with helpers to build an exact fleet and read what reached it."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.admin = sandbox.admin

    def make_fleet(self, layout, second_tenant=None):
        """layout: {sp_index: [status_code or (status_code, {extra job fields}), ...]}.

        Builds an explicit fleet of scim jobs in the first tenant (the one sandbox.env signs in to) and, from
        `second_tenant` (same shape, other sp indexes), in the second tenant (else it is left empty); then clears the
        log and the counters. Returns {(sp_index, n): (sp_id, job_id)}.
        """
        ids = {}
        tenants = {self.sandbox.config["tenants"][0]["id"]: self._specs(layout, ids)}
        if second_tenant:
            tenants[self.sandbox.config["tenants"][1]["id"]] = self._specs(second_tenant, ids)
        self.admin.set_fleet(tenants=tenants)
        self.sandbox.reload_config()
        self.clear()
        return ids

    @staticmethod
    def _specs(layout, ids):
        specs = []
        for sp_index, jobs in layout.items():
            sp_id = sp_guid(sp_index)
            job_specs = []
            for number, job in enumerate(jobs):
                code, extra = (job, {}) if isinstance(job, str) else (job[0], dict(job[1]))
                job_id = extra.pop("id", None) or "scim.%s" % job_hex(sp_index * 100 + number)
                spec = {"id": job_id, "template_id": extra.pop("template_id", "scim"), "status_code": code}
                if code == "Quarantine":
                    spec["quarantine_reason"] = "EncounteredQuarantineException"
                spec.update(extra)
                job_specs.append(spec)
                ids[(sp_index, number)] = (sp_id, job_id)
            specs.append({"id": sp_id, "displayName": "Integration App %d" % sp_index, "jobs": job_specs})
        return specs

    def clear(self):
        self.admin.clear_log()
        self.admin.reset_counters()

    def log(self):
        return self.admin.log()

    def restarts(self):
        """{(sp_id, job_id): restarts} from the sandbox counters (jobs never restarted are absent)."""
        out = {}
        for key, entry in self.admin.counters()["jobs"].items():
            sp_id, job_id = key.split("/", 1)
            if entry["restarts"]:
                out[(sp_id, job_id)] = entry["restarts"]
        return out

    @staticmethod
    def graph_posts(entries):
        """POSTs to Graph (restart/start/pause, $batch) among log entries; token requests are not Graph calls."""
        return [e for e in entries if e["method"] == "POST" and e["kind"] != "token" and e["kind"] != "managed_identity"]

    @staticmethod
    def graph_writes(entries):
        """Graph calls among log entries that can change something: every call but a GET, where a $batch envelope
        (a POST that sync_job_info sends by default) counts by the calls inside it, which the sandbox logs one by one
        as batch_item entries."""
        return [e for e in entries if e["method"] != "GET" and e["kind"] not in ("token", "managed_identity", "batch")]

    @classmethod
    def restart_posts(cls, entries, job_id=None):
        return [e for e in cls.graph_posts(entries)
                if e["path"].endswith("/restart") and (job_id is None or ("/" + job_id + "/") in e["path"])]

    @staticmethod
    def token_requests(entries):
        return [e for e in entries if e["kind"] in ("token", "managed_identity")]


@pytest.fixture
def tenant(fresh_sandbox):
    """The session sandbox reset to a known fleet (fresh_sandbox), wrapped with helpers."""
    return Tenant(fresh_sandbox)
