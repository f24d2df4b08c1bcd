# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make heal-demo: the sandbox, the entra.sync.self_heal rulebook, and quarantines to heal, shown as they happen.

Starts a sandbox tenant with eight jobs, starts ansible-rulebook (.build/eda) on the installed collection
(.build/collections), and breaks seven of them the way Microsoft documents it (graph-facts.md, "Quarantine: what fixes
which"): three escrow-threshold quarantines a restart fixes, one whose failures persist (it relapses after the restart),
one TooManyDeletes (a person releases the deletes), one expired SCIM token (new credentials; its job is disabled in two
days) and one job the service paused with escrowsPruned (clean up the errors). Prints the rulebook's self-heal lines and
the sandbox's restart counters as they change, then each escalation with its remedy and deadline, and stops everything.
Nothing here is asserted: tests/eda does that.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "sandbox"))

from private_dir import demo_dir_or_exit  # noqa: E402  pylint: disable=wrong-import-position

from entra_sandbox.testing import SandboxProcess  # noqa: E402  pylint: disable=wrong-import-position

STATE = os.path.join(ROOT, ".build", "heal-demo")
NAMES = ["Payroll SCIM", "Slack", "Zoom", "HR relapsing", "Mass deleter", "Expired secret", "Jira", "Box"]
INVENTORY = 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'


ESCROW_THRESHOLDS = ("EncounteredEscrowProportionThreshold", "EncounteredBaseEscrowThreshold", "EncounteredTotalEscrowThreshold")
EXPIRED_TOKEN = {"code": "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
                 "message": "The secret token has expired or was revoked.", "tenant_actionable": True}


def quarantine(admin, ids):
    sp_job = {name: ids[name] for name in NAMES}
    for name, reason in zip(("Payroll SCIM", "Slack", "Zoom"), ESCROW_THRESHOLDS, strict=True):
        admin.set_job(*sp_job[name], status_code="Quarantine", quarantine_reason=reason, quarantine_days=1)
    admin.set_job(*sp_job["HR relapsing"], status_code="Quarantine", quarantine_reason=ESCROW_THRESHOLDS[0], relapse=True)
    admin.set_job(*sp_job["Mass deleter"], status_code="Quarantine", quarantine_reason="TooManyDeletes", held_deletes=750, quarantine_days=3)
    admin.set_job(*sp_job["Expired secret"], status_code="Quarantine", quarantine_reason="EncounteredQuarantineException",
                  quarantine_error=EXPIRED_TOKEN, quarantine_days=26)
    admin.set_job(*sp_job["Jira"], status_code="Paused", escrows_pruned=True, last_execution_state="Failed")


def read_lines(path):
    with open(path, encoding="utf-8") as handle:
        return [line for line in handle if line.strip()]


def wrapped(text):
    """The whole line, wrapped at word boundaries to the terminal's width (a cut line loses the end of a reason)."""
    width = max(60, shutil.get_terminal_size((120, 24)).columns)
    return textwrap.fill(text, width=width, subsequent_indent=" " * 12, break_long_words=False, break_on_hyphens=False)


def show_new_lines(path, seen):
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    for line in lines[seen:]:
        if "entra.sync self-heal" in line:
            print(wrapped("  rulebook: " + line.strip().strip('"').replace('\\"', '"')), flush=True)
    return len(lines)


def main():
    demo_dir_or_exit(STATE, name="heal-demo", setting="")  # 0700 and this user's alone (the leases and the escalation file live in it)
    escalations = os.path.join(STATE, "escalations.jsonl")
    state_file = os.path.join(STATE, "heal-state.json")
    for stale in (escalations, state_file):  # each demo starts with no record and no memory
        if os.path.exists(stale):
            os.unlink(stale)
    with SandboxProcess(os.path.join(STATE, "sandbox"), service_principals=10) as sandbox:
        sandbox.admin.set_fleet(service_principals_list=[{"displayName": name, "jobs": [{"template_id": "scim"}]} for name in NAMES])
        ids = {job["display_name"]: (job["service_principal_id"], job["job_id"]) for job in sandbox.admin.jobs(sandbox.tenant_id)}
        with open(os.path.join(STATE, "inventory.yml"), "w", encoding="utf-8") as handle:
            handle.write(INVENTORY)
        with open(os.path.join(STATE, "vars.json"), "w", encoding="utf-8") as handle:
            json.dump({"entra_sync_heal_interval": 5, "entra_sync_heal_escalation_file": escalations,
                       "entra_sync_heal_state_file": state_file}, handle)
        env = dict(os.environ, **sandbox.env, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_NOCOLOR="1",
                   ENTRA_SYNC_LEASE_DIR=os.path.join(STATE, "leases"), PATH=os.path.join(ROOT, ".build", "eda", "bin") + os.pathsep + os.environ["PATH"])
        out_path = os.path.join(STATE, "rulebook.out")
        print("heal-demo: sandbox tenant %s with %d jobs; starting ansible-rulebook -r entra.sync.self_heal (interval 5 s)"
              % (sandbox.tenant_id, len(NAMES)), flush=True)
        with open(out_path, "wb") as out:
            rulebook = subprocess.Popen([os.path.join(ROOT, ".build", "eda", "bin", "ansible-rulebook"), "-r", "entra.sync.self_heal",
                                         "-i", os.path.join(STATE, "inventory.yml"), "--vars", os.path.join(STATE, "vars.json")],
                                        stdout=out, stderr=subprocess.STDOUT, env=env, cwd=STATE)
            try:
                time.sleep(12)
                print("heal-demo: breaking 7 jobs: 3 escrow thresholds a restart fixes, 1 that relapses, 1 TooManyDeletes, "
                      "1 expired SCIM token, 1 paused with escrowsPruned", flush=True)
                quarantine(sandbox.admin, ids)
                seen, last, deadline = 0, None, time.monotonic() + 180
                while time.monotonic() < deadline and rulebook.poll() is None:
                    seen = show_new_lines(out_path, seen)
                    counters = {name: sandbox.admin.job(*ids[name])["summary"]["restarts"] for name in NAMES}
                    if counters != last and any(counters.values()):
                        print("  sandbox restarts: %s" % ", ".join("%s %d" % item for item in counters.items() if item[1]), flush=True)
                        last = counters
                    done = os.path.exists(escalations) and len(read_lines(escalations)) >= 4
                    if done and sum(counters.values()) >= 4:
                        break
                    time.sleep(1)
                show_new_lines(out_path, seen)
            finally:
                rulebook.send_signal(signal.SIGTERM)
                rulebook.wait(60)
        print("heal-demo: escalations in %s (what a person must do, and by when):" % escalations)
        if os.path.exists(escalations):
            with open(escalations, encoding="utf-8") as handle:
                for line in handle:
                    entry = json.loads(line)
                    deadline = " by %s%s" % (entry["disables_at"], " (SOON)" if entry["disables_soon"] else "") if entry["disables_at"] else ""
                    print(wrapped("  %s: %s%s: %s" % (entry["service_principal_name"], entry["remedy"], deadline, entry["remedy_reason"])))
        print("heal-demo: rulebook output in %s; stopped the rulebook and the sandbox" % out_path)


if __name__ == "__main__":
    main()
