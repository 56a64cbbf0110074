#!/usr/bin/env bash
# Run the molecule scenarios of the collection (extensions/molecule/) against
# the Certificate View simulator.
#
#   bash scripts/molecule.sh             # every scenario
#   bash scripts/molecule.sh default     # one scenario
#
# For each scenario the script starts the simulator over HTTPS on 127.0.0.1,
# exports the QUALYS_* connection variables and the approver account, runs
# `molecule test -s NAME` from the collection root and stops the simulator.
# scripts/bootstrap.sh must have run first: it creates .venv.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
# shellcheck source=scripts/lib/simulator.sh
source "$root/scripts/lib/simulator.sh"

if [[ ! -x "$venv/bin/molecule" ]]; then
    echo "Missing $venv/bin/molecule: run scripts/bootstrap.sh first." >&2
    exit 1
fi

scenarios=("$@")
if [[ ${#scenarios[@]} -eq 0 ]]; then
    for file in "$root"/extensions/molecule/*/molecule.yml; do
        scenarios+=("$(basename "$(dirname "$file")")")
    done
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/certview-molecule.XXXXXX")
# shellcheck disable=SC2317  # only the EXIT trap calls this function
cleanup() {
    stop_simulator
    rm -rf "$scratch"
}
trap cleanup EXIT

# molecule and ansible-playbook find qualys.certview through this link to the
# source tree, and community.crypto in the ansible package of the venv.
mkdir -p "$scratch/collections/ansible_collections/qualys"
ln -s "$root" "$scratch/collections/ansible_collections/qualys/certview"
export ANSIBLE_COLLECTIONS_PATH="$scratch/collections"
export PATH="$venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 NO_COLOR=1
export ANSIBLE_HOME="$scratch/ansible-home"
export ANSIBLE_LOCAL_TEMP="$scratch/ansible-tmp"


cd "$root"
status=0
for scenario in "${scenarios[@]}"; do
    echo "== molecule scenario $scenario"
    started=$SECONDS
    work="$scratch/$scenario"
    start_simulator "$work/simulator"
    mkdir -p "$work/hosts"

    # Every scenario gets fresh host directories and its own molecule
    # ephemeral directory, so no state of an earlier run is reused.
    if ! env QUALYS_GATEWAY_URL="$simulator_url" QUALYS_CA_PATH="$simulator_ca" \
        QUALYS_USERNAME=requester QUALYS_PASSWORD=requester-pass \
        CERTVIEW_APPROVER_USERNAME=approver CERTVIEW_APPROVER_PASSWORD=approver-pass \
        CERTVIEW_MOLECULE_DIR="$work/hosts" MOLECULE_EPHEMERAL_DIRECTORY="$work/ephemeral" \
        molecule test -s "$scenario"; then
        status=1
        echo "Simulator log (last 40 lines):" >&2
        tail -n 40 "$work/simulator/simulator.log" >&2
    fi
    stop_simulator
    echo "== molecule scenario $scenario took $((SECONDS - started)) s"
done
exit "$status"
