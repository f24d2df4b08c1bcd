# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one poll of the self-heal event source costs on the L tenant (10,000 service principals), from the sandbox's log.

Starts a sandbox with the bench's L fleet and its 80 ms latency, runs the source's blocking half (HealSource, through
connect() as the event source does): one discovery, then POLLS polls in steady state. Prints, per step, the wall time
and what reached the service: $batch envelopes, job reads (items), service principal pages and job lists.
Usage: python tests/tools/heal_poll_cost.py [--service-principals 10000] [--latency-ms 80] [--polls 3]
"""

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "sandbox"))
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))

from ansible_collections.entra.sync.plugins.module_utils._heal.heal_source import HealSource, parse_source_args  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.entra.sync.plugins.module_utils._service.connect import connect  # noqa: E402  pylint: disable=wrong-import-position
from entra_sandbox.testing import SandboxProcess  # noqa: E402  pylint: disable=wrong-import-position


def tally(entries):
    counts = {"envelopes": 0, "job_reads": 0, "job_lists": 0, "service_principal_pages": 0, "other": 0}
    for entry in entries:
        path = entry["path"].split("?")[0]
        if entry["kind"] == "batch":
            counts["envelopes"] += 1
        elif entry["kind"] == "token":
            continue
        elif "/synchronization/jobs/" in path:
            counts["job_reads"] += 1
        elif path.endswith("/synchronization/jobs"):
            counts["job_lists"] += 1
        elif path.rstrip("/").endswith("/servicePrincipals"):
            counts["service_principal_pages"] += 1
        else:
            counts["other"] += 1
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service-principals", type=int, default=10000)
    parser.add_argument("--latency-ms", type=int, default=80)
    parser.add_argument("--polls", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    state = os.path.join(ROOT, ".build", "heal-poll-cost")
    with SandboxProcess(state, service_principals=args.service_principals) as sandbox:
        sandbox.admin.reset(service_principals=args.service_principals, faults={"latency_ms": args.latency_ms})
        os.environ.update(sandbox.env)
        config, get_option = parse_source_args({"interval": 1, "discovery_interval": 86400, "concurrency": args.concurrency})
        connection = connect(get_option, pool_size=config.concurrency, batch="reads")
        source = HealSource(connection.api, config, connection.known_tenant_id())
        rows = []
        for step in range(args.polls + 1):
            since = sandbox.admin.log()[-1]["seq"] if sandbox.admin.log() else 0
            started = time.monotonic()
            events, _delay = source.step(time.monotonic())
            seconds = time.monotonic() - started
            row = dict(tally(sandbox.admin.log(since=since)), step="discovery" if step == 0 else "poll %d" % step,
                       seconds=round(seconds, 2), events=len(events), jobs_known=len(source.known))
            rows.append(row)
            print(json.dumps(row), flush=True)
        connection.close()
    return rows


if __name__ == "__main__":
    main()
