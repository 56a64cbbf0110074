#!/usr/bin/env bash
# Start the Certificate View simulator over HTTPS, enroll every host of the
# demo inventory with playbooks/enroll.yml, then run the play a second time,
# which must change nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/bootstrap.sh"
venv="$root/.venv"

work=$(mktemp -d "${TMPDIR:-/tmp}/certview-demo.XXXXXX")
# shellcheck source=scripts/lib/simulator.sh
source "$root/scripts/lib/simulator.sh"
start_simulator "$work/simulator" --issue-delay 3 --post-delay 1
finish() {
    stop_simulator
    # The folder contains the demo hosts' private keys.
    if [[ "${CERTVIEW_DEMO_KEEP:-0}" == 1 ]]; then
        echo "Kept the demo's files in $work"
    else
        rm -rf "$work"
    fi
}
trap finish EXIT
url=$simulator_url

export ANSIBLE_COLLECTIONS_PATH="$root/build/collections"
export ANSIBLE_PYTHON_INTERPRETER="$venv/bin/python"
export ANSIBLE_NOCOLOR=1
export QUALYS_GATEWAY_URL="$url"
export QUALYS_CA_PATH="$simulator_ca"
export QUALYS_USERNAME=requester QUALYS_PASSWORD=requester-pass
export CERTVIEW_APPROVER_USERNAME=approver CERTVIEW_APPROVER_PASSWORD=approver-pass
export CERTVIEW_DEMO_DIR="$work/hosts"

run_play() {
    "$venv/bin/ansible-playbook" -i "$root/playbooks/inventory/demo.yml" "$root/playbooks/enroll.yml" | tee "$work/run-$1.log"
}

echo "== First run: enroll every host"
run_play 1
echo "== Second run: nothing may change"
run_play 2

echo "== Orders in the simulator"
"$venv/bin/python" - "$url" "$simulator_ca" <<'PY'
import sys

import requests

url, ca = sys.argv[1], sys.argv[2]
orders = requests.get(url + "/_sim/orders", verify=ca, timeout=10).json()
for order in orders:
    print("%-24s %-38s %s" % (order["certificate"]["commonName"], order["uuid"], order["status"]))
if not orders or any(order["status"] != "ISSUED" for order in orders):
    sys.exit("Not every order reached ISSUED")
PY

if ! grep -Eq 'changed=0 ' "$work/run-2.log" || grep -Eq 'changed=[1-9]' "$work/run-2.log"; then
    echo "The second run changed something" >&2
    exit 1
fi
echo "Every order reached ISSUED; the second run reported changed=0 for every host."
