"""No secret anywhere: representative runs at -vvvv (successes and forced failures), everything they leave behind
collected, and searched for every secret the runs held and every token and assertion the sandbox issued or received.

Collected: each run's stdout and stderr, the registered results the harness saved, the fleet playbook's report.json,
report.md, report.html and report history (history.jsonl), `ansible-inventory` output, and the sandbox's own
server.out / server.err. Searched for: every app's client
secret (and the wrong secrets the failing runs sent), the PFX password (and the wrong one), each line of the
certificate's private key, and every access token, client assertion and workload token of the run (GET
/_sandbox/issued), whole and by their payload and signature segments. Zero hits, enforced.
"""

import json
import os
import subprocess
import time

import entra_int_harness as HARNESS  # tests/integration/conftest.py
import trustme

RESTART = "entra.sync.sync_job_restart"
INFO = "entra.sync.sync_job_info"
JOB = "entra.sync.sync_job"
WRONG_SECRET_SUFFIX = "-not-the-secret"
WRONG_PFX_PASSWORD = "wrong-pfx-password-5f3a9c"
NO_SECRET = {"AZURE_CLIENT_SECRET": "", "AZURE_SECRET": ""}


def _key_lines(pem_path):
    """The base64 lines of the private key in a PEM file (the key's body, line by line)."""
    lines, inside = [], False
    with open(pem_path, encoding="ascii") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("-----BEGIN") and "PRIVATE KEY" in line:
                inside = True
            elif line.startswith("-----END") and "PRIVATE KEY" in line:
                inside = False
            elif inside and len(line) >= 16:
                lines.append(line)
    assert len(lines) > 10, "no private key found in %s" % pem_path
    return lines


def _jwt_needles(token):
    """A JWT whole, and its payload and signature segments (a header alone is not secret)."""
    parts = token.split(".")
    return [token] + [part for part in parts[1:] if len(part) >= 20]


def _expired_token(sandbox):
    """A real sandbox token that has expired by the time it is used."""
    sandbox.admin.set_token_lifetime(1)
    try:
        token = sandbox.token()
    finally:
        sandbox.admin.set_token_lifetime(3600)
    time.sleep(2.1)
    return token


def _other_ca(tmp_path):
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


class Evidence:
    """Everything the runs left behind, as (label, text) pairs."""

    def __init__(self):
        self.items = []

    def add(self, label, text):
        self.items.append((label, text if isinstance(text, str) else json.dumps(text)))

    def add_run(self, label, run):
        self.add(label + " stdout", run.stdout)
        self.add(label + " stderr", run.stderr)
        if run.results:
            self.add(label + " results", run.results)

    def add_files(self, label, directory):
        for root, _dirs, names in os.walk(str(directory)):
            for name in names:
                with open(os.path.join(root, name), encoding="utf-8", errors="replace") as handle:
                    self.add("%s %s" % (label, name), handle.read())

    def hits(self, needles):
        found = []
        for label, text in self.items:
            for name, needle in needles:
                if needle and needle in text:
                    found.append("%s found in %s" % (name, label))
        return found


