# shellcheck shell=bash
# Create a virtual environment from a pinned requirements file.
# Source this file, then call
#
#   ensure_venv VENV REQUIREMENTS
#
# The venv is reused while REQUIREMENTS is unchanged (a SHA-256 stamp in the
# venv records it) and made anew from scratch when it changes. PYTHON picks
# the interpreter, python3.11 by default.

ensure_venv() {
    local venv=$1 requirements=$2
    local python=${PYTHON:-python3.11}
    command -v "$python" >/dev/null 2>&1 || python=python3
    local stamp="$venv/.requirements.sha256"
    local wanted
    wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
        return 0
    fi
    echo "Creating the virtual environment in $venv from $(basename "$requirements")"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" >"$stamp"
}
