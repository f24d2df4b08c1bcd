"""The bad-input table: malformed or hostile inputs to every module, the graph_auth role, the inventory plugin and the
fleet playbook. Each must fail with a message that says what to fix (checked by its key words), and the sandbox's
request log must show that nothing was sent: no Graph call and no token request either. Duplicates in `jobs` are the
one input that is not refused: they are processed once, with a warning that says so.

Many cases run in few ansible-playbook invocations (one playbook of many `ignore_errors` tasks), so the table is fast.
"""

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import entra_int_harness as HARNESS  # tests/integration/conftest.py

BIN_DIR, RUN_TIMEOUT, playbook_env, SAVE_TASK = HARNESS.BIN_DIR, HARNESS.RUN_TIMEOUT, HARNESS.playbook_env, HARNESS.SAVE_TASK

RESTART = "entra.sync.sync_job_restart"
INFO = "entra.sync.sync_job_info"
JOB = "entra.sync.sync_job"
TOKEN = "entra.sync.graph_token"
SP = "00000000-0000-4000-8000-000000000001"  # the fleet below: sp_guid(1)
JOB_ID = "scim.%032x" % (0xABC0000 + 100)  # its first job (conftest: job_hex(sp_index * 100 + number))
NO_SECRET = {"AZURE_CLIENT_SECRET": "", "AZURE_SECRET": ""}


def _target(**extra):
    return dict({"service_principal_id": SP, "job_id": JOB_ID}, **extra)


def _files(tmp_path):
    """A text file that is not a certificate, and a path that does not exist."""
    not_a_cert = tmp_path / "not-a-cert.pem"
    not_a_cert.write_text("this is not a PEM file\n")
    return {"not_a_cert": str(not_a_cert), "missing": str(tmp_path / "no-such-file.pem")}


