#!/usr/bin/env bash
# Run every test and gate of the collection:
#   1. ansible-test sanity, units and integration targets (scripts/ansible_test.sh)
#   2. the collection gates: ansible-lint, build and tarball contents, docs,
#      changelog, galaxy-importer, execution environment (scripts/gates.sh)
#   3. molecule scenarios of the role (scripts/molecule.sh)
#   4. pytest: unit tests, the simulator's tests and the integration tests
#      that run playbooks against the simulator
# Extra arguments go to pytest.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/bootstrap.sh"

for step in ansible_test gates molecule; do
    if [[ -f "$root/scripts/$step.sh" ]]; then
        echo "== $step"
        bash "$root/scripts/$step.sh"
    fi
done

echo "== pytest: unit, simulator and integration tests"
cd "$root"
exec "$root/.venv/bin/python" -m pytest -n 2 "$@"
