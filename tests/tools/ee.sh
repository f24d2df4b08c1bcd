#!/usr/bin/env bash
# The execution environment checks (`make ee`, a stage of `make test`), all under .build/ee and without a container
# engine:
#   1. build the collection tarball and install it into .build/ee/collections;
#   2. ansible-builder introspect --sanitize over that collections path (what ansible-builder finds in
#      meta/execution-environment.yml);
#   3. ansible-builder create on the example definition extensions/ee/execution-environment.yml, staged beside
#      the tarball as a user would (.build/ee/definition), into .build/ee/context;
#   4. tests/tools/ee_check.py checks the metadata, the introspect output, the Containerfile and the context, runs
#      the context's own introspect step over the context's tarball, and has pip resolve the image's installs (a dry
#      run for the image's Python; EE_PIP_RESOLVE=0 leaves it out).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$root/.build/ee"
bin="$root/.venv/bin"
cd "$root"
export ANSIBLE_COLLECTIONS_PATH="$out/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

rm -rf "$out"
mkdir -p "$out/dist" "$out/collections" "$out/definition"
"$bin/ansible-galaxy" collection build --force --output-path "$out/dist" "$root" > "$out/build.log"
tarball=$(find "$out/dist" -maxdepth 1 -name 'entra-sync-*.tar.gz' -print -quit)
[[ -n "$tarball" ]] || { echo "ee: no tarball in $out/dist" >&2; cat "$out/build.log" >&2; exit 1; }
"$bin/ansible-galaxy" collection install --force -p "$out/collections" "$tarball" > "$out/install.log"
echo "ee: built and installed $(basename "$tarball")"

# --sanitize is what the ansible-builder docs give collection authors; ansible-builder 3 always sanitizes and keeps
# the flag for compatibility.
"$bin/ansible-builder" introspect --sanitize "$out/collections" > "$out/introspect.txt" || {
    echo "ee: ansible-builder introspect failed: does the tarball hold every file meta/execution-environment.yml names" \
        "(build_ignore in galaxy.yml)?" >&2
    exit 1
}
echo "ee: ansible-builder introspect --sanitize .build/ee/collections:"
sed 's/^/    /' "$out/introspect.txt"

cp extensions/ee/execution-environment.yml "$out/definition/"
cp "$tarball" "$out/definition/entra-sync.tar.gz"
"$bin/ansible-builder" create -f "$out/definition/execution-environment.yml" -c "$out/context" \
    --output-filename Containerfile > "$out/create.log" 2>&1 \
    || { echo "ee: ansible-builder create failed:" >&2; cat "$out/create.log" >&2; exit 1; }
echo "ee: ansible-builder create -f extensions/ee/execution-environment.yml: context in .build/ee/context"

# The decision environment of the self-heal rulebook, made and checked the same way (tests/tools/de_check.py).
mkdir -p "$out/de"
cp extensions/eda/decision-environment.yml "$out/de/"
cp "$tarball" "$out/de/entra-sync.tar.gz"
"$bin/ansible-builder" create -f "$out/de/decision-environment.yml" -c "$out/de-context" --output-filename Containerfile \
    > "$out/de-create.log" 2>&1 || { echo "ee: ansible-builder create of the decision environment failed:" >&2; cat "$out/de-create.log" >&2; exit 1; }
"$bin/python" tests/tools/de_check.py --definition extensions/eda/decision-environment.yml --context "$out/de-context"

# EE_PIP_RESOLVE=0 leaves out the one step that asks the package index (pip's dry run of the image's installs).
resolve=(--pip-resolve)
[[ "${EE_PIP_RESOLVE:-1}" == 0 ]] && resolve=()
"$bin/python" tests/tools/ee_check.py --root "$root" --introspect "$out/introspect.txt" --context "$out/context" --work "$out" \
    "${resolve[@]}"