# (id, module, args, task keywords (e.g. environment), key words the message must hold, case-insensitive)
def module_rows(files):
    one = {"service_principal_id": SP}
    return [
        ("sp-not-guid", RESTART, {"service_principal_id": "My App", "job_id": JOB_ID}, {}, ["My App", "GUID", "object id"]),
        ("sp-braces", RESTART, {"service_principal_id": "{%s}" % SP, "job_id": JOB_ID}, {}, ["GUID", "braces"]),
        ("sp-whitespace", RESTART, {"service_principal_id": " %s " % SP, "job_id": JOB_ID}, {}, ["GUID", "whitespace"]),
        ("job-slash", RESTART, _target(job_id="scim.abc/../../restart"), {}, ["job id", "'/'", "A-Z"]),
        ("job-dotdot", RESTART, _target(job_id=".."), {}, ["path segment", "job id"]),
        ("job-query", RESTART, _target(job_id="scim.abc?x=1"), {}, ["'?'", "job id"]),
        ("job-percent-2F", RESTART, _target(job_id="scim.abc%2Fpause"), {}, ["unencoded", "quotes it"]),
        ("job-whitespace", RESTART, _target(job_id=" scim.abc "), {}, ["whitespace", "job id"]),
        ("job-newline", RESTART, _target(job_id="scim.abc\n"), {}, ["job id", "'\\n'"]),
        ("job-unicode", RESTART, _target(job_id="scim.\u0430bc"), {}, ["job id", "A-Z"]),  # Cyrillic a
        ("job-too-long", RESTART, _target(job_id="scim." + "a" * 400), {}, ["too long", "256"]),
        ("scope-unknown", RESTART, _target(reset_scope=["Everything"]), {}, ["Everything", "valid names", "Watermark"]),
        ("scope-empty-name", RESTART, _target(reset_scope=[""]), {}, ["empty name", "omit reset_scope"]),
        ("scope-None", RESTART, _target(reset_scope=["None"]), {}, ["sync_job", "started"]),
        ("scope-cds-no-opt-in", RESTART, _target(reset_scope=["ConnectorDataStore"]), {}, ["allow_connector_data_store", "Support"]),
        ("scope-full-no-opt-in", RESTART, _target(reset_scope=["Full"]), {}, ["ConnectorDataStore", "allow_connector_data_store"]),
        ("restart-if-unknown", RESTART, _target(restart_if=["broken"]), {}, ["restart_if", "quarantined"]),
        ("jobs-empty", RESTART, {"jobs": []}, {}, ["jobs is empty", "length > 0"]),
        ("jobs-item-no-job-id", RESTART, {"jobs": [{"service_principal_id": SP}]}, {}, ["jobs[0]", "job_id"]),
        ("jobs-item-string", RESTART, {"jobs": ["%s/%s" % (SP, JOB_ID)]}, {}, ["jobs", "dict"]),
        ("jobs-bad-second-item", RESTART, {"jobs": [_target(), _target(job_id="a b")]}, {}, ["jobs[1].job_id", "' '"]),
        ("conflicting-auth", RESTART, _target(client_certificate_path=files["not_a_cert"]), {},
         ["Conflicting credentials", "client_secret", "client_certificate_path", "auth_method"]),
        ("missing-credentials", RESTART, _target(), {"environment": NO_SECRET}, ["AZURE_CLIENT_SECRET"]),
        ("cert-unreadable", RESTART, _target(client_certificate_path=files["missing"]), {"environment": NO_SECRET},
         ["client_certificate_path", "cannot be read", "PEM or PFX"]),
        ("cert-wrong-format", RESTART, _target(client_certificate_path=files["not_a_cert"]), {"environment": NO_SECRET},
         ["client_certificate_path", files["not_a_cert"]]),
        ("cloud-unknown", RESTART, _target(cloud="mars"), {}, ["mars", "global"]),
        ("restart-remedies-unknown", RESTART, _target(restart_remedies=["reboot"]), {}, ["restart_remedies", "credentials", "clean_up_errors"]),
        ("graph-endpoint-http", RESTART, _target(graph_endpoint="http://127.0.0.1:8443"), {}, ["graph_endpoint", "https://"]),
        ("graph-endpoint-path", RESTART, _target(graph_endpoint="https://graph.microsoft.com/v1.0"), {}, ["graph_endpoint", "root URL", "/v1.0"]),
        ("authority-host-http", RESTART, _target(authority_host="http://login.microsoftonline.com"), {}, ["authority_host", "https://"]),
        ("timeout-negative", RESTART, _target(timeout=-1), {}, ["timeout", "out of range"]),
        ("timeout-huge", RESTART, _target(timeout=10 ** 9), {}, ["timeout", "at most 300"]),
        ("max-retries-huge", RESTART, _target(max_retries=1000), {}, ["max_retries", "0 to 10"]),
        ("concurrency-zero", RESTART, dict(one, concurrency=0), {}, ["concurrency", "1 to 64"]),
        ("concurrency-huge", RESTART, dict(one, concurrency=100000), {}, ["concurrency", "1 to 64"]),
        ("write-rate-zero", RESTART, dict(one, write_rate=0), {}, ["write_rate", "0.01 to 1000", "429"]),
        ("write-rate-negative", RESTART, dict(one, write_rate=-5), {}, ["write_rate", "out of range"]),
        ("write-rate-text", RESTART, dict(one, write_rate="fast"), {}, ["write_rate", "float"]),
        ("wait-timeout-negative", RESTART, _target(wait=True, wait_timeout=-5), {}, ["wait_timeout", "out of range"]),
        ("tenant-common", RESTART, _target(tenant_id="common"), {}, ["common", "tenant"]),
        ("tenant-junk", RESTART, _target(tenant_id="not a tenant/.."), {}, ["tenant_id", "GUID", "domain"]),
        ("auth-method-token-missing", RESTART, _target(auth_method="access_token"), {"environment": {"ENTRA_SYNC_ACCESS_TOKEN": ""}},
         ["access_token", "ENTRA_SYNC_ACCESS_TOKEN"]),
        ("info-sp-not-guid", INFO, {"service_principal_id": "My App"}, {}, ["GUID"]),
        ("info-job-without-sp", INFO, {"job_id": JOB_ID}, {}, ["service_principal_id", "job_id"]),
        ("info-concurrency-zero", INFO, {"concurrency": 0}, {}, ["concurrency", "1 to 64"]),
        ("info-remedies-without-restart-if", INFO, {"restart_remedies": ["restart"]}, {}, ["restart_remedies needs restart_if"]),
        ("info-graph-endpoint-path", INFO, {"graph_endpoint": "https://example.com/beta"}, {}, ["graph_endpoint", "root URL"]),
        ("sync-job-state-unknown", JOB, _target(state="restarted"), {}, ["state", "started", "paused"]),
        ("sync-job-bad-id", JOB, _target(job_id="../x", state="started"), {}, ["job id", "A-Z"]),
        ("sync-job-jobs-empty", JOB, {"jobs": [], "state": "started"}, {}, ["jobs", "empty"]),
        ("token-missing-credentials", TOKEN, {}, {"environment": NO_SECRET}, ["AZURE_CLIENT_SECRET"]),
        ("token-authority-path", TOKEN, {"authority_host": "https://login.microsoftonline.com/contoso"}, {}, ["authority_host", "root URL"]),
    ]


