#!/usr/bin/env bash
# The ARA stage of `make test` (make ara-test): ARA from tests/requirements-ara.txt in its own venv (.build/ara; pip runs
# again only when that file changes), then tests/ara: merge_reports run by that venv's ansible-playbook with ARA's
# callback on, and the records read back from ARA's database.  Needs the installed tarball (make build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
venv="$root/.build/ara"
stamp="$venv/.requirements-stamp"

if [[ ! -f "$stamp" || tests/requirements-ara.txt -nt "$stamp" ]]; then
    echo "ara: installing tests/requirements-ara.txt into $venv"
    "${PYTHON:-python3.11}" -m venv "$venv"
    "$venv/bin/python" -m pip install -q -U pip
    "$venv/bin/python" -m pip install -q -r tests/requirements-ara.txt
    touch "$stamp"
fi
if [[ ! -f "$root/.build/collections/ansible_collections/entra/sync/MANIFEST.json" ]]; then
    bash tests/tools/build.sh
fi
ENTRA_SYNC_ARA_VENV="$venv" ANSIBLE_COLLECTIONS_PATH="$root/.build/collections" bash tests/tools/pytest.sh tests/ara "$@"
