"""Delegated sign-in through real ansible-playbook and MSAL against the sandbox: auth_method device_code.

A person's part is played through the sandbox's admin call (what they do at the verification page). For the runs that
need a person, ansible-playbook gets a pseudo-terminal as its controlling terminal, standard input and output, as at a
laptop; the test reads the output as it comes and approves only once the code has been shown, so a run that shows the
code only after the task returns cannot pass.
"""

import json
import os
import re
import select
import stat
import subprocess
import time

import entra_int_harness as HARNESS  # tests/integration/conftest.py
import pytest

CODE_RE = re.compile(r"enter the code ([A-Z0-9]{6,12})")
NO_APP_CREDENTIAL = {"AZURE_CLIENT_ID": None, "AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None}


@pytest.fixture
def delegated(tenant, tmp_path):
    """The fresh sandbox polled once a second, a fleet of two service principals, and a token cache path of the test."""
    tenant.admin.set_device_flow(interval=1, expires_in=120, slow_down=0)
    ids = tenant.make_fleet({1: ["Quarantine"], 2: ["Quarantine"]})
    return {"tenant": tenant, "ids": ids, "cache": str(tmp_path / "token_cache.json")}


def _play(tasks):
    play_tasks = []
    for index, (module, args) in enumerate(tasks):
        play_tasks.append({"name": "task %d: %s" % (index, module), module: args, "register": "r%d" % index, "ignore_errors": True})
    names = ", ".join("r%d" % index for index in range(len(tasks)))
    play_tasks.append({"name": HARNESS.SAVE_TASK, "ansible.builtin.debug": {"var": "saved"}, "vars": {"saved": "{{ [%s] }}" % names}})
    return [{"name": "delegated", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": play_tasks}]


def _take_terminal():
    import fcntl  # pylint: disable=import-outside-toplevel
    import termios  # pylint: disable=import-outside-toplevel

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_play(sandbox, workdir, tasks, env=None, person=None, play=None):
    """Run the tasks (or a whole `play`); with `person` (called once with the user code as soon as the output shows it),
    at a terminal."""
    workdir.mkdir(exist_ok=True)
    playbook = workdir / "playbook.yml"
    playbook.write_text(json.dumps(play or _play(tasks)))
    out_file = workdir / "results.json"
    run_env = HARNESS.playbook_env(sandbox, dict(NO_APP_CREDENTIAL, **(env or {})))
    run_env["ENTRA_INT_RESULTS_FILE"] = str(out_file)
    cmd = [HARNESS.ANSIBLE_PLAYBOOK, str(playbook)]
    if person is None:
        proc = subprocess.run(cmd, env=run_env, cwd=str(workdir), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=HARNESS.RUN_TIMEOUT, check=False, start_new_session=True)
        run = HARNESS.TaskRun(proc.returncode, proc.stdout, proc.stderr)
    else:
        run = _run_at_terminal(cmd, run_env, str(workdir), person)
    run.results = json.loads(out_file.read_text()) if out_file.exists() else []
    run.result = run.results[0] if run.results else None
    return run


def _run_at_terminal(cmd, env, cwd, person):
    master, slave = os.openpty()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                            preexec_fn=_take_terminal)  # pylint: disable=subprocess-popen-preexec-fn
    os.close(slave)
    output, acted, deadline = b"", False, time.monotonic() + HARNESS.RUN_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal closed, ansible-playbook is done
                    break
                if not chunk:
                    break
                output += chunk
            match = CODE_RE.search(output.decode(errors="replace"))
            if match and not acted:
                acted = True
                person(match.group(1))
    finally:
        os.close(master)
        returncode = proc.wait(timeout=30)
    return HARNESS.TaskRun(returncode, output.decode(errors="replace").replace("\r\n", "\n"), "")


class Person:
    """The person at the 'browser': waits until the code has been polled `polls` times (the task is waiting), then acts."""

    def __init__(self, sandbox, user="appadmin", action="approve", polls=2):
        self.sandbox, self.user, self.action, self.polls = sandbox, user, action, polls
        self.user_code = None

    def code(self):
        """The sandbox's account of the code this person saw (state, polls, slow_downs_sent, early_polls)."""
        return [code for code in self.sandbox.admin.device_codes() if code["user_code"] == self.user_code][0]

    def __call__(self, user_code):
        self.user_code = user_code
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.code()["polls"] < self.polls:
            time.sleep(0.2)
        self.sandbox.admin.device_login(user_code, self.user, self.action)


def approve_after_polls(sandbox, user="appadmin", action="approve", polls=2):
    return Person(sandbox, user, action, polls)


def device_code_args(cache, **extra):
    return dict({"auth_method": "device_code", "token_cache_path": cache}, **extra)


def _job_args(ids, key, cache):
    sp_id, job_id = ids[key]
    return device_code_args(cache, service_principal_id=sp_id, job_id=job_id)


def devicecode_requests(sandbox):
    return [entry for entry in sandbox.admin.log() if entry["kind"] == "devicecode"]


def test_code_shown_then_approved_after_polls_then_the_cache_serves_later_runs(delegated, tmp_path):
    sandbox, ids, cache = delegated["tenant"].sandbox, delegated["ids"], delegated["cache"]
    tasks = [
        ("entra.sync.graph_token", device_code_args(cache)),
        ("entra.sync.sync_job_restart", _job_args(ids, (1, 0), cache)),  # signs in silently from the same cache
    ]
    person = approve_after_polls(sandbox)
    run = run_play(sandbox, tmp_path / "first", tasks, person=person)
    assert run.rc == 0, run.describe()
    token, restart = run.results
    assert token["auth_method"] == "device_code" and not token.get("failed"), token
    assert token["account"] == sandbox.config["delegated"]["users"]["appadmin"]["upn"]
    assert token["scope"] == "https://graph.microsoft.com/Synchronization.ReadWrite.All"
    assert restart["action"] == "restarted", restart
    assert "entra.sync.graph_token: To sign in, use a web browser" in run.stdout
    code = devicecode_requests(sandbox)
    assert len(code) == 1
    polled = person.code()
    assert polled["state"] == "redeemed" and polled["polls"] >= 3
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600

    # A later run, with no terminal at all: the refresh token in the cache signs in, no device code is asked for.
    sandbox.admin.clear_log()
    tasks = [("entra.sync.graph_token", device_code_args(cache, force_sign_in=False)),
             ("entra.sync.sync_job_info", _job_args(ids, (2, 0), cache))]
    again = run_play(sandbox, tmp_path / "second", tasks)
    assert again.rc == 0, again.describe()
    assert again.results[0]["auth_method"] == "device_code" and again.results[1]["jobs"][0]["status_code"] == "Quarantine"
    assert devicecode_requests(sandbox) == []


def test_slow_down_is_honored(delegated, tmp_path):
    sandbox = delegated["tenant"].sandbox
    sandbox.admin.set_device_flow(slow_down=1)
    person = approve_after_polls(sandbox, polls=3)
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", device_code_args(delegated["cache"]))], person=person)
    assert run.rc == 0 and run.result["auth_method"] == "device_code", run.describe()
    code = person.code()
    # The sandbox answers slow_down again to any poll sooner than the interval it asked for: none came.
    assert code["slow_downs_sent"] == 1 and code["early_polls"] == 0


@pytest.mark.parametrize("action, words", [("decline", "declined at the verification page"), ("expire", "device code expired")])
def test_declined_or_expired_code_gives_a_clear_error(delegated, tmp_path, action, words):
    sandbox = delegated["tenant"].sandbox
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", device_code_args(delegated["cache"]))],
                   person=approve_after_polls(sandbox, action=action))
    assert run.result["failed"] and words in run.result["msg"], run.describe()
    assert not os.path.exists(delegated["cache"])


def test_corrupt_cache_is_reset_with_a_warning(delegated, tmp_path):
    sandbox, cache = delegated["tenant"].sandbox, delegated["cache"]
    with open(cache, "w", encoding="utf-8") as handle:
        handle.write("{not a token cache")
    os.chmod(cache, 0o600)
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", device_code_args(cache))], person=approve_after_polls(sandbox))
    assert run.rc == 0 and run.result["auth_method"] == "device_code", run.describe()
    # ansible-core 2.17 wraps warnings at the terminal's width: compare with the line breaks folded.
    assert "could not be read as a token cache, so it was reset" in " ".join(run.stdout.split())
    with open(cache, encoding="utf-8") as handle:
        assert json.load(handle)["RefreshToken"]


def test_cache_others_can_read_is_refused_before_anything_is_sent(delegated, tmp_path):
    sandbox, cache = delegated["tenant"].sandbox, delegated["cache"]
    with open(cache, "w", encoding="utf-8") as handle:
        handle.write("{}")
    os.chmod(cache, 0o644)
    sandbox.admin.clear_log()
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", device_code_args(cache)),
                                               ("entra.sync.sync_job_info", _job_args(delegated["ids"], (1, 0), cache))])
    for result in run.results:
        assert result["failed"] and "mode 0644): it can be read or changed by others, and it holds refresh tokens" in result["msg"], result
    assert sandbox.admin.log() == []


