#!/usr/bin/env bash
# The Event-Driven Ansible stage of `make test` (make eda-test): ansible-rulebook from tests/requirements-eda.txt in its
# own venv (.build/eda; pip runs again only when that file changes), then the end-to-end self-heal tests (tests/eda)
# against the installed tarball (make build first) and the sandbox.  Needs a Java 17 runtime (`java -version`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=tests/tools/side_venv.sh
source "$root/tests/tools/side_venv.sh"
venv="$root/.build/eda"

if ! command -v java > /dev/null; then
    echo "eda: no java on PATH: ansible-rulebook needs a Java 17 runtime (apt-get install default-jre-headless)" >&2
    exit 1
fi
side_venv eda "$venv" tests/requirements-eda.txt
if [[ ! -f "$root/.build/collections/ansible_collections/entra/sync/MANIFEST.json" ]]; then
    bash tests/tools/build.sh
fi
ENTRA_SYNC_EDA_VENV="$venv" ANSIBLE_COLLECTIONS_PATH="$root/.build/collections" bash tests/tools/pytest.sh tests/eda "$@"
