#!/usr/bin/env bash
# `make conformance` (a stage of `make test`): Microsoft's own clients (msgraph-sdk, msgraph-core, azure-identity)
# against the sandbox, and the collection's requests against the SDK's (tests/conformance).  They run in their own
# venv, .build/conformance, made from tests/conformance/requirements.txt (again only when that file changed), so the
# collection's requirements stay requests and msal.  The sandbox and ansible-playbook run from the project venv
# (ENTRA_SYNC_VENV, default .venv); the playbooks use the installed collection (built first when it is missing).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

venv="$root/.build/conformance"
requirements="$root/tests/conformance/requirements.txt"
stamp="$venv/.requirements-stamp"
if [[ ! -f "$stamp" ]] || ! cmp -s "$requirements" "$stamp"; then
    start=$SECONDS
    rm -rf "$venv"
    "${PYTHON:-python3.11}" -m venv "$venv"
    # Every package is pinned there, so no resolver (--no-deps; pip check proves the set complete), and no bytecode
    # for the SDK's thousands of generated modules (--no-compile: Python compiles the few it imports): 3x faster.
    "$venv/bin/python" -m pip install -q --no-deps --no-compile -r "$requirements"
    "$venv/bin/python" -m pip check
    cp "$requirements" "$stamp"
    echo "conformance: venv $venv made in $((SECONDS - start)) s"
fi

collections="$root/.build/collections"
if [[ ! -f "$collections/ansible_collections/entra/sync/MANIFEST.json" ]]; then
    bash "$root/tests/tools/build.sh"
fi

export ANSIBLE_COLLECTIONS_PATH="$collections"
export ENTRA_SYNC_VENV="${ENTRA_SYNC_VENV:-$root/.venv}"
export PYTHONPATH="$root/tests/sandbox:$root/tests/conformance${PYTHONPATH:+:$PYTHONPATH}"
exec "$venv/bin/python" -m pytest -p no:cacheprovider tests/conformance "$@"
