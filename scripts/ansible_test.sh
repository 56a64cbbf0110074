#!/usr/bin/env bash
# Run ansible-test sanity on a copy of the collection. ansible-test needs the
# tree under a path that ends in ansible_collections/qualys/certview.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
# The copy lies outside this git work tree: inside it, ansible-test would ask
# git for the collection's files and find them all ignored.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/certview-sanity.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
copy="$scratch/ansible_collections/qualys/certview"
mkdir -p "$copy"
tar -C "$root" --exclude=./.venv --exclude=./build --exclude=./.git --exclude=./collections \
    --exclude=./.ansible --exclude='__pycache__' --exclude=./tests/output -cf - . | tar -C "$copy" -xf -

cd "$copy"
# Outside git, ansible-test walks every file of the copy, which is why only
# project files are copied above.
PATH="$venv/bin:$PATH" "$venv/bin/ansible-test" sanity --python 3.11 --color no "$@"
