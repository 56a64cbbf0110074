"""Tests that run the collection the way AWX does: the execution environment context, ansible-runner jobs and job slices.

AWX runs a job with ansible-runner in a private data directory: the playbook
in project/, the inventory in inventory/hosts, and the environment in
env/envvars, which includes the variables that the credential's injectors
render. A sliced job template gives each slice job an inventory with only its
share of the hosts, and AWX runs the slice jobs at the same time. The tests
below build such directories for local hosts whose key, CSR and state files
live under tmp_path, and run them against the simulator.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import types

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from certview_simulator.server import SimulatorServer
from integration_support import APPROVER, BIN, CA_NAME, COLLECTIONS, ENROLL_VARS, REQUESTER, ROOT

EE_DEFINITION = os.path.join(ROOT, "meta", "execution-environment.yml")
CREDENTIAL_TYPE = os.path.join(ROOT, "extensions", "awx", "credential_type.yml")
ENROLL = os.path.join(ROOT, "playbooks", "enroll.yml")
SECRETS = (REQUESTER[1], APPROVER[1])
RUN_TIMEOUT = 240

# A credential of the custom type with the simulator's account and approver. Each test adds the gateway_url.
CREDENTIAL_INPUTS = {"username": REQUESTER[0], "password": REQUESTER[1], "approver_username": APPROVER[0], "approver_password": APPROVER[1]}

# Reads the simulator's organizations over the connection that the credential sets up.
INFO_PLAYBOOK = [
    {
        "name": "Read the DigiCert organizations",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Read the organizations",
                "qualys.certview.certview_digicert_info": {"intermediate_ca": {"common_name": CA_NAME}, "gather": ["organizations"]},
                "register": "digicert",
            },
            {"name": "Check the organizations", "ansible.builtin.assert": {"that": ["digicert.organizations | length > 0"]}},
        ],
    }
]


@pytest.fixture(autouse=True)
def short_delays(sim):
    sim.configure(issue_delay=0.5, post_delay=0.1)


def load_credential_type():
    with open(CREDENTIAL_TYPE, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def inject_credential(credential_type, inputs, env_dir):
    """Render the env injectors of the credential type for a credential with these inputs, and return the variables.

    This follows what AWX does for a job: inputs with an empty value are left out of the template
    namespace, boolean inputs that are not set are false, and every file injector is written to a
    new file in the env directory, whose path the templates read as tower.filename.NAME.
    """
    namespace = dict((name, value) for name, value in inputs.items() if value not in ("", None))
    for field in credential_type["inputs"]["fields"]:
        if field.get("type") == "boolean":
            namespace.setdefault(field["id"], False)
    environment = ImmutableSandboxedEnvironment()
    filenames = types.SimpleNamespace()
    for label, template in credential_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as stream:
            stream.write(environment.from_string(template).render(**namespace))
        if "." in label:
            setattr(filenames, label.split(".", 1)[1], path)
        else:
            filenames = path
    namespace["tower"] = types.SimpleNamespace(filename=filenames)
    return dict((name, environment.from_string(template).render(**namespace)) for name, template in credential_type["injectors"]["env"].items())


class Host:
    """Key, CSR and state file paths of one inventory host, under tmp_path/hosts/NAME, shared by every job."""

    def __init__(self, tmp_path, name):
        self.name = name
        directory = tmp_path / "hosts" / name
        self.hostvars = {
            "certificate_key_path": str(directory / "private" / "tls.key"),
            "certificate_csr_path": str(directory / "tls.csr"),
            "certificate_state_path": str(directory / "private" / "order.json"),
        }


class Job:
    """An AWX-style private data directory for one ansible-runner job, and the artifacts of its run."""

    ident = "1"

    def __init__(self, directory, hosts, credential_inputs, playbook=ENROLL):
        self.directory = directory
        self.hosts = hosts
        for name in ("project", "inventory", "env"):
            (directory / name).mkdir(parents=True)
        if isinstance(playbook, list):
            (directory / "project" / "job.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
            self.playbook = "job.yml"
        else:
            shutil.copy(playbook, directory / "project")
            self.playbook = os.path.basename(playbook)
        self.write_inventory()
        self.credential_env = inject_credential(load_credential_type(), credential_inputs, str(directory / "env"))
        envvars = {
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_HOME": str(directory / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(directory / "ansible-tmp"),
        }
        envvars.update(self.credential_env)
        (directory / "env" / "envvars").write_text(yaml.safe_dump(envvars))

    def write_inventory(self):
        """Write inventory/hosts as an executable inventory script that prints the inventory as JSON, as AWX does."""
        inventory = {
            "all": {
                "hosts": [host.name for host in self.hosts],
                "vars": dict(ENROLL_VARS, ansible_connection="local", certificate_poll_interval=1, certificate_wait_timeout=60),
            },
            "_meta": {"hostvars": dict((host.name, host.hostvars) for host in self.hosts)},
        }
        script = self.directory / "inventory" / "hosts"
        script.write_text("#!%s\nimport sys\nsys.stdout.write(%r)\n" % (sys.executable, json.dumps(inventory)))
        script.chmod(stat.S_IRWXU)

    def command(self):
        return [os.path.join(BIN, "ansible-runner"), "run", str(self.directory), "-p", self.playbook, "--ident", self.ident]

    @property
    def output_path(self):
        return self.directory / "runner-output.txt"

    def start(self):
        """Start ansible-runner with its output going to output_path, so that jobs that run at the same time never block on a pipe."""
        environment = dict((name, value) for name, value in os.environ.items() if not name.startswith(("QUALYS_", "CERTVIEW_", "ANSIBLE_")))
        environment["PATH"] = BIN + os.pathsep + environment.get("PATH", "")
        with open(self.output_path, "w", encoding="utf-8") as output:
            return subprocess.Popen(self.command(), stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True)

    def wait(self, process):
        """Wait for the ansible-runner process of start(), and return (returncode, output)."""
        try:
            returncode = process.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            # ansible-runner runs ansible-playbook in the new session of start(), so the whole group is ended.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        return returncode, self.output_path.read_text(errors="replace")

    def run(self):
        return self.wait(self.start())

    @property
    def artifacts(self):
        return self.directory / "artifacts" / self.ident

    def status(self):
        return (self.artifacts / "status").read_text().strip()

    def events(self):
        events = [json.loads(path.read_text()) for path in (self.artifacts / "job_events").iterdir()]
        return sorted(events, key=lambda event: event["counter"])

    def stats(self):
        [stats] = [event["event_data"] for event in self.events() if event["event"] == "playbook_on_stats"]
        return stats

    def run_window(self):
        """Return the times of the first and the last job event, as ISO 8601 strings that sort by time."""
        events = self.events()
        return events[0]["created"], events[-1]["created"]

    def artifact_files(self):
        return sorted(path for path in self.artifacts.rglob("*") if path.is_file())


def make_hosts(tmp_path, names):
    return [Host(tmp_path, name) for name in names]


def orders_by_name(sim):
    orders = sim.orders()
    names = [order["certificate"]["commonName"] for order in orders]
    assert len(set(names)) == len(names), "more than one order for a common name: %s" % sorted(names)
    return dict((order["certificate"]["commonName"], order) for order in orders)


def run_concurrently(jobs):
    """Start every job, wait for all of them, and return [(returncode, output)] in job order."""
    processes = [job.start() for job in jobs]
    try:
        return [job.wait(process) for job, process in zip(jobs, processes)]
    finally:
        # After a timeout in one job, the others are ended too.
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def slice_hosts(hosts, count):
    """Split the hosts, ordered by name, into count disjoint slices of nearly equal size."""
    ordered = sorted(hosts, key=lambda host: host.name)
    return [ordered[number::count] for number in range(count)]


def context_listing(context):
    return sorted(os.path.relpath(os.path.join(parent, name), context) for parent, _dirs, names in os.walk(context) for name in names)


def without_network():
    """Return an environment whose HTTP(S) proxy is a closed local port, so that any download attempt fails."""
    environment = dict(os.environ)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        environment[name] = "http://127.0.0.1:9"
    for name in ("no_proxy", "NO_PROXY"):
        environment.pop(name, None)
    environment["PATH"] = BIN + os.pathsep + environment.get("PATH", "")
    return environment


def test_builder_create_offline(tmp_path):
    context = tmp_path / "context"
    command = [os.path.join(BIN, "ansible-builder"), "create", "-f", EE_DEFINITION, "-c", str(context), "--output-filename", "Containerfile"]
    completed = subprocess.run(command, capture_output=True, text=True, env=without_network(), cwd=str(tmp_path), timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr

    listing = context_listing(str(context))
    assert "Containerfile" in listing, listing
    assert "_build/requirements.txt" in listing, listing
    assert "_build/requirements.yml" in listing, listing
    assert "_build/scripts/introspect.py" in listing, listing

    with open(os.path.join(ROOT, "meta", "requirements.txt"), encoding="utf-8") as stream:
        assert (context / "_build" / "requirements.txt").read_text() == stream.read()
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert [collection["name"] for collection in galaxy["collections"]] == ["qualys.certview", "community.crypto"]
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile


def test_installed_collection_declares_ee_needs(tmp_path):
    """Build and install the tarball, then let ansible-builder read the Python needs of the installed collection."""
    environment = without_network()
    build = [os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path / "dist"), ROOT]
    completed = subprocess.run(build, capture_output=True, text=True, env=environment, cwd=str(tmp_path), timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [tarball] = (tmp_path / "dist").iterdir()
    install = [os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p", str(tmp_path / "installed"), str(tarball)]
    completed = subprocess.run(install, capture_output=True, text=True, env=environment, cwd=str(tmp_path), timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr

    installed = tmp_path / "installed" / "ansible_collections" / "qualys" / "certview"
    for path in ("extensions/awx/credential_type.yml", "meta/execution-environment.yml", "meta/requirements.txt", "requirements.txt"):
        assert (installed / path).is_file(), "%s is not in the tarball" % path
    with open(CREDENTIAL_TYPE, encoding="utf-8") as stream:
        assert (installed / "extensions" / "awx" / "credential_type.yml").read_text() == stream.read()

    introspect = [os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", str(tmp_path / "installed")]
    completed = subprocess.run(introspect, capture_output=True, text=True, env=environment, cwd=str(tmp_path), timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    found = yaml.safe_load(completed.stdout)
    assert found["python"] == ["requests  # from collection qualys.certview", "cryptography >= 3.3  # from collection qualys.certview"], completed.stdout


def test_runner_job_enrolls_hosts(sim, tmp_path):
    hosts = make_hosts(tmp_path, ("web1.example.test", "web2.example.test"))
    job = Job(tmp_path / "job", hosts, dict(CREDENTIAL_INPUTS, gateway_url=sim.url))
    # The inputs that this credential leaves unset must reach the modules as values that change nothing.
    assert job.credential_env["QUALYS_PLATFORM"] == ""
    assert job.credential_env["QUALYS_CA_PATH"] == ""
    assert job.credential_env["QUALYS_VALIDATE_CERTS"] == "true"

    returncode, output = job.run()

    assert returncode == 0, output
    assert job.status() == "successful", output
    stats = job.stats()
    for host in hosts:
        assert stats["ok"].get(host.name, 0) > 0, stats
        assert stats["failures"].get(host.name, 0) == 0, stats
    orders = orders_by_name(sim)
    assert sorted(orders) == sorted(host.name for host in hosts)
    for name, order in orders.items():
        assert order["status"] == "ISSUED", name
        assert order["requesterUserName"] == REQUESTER[0], name
        assert [step["user"] for step in order["history"] if step["status"] == "APPROVED"] == [APPROVER[0]], name

    files = job.artifact_files()
    assert [path.name for path in files if path.name == "stdout"] == ["stdout"], files
    assert len([path for path in files if path.parent.name == "job_events"]) > 10, files
    for secret in SECRETS:
        assert secret not in output
    # ansible-runner records the command and its whole environment, so also the injected
    # passwords, in artifacts/IDENT/command (mode 0600). Every other artifact must be free of them.
    holding_secrets = set()
    for path in files:
        text = path.read_text(errors="replace")
        if any(secret in text for secret in SECRETS):
            holding_secrets.add(str(path.relative_to(job.artifacts)))
    assert holding_secrets <= {"command"}, "artifacts that contain a password: %s" % sorted(holding_secrets)


def test_runner_ca_bundle_and_tls_check(tmp_path):
    """Connect to an HTTPS gateway with the credential's CA certificates, without them, and with verification skipped."""
    server = SimulatorServer(tls=True)
    server.start()
    try:
        with open(server.ca_path, encoding="utf-8") as stream:
            ca_bundle = stream.read()
        inputs = dict(CREDENTIAL_INPUTS, gateway_url=server.url)
        jobs = {
            "with_ca_bundle": Job(tmp_path / "with_ca_bundle", [], dict(inputs, ca_bundle=ca_bundle), playbook=INFO_PLAYBOOK),
            "without_ca_bundle": Job(tmp_path / "without_ca_bundle", [], inputs, playbook=INFO_PLAYBOOK),
            "skip_tls_verify": Job(tmp_path / "skip_tls_verify", [], dict(inputs, skip_tls_verify=True), playbook=INFO_PLAYBOOK),
        }
        results = dict(zip(jobs, run_concurrently(list(jobs.values()))))
    finally:
        server.stop()

    ca_path = jobs["with_ca_bundle"].credential_env["QUALYS_CA_PATH"]
    assert os.path.dirname(ca_path) == str(tmp_path / "with_ca_bundle" / "env")
    with open(ca_path, encoding="utf-8") as stream:
        assert stream.read() == ca_bundle
    assert results["with_ca_bundle"][0] == 0, results["with_ca_bundle"][1]
    assert jobs["with_ca_bundle"].status() == "successful"

    assert jobs["without_ca_bundle"].credential_env["QUALYS_CA_PATH"] == ""
    assert results["without_ca_bundle"][0] != 0, results["without_ca_bundle"][1]
    assert jobs["without_ca_bundle"].status() == "failed"
    assert "CERTIFICATE_VERIFY_FAILED" in results["without_ca_bundle"][1], results["without_ca_bundle"][1]

    assert jobs["skip_tls_verify"].credential_env["QUALYS_VALIDATE_CERTS"] == "false"
    assert results["skip_tls_verify"][0] == 0, results["skip_tls_verify"][1]
    assert jobs["skip_tls_verify"].status() == "successful"


