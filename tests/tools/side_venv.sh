#!/usr/bin/env bash
# Sourced by the stages that need tools of their own beside .venv (eda.sh: ansible-rulebook; ara.sh: ARA):
# side_venv NAME VENV REQUIREMENTS makes VENV from REQUIREMENTS, and again only when that file changes (a stamp file).

side_venv() {
    local name=$1 venv=$2 requirements=$3
    local stamp="$venv/.requirements-stamp"
    if [[ ! -f "$stamp" || "$requirements" -nt "$stamp" ]]; then
        echo "$name: installing $requirements into $venv"
        "${PYTHON:-python3.11}" -m venv "$venv"
        "$venv/bin/python" -m pip install -q -U pip
        "$venv/bin/python" -m pip install -q -r "$requirements"
        touch "$stamp"
    fi
}
