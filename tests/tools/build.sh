#!/usr/bin/env bash
# Build the collection tarball into .build/dist, check what went into it, install it into .build/collections and
# render the documentation of every module (and of the inventory plugin) from the installed copy.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# ENTRA_SYNC_VENV / ENTRA_SYNC_BUILD: another venv and output folder (tests/tools/matrix.sh).
dist="${ENTRA_SYNC_BUILD:-$root/.build}/dist"
collections="${ENTRA_SYNC_BUILD:-$root/.build}/collections"
bin="${ENTRA_SYNC_VENV:-$root/.venv}/bin"
cd "$root"

rm -rf "$dist" "$collections"
mkdir -p "$dist" "$collections"
"$bin/ansible-galaxy" collection build --force --output-path "$dist" "$root"
tarball=$(find "$dist" -maxdepth 1 -name 'entra-sync-*.tar.gz' -print -quit)
[[ -n "$tarball" ]] || { echo "build: no tarball in $dist" >&2; exit 1; }

tar -tzf "$tarball" | sort > "$dist/contents.txt"
size=$(stat -c %s "$tarball")
echo "build: $(basename "$tarball"): $size bytes, $(wc -l < "$dist/contents.txt") entries (list: $dist/contents.txt)"
forbidden=$(grep -E '(^|/)(\.venv|\.build|\.git|\.ansible|\.pytest_cache|\.hypothesis|__pycache__|tests/output)(/|$)|\.pyc$|\.tar\.gz$' \
    "$dist/contents.txt" || true)
if [[ -n "$forbidden" ]]; then
    echo "build: the tarball holds files that must stay out (fix build_ignore in galaxy.yml):" >&2
    echo "$forbidden" | head -20 >&2
    exit 1
fi
if (( size > 5 * 1024 * 1024 )); then
    echo "build: the tarball is larger than 5 MiB ($size bytes); check build_ignore in galaxy.yml" >&2
    exit 1
fi

"$bin/ansible-galaxy" collection install --force -p "$collections" "$tarball"
installed="$collections/ansible_collections/entra/sync"
[[ -f "$installed/MANIFEST.json" ]] || { echo "build: not installed at $installed" >&2; exit 1; }

# Render each plugin's documentation from the installed copy only.
export ANSIBLE_COLLECTIONS_PATH="$collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
docs=()
for path in "$root"/plugins/modules/*.py; do
    [[ -e "$path" ]] || continue
    name=$(basename "$path" .py)
    [[ "$name" == __init__ ]] && continue
    docs+=("module entra.sync.$name")
done
if [[ -f "$root/plugins/inventory/sync_jobs.py" ]]; then
    docs+=("inventory entra.sync.sync_jobs")
fi
if (( ${#docs[@]} == 0 )); then
    echo "build: no modules in plugins/modules yet: skipping the ansible-doc check"
    exit 0
fi

failed=0
for entry in "${docs[@]}"; do
    read -r kind name <<< "$entry"
    out="$dist/doc-$kind-$name.txt"
    if (cd "$dist" && "$bin/ansible-doc" -t "$kind" "$name") > "$out" 2> "$out.err" \
        && ! grep -qE '\[(WARNING|ERROR)\]' "$out.err" \
        && grep -qF "$installed/" "$out"; then
        echo "build: ansible-doc -t $kind $name: ok ($(wc -l < "$out") lines)"
    else
        echo "build: ansible-doc -t $kind $name did not render from the installed copy:" >&2
        cat "$out.err" >&2
        head -5 "$out" >&2
        failed=1
    fi
done
exit "$failed"
