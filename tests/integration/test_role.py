"""The role qualys.certview.certificate, run through playbooks/enroll.yml against the simulator.

Every test writes an inventory of local hosts whose key, CSR and state files
live in their own directory under tmp_path, so the hosts of one run and the
tests of one worker never share a file.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from integration_support import APPROVER, BIN, ENROLL_VARS, REQUESTER, ROOT, playbook_environment

ENROLL = os.path.join(ROOT, "playbooks", "enroll.yml")
ENROLLMENT = "/certview/rest/public/v1/certificates/enrollment/digicert"
HOSTS = ("web1.example.test", "web2.example.test", "api.example.test")
ROLE = "qualys.certview.certificate"
LOOKUP_PATHS = tuple(ENROLLMENT + "/" + name for name in ("organizations", "products", "evApprovers"))

# enroll.yml reads the approver account from these variables.
WITH_APPROVER = {"CERTVIEW_APPROVER_USERNAME": APPROVER[0], "CERTVIEW_APPROVER_PASSWORD": APPROVER[1]}
WITHOUT_APPROVER = {"CERTVIEW_APPROVER_USERNAME": "", "CERTVIEW_APPROVER_PASSWORD": ""}


class Host:
    """File paths of one inventory host, all under tmp_path/hosts/NAME."""

    def __init__(self, tmp_path, name):
        self.name = name
        self.directory = tmp_path / "hosts" / name
        self.key = self.directory / "private" / "tls.key"
        self.csr = self.directory / "tls.csr"
        self.state = self.directory / "private" / "order.json"

    def stored_uuid(self):
        return json.loads(self.state.read_text())["uuid"]

    def public_numbers(self):
        key = serialization.load_pem_private_key(self.key.read_bytes(), password=None)
        return key.public_key().public_numbers()


def write_inventory(tmp_path, names=HOSTS, host_vars=None, **group_vars):
    """Write tmp_path/inventory.yml for local hosts and return (path, {name: Host})."""
    hosts = dict((name, Host(tmp_path, name)) for name in names)
    inventory_vars = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "certificate_service_key_dir": str(tmp_path / "controller-keys"),
        "certificate_poll_interval": 1,
        "certificate_wait_timeout": 60,
    }
    inventory_vars.update(ENROLL_VARS)
    inventory_vars.update(group_vars)
    inventory = {"all": {"vars": inventory_vars, "hosts": {}}}
    for name, host in hosts.items():
        entry = {"certificate_key_path": str(host.key), "certificate_csr_path": str(host.csr), "certificate_state_path": str(host.state)}
        entry.update((host_vars or {}).get(name, {}))
        inventory["all"]["hosts"][name] = entry
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return str(path), hosts


def orders_by_name(sim):
    orders = sim.orders()
    by_name = dict((order["certificate"]["commonName"], order) for order in orders)
    assert len(by_name) == len(orders), "more than one order for a common name: %s" % [order["certificate"]["commonName"] for order in orders]
    return by_name


def order_csr(order):
    return x509.load_pem_x509_csr(order["certificate"]["encodedCSR"].encode())


def logged(sim, method, path):
    return [entry for entry in sim.requests_log() if entry["method"] == method and entry["path"] == path]


def role_result(run, task, host):
    """Return one host's result of a role task, which the json callback names "ROLE : TASK"."""
    return run.result(ROLE + " : " + task, host)


def failures(run):
    """Return the failed task results of a json callback run as "host: task: msg" lines, or else the end of the output."""
    try:
        plays = run.json()["plays"]
    except ValueError:
        return run.output[-4000:]
    lines = []
    for play in plays:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed") or result.get("unreachable"):
                    lines.append("%s: %s: %s" % (host, task["task"]["name"], result.get("msg")))
    return "\n".join(lines) or run.stderr[-4000:]


def changed_by_host(run):
    return dict((name, counts["changed"]) for name, counts in run.stats().items())