def _keywords_in(message, keywords):
    lowered = message.lower()
    return [word for word in keywords if word.lower() not in lowered]


def _assert_nothing_sent(tenant, what):
    log = tenant.log()
    assert log == [], "%s sent %d request(s), first: %s" % (what, len(log), log[:3])
    counters = tenant.admin.counters()
    assert counters["token_requests"] == {}, counters["token_requests"]
    assert counters["totals"].get("restarts", 0) == 0


def _run_rows_in_parallel(sandbox, tmp_path, rows, parts=3):
    """The rows as `parts` playbooks run side by side (each module run costs about a second of Python start-up)."""
    chunks = [rows[index::parts] for index in range(parts)]

    def run(index):
        workdir = tmp_path / ("part%d" % index)
        workdir.mkdir()
        tasks = [dict({"module": module, "args": args}, **keywords) for _id, module, args, keywords, _words in chunks[index]]
        return HARNESS.Runner(workdir).run_tasks(sandbox, tasks)

    with ThreadPoolExecutor(max_workers=parts) as pool:
        runs = list(pool.map(run, range(parts)))
    pairs = []
    for chunk, run in zip(chunks, runs, strict=True):
        assert run.rc == 0, run.describe()
        pairs.extend(zip(chunk, run.results, strict=True))
    return pairs


def test_module_bad_inputs_fail_before_any_request(tenant, tmp_path):
    tenant.make_fleet({1: ["Quarantine"]})
    rows = module_rows(_files(tmp_path))
    assert len(rows) >= 30
    problems = []
    for (row_id, _module, _args, _keywords, words), result in _run_rows_in_parallel(tenant.sandbox, tmp_path, rows):
        if not result.get("failed"):
            problems.append("%s: did not fail: %s" % (row_id, result))
            continue
        if result.get("changed"):
            problems.append("%s: changed is true" % row_id)
        missing = _keywords_in(result.get("msg", ""), words)
        if missing:
            problems.append("%s: the message lacks %s: %r" % (row_id, missing, result.get("msg")))
        if "Traceback (most recent call last)" in "%s %s" % (result.get("module_stderr", ""), result.get("exception", "")):
            problems.append("%s: a traceback instead of a message" % row_id)
    assert not problems, "\n".join(problems)
    _assert_nothing_sent(tenant, "the bad-input table")


def test_duplicates_in_jobs_are_processed_once_with_a_warning(tenant, run_tasks):
    ids = tenant.make_fleet({1: ["Quarantine", "Active"]})
    first, second = ({"service_principal_id": sp, "job_id": job} for sp, job in (ids[(1, 0)], ids[(1, 1)]))
    upper = dict(first, service_principal_id=first["service_principal_id"].upper())  # the same GUID, another spelling
    run = run_tasks(tenant.sandbox, [
        {"module": RESTART, "args": {"jobs": [first, second, dict(first), upper], "restart_if": ["quarantined"]}},
        {"module": INFO, "args": {"jobs": [second, dict(second, note="extra key")]}},
    ])
    assert run.rc == 0, run.describe()
    restart, info = run.results
    assert not restart.get("failed"), restart
    assert [(r["job_id"], r["action"]) for r in restart["results"]] == [(first["job_id"], "restarted"), (second["job_id"], "skipped")]
    assert restart["summary"]["total"] == 2
    warnings = " ".join(restart.get("warnings", []))
    assert "jobs[2] duplicates jobs[0]" in warnings and "jobs[3] duplicates jobs[0]" in warnings, restart.get("warnings")
    assert "processed once" in warnings
    assert not info.get("failed"), info
    assert [job["job_id"] for job in info["jobs"]] == [second["job_id"]]
    assert any("duplicate" in warning for warning in info.get("warnings", [])), info.get("warnings")
    assert tenant.restarts() == {ids[(1, 0)]: 1}
    assert len(tenant.restart_posts(tenant.log())) == 1


