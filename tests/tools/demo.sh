#!/usr/bin/env bash
# The demo: a local sandbox tenant with 2,000 service principals, the fleet playbook entra.sync.restart_jobs run
# against it from the installed collection (.build/collections, from `make build`), then the sandbox's summary.
# The sandbox is always stopped on the way out.  DEMO_PLAYBOOK=path-or-FQCN runs another playbook instead; extra
# arguments go to ansible-playbook.  DEMO_STATE_DIR and DEMO_SERVICE_PRINCIPALS (tests/integration/test_int_demo.py)
# move the sandbox's state and size its tenant.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${DEMO_STATE_DIR:-$root/.build/demo}
py="$root/.venv/bin/python"
cd "$root"

playbook=${DEMO_PLAYBOOK:-entra.sync.restart_jobs}
if [[ ! -d "$root/.build/collections/ansible_collections/entra/sync" ]]; then
    echo "demo: the collection is not installed in .build/collections: run 'make build' first" >&2
    exit 1
fi

export PYTHONPATH="$root/tests/sandbox${PYTHONPATH:+:$PYTHONPATH}"
# The work folder is this user's alone (0700), like every folder the collection keeps; one another user made is refused.
"$py" "$root/tests/tools/private_dir.py" --empty "$state"

sandbox_pid=
# shellcheck disable=SC2317  # called through the EXIT trap
stop_sandbox() {
    if [[ -n "$sandbox_pid" ]] && kill -0 "$sandbox_pid" 2> /dev/null; then
        kill -TERM "$sandbox_pid" 2> /dev/null || true
        for _ in $(seq 50); do
            kill -0 "$sandbox_pid" 2> /dev/null || break
            sleep 0.1
        done
        kill -KILL "$sandbox_pid" 2> /dev/null || true
        wait "$sandbox_pid" 2> /dev/null || true
    fi
    sandbox_pid=
}
trap stop_sandbox EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$py" -m entra_sandbox serve --state-dir "$state" --seed 7 --service-principals "${DEMO_SERVICE_PRINCIPALS:-2000}" > "$state/sandbox.log" 2>&1 &
sandbox_pid=$!

for _ in $(seq 600); do
    [[ -e "$state/ready" ]] && break
    if ! kill -0 "$sandbox_pid" 2> /dev/null; then
        echo "demo: the sandbox exited before it was ready; its log:" >&2
        cat "$state/sandbox.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ ! -e "$state/ready" ]]; then
    echo "demo: the sandbox was not ready after 60 s; its log:" >&2
    cat "$state/sandbox.log" >&2
    exit 1
fi

# shellcheck source=/dev/null
source "$state/env.sh"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
# The fleet playbook runs on localhost alone: no inventory is expected, so no warning says none was parsed.
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

status=0
"$root/.venv/bin/ansible-playbook" "$playbook" -e "entra_sync_report_dir=$state/report" "$@" || status=$?
for report in report.json report.md report.html; do
    if [[ -f "$state/report/$report" ]]; then
        echo "demo: report written to $state/report/$report"
    fi
done
if [[ -f "$state/report/report.html" ]]; then
    echo "demo: open the report in a browser: xdg-open $state/report/report.html (or file://$state/report/report.html);"
    echo "demo: it is one self-contained file (nothing loaded from anywhere): copy it anywhere, or attach it to a ticket"
fi
"$py" -m entra_sandbox summary --state-dir "$state" || status=$((status ? status : $?))
exit "$status"
