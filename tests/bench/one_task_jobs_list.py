"""Time one sync_job_restart task over a `jobs:` list of N jobs against the sandbox (no injected latency).

    make build && PYTHONPATH=tests/sandbox ANSIBLE_COLLECTIONS_PATH=.build/collections \
        .venv/bin/python tests/bench/one_task_jobs_list.py --jobs 1000

Prints the wall time of the ansible-playbook run, the Graph calls the sandbox saw, token requests and restarts.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from entra_sandbox.testing import SandboxProcess

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - entra.sync.sync_job_restart:
        jobs: "{{ lookup('ansible.builtin.file', jobs_file) | from_json }}"
        restart_if: [always]
        concurrency: %(concurrency)d
      register: restarted
    - ansible.builtin.debug:
        var: restarted.summary
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    if not os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        sys.exit("set ANSIBLE_COLLECTIONS_PATH to the installed collection (make build: .build/collections)")
    workdir = tempfile.mkdtemp(prefix="entra-bench-")
    # About a fifth of the service principals have one or two jobs: 5 per job wanted is plenty.
    with SandboxProcess(os.path.join(workdir, "sandbox"), service_principals=args.jobs * 5, tenants=1) as sandbox:
        jobs = sandbox.admin.jobs()[:args.jobs]
        if len(jobs) < args.jobs:
            sys.exit("the sandbox fleet has only %d jobs" % len(jobs))
        jobs_file = os.path.join(workdir, "jobs.json")
        with open(jobs_file, "w", encoding="utf-8") as handle:
            json.dump([{"service_principal_id": j["service_principal_id"], "job_id": j["job_id"]} for j in jobs], handle)
        playbook = os.path.join(workdir, "restart.yml")
        with open(playbook, "w", encoding="utf-8") as handle:
            handle.write(PLAYBOOK % {"concurrency": args.concurrency})
        sandbox.admin.clear_log()
        sandbox.admin.reset_counters()
        started = time.monotonic()
        run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook, "-e", "jobs_file=" + jobs_file],
                             env=dict(os.environ, **sandbox.env), capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        counters = sandbox.admin.counters()
        if run.returncode:
            print(run.stdout[-3000:], run.stderr[-3000:])
            sys.exit("ansible-playbook failed (%d)" % run.returncode)
    print(json.dumps({
        "jobs": args.jobs,
        "concurrency": args.concurrency,
        "wall_seconds": round(wall, 2),
        "graph_requests": counters["requests"],
        "token_requests": counters["token_requests"],
        "restarts": counters["totals"],
    }, indent=2))


if __name__ == "__main__":
    main()