@pytest.mark.parametrize("kind", [
    pytest.param("nobody", marks=pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user (nobody) needs root; CI runs as root")),
    "open", "linked_file",
])
def test_cache_folder_or_file_not_yours_alone_is_refused_before_anything_is_sent(delegated, tmp_path, kind):
    """Another local user's folder (they could swap the cache), one open to all, or a link to a cache they planted."""
    sandbox = delegated["tenant"].sandbox
    folder = tmp_path / "cache-folder"
    folder.mkdir(mode=0o700)
    cache = folder / "token_cache.json"
    planted = tmp_path / "planted.json"
    planted.write_text("{}")
    os.chmod(planted, 0o600)
    words = {"nobody": "(owner nobody (uid 65534), mode 0700): it belongs to another user",
             "open": "(owner root (uid 0), mode 0777): other users can write in it",
             "linked_file": "it is a symbolic link"}[kind]
    if kind == "nobody":
        os.chown(folder, 65534, 65534)
    elif kind == "open":
        os.chmod(folder, 0o777)
    else:
        cache.symlink_to(planted)
    sandbox.admin.clear_log()
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", device_code_args(str(cache))),
                                               ("entra.sync.sync_job_info", _job_args(delegated["ids"], (1, 0), str(cache)))])
    for result in run.results:
        assert result["failed"] and "Refusing the token cache" in result["msg"] and words in result["msg"], run.describe()
        assert "token_cache_path (env ENTRA_SYNC_TOKEN_CACHE)" in result["msg"]
    assert sandbox.admin.log() == [] and devicecode_requests(sandbox) == []
    assert [path.name for path in folder.iterdir()] == ([] if kind != "linked_file" else ["token_cache.json"])
    assert planted.read_text() == "{}"


