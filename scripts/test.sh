#!/usr/bin/env bash
# Run every test: ansible-test sanity, then the unit tests, the simulator's own
# tests and the integration tests (playbooks against the simulator) in pytest.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/bootstrap.sh"

echo "== ansible-test sanity"
bash "$root/scripts/sanity.sh"

echo "== pytest: unit, simulator and integration tests"
cd "$root"
exec "$root/.venv/bin/python" -m pytest -n 2 "$@"