# ---- the graph_auth role ----------------------------------------------------------------------------------------

# (id, role vars, key words, environment): "bare" runs without the secret and the Graph endpoint in the environment,
# which the role's defaults read (an empty role input is left out and the module reads the environment itself).
BARE_ENV = {"AZURE_CLIENT_SECRET": None, "AZURE_SECRET": None, "ENTRA_SYNC_GRAPH_ENDPOINT": None}
ROLE_ROWS = [
    ("role-cloud-unknown", {"graph_auth_cloud": "mars"}, ["mars", "global"], "default"),
    ("role-auth-method-unknown", {"graph_auth_auth_method": "kerberos"}, ["graph_auth_auth_method", "client_secret"], "default"),
    ("role-validate-certs-not-bool", {"graph_auth_validate_certs": "maybe"}, ["graph_auth_validate_certs", "bool"], "default"),
    ("role-timeout-not-int", {"graph_auth_timeout": "soon"}, ["graph_auth_timeout", "int"], "default"),
    ("role-graph-endpoint-http", {"graph_auth_graph_endpoint": "http://127.0.0.1:1"}, ["graph_endpoint", "https://"], "default"),
    ("role-authority-path", {"graph_auth_authority_host": "https://login.microsoftonline.com/x"}, ["authority_host", "root URL"], "default"),
    ("role-tenant-common", {"graph_auth_tenant_id": "common"}, ["common", "tenant"], "default"),
    ("role-cert-unreadable", {"graph_auth_client_certificate_path": "/nonexistent/cert.pem", "graph_auth_auth_method": "certificate"},
     ["client_certificate_path", "cannot be read"], "default"),
    ("role-missing-credentials", {}, ["AZURE_CLIENT_SECRET"], "bare"),
]


