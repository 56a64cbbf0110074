# shellcheck shell=bash
# The sourcing script sets root and venv and reads the simulator_* variables.
# shellcheck disable=SC2154,SC2034
# Start the Certificate View simulator over HTTPS in the background.
# Source this file; it needs $root (the repository) and $venv (its venv).
#
#   start_simulator STATE_DIR [SIMULATOR OPTIONS...]
#
# STATE_DIR receives the generated CA (ca.pem), the URL file and the log.
# Sets simulator_pid, simulator_url and simulator_ca. Without options, an
# approved order is issued about a second later. stop_simulator ends it by
# its PID and does nothing when no simulator runs.

simulator_pid=""

stop_simulator() {
    if [[ -n "$simulator_pid" ]]; then
        kill "$simulator_pid" 2>/dev/null || true
        wait "$simulator_pid" 2>/dev/null || true
        simulator_pid=""
    fi
}

start_simulator() {
    local state=$1
    shift
    local options=("$@")
    if [[ ${#options[@]} -eq 0 ]]; then
        options=(--issue-delay 1 --post-delay 0.2)
    fi
    mkdir -p "$state"
    PYTHONPATH="$root/tests/simulator" "$venv/bin/python" -m certview_simulator --tls --host 127.0.0.1 --port 0 \
        --state-dir "$state" --port-file "$state/url" "${options[@]}" >"$state/simulator.log" 2>&1 &
    simulator_pid=$!
    local attempt
    for attempt in $(seq 1 200); do
        [[ -s "$state/url" ]] && break
        if ! kill -0 "$simulator_pid" 2>/dev/null; then
            echo "The simulator exited before it started listening. Its log:" >&2
            cat "$state/simulator.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [[ ! -s "$state/url" ]]; then
        echo "The simulator did not start within 20 s ($attempt checks): $state/url is still empty. Its log:" >&2
        cat "$state/simulator.log" >&2
        exit 1
    fi
    simulator_url=$(cat "$state/url")
    simulator_ca="$state/ca.pem"
    echo "Simulator listening on $simulator_url (log: $state/simulator.log)"
}