def test_no_secret_token_or_assertion_anywhere_at_vvvv(tenant, run_tasks, run_playbook, tmp_path):
    sandbox = tenant.sandbox
    ids = tenant.make_fleet({1: ["Quarantine", "Quarantine", "Active"], 2: ["Quarantine", ("Paused", {"schedule_state": "Paused"})],
                             3: ["Quarantine"]})
    sp1, job1 = ids[(1, 0)]
    cert = sandbox.app("cert")
    secret = sandbox.env["AZURE_CLIENT_SECRET"]
    evidence = Evidence()
    cert_env = dict(NO_SECRET, AZURE_CLIENT_ID=cert["client_id"])
    expired = _expired_token(sandbox)

    # 1. Successes and sign-in failures in one run: secret, PEM, PFX, sync_job, diff mode (graph_token returns its token by
    # design, to be registered with no_log as the graph_auth role does: the fleet run below covers it); wrong secret,
    # wrong PFX password, an expired access token with no way to refresh it, and one refreshed from the env secret.
    ok = run_tasks(sandbox, [
        {"module": RESTART, "args": {"service_principal_id": sp1, "job_id": job1}},
        {"module": INFO, "args": {"service_principal_id": sp1}},
        {"module": RESTART, "args": {"service_principal_id": ids[(1, 1)][0], "job_id": ids[(1, 1)][1], "auth_method": "certificate",
                                     "client_certificate_path": cert["certificate_path"]}, "environment": cert_env},
        {"module": RESTART, "args": {"service_principal_id": ids[(2, 0)][0], "job_id": ids[(2, 0)][1], "auth_method": "certificate",
                                     "client_certificate_path": cert["pfx_path"], "client_certificate_password": cert["pfx_password"]},
         "environment": cert_env},
        {"module": JOB, "args": {"service_principal_id": ids[(2, 1)][0], "job_id": ids[(2, 1)][1], "state": "started"}},
        {"module": RESTART, "args": {"service_principal_id": sp1, "job_id": job1, "client_secret": secret + WRONG_SECRET_SUFFIX}},
        {"module": RESTART, "args": {"service_principal_id": sp1, "job_id": job1, "auth_method": "certificate",
                                     "client_certificate_path": cert["pfx_path"], "client_certificate_password": WRONG_PFX_PASSWORD},
         "environment": cert_env},
        {"module": INFO, "args": {"service_principal_id": sp1, "access_token": expired}, "environment": NO_SECRET},
        {"module": INFO, "args": {"service_principal_id": sp1, "access_token": expired}},
    ], verbosity=4, diff=True)
    assert ok.rc == 0, ok.describe()
    restarted, info, pem, pfx, started, wrong_secret, wrong_pfx, expired_only, refreshed = ok.results
    for result in (restarted, info, pem, pfx, started, refreshed):
        assert not result.get("failed"), result
    assert restarted["action"] == "restarted" and pem["action"] == "restarted" and pfx["action"] == "restarted"
    for result in (wrong_secret, wrong_pfx, expired_only):
        assert result["failed"] is True, result
    assert "secret" in wrong_secret["msg"].lower()
    assert "password" in wrong_pfx["msg"].lower() or "pfx" in wrong_pfx["msg"].lower(), wrong_pfx["msg"]
    assert "expired" in expired_only["msg"].lower(), expired_only["msg"]
    evidence.add_run("sign-in run", ok)

    # 2. Graph failures: 500 on reads and on the restart POST (unknown outcome), a token rejected mid-run, malformed
    # bodies, 429s; and TLS failures (sign-in and Graph) with a CA that did not sign the sandbox.
    tenant.admin.set_faults({"seed": 3, "rules": [
        {"method": "POST", "path": "/restart$", "count": 1, "fault": "status", "status": 500},
        {"method": "GET", "path": "/jobs/", "count": 1, "fault": "token_expired"},
        {"method": "GET", "path": "/jobs$", "count": 3, "fault": "status", "status": 500},
        {"method": "GET", "path": "/jobs/", "count": 1, "fault": "malformed"},
        {"method": "*", "path": "/synchronization/", "probability": 0.2, "fault": "status", "status": 429, "retry_after": 0.05},
    ]})
    other_ca = _other_ca(tmp_path)
    faults = run_tasks(sandbox, [
        {"module": RESTART, "args": {"service_principal_id": ids[(3, 0)][0], "job_id": ids[(3, 0)][1]}},
        {"module": INFO, "args": {"service_principal_id": sp1, "max_retries": 1}},
        {"module": RESTART, "args": {"service_principal_id": sp1, "restart_if": ["quarantined"]}},
        {"module": INFO, "args": {"service_principal_id": sp1, "ca_path": other_ca}},
        {"module": INFO, "args": {"service_principal_id": sp1, "ca_path": other_ca, "access_token": sandbox.token()}},
    ], verbosity=4)
    assert faults.rc == 0, faults.describe()
    lost, server_error, _partly, tls_signin, tls_graph = faults.results
    assert lost["action"] == "unknown", lost
    assert server_error["failed"] is True and "500" in server_error["msg"], server_error
    for result in (tls_signin, tls_graph):
        assert result["failed"] is True and "ca_path" in result["msg"], result
    injected = tenant.admin.counters()["faults"]
    assert injected.get("status_500", 0) >= 2 and injected.get("token_expired") == 1, injected
    evidence.add_run("fault run", faults)
    tenant.admin.set_faults({})

    # 3. The fleet playbook (graph_auth role, report files) under 429s, and the inventory plugin.
    tenant.admin.set_faults({"seed": 4, "rules": [
        {"method": "*", "path": "/synchronization/", "probability": 0.1, "fault": "status", "status": 429, "retry_after": 0.05}]})
    report_dir, history = tmp_path / "report", tmp_path / "history"
    fleet = run_playbook(sandbox, "entra.sync.restart_jobs", {"entra_sync_report_dir": str(report_dir), "entra_sync_canary_size": 1,
                                                              "entra_sync_report_history": str(history)}, verbosity=4)
    assert fleet.rc == 0, fleet.describe()
    assert (report_dir / "report.html").is_file() and (history / "history.jsonl").is_file()
    evidence.add_run("fleet run", fleet)
    evidence.add_files("fleet report", report_dir)
    evidence.add_files("fleet report history", history)
    tenant.admin.set_faults({})
    source = tmp_path / "secrets.sync_jobs.yml"
    source.write_text(json.dumps({"plugin": "entra.sync.sync_jobs", "condition_groups": True}))
    inventory = subprocess.run([os.path.join(HARNESS.BIN_DIR, "ansible-inventory"), "-i", str(source), "--list", "-vvvv"],
                               env=HARNESS.playbook_env(sandbox), capture_output=True, text=True, timeout=HARNESS.RUN_TIMEOUT, check=False)
    assert inventory.returncode == 0, inventory.stderr[-3000:]
    evidence.add("inventory stdout", inventory.stdout)
    evidence.add("inventory stderr", inventory.stderr)

    # The sandbox's own output.
    evidence.add_files("sandbox", _sandbox_logs(sandbox))

    # What to look for.
    issued = sandbox.admin.issued()
    assert issued["access_tokens"] and issued["assertions"], "the runs signed in with a secret and with certificates"
    needles = []
    for name, app in sandbox.config["apps"].items():
        if app.get("client_secret"):
            needles.append(("client secret of app %s" % name, app["client_secret"]))
    needles.append(("wrong secret sent", secret + WRONG_SECRET_SUFFIX))
    needles.append(("PFX password", cert["pfx_password"]))
    needles.append(("wrong PFX password", WRONG_PFX_PASSWORD))
    needles += [("private key line %d" % number, line) for number, line in enumerate(_key_lines(cert["certificate_path"]))]
    for kind in ("access_tokens", "assertions", "workload_tokens"):
        for number, value in enumerate(issued[kind]):
            needles += [("%s[%d]" % (kind, number), needle) for needle in _jwt_needles(value)]
    needles += [("expired token", needle) for needle in _jwt_needles(expired)]
    assert sum(len(text) for _label, text in evidence.items) > 100000, "-vvvv output was collected"
    hits = evidence.hits(needles)
    assert not hits, "secrets in the output:\n" + "\n".join(sorted(set(hits))[:40])


def _sandbox_logs(sandbox):
    """A directory holding only the sandbox's server.out and server.err (the state dir also holds keys, on purpose)."""
    state_dir = os.path.dirname(sandbox.ca_path)
    logs = os.path.join(state_dir, "logs-for-scan")
    os.makedirs(logs, exist_ok=True)
    for name in ("server.out", "server.err"):
        path = os.path.join(state_dir, name)
        with open(path, encoding="utf-8", errors="replace") as source, open(os.path.join(logs, name), "w", encoding="utf-8") as copy:
            copy.write(source.read())
    return logs