def test_user_without_a_role_gets_the_roles_message_and_an_owner_succeeds(delegated, tmp_path):
    sandbox, ids = delegated["tenant"].sandbox, delegated["ids"]
    sandbox.admin.set_user("owner", owns=[ids[(2, 0)][0]])
    for user, key, cache_name in (("noroles", (1, 0), "noroles.json"), ("owner", (2, 0), "owner.json")):
        cache = str(tmp_path / cache_name)
        tasks = [("entra.sync.graph_token", device_code_args(cache)), ("entra.sync.sync_job_restart", _job_args(ids, key, cache))]
        run = run_play(sandbox, tmp_path / user, tasks, person=approve_after_polls(sandbox, user=user))
        token, restart = run.results
        assert token["auth_method"] == "device_code", run.describe()
        if user == "noroles":
            assert restart["failed"] and "HTTP 403" in restart["msg"], restart
            assert "Cloud Application Administrator" in restart["msg"] and "own the service principal" in restart["msg"]
        else:
            assert restart["action"] == "restarted", restart
    assert delegated["tenant"].restarts() == {ids[(2, 0)]: 1}


def test_missing_scope_is_named(delegated, tmp_path):
    sandbox, ids, cache = delegated["tenant"].sandbox, delegated["ids"], delegated["cache"]
    tasks = [("entra.sync.graph_token", device_code_args(cache, scopes=["Synchronization.Read.All"])),
             ("entra.sync.sync_job_restart", _job_args(ids, (1, 0), cache))]
    run = run_play(sandbox, tmp_path / "run", tasks, person=approve_after_polls(sandbox))
    token, restart = run.results
    assert token["scope"] == "https://graph.microsoft.com/Synchronization.Read.All", run.describe()
    assert restart["failed"] and "lacks the delegated scope Synchronization.ReadWrite.All" in restart["msg"], restart


def test_no_terminal_fails_at_once(delegated, tmp_path):
    sandbox = delegated["tenant"].sandbox
    sandbox.admin.clear_log()
    codes_before = len(sandbox.admin.device_codes())
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", device_code_args(delegated["cache"]))])
    assert run.result["failed"] and "needs a person at a terminal" in run.result["msg"], run.describe()
    assert "application credential" in run.result["msg"]
    assert devicecode_requests(sandbox) == [] and len(sandbox.admin.device_codes()) == codes_before


