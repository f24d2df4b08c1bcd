#!/usr/bin/env bash
# `make release VERSION=x.y.z`: cut a release of the collection in this checkout.
#   1. checks VERSION (semantic version, not below galaxy.yml's, above the last release in changelogs/changelog.yaml)
#      and the changelog fragments (antsibull-changelog lint), before anything is changed;
#   2. sets galaxy.yml's version, adds a release_summary fragment unless one exists (RELEASE_SUMMARY="..." sets its
#      text), and runs `antsibull-changelog release --version VERSION` (changelog.yaml and CHANGELOG.rst; the
#      fragments are removed);
#   3. builds the tarball into $RELEASE_DIR (default .build/release), lists its members into <tarball>.contents.txt
#      and checks that no cache, build or benchmark output went in and that it carries this version and changelog.
# It commits and tags nothing: the last lines print the git commands.  galaxy.yml and changelogs/ must have no
# uncommitted changes (RELEASE_ALLOW_DIRTY=1 skips that check).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin="${ENTRA_SYNC_VENV:-$root/.venv}/bin"  # ENTRA_SYNC_VENV: another virtualenv (the tests use their own)
cd "$root"
export PATH="$bin:$PATH"  # antsibull-changelog calls ansible-doc

version=${1:-${VERSION:-}}
out=${RELEASE_DIR:-$root/.build/release}
fail() { echo "release: $*" >&2; exit 1; }

semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
[[ -n "$version" ]] || fail "give the version: make release VERSION=x.y.z"
[[ "$version" =~ $semver ]] || fail "VERSION '$version' is not a semantic version x.y.z (e.g. 1.2.0 or 1.2.0-rc.1)"

if [[ "${RELEASE_ALLOW_DIRTY:-0}" != 1 ]] && git -C "$root" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    dirty=$(git -C "$root" status --porcelain -- galaxy.yml changelogs)
    [[ -z "$dirty" ]] || fail "galaxy.yml or changelogs/ have uncommitted changes (commit them, or RELEASE_ALLOW_DIRTY=1):
$dirty"
fi

# The version must move forward: not below galaxy.yml's, and above every release the changelog already has.
"$bin/python" - "$version" << 'EOF' || exit 1
import sys
import yaml
from semantic_version import Version  # a dependency of antsibull-changelog

new = Version(sys.argv[1])
with open("galaxy.yml", encoding="utf-8") as handle:
    current = Version(str(yaml.safe_load(handle)["version"]))
with open("changelogs/changelog.yaml", encoding="utf-8") as handle:
    released = sorted(Version(str(v)) for v in (yaml.safe_load(handle) or {}).get("releases") or {})
if new < current:
    sys.exit("release: VERSION %s is below galaxy.yml's version %s" % (new, current))
if released and new <= released[-1]:
    sys.exit("release: VERSION %s is not above the last release in changelogs/changelog.yaml, %s" % (new, released[-1]))
EOF

antsibull-changelog lint || fail "antsibull-changelog lint found problems in changelogs/fragments: fix them first"
fragments=$(find changelogs/fragments -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | wc -l)
((fragments > 0)) || fail "changelogs/fragments holds no fragment: nothing to release"

# From here on the checkout is changed.
sed -i -E "s/^version:.*/version: $version/" galaxy.yml
grep -qx "version: $version" galaxy.yml || fail "could not set the version in galaxy.yml"
if ! grep -qs '^release_summary:' changelogs/fragments/*.y*ml; then
    summary=${RELEASE_SUMMARY:-"Release $version of the entra.sync collection."}
    "$bin/python" -c 'import sys, yaml; print("---"); print(yaml.safe_dump({"release_summary": sys.argv[1]}, width=110), end="")' \
        "$summary" > "changelogs/fragments/$version.yml"
fi
antsibull-changelog release --version "$version"

rm -rf "$out"
mkdir -p "$out"
"$bin/ansible-galaxy" collection build --output-path "$out" "$root"
tarball="$out/entra-sync-$version.tar.gz"
[[ -f "$tarball" ]] || fail "ansible-galaxy built no $tarball"
tar -tzf "$tarball" | sort > "$tarball.contents.txt"

# Nothing but the collection: no caches, virtualenvs, build, test or benchmark output, no earlier tarballs.
forbidden=$(grep -E '(^|/)(\.venv|\.build|\.git|\.ansible|\.cache|\.pytest_cache|\.hypothesis|\.ruff_cache|\.mypy_cache|\.tox|__pycache__|tests/output|tests/bench/results)(/|$)|^(out|docs/_build|context)/|\.pyc$|\.tar\.gz$|^Makefile$' \
    "$tarball.contents.txt" || true)
[[ -z "$forbidden" ]] || fail "the tarball holds files that must stay out (fix build_ignore in galaxy.yml):
$(head -20 <<< "$forbidden")"
for member in MANIFEST.json FILES.json README.md CHANGELOG.rst changelogs/changelog.yaml meta/runtime.yml \
    plugins/modules/sync_job_restart.py; do
    grep -qx "$member" "$tarball.contents.txt" || fail "the tarball lacks $member"
done
tar -xzOf "$tarball" MANIFEST.json | "$bin/python" -c '
import json, sys
info = json.load(sys.stdin)["collection_info"]
sys.exit(0 if info["version"] == sys.argv[1] else "release: MANIFEST.json says version %s" % info["version"])' "$version"
tar -xzOf "$tarball" CHANGELOG.rst | grep -x "v$version" > /dev/null || fail "CHANGELOG.rst in the tarball has no section v$version"

echo "release: $tarball ($(stat -c %s "$tarball") bytes, $(wc -l < "$tarball.contents.txt") members:" \
    "$tarball.contents.txt)"
echo "release: now review and commit: git add galaxy.yml CHANGELOG.rst changelogs && git commit -m 'Release $version'" \
    "&& git tag $version"
