#!/usr/bin/env bash
# make chaos: build and install the collection into .build/chaos (its own copy), then run the chaos fleet scenario
# (tests/chaos/chaos.py) against a fresh sandbox. CHAOS_JOBS (default 5000), CHAOS_SEED (7), CHAOS_SPIKE_MAX (the
# profile's 5 s) resize it. Figures go to .build/chaos/figures.json; the exit status says whether every invariant held.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out="$root/.build/chaos"
rm -rf "$out/dist" "$out/collections" "$out/run"
mkdir -p "$out/dist" "$out/collections"
"$root/.venv/bin/ansible-galaxy" collection build --force --output-path "$out/dist" . >/dev/null
ANSIBLE_COLLECTIONS_PATH="$out/collections" "$root/.venv/bin/ansible-galaxy" collection install --force -p "$out/collections" "$out"/dist/entra-sync-*.tar.gz >/dev/null

args=(--jobs "${CHAOS_JOBS:-5000}" --seed "${CHAOS_SEED:-7}" --workdir "$out/run" --figures "$out/figures.json")
if [[ -n "${CHAOS_SPIKE_MAX:-}" ]]; then
    args+=(--spike-max "$CHAOS_SPIKE_MAX")
fi
started=$(date +%s)
status=0
ANSIBLE_COLLECTIONS_PATH="$out/collections" "$root/.venv/bin/python" tests/chaos/chaos.py "${args[@]}" || status=$?
echo "chaos: wall time $(( $(date +%s) - started )) s (figures: $out/figures.json, runs: $out/run)"
exit "$status"
