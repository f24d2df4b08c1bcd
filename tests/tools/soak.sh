#!/usr/bin/env bash
# make soak (not in make test): the event source for SOAK_MINUTES (default 30) against 1,000 sandbox jobs under the chaos
# profile, one poll a second; RSS must stay flat and relapse history pruned (tests/tools/soak.py, figures in .build/soak).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
exec "$root/.venv/bin/python" tests/tools/soak.py "$@"
