#!/usr/bin/env bash
# Run ansible-test sanity on a copy of the collection. ansible-test needs the
# tree under a path that ends in ansible_collections/qualys/certview.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
copy="$root/build/ansible-test/ansible_collections/qualys/certview"

rm -rf "$copy"
mkdir -p "$copy"
tar -C "$root" --exclude=./.venv --exclude=./build --exclude=./.git --exclude=./collections \
    --exclude=./.ansible --exclude='__pycache__' --exclude=./tests/output -cf - . | tar -C "$copy" -xf -

cd "$copy"
# git is how ansible-test lists the files of a collection; without it the
# copy is walked instead, which is why only project files are copied above.
PATH="$venv/bin:$PATH" "$venv/bin/ansible-test" sanity --python 3.11 --color no "$@"