def test_sliced_job_orders_once_per_host(sim, tmp_path):
    hosts = make_hosts(tmp_path, ("app1.example.test", "app2.example.test", "db1.example.test", "db2.example.test"))
    slices = slice_hosts(hosts, 2)
    assert sorted(host.name for part in slices for host in part) == sorted(host.name for host in hosts)
    inputs = dict(CREDENTIAL_INPUTS, gateway_url=sim.url)

    first = [Job(tmp_path / ("slice%d" % number), part, inputs) for number, part in enumerate(slices, 1)]
    for job, (returncode, output) in zip(first, run_concurrently(first)):
        assert returncode == 0, output
        assert job.status() == "successful", output
    starts, ends = zip(*[job.run_window() for job in first])
    assert max(starts) < min(ends), "the slice jobs did not run at the same time: %s" % list(zip(starts, ends))
    # The role's run_once lookup runs once in each slice job.
    lookups = [entry for entry in sim.requests_log() if entry["method"] == "POST" and entry["path"].endswith("/organizations")]
    assert len(lookups) == len(slices), lookups

    orders = orders_by_name(sim)
    assert sorted(orders) == sorted(host.name for host in hosts)
    for name, order in orders.items():
        assert order["status"] == "ISSUED", name
    uuids = dict((name, order["uuid"]) for name, order in orders.items())

    sim.admin("DELETE", "requests")
    rerun = [Job(tmp_path / ("slice%d-rerun" % number), part, inputs) for number, part in enumerate(slices, 1)]
    for job, (returncode, output) in zip(rerun, run_concurrently(rerun)):
        assert returncode == 0, output
        assert job.status() == "successful", output
        stats = job.stats()
        for host in job.hosts:
            assert stats["ok"].get(host.name, 0) > 0, stats
            assert stats["changed"].get(host.name, 0) == 0, "%s changed on the rerun: %s" % (host.name, stats)

    orders = orders_by_name(sim)
    assert dict((name, order["uuid"]) for name, order in orders.items()) == uuids
    assert sim.writes() == []
