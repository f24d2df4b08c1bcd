#!/usr/bin/env bash
# ansible-lint with the repository's .ansible-lint (profile: production), offline.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export NO_COLOR=1
exec "$root/.venv/bin/ansible-lint" --offline "$@"
