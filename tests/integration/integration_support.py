"""Constants and helpers shared by the integration tests: the simulator's admin calls and playbook runs."""

import json
import os
import sys

import requests


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
BIN = os.path.dirname(sys.executable)

REQUESTER = ("requester", "requester-pass")
APPROVER = ("approver", "approver-pass")
CA_NAME = "DigiCert Test SHA2 Intermediate CA-1"

# What playbooks/enroll.yml needs from the inventory, with the simulator's names.
ENROLL_VARS = {
    "certificate_intermediate_ca": {"common_name": CA_NAME},
    "certificate_organization": "Qualys, Inc",
    "certificate_product": "private_ssl_plus",
    "certificate_approver_user_names": ["approver"],
}


class Simulator:
    """Test-side view of a running simulator: its URL and its admin endpoints."""

    def __init__(self, server):
        self.server = server
        self.url = server.url

    def admin(self, method, path, **kwargs):
        response = requests.request(method, self.url + "/_sim/" + path, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self):
        self.admin("POST", "reset")

    def configure(self, **settings):
        self.admin("POST", "config", json=settings)

    def inject(self, *faults):
        self.admin("POST", "faults", json={"faults": list(faults)})

    def requests_log(self):
        return self.admin("GET", "requests")

    def orders(self):
        return self.admin("GET", "orders")

    def writes(self):
        """Return the logged requests that change something (every POST and PUT but /auth and the list calls)."""
        reads = ("/auth", "/organizations", "/products", "/evApprovers", "/certview/v2")
        return [entry for entry in self.requests_log() if entry["method"] in ("POST", "PUT") and not any(part in entry["path"] for part in reads)]


class PlaybookRun:
    """Outcome of one ansible-playbook run."""

    def __init__(self, completed):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.output = completed.stdout + completed.stderr

    def json(self):
        return json.loads(self.stdout)

    def task_results(self, name):
        """Return the per-host results of the task with this name (json callback only)."""
        for play in self.json()["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == name:
                    return task["hosts"]
        raise KeyError("no task named %r in the run" % name)

    def result(self, name, host="localhost"):
        return self.task_results(name)[host]

    def stats(self):
        return self.json()["stats"]


def playbook_environment(simulator_url, tmp_path, credentials=REQUESTER, json_output=True, extra=None):
    """Return the environment for one ansible-playbook run against the simulator at simulator_url."""
    environment = dict(os.environ)
    for name in ("QUALYS_PLATFORM", "QUALYS_TOKEN", "QUALYS_USERNAME", "QUALYS_PASSWORD"):
        environment.pop(name, None)
    environment.update(
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        QUALYS_GATEWAY_URL=simulator_url,
    )
    if credentials:
        environment["QUALYS_USERNAME"], environment["QUALYS_PASSWORD"] = credentials
    if json_output:
        environment["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    environment.update(extra or {})
    return environment
