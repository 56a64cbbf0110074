"""Measure how playbooks/enroll.yml scales with the number of hosts.

Starts the Certificate View simulator (tests/simulator) over HTTPS on 127.0.0.1. For each host count
N it resets the simulator and writes an inventory of N hosts that run on the controller. It then runs
the playbook twice and reads the simulator's request log after each run. The first run enrolls every
host and the second run must change nothing. The table ends with the ratio of the per-host time of
the first run between the largest and the smallest N, which is less sensitive to the load of a
shared machine than the absolute seconds.

Run it with the project's virtual environment after scripts/bootstrap.sh has installed the
collection in build/collections:

    .venv/bin/python benchmarks/enroll_scaling.py --hosts 5,20 --forks 10
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOK = os.path.join(ROOT, "playbooks", "enroll.yml")
ENROLLMENT_PATH = "/certview/rest/public/v1/certificates/enrollment/digicert"
LOOKUP_PATHS = ("/organizations", "/products", "/evApprovers")

SIMULATOR_START_TIMEOUT = 20.0
PLAYBOOK_TIMEOUT = 1800.0
ADMIN_TIMEOUT = 10.0
MAX_HOSTS = 500


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description="Time playbooks/enroll.yml against the Certificate View simulator for several host counts.")
    parser.add_argument("--hosts", default="5,20", help="comma-separated host counts, each 1..%d (default: %%(default)s)" % MAX_HOSTS)
    parser.add_argument("--forks", type=int, default=5, help="ansible-playbook --forks (default: %(default)s, the Ansible default)")
    parser.add_argument("--issue-delay", type=float, default=0.5, help="simulator seconds from POSTED to ISSUED (default: %(default)s)")
    parser.add_argument("--post-delay", type=float, default=0.1, help="simulator seconds from APPROVED to POSTED (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (keys, logs, inventories) and print its path")
    arguments = parser.parse_args(argv)
    try:
        arguments.host_counts = [int(value) for value in arguments.hosts.split(",") if value.strip()]
    except ValueError:
        parser.error("invalid --hosts %r: expected comma-separated integers such as 5,20,40" % arguments.hosts)
    if not arguments.host_counts or any(count < 1 or count > MAX_HOSTS for count in arguments.host_counts):
        parser.error("invalid --hosts %r: every count must be between 1 and %d" % (arguments.hosts, MAX_HOSTS))
    if arguments.forks < 1:
        parser.error("invalid --forks %d: must be at least 1" % arguments.forks)
    return arguments


class Simulator:
    """The simulator as a child process, stopped by its PID."""

    def __init__(self, work_dir, issue_delay, post_delay):
        self.state_dir = os.path.join(work_dir, "simulator")
        os.makedirs(self.state_dir)
        self.port_file = os.path.join(self.state_dir, "url")
        self.log_path = os.path.join(self.state_dir, "simulator.log")
        self.ca_path = os.path.join(self.state_dir, "ca.pem")
        self.options = ["--issue-delay", str(issue_delay), "--post-delay", str(post_delay)]
        self.process = None
        self.url = None
        self.ssl_context = None

    def start(self):
        command = [sys.executable, "-m", "certview_simulator", "--tls", "--host", "127.0.0.1", "--port", "0"]
        command += ["--state-dir", self.state_dir, "--port-file", self.port_file, "--quiet"] + self.options
        environment = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "tests", "simulator"))
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SIMULATOR_START_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file) and os.path.getsize(self.port_file) > 0:
                break
            if self.process.poll() is not None:
                raise RuntimeError("The simulator exited with status %d before it listened. Log: %s" % (self.process.returncode, self.read_log()))
            time.sleep(0.1)
        else:
            raise RuntimeError("The simulator did not write %s within %.0f s. Log: %s" % (self.port_file, SIMULATOR_START_TIMEOUT, self.read_log()))
        with open(self.port_file, encoding="utf-8") as handle:
            self.url = handle.read().strip()
        self.ssl_context = ssl.create_default_context(cafile=self.ca_path)

    def read_log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-2000:]

    def admin(self, method, path):
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT, context=self.ssl_context) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def write_inventory(path, host_dir, count):
    """Write an inventory of COUNT local hosts, each with its own key, CSR and state file."""
    hosts = {}
    for index in range(1, count + 1):
        name = "host%03d.example.test" % index
        base = os.path.join(host_dir, name)
        hosts[name] = {
            "certificate_key_path": os.path.join(base, "private", "tls.key"),
            "certificate_csr_path": os.path.join(base, "tls.csr"),
            "certificate_state_path": os.path.join(base, "private", "order.json"),
        }
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "certificate_service_key_dir": os.path.join(host_dir, "controller-keys"),
                "certificate_intermediate_ca": {"common_name": "DigiCert Test SHA2 Intermediate CA-1"},
                "certificate_organization": "Qualys, Inc",
                "certificate_product": "private_ssl_plus",
                "certificate_approver_user_names": ["approver"],
                "certificate_poll_interval": 1,
            },
            "hosts": hosts,
        }
    }
    # JSON is valid YAML, and the yaml inventory plugin reads .yml files.
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(inventory, handle, indent=2)


def run_playbook(inventory_path, log_path, forks, simulator):
    environment = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="False",
        QUALYS_GATEWAY_URL=simulator.url,
        QUALYS_CA_PATH=simulator.ca_path,
        QUALYS_USERNAME="requester",
        QUALYS_PASSWORD="requester-pass",
        CERTVIEW_APPROVER_USERNAME="approver",
        CERTVIEW_APPROVER_PASSWORD="approver-pass",
    )
    playbook_command = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    command = [playbook_command, "-i", inventory_path, "--forks", str(forks), PLAYBOOK]
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        completed = subprocess.run(command, env=environment, stdout=log, stderr=subprocess.STDOUT, timeout=PLAYBOOK_TIMEOUT, check=False)
    seconds = time.monotonic() - started
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        output = handle.read()
    # ansible-playbook exits with 99 when it catches SIGINT ("User interrupted execution").
    if completed.returncode == 99:
        raise KeyboardInterrupt
    if completed.returncode != 0:
        raise RuntimeError("ansible-playbook failed with status %d. The end of %s (kept with --keep):\n%s" % (completed.returncode, log_path, output[-3000:]))
    return seconds, parse_recap(output)


def parse_recap(output):
    """Return {host: {"ok": n, "changed": n, ...}} from the PLAY RECAP of an ansible-playbook output."""
    recap = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line) if in_recap else None
        if match:
            recap[match.group(1)] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return recap


def classify_request(entry):
    path = entry["path"]
    if path == "/auth":
        return "auth"
    if path.startswith(ENROLLMENT_PATH):
        suffix = path[len(ENROLLMENT_PATH) :]
        if suffix in LOOKUP_PATHS:
            return "lookup"
        if suffix == "/orders" and entry["method"] == "POST":
            return "order_create"
        if suffix.endswith("/status") and entry["method"] == "PUT":
            return "status_change"
        if suffix.startswith("/orders/") and entry["method"] == "PUT":
            return "order_update"
        if suffix.startswith("/orders/") and entry["method"] == "GET":
            return "order_get"
    return "other"


def count_requests(simulator, since):
    """Count the API requests logged after sequence number SINCE and return (counts, last sequence number)."""
    entries = simulator.admin("GET", "/_sim/requests?since=%d" % since)
    counts = collections.Counter(classify_request(entry) for entry in entries)
    counts["total"] = len(entries)
    last = max([since] + [entry["seq"] for entry in entries])
    return counts, last


def check_orders(simulator, count):
    orders = simulator.admin("GET", "/_sim/orders")
    issued = [order for order in orders if order["status"] == "ISSUED"]
    if len(orders) != count or len(issued) != count:
        raise RuntimeError("Expected %d orders, all ISSUED, but the simulator has %d orders, %d of them ISSUED" % (count, len(orders), len(issued)))


def measure(count, arguments, simulator, work_dir):
    simulator.admin("POST", "/_sim/reset")
    run_dir = os.path.join(work_dir, "hosts-%d" % count)
    os.makedirs(run_dir)
    inventory_path = os.path.join(run_dir, "inventory.yml")
    write_inventory(inventory_path, os.path.join(run_dir, "hosts"), count)
    baseline = simulator.admin("GET", "/_sim/requests")
    since = max([0] + [entry["seq"] for entry in baseline])

    first_seconds, _recap = run_playbook(inventory_path, os.path.join(run_dir, "run-1.log"), arguments.forks, simulator)
    first_counts, since = count_requests(simulator, since)
    check_orders(simulator, count)

    second_seconds, second_recap = run_playbook(inventory_path, os.path.join(run_dir, "run-2.log"), arguments.forks, simulator)
    second_counts, since = count_requests(simulator, since)
    changed_hosts = sorted(host for host, totals in second_recap.items() if totals.get("changed", 0) != 0)
    if len(second_recap) != count or changed_hosts:
        raise RuntimeError("The second run for %d hosts changed %s (recap rows: %d)" % (count, changed_hosts, len(second_recap)))

    return {
        "hosts": count,
        "first_seconds": first_seconds,
        "second_seconds": second_seconds,
        "first_counts": first_counts,
        "second_counts": second_counts,
    }


def print_report(results, arguments):
    print("enroll.yml against the simulator: forks=%d, issue delay %.1f s, post delay %.1f s" % (arguments.forks, arguments.issue_delay, arguments.post_delay))
    print()
    header = ("hosts", "run 1 s", "s/host", "run 2 s", "s/host", "req/host 1", "req/host 2")
    print("%5s %9s %8s %9s %8s %11s %11s" % header)

    for result in results:
        count = result["hosts"]
        print(
            "%5d %9.1f %8.2f %9.1f %8.2f %11.1f %11.1f"
            % (
                count,
                result["first_seconds"],
                result["first_seconds"] / count,
                result["second_seconds"],
                result["second_seconds"] / count,
                result["first_counts"]["total"] / count,
                result["second_counts"]["total"] / count,
            )
        )
    print()

    kinds = ("auth", "lookup", "order_create", "order_update", "status_change", "order_get", "other", "total")
    print("API requests per run (run 1 / run 2):")
    print("%5s " % "hosts" + " ".join("%13s" % kind for kind in kinds))
    for result in results:
        cells = ["%6d / %-4d" % (result["first_counts"][kind], result["second_counts"][kind]) for kind in kinds]
        print("%5d " % result["hosts"] + " ".join("%13s" % cell for cell in cells))
    print()

    smallest = min(results, key=lambda result: result["hosts"])
    largest = max(results, key=lambda result: result["hosts"])
    if largest["hosts"] != smallest["hosts"]:
        ratio = (largest["first_seconds"] / largest["hosts"]) / (smallest["first_seconds"] / smallest["hosts"])
        print("ratio of run-1 seconds per host, %d hosts to %d hosts: %.2f" % (largest["hosts"], smallest["hosts"], ratio))


def main(argv=None):
    arguments = parse_arguments(argv)
    work_dir = tempfile.mkdtemp(prefix="certview-bench.")
    simulator = Simulator(work_dir, arguments.issue_delay, arguments.post_delay)
    results = []
    try:
        simulator.start()
        for count in arguments.host_counts:
            print("measuring %d hosts ..." % count, file=sys.stderr, flush=True)
            results.append(measure(count, arguments, simulator, work_dir))
    except KeyboardInterrupt:
        if simulator.process is not None:
            print("Interrupted. Stopping the simulator (PID %d)." % simulator.process.pid, file=sys.stderr)
        else:
            print("Interrupted before the simulator started.", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print("benchmark failed: %s" % error, file=sys.stderr)
        return 1
    finally:
        simulator.stop()
        if arguments.keep:
            print("kept the work directory %s" % work_dir, file=sys.stderr)
        else:
            # The directory contains the hosts' private keys.
            shutil.rmtree(work_dir, ignore_errors=True)
    print_report(results, arguments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
