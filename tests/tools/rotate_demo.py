"""`make rotate-demo`'s setup (tests/tools/demo.sh runs it once the sandbox is ready, DEMO_SETUP): five SCIM apps whose
target now wants a new token, so their jobs fall into a credential quarantine (remedy credentials) at their next cycle;
the job list for entra.sync.rotate_credentials goes to STATE_DIR/extra_vars.json: four new tokens the targets accept and
one stale token, which the rotation must refuse, save nothing for and name at the end."""

import json
import os
import sys

from entra_sandbox.testing import AdminClient

JOBS = 5
BASE = "https://scim.%s.example/v2"


def main(state_dir):
    with open(os.path.join(state_dir, "sandbox.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    admin = AdminClient(config["admin_url"], config["ca_path"])
    tenant_id = config["tenants"][0]["id"]
    chosen, seen = [], set()
    for job in admin.jobs(tenant_id):
        if job["template_id"] == "scim" and job["status_code"] == "Active" and job["service_principal_id"] not in seen:
            seen.add(job["service_principal_id"])
            chosen.append(job)
        if len(chosen) == JOBS:
            break
    items = []
    for number, job in enumerate(chosen, start=1):
        base = BASE % "app%d" % number
        new = "demo-new-token-%d-%s" % (number, os.urandom(4).hex())
        # The target revokes the old token: the job's next cycle quarantines it with Graph's credential error.
        admin.set_credentials(job["service_principal_id"], saved={"BaseAddress": base, "SecretToken": "old-token-%d" % number},
                              accepts={"BaseAddress": base, "SecretToken": new}, cycle=True)
        given = new if number < JOBS else "demo-stale-token-%d" % number
        items.append({"service_principal_id": job["service_principal_id"], "job_id": job["job_id"],
                      "credentials": {"BaseAddress": base, "SecretToken": given}})
        print("rotate-demo: %s (%s) quarantined by credentials; the rotation gives it %s token" % (
            job["display_name"], job["job_id"], "a new" if number < JOBS else "a stale"))
    with open(os.path.join(state_dir, "extra_vars.json"), "w", encoding="utf-8") as handle:
        json.dump({"entra_sync_credential_jobs": items}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