def clear_request_log(sim):
    sim.admin("DELETE", "requests")


def approve_by_hand(sim, uuid):
    """Approve an order through the API as the user approver, the way a person would in Certificate View."""
    token = requests.post(sim.url + "/auth", data={"username": APPROVER[0], "password": APPROVER[1], "token": "true"}, timeout=10).text.strip()
    response = requests.put(
        sim.url + ENROLLMENT + "/orders/%s/status" % uuid,
        json={"status": "APPROVED", "comment": "approved by hand"},
        headers={"Authorization": "Bearer " + token},
        timeout=10,
    )
    assert response.status_code == 204, response.text


def private_key_lines(hosts):
    lines = []
    for host in hosts.values():
        lines += [line for line in host.key.read_text().splitlines() if line and "-----" not in line]
    return lines


def files_under(directory):
    return [os.path.join(parent, name) for parent, _dirs, names in os.walk(directory) for name in names]


def polled_after_approval(sim, uuids):
    """Return True when every order was read (GET) after its approval, which the wait task does."""
    log = sim.requests_log()
    for uuid in uuids:
        path = ENROLLMENT + "/orders/" + uuid
        approved = [entry["seq"] for entry in log if entry["method"] == "PUT" and entry["path"] == path + "/status" and entry["status"] == 204]
        if not approved or not any(entry["method"] == "GET" and entry["path"] == path and entry["seq"] > approved[0] for entry in log):
            return False
    return True


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(message)


def process_group_alive(process_group):
    try:
        os.killpg(process_group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(autouse=True)
def short_delays(sim):
    sim.configure(issue_delay=0.5, post_delay=0.1)


def test_enroll_issues_and_rerun_changes_nothing(sim, run_playbook, tmp_path):
    inventory, hosts = write_inventory(tmp_path)
    run = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER)
    assert run.rc == 0, failures(run)

    orders = orders_by_name(sim)
    assert sorted(orders) == sorted(HOSTS)
    for name, host in hosts.items():
        order = orders[name]
        assert order["status"] == "ISSUED", name
        assert host.stored_uuid() == order["uuid"], name
        assert stat.S_IMODE(os.stat(host.key).st_mode) == 0o600, name
        assert stat.S_IMODE(os.stat(host.state).st_mode) == 0o600, name
        assert stat.S_IMODE(os.stat(host.key.parent).st_mode) == 0o700, name
        assert order_csr(order).public_key().public_numbers() == host.public_numbers(), name
        assert x509.load_pem_x509_csr(host.csr.read_bytes()).public_key().public_numbers() == host.public_numbers(), name
        issued = x509.load_pem_x509_certificate(order["issuedCertificate"]["pem"].encode())
        assert issued.public_key().public_numbers() == host.public_numbers(), name
        summary = role_result(run, "Show the certificate order", name)["msg"]
        assert summary.startswith("%s: order %s, status ISSUED" % (name, order["uuid"])), summary

    clear_request_log(sim)
    rerun = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER)
    assert rerun.rc == 0, failures(rerun)
    assert changed_by_host(rerun) == dict((name, 0) for name in HOSTS)
    assert sim.writes() == []
    assert len(sim.orders()) == len(HOSTS)
    for name, host in hosts.items():
        assert host.stored_uuid() == orders[name]["uuid"], name


def test_lookup_runs_once_per_play(sim, run_playbook, tmp_path):
    # The lookup runs before any key is made, so check mode is enough and keeps the run short.
    inventory, _hosts = write_inventory(tmp_path)
    run = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER, check=True)
    assert run.rc == 0, failures(run)
    for path in LOOKUP_PATHS:
        assert len(logged(sim, "POST", path)) == 1, path
    # Every host resolves its names from that one lookup.
    for name in HOSTS:
        facts = role_result(run, "Match the EV approvers by user id or name", name)["ansible_facts"]
        assert facts["__certificate_organization_id"] in (525858, "525858"), name
        assert facts["__certificate_product"]["name_id"] == "private_ssl_plus", name


