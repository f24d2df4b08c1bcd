#!/usr/bin/env bash
# ansible-test sanity on a fresh copy of exactly the files git lists (committed and new unignored files, so work
# in progress is tested too) in .build/sanity/ansible_collections/entra/sync.  Extra arguments go to ansible-test,
# e.g. `bash tests/tools/sanity.sh --test pep8`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# ENTRA_SYNC_VENV / ENTRA_SYNC_BUILD: another venv and output folder (tests/tools/matrix.sh); --python is the venv's.
venv=${ENTRA_SYNC_VENV:-$root/.venv}
build=${ENTRA_SYNC_BUILD:-$root/.build}
dest="$build/sanity/ansible_collections/entra/sync"
cd "$root"

rm -rf "$build/sanity"
mkdir -p "$dest"
# Deleted-but-tracked files are skipped; tool caches that a .gitignore may not cover yet are never copied.
git ls-files -z -co --exclude-standard \
    | while IFS= read -r -d '' path; do
        case "$path" in
            .venv/* | .build/* | .ansible/* | tests/output/*) continue ;;
        esac
        if [[ -e "$path" || -L "$path" ]]; then
            printf '%s\0' "$path"
        fi
    done \
    | xargs -0 -r cp -P --parents -t "$dest"
# The copy lies inside this checkout, whose .gitignore hides .build/: without a repository of its own, ansible-test
# would ask the outer one for the files to test and find none ("All targets skipped").  An empty repository
# makes it list the copied files as untracked ones (git ls-files --others --exclude-standard).
git -C "$dest" init -q
echo "sanity: copied $(find "$dest" -type f | wc -l) files to $dest"

# ansible-test keeps its pip bootstrap script (~/.ansible/test/cache/get_pip_<version>.py, downloaded from a host
# these machines cannot reach) and its sanity venvs under ~/.ansible/test.  It runs here with a HOME of its own in the
# build directory: the offline pip stand-in (ansible_test_pip_standin.py) is written there, never into the user's
# ~/.ansible, where it would change ansible-test for every other collection; and sanity runs of other checkouts on
# the machine share no venv with this one.  The user's pip and git settings are linked in, so pip finds the same
# package indexes.
test_home="$build/ansible-test-home"
mkdir -p "$test_home/.config"
for config in .config/pip .pip .gitconfig; do
    if [[ -e "$HOME/$config" ]]; then
        ln -sfn "$HOME/$config" "$test_home/$config"
    fi
done
"$venv/bin/python" tests/tools/ansible_test_pip_standin.py --cache-dir "$test_home/.ansible/test/cache" | sed 's/^/sanity: /'

cd "$dest"
start=$SECONDS
status=0
python_version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
HOME="$test_home" "$venv/bin/ansible-test" sanity --venv --python "$python_version" --color no "$@" || status=$?
echo "sanity: ansible-test sanity exited $status after $((SECONDS - start)) s"
exit "$status"
