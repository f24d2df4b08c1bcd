#!/usr/bin/env bash
# ansible-lint with the repository's .ansible-lint (profile: production), offline.  The checkout itself is put on
# the collections path (through a symlink in .build/lint) so that playbooks calling entra.sync.* resolve.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

collections="$root/.build/lint"
mkdir -p "$collections/ansible_collections/entra"
ln -sfn "$root" "$collections/ansible_collections/entra/sync"
export ANSIBLE_COLLECTIONS_PATH="$collections${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
export NO_COLOR=1
exec "$root/.venv/bin/ansible-lint" --offline "$@"
