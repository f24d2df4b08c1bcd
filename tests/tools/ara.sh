#!/usr/bin/env bash
# The ARA stage of `make test` (make ara-test): ARA from tests/requirements-ara.txt in its own venv (.build/ara; pip runs
# again only when that file changes), then tests/ara: merge_reports run by that venv's ansible-playbook with ARA's
# callback on, and the records read back from ARA's database.  Needs the installed tarball (make build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=tests/tools/side_venv.sh
source "$root/tests/tools/side_venv.sh"
venv="$root/.build/ara"

side_venv ara "$venv" tests/requirements-ara.txt
if [[ ! -f "$root/.build/collections/ansible_collections/entra/sync/MANIFEST.json" ]]; then
    bash tests/tools/build.sh
fi
ENTRA_SYNC_ARA_VENV="$venv" ANSIBLE_COLLECTIONS_PATH="$root/.build/collections" bash tests/tools/pytest.sh tests/ara "$@"
