#!/usr/bin/env bash
# The ansible-core version matrix (`make matrix`): ansible-test sanity and the unit tests on every supported
# ansible-core release, the integration tests on the oldest and the newest, each in its own virtual environment
# .build/matrix/<version>/venv (ansible-core of that release + the test requirements), built once and reused until a
# requirements file changes.  Every stage runs even when an earlier one failed; a table of the results and times
# closes the output (also written to .build/matrix/results.txt).  Exits non-zero if any stage failed.
#
# Settings (environment):
#   MATRIX_VERSIONS      releases to test (default: 2.17 2.18 2.19 2.20 2.21)
#   MATRIX_INTEGRATION   releases that also run the integration tests (default: the oldest and the newest: 2.17 2.21)
#   MATRIX_INTEGRATION_TESTS
#                        what they run (default: the smoke set below, the files whose behaviour depends on the
#                        ansible-core release: module_defaults and action groups, the action plugin, the inventory
#                        plugin, the role's argument specs, the playbook's filters; `make test` runs every file on
#                        .venv's release); `tests/integration` for all of them
#   MATRIX_SKIP_COVERED  1: skip sanity and units for the release .venv holds, which `make test` has just run with
#                        the same Python (CI sets it); its integration tests still run here if it is listed above
#   MATRIX_ALLOW_MISSING_PYTHON
#                        1: a release whose Python is not on this machine is reported "skipped" instead of failing
#   PYTEST_WORKERS       as for tests/tools/pytest.sh
# `matrix.sh --find-python X.Y` prints the interpreter the matrix would use for Python X.Y, or fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools="$root/tests/tools"
out="$root/.build/matrix"
cd "$root"

read -r -a versions <<< "${MATRIX_VERSIONS:-2.17 2.18 2.19 2.20 2.21}"
integration=" ${MATRIX_INTEGRATION:-2.17 2.21} "
smoke=(
    tests/integration/test_int_restart.py tests/integration/test_int_info.py tests/integration/test_int_sync_job.py
    tests/integration/test_int_inventory.py tests/integration/test_int_fleet.py tests/integration/test_int_graph_auth_forms.py
    tests/integration/test_int_delegated.py tests/integration/test_int_bad_inputs.py tests/integration/test_int_auth.py
)
read -r -a integration_tests <<< "${MATRIX_INTEGRATION_TESTS:-${smoke[*]}}"

# The Python each release runs on: 2.20 dropped Python 3.11 on the controller.
python_for() {
    case "$1" in
        2.1[0-9]) echo 3.11 ;;
        *) echo 3.12 ;;
    esac
}

# An interpreter of Python X.Y that really runs and can make virtual environments: pythonX.Y on PATH (a pyenv shim
# answers only for the global version, so it is tried, not trusted), else pyenv's own copy, else the usual places.
# A venv's python (make puts .venv/bin first on PATH) is reported as the interpreter it was made from.
find_python() {
    local want=$1 candidate pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
    local candidates=("$(command -v "python$want" || true)")
    while IFS= read -r candidate; do candidates+=("$candidate"); done \
        < <(find "$pyenv_root/versions" -mindepth 3 -maxdepth 3 -path "*/versions/$want.*/bin/python$want" 2> /dev/null | sort -rV)
    candidates+=("/usr/local/bin/python$want" "/usr/bin/python$want")
    for candidate in "${candidates[@]}"; do
        [[ -n "$candidate" && -x "$candidate" ]] || continue
        if "$candidate" -c 'import ensurepip, ssl, sys, venv; print(getattr(sys, "_base_executable", sys.executable))' 2> /dev/null; then
            return 0
        fi
    done
    return 1
}

if [[ "${1:-}" == --find-python ]]; then  # used by .ci/run: print the interpreter found for Python $2, or fail
    find_python "${2:?--find-python X.Y}"
    exit
fi

# The dev requirements (some tests drive the release and docs tools) without ansible-core, which each venv gets in
# its own release, and without ansible-lint, which brings its own ansible-core range and runs only in `make test`.
mkdir -p "$out"
requirements="$out/requirements.txt"
# requirements-dev.txt includes requirements-demo.txt (-r): both are read here, their includes replaced by the one of
# the runtime requirements.
cat "$root/tests/requirements-demo.txt" "$root/tests/requirements-dev.txt" \
    | sed -E -e '/^-r requirements-demo\.txt/d' -e "s|^-r \.\./requirements\.txt|-r $root/requirements.txt|" \
        -e '/^(ansible-core|ansible-lint)([^a-z0-9_.-]|$)/d' > "$requirements.tmp"
mv "$requirements.tmp" "$requirements"

# The release .venv holds, when `make test` ran its sanity and units (MATRIX_SKIP_COVERED=1).
covered=
if [[ "${MATRIX_SKIP_COVERED:-0}" == 1 && -x "$root/.venv/bin/python" ]]; then
    covered=$("$root/.venv/bin/python" -c 'import ansible.release as r; print(".".join(r.__version__.split(".")[:2]))')
    echo "matrix: MATRIX_SKIP_COVERED=1: ansible-core $covered sanity and units were run by make test (.venv)"
fi

# Create or update .build/matrix/<version>/venv; pip runs only when the inputs changed.
# shellcheck disable=SC2317  # called through run_stage
setup_venv() {
    local version=$1 python=$2 venv=$3 stamp digest
    stamp="$venv/.matrix-stamp"
    digest=$(cat "$requirements" "$root/requirements.txt" <(echo "ansible-core==$version.* $python") | sha256sum | cut -d' ' -f1)
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$digest" && -x "$venv/bin/ansible-test" ]]; then
        return 0
    fi
    # Each step checked here: set -e does not apply inside a function run as `cmd || status=$?` (run_stage).
    rm -rf "$venv"
    "$python" -m venv "$venv" || return
    "$venv/bin/python" -m pip install -q -U pip || return
    "$venv/bin/python" -m pip install -q "ansible-core==$version.*" -r "$requirements" || return
    echo "$digest" > "$stamp"
}