@pytest.mark.parametrize(
    "args, env, words",
    [
        ({"client_secret": "not-used-Secret~1"}, {}, "takes no application credential, but client_secret is set"),
        ({}, {"AZURE_CLIENT_SECRET": "from-env-Secret~2"}, "takes no application credential, but client_secret is set"),
        ({"token_cache_path": "/nonexistent-dir/cache.json"}, {}, "the directory /nonexistent-dir does not exist"),
        ({"force_sign_in": True, "auth_method": "client_secret"}, {}, "force_sign_in applies to auth_method device_code only"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(delegated, tmp_path, args, env, words):
    sandbox = delegated["tenant"].sandbox
    sandbox.admin.clear_log()
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", dict(device_code_args(delegated["cache"]), **args))], env=env)
    assert run.result["failed"] and words in run.result["msg"], run.describe()
    assert "Secret~" not in run.stdout + run.stderr
    assert sandbox.admin.log() == []


def test_graph_auth_role_signs_in_with_a_device_code(delegated, tmp_path):
    """The role hands the token to the modules; with auth_method device_code beside it they refresh from the cache."""
    sandbox, ids, cache = delegated["tenant"].sandbox, delegated["ids"], delegated["cache"]
    sp_id, job_id = ids[(1, 0)]
    play = _play([("entra.sync.sync_job_restart", {"service_principal_id": sp_id, "job_id": job_id})])
    play[0]["module_defaults"] = {"group/entra.sync.graph": {
        "access_token": "{{ entra_sync_access_token | default('') }}", "auth_method": "device_code", "token_cache_path": cache}}
    play[0]["tasks"].insert(0, {"name": "Sign in", "ansible.builtin.import_role": {"name": "entra.sync.graph_auth"},
                                "vars": {"graph_auth_auth_method": "device_code", "graph_auth_token_cache_path": cache}})
    run = run_play(sandbox, tmp_path / "run", None, play=play, person=approve_after_polls(sandbox))
    assert run.rc == 0, run.describe()
    assert run.result["action"] == "restarted", run.result
    assert "To sign in, use a web browser" in run.stdout and run.stdout.count("eyJ") == 0


def test_inventory_reads_the_same_cache(delegated, tmp_path):
    """The sync_jobs inventory signs in silently from the cache a graph_token task filled (listing the tenant's service
    principals needs Application.Read.All, so the person asks for it too)."""
    sandbox, cache = delegated["tenant"].sandbox, delegated["cache"]
    scopes = ["Synchronization.ReadWrite.All", "Application.Read.All"]
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", device_code_args(cache, scopes=scopes))],
                   person=approve_after_polls(sandbox))
    assert run.rc == 0, run.describe()
    sandbox.admin.clear_log()
    source = tmp_path / "delegated.sync_jobs.yml"
    source.write_text(json.dumps({"plugin": "entra.sync.sync_jobs", "auth_method": "device_code", "token_cache_path": cache}))
    env = HARNESS.playbook_env(sandbox, dict(NO_APP_CREDENTIAL, ANSIBLE_INVENTORY_UNPARSED_FAILED="true"))
    proc = subprocess.run([os.path.join(HARNESS.BIN_DIR, "ansible-inventory"), "-i", str(source), "--list"], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=HARNESS.RUN_TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    found = {(_plain(v["entra_sync_service_principal_id"]), _plain(v["entra_sync_job_id"])) for v in hostvars.values()}
    assert found == set(delegated["ids"].values())
    assert devicecode_requests(sandbox) == []


def _plain(value):
    """A host variable as ansible-inventory --list writes it (remote strings are marked unsafe)."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def test_confidential_client_id_is_explained(delegated, tmp_path):
    """A client_id of an app that does not allow public client flows: the message says so (not to add a secret)."""
    sandbox = delegated["tenant"].sandbox
    args = device_code_args(delegated["cache"], client_id=sandbox.app("full")["client_id"])
    run = run_play(sandbox, tmp_path / "run", [("entra.sync.graph_token", args)], person=approve_after_polls(sandbox))
    assert run.result["failed"] and "does not allow public client flows" in run.result["msg"], run.describe()


def test_force_sign_in_and_a_revoked_refresh_token_show_a_new_code(delegated, tmp_path):
    sandbox, cache = delegated["tenant"].sandbox, delegated["cache"]
    sandbox.admin.set_token_lifetime(120)  # MSAL renews a token with less than 5 minutes left: each run uses the refresh token
    task = [("entra.sync.graph_token", device_code_args(cache))]
    assert run_play(sandbox, tmp_path / "first", task, person=approve_after_polls(sandbox)).rc == 0
    sandbox.admin.clear_log()
    forced = run_play(sandbox, tmp_path / "forced", [("entra.sync.graph_token", device_code_args(cache, force_sign_in=True))],
                      person=approve_after_polls(sandbox, user="cloudappadmin"))
    assert forced.result["account"] == sandbox.config["delegated"]["users"]["cloudappadmin"]["upn"], forced.describe()
    assert len(devicecode_requests(sandbox)) == 1
    silent = run_play(sandbox, tmp_path / "silent", task)  # no terminal: the cache holds the new account only
    assert silent.result["account"] == sandbox.config["delegated"]["users"]["cloudappadmin"]["upn"], silent.describe()
    # The sessions of that user are revoked: the cached refresh token no longer works, so a code is shown again.
    sandbox.admin.set_user("cloudappadmin", revoke=True)
    sandbox.admin.clear_log()
    again = run_play(sandbox, tmp_path / "again", task, person=approve_after_polls(sandbox))
    assert again.rc == 0 and again.result["account"] == sandbox.config["delegated"]["users"]["appadmin"]["upn"], again.describe()
    assert len(devicecode_requests(sandbox)) == 1
