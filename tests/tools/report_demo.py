"""The fleet report demo (make report-demo): a fleet run with trouble, for report.html.

A sandbox of three tenants as inventory hosts, two runs of entra.sync.restart_jobs from the installed collection into
one report history: first contoso alone (a clean run, the trend's first point), then all three, where fabrikam's
restarts meet injected faults (two answers lost after the restart: unknown; two refused with 503 every time: failed) and
northwind signs in with a wrong secret (a failed tenant). The second run's report.html is the demo's; with
--screenshot, headless Chromium takes its picture (docs/images/fleet-report.png comes from here).

    python tests/tools/report_demo.py --state-dir .build/report-demo [--screenshot docs/images/fleet-report.png]

Needs the collection installed (make build; ANSIBLE_COLLECTIONS_PATH, else .build/collections) and tests/sandbox on
PYTHONPATH. tests/integration/test_int_report_browser.py runs it too.
"""

import argparse
import json
import os
import subprocess
import sys

import yaml

from entra_sandbox.testing import SandboxProcess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402  (tests/tools/browser.py, beside this file)

HOSTS = ("contoso", "fabrikam", "northwind")
WRONG_SECRET = "demo-wrong-secret-7f3c1e9a"
LOST, REFUSED = 2, 2
# Jobs quarantined (escrow threshold: a restart fixes it) before the second run, per tenant.
QUARANTINE = (4, 8, 0)


def _quarantine(sandbox, tenant_id, count):
    """Quarantine `count` active jobs of the tenant (the seeded fleet has few quarantines in small tenants)."""
    jobs = [job for job in sandbox.admin.jobs(tenant_id) if job.get("status_code") == "Active"][:count]
    for job in jobs:
        sandbox.admin.set_job(job["service_principal_id"], job["job_id"], status_code="Quarantine",
                              quarantine_reason="EncounteredEscrowProportionThreshold")
    return jobs


def _faults(jobs):
    """Fault rules for the last of these jobs (the canary, the first ones found, stays healthy): LOST answers lost after the restart (unknown), REFUSED
    restarts refused with 503 every time (the service did not act: failed once the retries are spent). Returns the rules and the (sp, job) pairs."""
    jobs = jobs[-(LOST + REFUSED):]
    rules = []
    for index, job in enumerate(jobs):
        path = "/%s/synchronization/jobs/%s/restart$" % (job["service_principal_id"], job["job_id"].replace(".", r"\."))
        fault = {"fault": "lost_response", "count": 1} if index < LOST else {"fault": "status", "status": 503, "count": 20, "retry_after": 0.05}
        rules.append(dict({"method": "POST", "path": path}, **fault))
    return rules, [(job["service_principal_id"], job["job_id"]) for job in jobs]


def _inventory(path, sandbox):
    tenants = [entry["id"] for entry in sandbox.config["tenants"]]
    full = sandbox.app("full")
    hosts = {
        HOSTS[0]: {"entra_sync_tenant_id": tenants[0]},
        HOSTS[1]: {"entra_sync_tenant_id": tenants[1]},
        HOSTS[2]: {"entra_sync_tenant_id": tenants[2], "entra_sync_client_id": full["client_id"], "entra_sync_auth_method": "client_secret",
                   "entra_sync_client_secret": WRONG_SECRET},
    }
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"entra_tenants": {"hosts": hosts}}, handle)
    return tenants


def _env(sandbox):
    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(ROOT, ".build", "collections")
    return dict(os.environ, **sandbox.env, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCALHOST_WARNING="false")


def _play(sandbox, inventory, report_dir, history, limit=None):
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    extra = {"entra_sync_report_dir": report_dir, "entra_sync_report_history": history, "entra_sync_canary_size": 2,
             "entra_sync_canary_wait_interval": 0.2, "entra_sync_chunk_size": 3}
    command = [playbook, "-i", inventory, "-f", "3", "entra.sync.restart_jobs", "-e", json.dumps(extra)] + (["--limit", limit] if limit else [])
    return subprocess.run(command, env=_env(sandbox), capture_output=True, text=True, timeout=600, check=False)


def run_demo(state_dir, service_principals=80):
    """Both runs; returns {report_dir, html, tenants, faulted (sp, job) pairs: the lost ones first, outputs, secrets}."""
    os.makedirs(state_dir, exist_ok=True)
    history = os.path.join(state_dir, "history")
    with SandboxProcess(os.path.join(state_dir, "sandbox"), seed=7, tenants=3, service_principals=service_principals) as sandbox:
        inventory = os.path.join(state_dir, "tenants.yml")
        tenants = _inventory(inventory, sandbox)
        first = _play(sandbox, inventory, os.path.join(state_dir, "run-1"), history, limit=HOSTS[0])
        if first.returncode != 0:
            raise RuntimeError("the first (clean) run failed:\n%s\n%s" % (first.stdout[-4000:], first.stderr[-2000:]))
        quarantined = [_quarantine(sandbox, tenant_id, count) for tenant_id, count in zip(tenants, QUARANTINE, strict=True)]
        rules, faulted = _faults(quarantined[1])
        sandbox.admin.set_faults({"rules": rules})
        report_dir = os.path.join(state_dir, "report")
        second = _play(sandbox, inventory, report_dir, history)
        # What a report must never hold: the secrets the runs held, and every token and assertion of the runs.
        issued = sandbox.admin.issued()
        secrets = [WRONG_SECRET, sandbox.env.get("AZURE_CLIENT_SECRET")] + [token for kind in issued.values() for token in kind]
    if not os.path.exists(os.path.join(report_dir, "report.html")):
        raise RuntimeError("the second run wrote no report.html:\n%s\n%s" % (second.stdout[-4000:], second.stderr[-2000:]))
    return {"report_dir": report_dir, "html": os.path.join(report_dir, "report.html"), "tenants": dict(zip(HOSTS, tenants, strict=True)),
            "faulted": faulted, "outputs": [first, second], "secrets": [secret for secret in secrets if secret]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--state-dir", default=os.path.join(ROOT, ".build", "report-demo"))
    parser.add_argument("--service-principals", type=int, default=80)
    parser.add_argument("--screenshot", help="where to write a PNG of report.html (headless Chromium)")
    args = parser.parse_args()
    demo = run_demo(os.path.abspath(args.state_dir), args.service_principals)
    print(demo["outputs"][1].stdout[-1500:])
    print("report-demo: report written to %s" % demo["html"])
    print("report-demo: open it in a browser: xdg-open %s (or file://%s)" % (demo["html"], demo["html"]))
    if args.screenshot:
        if not browser.find_chromium():
            print("report-demo: %s; no screenshot" % browser.SKIP_REASON, file=sys.stderr)
            return 1
        requested = browser.screenshot(demo["html"], args.screenshot, width=1100, height=2300)
        if requested:
            print("report-demo: report.html requested %s" % ", ".join(requested), file=sys.stderr)
            return 1
        print("report-demo: screenshot written to %s" % args.screenshot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
