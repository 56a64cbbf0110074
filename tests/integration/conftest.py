"""Fixtures that run playbooks with ansible-playbook against the simulator.

Each pytest worker starts its own simulator on a free port of 127.0.0.1 and
resets it before every test. Playbooks use the collection that
scripts/bootstrap.sh built and installed into build/collections.
"""

import json
import os
import subprocess
import textwrap

import pytest
import yaml

from certview_simulator.server import SimulatorServer
from integration_support import BIN, REQUESTER, PlaybookRun, Simulator, playbook_environment


@pytest.fixture(scope="session")
def simulator_server():
    server = SimulatorServer(tls=False, issue_delay=0.6, post_delay=0.2)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sim(simulator_server):
    simulator = Simulator(simulator_server)
    simulator.reset()
    simulator.configure(issue_delay=0.6, post_delay=0.2)
    return simulator


@pytest.fixture
def run_playbook(sim, tmp_path):
    """Return a function that writes a playbook and runs it against the simulator."""

    def run(playbook, extra_vars=None, check=False, diff=False, verbosity=0, json_output=True, credentials=REQUESTER, env=None,
            inventory=None, timeout=300):
        if not isinstance(playbook, str) or "\n" in playbook:
            text = playbook if isinstance(playbook, str) else yaml.safe_dump(playbook, sort_keys=False)
            path = tmp_path / "playbook.yml"
            path.write_text(textwrap.dedent(text))
            playbook = str(path)
        command = [os.path.join(BIN, "ansible-playbook"), playbook]
        if inventory:
            command += ["-i", inventory]
        else:
            command += ["-i", "localhost,", "-c", "local"]
        if extra_vars:
            extra = tmp_path / "extra_vars.json"
            extra.write_text(json.dumps(extra_vars))
            command += ["-e", "@%s" % extra]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        environment = playbook_environment(sim.url, tmp_path, credentials=credentials, json_output=json_output, extra=env)
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=timeout, cwd=str(tmp_path), check=False)
        return PlaybookRun(completed)

    return run