def _run_saved_playbook(sandbox, play, workdir, env=None):
    """Run `play`; its last task must be a debug of `saved` named SAVE_TASK. Returns (proc, saved)."""
    playbook = workdir / "playbook.yml"
    playbook.write_text(json.dumps(play, indent=1))
    out_file = workdir / "saved.json"
    run_env = playbook_env(sandbox, env)
    run_env["ENTRA_INT_RESULTS_FILE"] = str(out_file)
    proc = subprocess.run([os.path.join(BIN_DIR, "ansible-playbook"), str(playbook)], env=run_env,
                          cwd=str(workdir), capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    saved = json.loads(out_file.read_text()) if out_file.exists() else None
    return proc, saved


def _role_play(rows):
    tasks = [{"name": "init", "ansible.builtin.set_fact": {"role_results": {}}}]
    for row_id, role_vars, _words, _env in rows:
        tasks.append({
            "name": row_id,
            "block": [
                {"name": "role " + row_id, "ansible.builtin.include_role": {"name": "entra.sync.graph_auth"}, "vars": role_vars},
                {"name": "ok " + row_id, "ansible.builtin.set_fact": {"role_results": "{{ role_results | combine({'%s': 'NO FAILURE'}) }}" % row_id}},
            ],
            "rescue": [{"name": "caught " + row_id, "ansible.builtin.set_fact": {
                "role_results": "{{ role_results | combine({'%s': ansible_failed_result.msg | default('') | string}) }}" % row_id}}],
        })
        # each row signs in from scratch: no token an earlier row could have left is reused
        tasks.append({"name": "forget " + row_id, "ansible.builtin.set_fact": {"entra_sync_access_token_key": "", "entra_sync_access_token_expires_on": 0}})
    tasks.append({"name": SAVE_TASK, "ansible.builtin.debug": {"var": "saved"}, "vars": {"saved": "{{ role_results }}"}})
    return [{"name": "role", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]


def test_graph_auth_role_bad_inputs_fail_before_any_request(tenant, tmp_path):
    tenant.make_fleet({1: ["Quarantine"]})

    def run(kind):
        rows = [row for row in ROLE_ROWS if row[3] == kind]
        workdir = tmp_path / kind
        workdir.mkdir()
        proc, saved = _run_saved_playbook(tenant.sandbox, _role_play(rows), workdir, env=BARE_ENV if kind == "bare" else None)
        assert saved is not None, proc.stdout[-4000:] + proc.stderr[-3000:]
        return saved

    with ThreadPoolExecutor(max_workers=2) as pool:
        saved = {}
        for part in pool.map(run, ("default", "bare")):
            saved.update(part)
    problems = []
    for row_id, _vars, words, _env in ROLE_ROWS:
        message = saved.get(row_id, "")
        if message == "NO FAILURE":
            problems.append("%s: did not fail" % row_id)
            continue
        missing = _keywords_in(message, words)
        if missing:
            problems.append("%s: the message lacks %s: %r" % (row_id, missing, message))
    assert not problems, "\n".join(problems)
    _assert_nothing_sent(tenant, "the role's bad-input rows")


# ---- the inventory plugin ---------------------------------------------------------------------------------------

INVENTORY_ROWS = [
    ("inv-concurrency-zero", {"concurrency": 0}, ["concurrency", "1 to 64"]),
    ("inv-concurrency-huge", {"concurrency": 5000}, ["concurrency", "1 to 64"]),
    ("inv-tenant-item-number", {"tenants": [123]}, ["tenants"]),
    ("inv-tenant-item-no-id", {"tenants": [{"client_id": "x"}]}, ["tenant_id"]),
    ("inv-graph-endpoint-http", {"graph_endpoint": "http://127.0.0.1:1"}, ["graph_endpoint", "https://"]),
    ("inv-graph-endpoint-path", {"graph_endpoint": "https://graph.microsoft.com/v1.0"}, ["graph_endpoint", "root URL"]),
    ("inv-cloud-unknown", {"cloud": "mars"}, ["mars", "global"]),
    ("inv-tenant-common", {"tenant_id": "common"}, ["common", "tenant"]),
    ("inv-timeout-negative", {"timeout": -3}, ["timeout", "out of range"]),
    ("inv-hostnames-unknown", {"hostnames": "fqdn"}, ["hostnames", "display_name"]),
]


def test_inventory_bad_sources_fail_before_any_request(tenant, tmp_path):
    tenant.make_fleet({1: ["Quarantine"]})
    sandbox = tenant.sandbox
    problems = []

    def parse(row):
        row_id, config, words = row
        source = tmp_path / ("%s.sync_jobs.yml" % row_id)
        source.write_text(json.dumps(dict({"plugin": "entra.sync.sync_jobs"}, **config)))
        env = playbook_env(sandbox, {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "ANSIBLE_INVENTORY_ENABLED": "entra.sync.sync_jobs"})
        if "graph_endpoint" in config:
            env.pop("ENTRA_SYNC_GRAPH_ENDPOINT", None)
        proc = subprocess.run([os.path.join(BIN_DIR, "ansible-inventory"), "-i", str(source), "--list"], env=env,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
        return row_id, words, proc

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(parse, INVENTORY_ROWS))
    for row_id, words, proc in outcomes:
        text = " ".join((proc.stdout + proc.stderr).split())  # ansible wraps long warnings
        if proc.returncode == 0:
            problems.append("%s: the source parsed" % row_id)
            continue
        missing = _keywords_in(text, words)
        if missing:
            problems.append("%s: the error lacks %s: %s" % (row_id, missing, text[-600:]))
        if "Traceback" in text:
            problems.append("%s: a traceback" % row_id)
    assert not problems, "\n".join(problems)
    _assert_nothing_sent(tenant, "the inventory's bad-input rows")


# ---- the fleet playbook -----------------------------------------------------------------------------------------

GOOD_JOB = {"service_principal_id": SP, "job_id": JOB_ID}
PLAYBOOK_ROWS = [
    ("pb-restart-if-string", {"entra_sync_restart_if": "quarantined"}, ["entra_sync_restart_if", "lists"]),
    ("pb-restart-if-empty", {"entra_sync_restart_if": []}, ["entra_sync_restart_if", "must not be empty"]),
    ("pb-concurrency-zero", {"entra_sync_concurrency": 0}, ["entra_sync_concurrency", "1 to 64"]),
    ("pb-concurrency-huge", {"entra_sync_concurrency": 1000}, ["entra_sync_concurrency", "1 to 64"]),
    ("pb-chunk-zero", {"entra_sync_chunk_size": 0}, ["entra_sync_chunk_size", "above 0"]),
    ("pb-canary-negative", {"entra_sync_canary_size": -1}, ["entra_sync_canary_size", "whole number"]),
    ("pb-canary-timeout-text", {"entra_sync_canary_wait_timeout": "long"}, ["entra_sync_canary_wait_timeout"]),
    ("pb-jobs-empty", {"entra_sync_jobs": []}, ["entra_sync_jobs", "must not be empty"]),
    ("pb-jobs-and-report", {"entra_sync_jobs": [GOOD_JOB], "entra_sync_retry_report": "/tmp/report.json"},
     ["entra_sync_jobs", "entra_sync_retry_report", "not both"]),
    ("pb-retry-report-missing", {"entra_sync_retry_report": "/nonexistent/report.json"}, ["/nonexistent/report.json"]),
    ("pb-tenant-item-number", {"entra_sync_tenants": [123]}, ["entra_sync_tenants", "tenant_id"]),
    ("pb-tenants-string", {"entra_sync_tenants": "contoso.onmicrosoft.com"}, ["entra_sync_tenants", "lists"]),
    # checked with the modules' own rules before the sign-in (a token request) and before discovery reads the tenant
    ("pb-job-id-slash", {"entra_sync_jobs": [dict(GOOD_JOB, job_id="a/b")]}, ["job id", "'/'"]),
    ("pb-sp-not-guid", {"entra_sync_jobs": [dict(GOOD_JOB, service_principal_id="My App")]}, ["GUID"]),
    ("pb-restart-if-unknown", {"entra_sync_restart_if": ["bogus"]}, ["bogus", "quarantined"]),
    ("pb-restart-remedies-unknown", {"entra_sync_restart_remedies": ["reboot"]}, ["entra_sync_restart_remedies", "reboot", "approve_deletes"]),
    ("pb-scope-cds", {"entra_sync_reset_scope": ["ConnectorDataStore"]}, ["allow_connector_data_store"]),
    ("pb-scope-none", {"entra_sync_reset_scope": ["None"]}, ["sync_job", "started"]),
    ("pb-scope-unknown", {"entra_sync_reset_scope": ["Everything"]}, ["Everything", "valid names"]),
]


def _run_fleet(sandbox, extra_vars, workdir):
    vars_file = workdir / "extra_vars.json"
    vars_file.write_text(json.dumps(extra_vars))
    cmd = [os.path.join(BIN_DIR, "ansible-playbook"), "entra.sync.restart_jobs", "-e", "@%s" % vars_file]
    return subprocess.run(cmd, env=playbook_env(sandbox), cwd=str(workdir), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT, check=False)


def _fleet_problems(row_id, proc, words):
    text = " ".join((proc.stdout + proc.stderr).split())
    if proc.returncode == 0:
        return ["%s: the run did not fail" % row_id]
    missing = _keywords_in(text, words)
    return ["%s: the output lacks %s: %s" % (row_id, missing, text[-700:])] if missing else []


def test_fleet_playbook_bad_inputs_fail_before_any_request(tenant, tmp_path):
    tenant.make_fleet({1: ["Quarantine"]})

    def run(row):
        row_id, extra_vars, words = row
        workdir = tmp_path / row_id
        workdir.mkdir()
        return row_id, words, _run_fleet(tenant.sandbox, extra_vars, workdir)

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(run, PLAYBOOK_ROWS))
    problems = [problem for row_id, words, proc in outcomes for problem in _fleet_problems(row_id, proc, words)]
    assert not problems, "\n".join(problems)
    _assert_nothing_sent(tenant, "the fleet playbook's bad-input rows")
