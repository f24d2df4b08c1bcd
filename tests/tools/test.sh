#!/usr/bin/env bash
# What `make test` (and so CI) runs: sanity, lint, ruff, build, ee, eda, ara (the report in ARA), docs, conformance
# (Microsoft's clients against the sandbox, in their own venv: tests/tools/conformance.sh), then ONE pytest run over tests/unit and tests/integration
# against the installed tarball, so that pytest's summary closes the output.  Every stage runs even when an earlier
# one failed (one CI run reports everything); FAIL_FAST=1 stops at the first failure.  Exits non-zero if any stage
# failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools="$root/tests/tools"
cd "$root"

failed=()
summary=()
stage() {
    local name=$1 start=$SECONDS status=0
    shift
    echo "=== test: $name"
    "$@" || status=$?
    summary+=("$name: $( ((status == 0)) && echo ok || echo "FAILED (exit $status)") in $((SECONDS - start)) s")
    if ((status != 0)); then
        failed+=("$name")
        if [[ "${FAIL_FAST:-0}" == 1 ]]; then
            echo "test: $name failed (exit $status); FAIL_FAST=1: stopping" >&2
            exit "$status"
        fi
    fi
}

stage sanity bash "$tools/sanity.sh"
stage lint bash "$tools/lint.sh"
stage ruff "$root/.venv/bin/ruff" check
stage build bash "$tools/build.sh"
stage ee bash "$tools/ee.sh"
stage eda bash "$tools/eda.sh"
stage ara bash "$tools/ara.sh"
stage docs-lint bash "$tools/docs.sh" --lint
stage docs bash "$tools/docs.sh"
stage conformance bash "$tools/conformance.sh"
echo "=== test: stages before pytest: ${summary[*]/%/;}"
# The report's browser test runs in the pytest run below, when there is a Chromium to run it in.
if ! "$root/.venv/bin/python" -c 'import sys; sys.path.insert(0, "tests/tools"); import browser; sys.exit(browser.find_chromium() is None)'; then
    echo "=== test: browser: SKIPPED: no Chromium on this machine (apt-get install chromium; .ci/run installs it): report.html is not opened in a browser"
fi

status=0
start=$SECONDS
# Two pytest-xdist workers by default: most of an integration test is ansible-playbook start-up and the sandbox's
# latency, so two overlap well on a 2-core machine and keep make test under 15 minutes; PYTEST_WORKERS=0 runs serially.
ANSIBLE_COLLECTIONS_PATH="$root/.build/collections" PYTEST_WORKERS="${PYTEST_WORKERS:-2}" bash "$tools/pytest.sh" tests/unit tests/integration || status=$?
if ((${#failed[@]} > 0)); then
    echo "test: FAILED stage(s) before pytest: ${failed[*]} (pytest exit $status after $((SECONDS - start)) s)" >&2
    exit 1
fi
exit "$status"
