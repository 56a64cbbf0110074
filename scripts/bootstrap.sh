#!/usr/bin/env bash
# Create the project's virtual environment, install the pinned dependencies,
# build the collection and install the built tarball into build/collections.
# Safe to run again: the venv is reused while requirements-dev.txt is unchanged
# and made anew when it changes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
# shellcheck source=scripts/lib/venv.sh
source "$root/scripts/lib/venv.sh"
ensure_venv "$venv" "$root/requirements-dev.txt"

# ansible-test's shellcheck sanity test needs Debian's shellcheck package.
if ! command -v shellcheck >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    echo "Installing shellcheck"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck) >/dev/null 2>&1 ||
        echo "Could not install shellcheck; ansible-test skips its shellcheck test" >&2
fi

# ansible-test sanity bootstraps pip in its own virtual environments with a
# script it downloads from a host that is not always reachable. A local
# script that installs pip from a wheel in the same cache folder replaces it.
cache="$HOME/.ansible/test/cache"
pip_version=24.2
if [[ ! -f "$cache/get_pip_${pip_version//./_}.py" ]]; then
    mkdir -p "$cache"
    "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps "pip==$pip_version" -d "$cache"
    cp "$root/scripts/get_pip_offline.py" "$cache/get_pip_${pip_version//./_}.py"
fi

# Build the collection and install the tarball, so that playbooks and tests
# run the collection as a user installs it.
build="$root/build"
rm -rf "$build/collections/ansible_collections/qualys/certview"
mkdir -p "$build/dist" "$build/collections"
rm -f "$build/dist"/qualys-certview-*.tar.gz
galaxy_log="$build/ansible-galaxy.log"
if ! (cd "$root" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$build/dist") >"$galaxy_log" 2>&1 ||
    ! "$venv/bin/ansible-galaxy" collection install --offline --no-deps --force \
        -p "$build/collections" "$build"/dist/qualys-certview-*.tar.gz >>"$galaxy_log" 2>&1; then
    cat "$galaxy_log" >&2
    exit 1
fi
echo "Installed $(basename "$build"/dist/qualys-certview-*.tar.gz) into $build/collections"

# The unit tests import the source tree under its collection name.
mkdir -p "$build/src/ansible_collections/qualys"
ln -sfn ../../../.. "$build/src/ansible_collections/qualys/certview"
