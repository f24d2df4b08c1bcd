#!/usr/bin/env bash
# One pytest run over the given test directories, with the sandbox on PYTHONPATH and its pytest plugin when it
# exists.  Set PYTEST_WORKERS=N to spread the run over N pytest-xdist workers.  Exit status is pytest's; when
# pytest collected no test at all (exit 5) a clear line says so and the run fails, unless ALLOW_NO_TESTS=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

export PYTHONPATH="$root/tests/sandbox${PYTHONPATH:+:$PYTHONPATH}"
# importlib mode: test files in different folders may share a basename (tests/unit/sandbox/test_graph.py and
# tests/unit/plugins/module_utils/_graph/test_graph.py) without __init__.py files.
args=(-p no:cacheprovider --import-mode=importlib)
if [[ -f "$root/tests/sandbox/entra_sandbox/pytest_plugin.py" ]]; then
    args+=(-p entra_sandbox.pytest_plugin)
fi
if [[ -n "${PYTEST_WORKERS:-}" && "${PYTEST_WORKERS}" != 0 ]]; then
    args+=(-n "$PYTEST_WORKERS")
fi

dirs=()
for dir in "$@"; do
    if [[ "$dir" == -* || -e "${dir%%::*}" ]]; then
        dirs+=("$dir")  # an option for pytest, a test file, or a node id
    else
        echo "pytest: $dir does not exist yet: not collected"
    fi
done

status=0
if (( ${#dirs[@]} > 0 )); then
    # ENTRA_SYNC_VENV: another venv (tests/tools/matrix.sh); the integration tests run the ansible-playbook beside it.
    "${ENTRA_SYNC_VENV:-$root/.venv}/bin/python" -m pytest "${args[@]}" "${dirs[@]}" || status=$?
else
    status=5
fi
if (( status == 5 )); then
    echo "pytest: NO TESTS WERE COLLECTED in: $* (pytest exit status 5)"
    if [[ "${ALLOW_NO_TESTS:-0}" == 1 ]]; then
        echo "pytest: ALLOW_NO_TESTS=1: treating 'no tests' as success"
        exit 0
    fi
fi
exit "$status"