@pytest.mark.parametrize(
    "extra_vars, task, listed",
    [
        (
            {"certificate_organization": "No Such Corp"},
            "Check that the organization exists and is active",
            ["Qualys, Inc (id 525858", "Example Corp (id 612345", "Dormant Holdings LLC (id 700001"],
        ),
        (
            {"certificate_product": "no_such_product"},
            "Check that the product exists",
            ["private_ssl_plus (Private SSL Plus)", "ssl_plus (Standard SSL)", "ssl_wildcard (Wildcard SSL)", "ssl_ev_securesite (Secure Site EV SSL)"],
        ),
    ],
    ids=["organization", "product"],
)
def test_unknown_name_lists_known_names(sim, run_playbook, tmp_path, extra_vars, task, listed):
    inventory, hosts = write_inventory(tmp_path, names=HOSTS[:2])
    run = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER, extra_vars=extra_vars)
    assert run.rc != 0, failures(run)
    unknown = list(extra_vars.values())[0]
    for name in hosts:
        result = role_result(run, task, name)
        assert result["failed"] is True, name
        assert '"%s"' % unknown in result["msg"], result["msg"]
        for known in listed:
            assert known in result["msg"], result["msg"]
    assert sim.writes() == []
    assert files_under(tmp_path / "hosts") == []


def test_rerun_after_sigint_resumes_order(sim, run_playbook, tmp_path):
    sim.configure(issue_delay=120, post_delay=0.1)
    inventory, hosts = write_inventory(tmp_path, names=HOSTS[:2])
    command = [os.path.join(BIN, "ansible-playbook"), ENROLL, "-i", inventory]
    # In a process group of its own the SIGINT reaches ansible-playbook, its workers and the modules, as Ctrl-C in a terminal does.
    process = subprocess.Popen(
        command,
        cwd=str(tmp_path),
        env=playbook_environment(sim.url, tmp_path, json_output=False, extra=WITH_APPROVER),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: len(sim.orders()) == len(hosts), 60, "the play created no order per host within 60 s")
        uuids = [order["uuid"] for order in sim.orders()]
        wait_for(lambda: polled_after_approval(sim, uuids), 60, "the play did not wait for the approved orders within 60 s")
        os.killpg(process.pid, signal.SIGINT)
        output, _errors = process.communicate(timeout=30)
        wait_for(lambda: not process_group_alive(process.pid), 10, "processes of the interrupted play still run 10 s after SIGINT")
    finally:
        if process_group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode != 0, output
    assert "interrupted" in output.lower(), output

    interrupted = orders_by_name(sim)
    assert sorted(interrupted) == sorted(hosts)
    for name, host in hosts.items():
        assert interrupted[name]["status"] in ("APPROVED", "POSTED"), name
        assert host.stored_uuid() == interrupted[name]["uuid"], name

    # The issue time of an order is fixed when it is approved, so the test moves the orders on.
    sim.configure(issue_delay=0.5, post_delay=0.1)
    for order in interrupted.values():
        sim.admin("POST", "orders/%s/advance" % order["uuid"])
    clear_request_log(sim)

    rerun = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER)
    assert rerun.rc == 0, failures(rerun)
    assert logged(sim, "POST", ENROLLMENT + "/orders") == []
    assert sim.writes() == []
    resumed = orders_by_name(sim)
    for name, host in hosts.items():
        assert resumed[name]["uuid"] == interrupted[name]["uuid"], name
        assert resumed[name]["status"] == "ISSUED", name
        assert host.stored_uuid() == interrupted[name]["uuid"], name
        assert interrupted[name]["uuid"] in role_result(rerun, "Show the certificate order", name)["msg"], name


