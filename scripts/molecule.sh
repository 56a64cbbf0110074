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
simulator_pid=""
stop_simulator() {
    if [[ -n "$simulator_pid" ]]; then
        kill "$simulator_pid" 2>/dev/null || true
        wait "$simulator_pid" 2>/dev/null || true
        simulator_pid=""
    fi
}
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

# Start the simulator with short lifecycle delays, so that an approved order
# is issued about a second later. Sets simulator_url and simulator_ca.
start_simulator() {
    local state=$1
    mkdir -p "$state"
    PYTHONPATH="$root/tests/simulator" "$venv/bin/python" -m certview_simulator --tls --host 127.0.0.1 --port 0 \
        --state-dir "$state" --port-file "$state/url" --issue-delay 1 --post-delay 0.2 \
        >"$state/simulator.log" 2>&1 &
    simulator_pid=$!
    local _
    for _ in $(seq 1 200); do
        [[ -s "$state/url" ]] && break
        if ! kill -0 "$simulator_pid" 2>/dev/null; then
            echo "The simulator exited before it started listening. Its log:" >&2
            cat "$state/simulator.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [[ ! -s "$state/url" ]]; then
        echo "The simulator did not start within 20 s: $state/url is still empty. Its log:" >&2
        cat "$state/simulator.log" >&2
        exit 1
    fi
    simulator_url=$(cat "$state/url")
    simulator_ca="$state/ca.pem"
    echo "Simulator listening on $simulator_url"
}

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
