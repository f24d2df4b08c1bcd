#!/usr/bin/env bash
# make heal-demo: the self-heal rulebook against a local sandbox tenant (tests/tools/heal_demo.py), with ansible-rulebook
# from .build/eda (installed by tests/tools/eda.sh's rules from tests/requirements-eda.txt) and the installed collection.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
if [[ ! -x .build/eda/bin/ansible-rulebook || tests/requirements-eda.txt -nt .build/eda/.requirements-stamp ]]; then
    "${PYTHON:-python3.11}" -m venv .build/eda
    .build/eda/bin/python -m pip install -q -U pip
    .build/eda/bin/python -m pip install -q -r tests/requirements-eda.txt
    touch .build/eda/.requirements-stamp
fi
exec "$root/.venv/bin/python" tests/tools/heal_demo.py