fmt() {  # fmt STATUS SECONDS
    case "$1" in
        0) echo "ok $2 s" ;;
        skip*|covered*|-) echo "$1" ;;
        *) echo "FAILED $2 s" ;;
    esac
}

rows=()
failed=0
run_stage() {  # run_stage LABEL LOGFILE COMMAND...: sets stage_status, stage_seconds
    local label=$1 log=$2 start=$SECONDS
    shift 2
    echo "=== matrix: $label (log: ${log#"$root"/})"
    stage_status=0
    "$@" > "$log" 2>&1 || stage_status=$?
    stage_seconds=$((SECONDS - start))
    tail -n 3 "$log" | sed 's/^/    /'
    if ((stage_status != 0)); then
        failed=1
        echo "matrix: $label FAILED (exit $stage_status after $stage_seconds s); last lines of the log:" >&2
        tail -n 40 "$log" | sed 's/^/    /' >&2
    else
        echo "matrix: $label ok in $stage_seconds s"
    fi
}

total_start=$SECONDS
for version in "${versions[@]}"; do
    pyver=$(python_for "$version")
    dir="$out/$version"
    venv="$dir/venv"
    mkdir -p "$dir"
    row_start=$SECONDS
    sanity=- units=- integ=- core=- setup=

    if [[ "$version" == "$covered" && "$integration" != *" $version "* ]]; then
        rows+=("$version|(.venv)|$pyver|covered by make test|covered by make test|-|0")
        continue
    fi
    if ! python=$(find_python "$pyver"); then
        msg="no working python$pyver on this machine (looked on PATH, in ${PYENV_ROOT:-$HOME/.pyenv}/versions, /usr/local/bin, /usr/bin)"
        if [[ "${MATRIX_ALLOW_MISSING_PYTHON:-0}" == 1 ]]; then
            echo "matrix: ansible-core $version: SKIPPED: $msg" >&2
            rows+=("$version|-|$pyver (missing)|skipped|skipped|$( [[ "$integration" == *" $version "* ]] && echo skipped || echo -)|0")
        else
            echo "matrix: ansible-core $version: FAILED: $msg; MATRIX_ALLOW_MISSING_PYTHON=1 skips it" >&2
            failed=1
            rows+=("$version|-|$pyver (missing)|FAILED|FAILED|$( [[ "$integration" == *" $version "* ]] && echo FAILED || echo -)|0")
        fi
        continue
    fi

    run_stage "ansible-core $version: venv (python $pyver: $python)" "$dir/setup.log" setup_venv "$version" "$python" "$venv"
    if ((stage_status != 0)); then
        rows+=("$version|setup FAILED|$pyver|-|-|-|$((SECONDS - row_start))")
        continue
    fi
    setup=" (venv $stage_seconds s)"
    core=$("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')

    # The matrix venv's tools first; the interpreter's own folder too, so that ansible-test --python X.Y finds it.
    export_env=(env "PATH=$venv/bin:$(dirname "$python"):$PATH" "ENTRA_SYNC_VENV=$venv" "ENTRA_SYNC_BUILD=$dir")

    if [[ "$version" == "$covered" ]]; then
        sanity="covered by make test" units="covered by make test"
    else
        run_stage "ansible-core $core: sanity (python $pyver)" "$dir/sanity.log" "${export_env[@]}" bash "$tools/sanity.sh"
        sanity=$(fmt "$stage_status" "$stage_seconds")
        run_stage "ansible-core $core: units" "$dir/units.log" "${export_env[@]}" bash "$tools/pytest.sh" tests/unit
        units=$(fmt "$stage_status" "$stage_seconds")
    fi

    if [[ "$integration" == *" $version "* ]]; then
        # Built and installed by this release's ansible-galaxy (which also renders every plugin's docs), then the
        # integration tests run its ansible-playbook (conftest.py takes the bin folder of the Python running pytest).
        run_stage "ansible-core $core: build + install" "$dir/build.log" "${export_env[@]}" bash "$tools/build.sh"
        if ((stage_status != 0)); then
            integ="FAILED (build) $stage_seconds s"
        else
            build_seconds=$stage_seconds
            run_stage "ansible-core $core: integration" "$dir/integration.log" "${export_env[@]}" \
                "ANSIBLE_COLLECTIONS_PATH=$dir/collections" bash "$tools/pytest.sh" "${integration_tests[@]}"
            integ=$(fmt "$stage_status" "$((stage_seconds + build_seconds))")
        fi
    fi
    rows+=("$version|$core$setup|$pyver|$sanity|$units|$integ|$((SECONDS - row_start))")
done

{
    echo "ansible-core matrix ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $((SECONDS - total_start)) s in all)"
    printf '%-8s %-24s %-7s %-22s %-22s %-22s %s\n' release ansible-core python sanity units integration "total s"
    for row in "${rows[@]}"; do
        IFS='|' read -r v c p s u i t <<< "$row"
        printf '%-8s %-24s %-7s %-22s %-22s %-22s %s\n' "$v" "$c" "$p" "$s" "$u" "$i" "$t"
    done
    echo "(integration includes building and installing the tarball with that release's ansible-galaxy; logs in .build/matrix/<release>/)"
} | tee "$out/results.txt"
exit "$failed"