def test_no_approver_leaves_order_submitted(sim, run_playbook, tmp_path):
    inventory, hosts = write_inventory(tmp_path, names=HOSTS[:1])
    host = hosts[HOSTS[0]]
    first = run_playbook(ENROLL, inventory=inventory, env=WITHOUT_APPROVER, extra_vars={"certificate_wait": False})
    assert first.rc == 0, failures(first)
    orders = sim.orders()
    assert len(orders) == 1
    uuid = orders[0]["uuid"]
    assert orders[0]["status"] == "SUBMITTED"
    assert host.stored_uuid() == uuid
    message = role_result(first, "Report that the order awaits approval", host.name)["msg"]
    assert uuid in message, message
    assert "awaits approval" in message, message
    assert [entry for entry in sim.requests_log() if entry["path"].endswith("/status")] == []

    approve_by_hand(sim, uuid)
    clear_request_log(sim)
    rerun = run_playbook(ENROLL, inventory=inventory, env=WITHOUT_APPROVER)
    assert rerun.rc == 0, failures(rerun)
    assert sim.writes() == []
    orders = sim.orders()
    assert [order["uuid"] for order in orders] == [uuid]
    assert orders[0]["status"] == "ISSUED"
    assert [step["user"] for step in orders[0]["history"] if step["status"] == "APPROVED"] == [APPROVER[0]]


def test_service_csr_key_moves_to_host(sim, run_playbook, tmp_path):
    inventory, hosts = write_inventory(tmp_path, names=HOSTS[:2], certificate_csr_mode="service")
    run = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER)
    assert run.rc == 0, failures(run)
    orders = orders_by_name(sim)
    assert sorted(orders) == sorted(hosts)
    for name, host in hosts.items():
        order = orders[name]
        assert order["autoGenerateCSR"] is True, name
        assert order["status"] == "ISSUED", name
        assert host.stored_uuid() == order["uuid"], name
        assert stat.S_IMODE(os.stat(host.key).st_mode) == 0o600, name
        assert order_csr(order).public_key().public_numbers() == host.public_numbers(), name
        assert not host.csr.exists(), name
    assert (tmp_path / "controller-keys").is_dir()
    assert files_under(tmp_path / "controller-keys") == []

    clear_request_log(sim)
    rerun = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER)
    assert rerun.rc == 0, failures(rerun)
    assert changed_by_host(rerun) == dict((name, 0) for name in hosts)
    assert sim.writes() == []


def test_vvv_output_hides_secrets(sim, run_playbook, tmp_path):
    # One host of each CSR mode, because a service-generated key passes through the controller.
    inventory, hosts = write_inventory(tmp_path, names=HOSTS[:2], host_vars={HOSTS[1]: {"certificate_csr_mode": "service"}})
    run = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER, verbosity=3, json_output=False)
    assert run.rc == 0, failures(run)
    assert [order["status"] for order in sim.orders()] == ["ISSUED"] * len(hosts)
    assert "status ISSUED" in run.output
    assert REQUESTER[1] not in run.output
    assert APPROVER[1] not in run.output
    lines = private_key_lines(hosts)
    assert len(lines) > 20
    assert [line for line in lines if line in run.output] == []
    assert "PRIVATE KEY-----" not in run.output


def test_check_mode_writes_nothing(sim, run_playbook, tmp_path):
    inventory, hosts = write_inventory(tmp_path, names=HOSTS[:2], host_vars={HOSTS[1]: {"certificate_csr_mode": "service"}})
    run = run_playbook(ENROLL, inventory=inventory, env=WITH_APPROVER, check=True)
    assert run.rc == 0, failures(run)
    assert sim.writes() == []
    assert sim.orders() == []
    assert files_under(tmp_path / "hosts") == []
    assert not (tmp_path / "hosts").exists()
    assert not (tmp_path / "controller-keys").exists()
    for name in hosts:
        assert "no order yet" in role_result(run, "Show the certificate order", name)["msg"], name
