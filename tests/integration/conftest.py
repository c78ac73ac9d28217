# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real ansible-playbook runs against the lab: each test module starts its own fleet (``python -m hvlab up``) in a
temporary directory, on loopback addresses of its own and free ports, and stops it afterwards."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import urllib.request

import pytest
import yaml

TESTS = pathlib.Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
PLAYBOOKS = TESTS / "integration" / "playbooks"
FLEETS = TESTS / "integration" / "fleets"
BIN = pathlib.Path(sys.executable).parent


def collections_path():
    """A collections path holding ansible_collections/hyperv/avma as a link to this work tree."""
    base = ROOT / ".build" / "collections"
    link = base / "ansible_collections" / "hyperv" / "avma"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or link.resolve() != ROOT:
        if link.is_symlink():
            link.unlink()
        link.symlink_to(ROOT, target_is_directory=True)
    return base


class Lab:
    """A running lab fleet: its directory, inventory and admin endpoint."""

    def __init__(self, directory, fleet=None):
        self.directory = directory
        self.fleet = fleet
        self.inventory = directory / "inventory.yml"
        self.ca = directory / "ca.pem"
        self.admin_url = json.loads((directory / "admin.json").read_text())["url"]
        groups = yaml.safe_load(self.inventory.read_text())["all"]["children"].values()
        self.host_vars = {name: variables for group in groups for name, variables in group["hosts"].items()}

    def port(self, machine, scheme="http"):
        """The port the lab gave ``machine``'s HTTP or HTTPS listener (every test fleet listens on free ports)."""
        return self.ports[machine][scheme]

    @property
    def ports(self):
        return {machine["name"]: machine["ports"] for machine in self.admin("GET", "/machines")["machines"]}

    def admin(self, method, route, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.admin_url + route, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def stats(self):
        return self.admin("GET", "/stats")

    def saved_instances(self, machine):
        """What the lab has saved of ``machine`` (its snapshot with the journal replayed), as class path -> list of
        instances: read from the lab's directory with the lab's own code, not over WS-Man."""
        from hvlab.cli import open_lab  # pylint: disable=import-outside-toplevel
        saved = open_lab(str(self.fleet), str(self.directory), http_port=0, https_port=0, log_requests=False)
        assert saved.load_saved_state(), "the lab saved no state in %s" % self.directory
        return saved.fleet.to_state()["machines"][machine]["instances"]

    def reset_stats(self):
        self.admin("POST", "/stats/reset")


def hvlab(*arguments, check=True, extra_env=None):
    env = dict(os.environ, PYTHONPATH=str(TESTS), **(extra_env or {}))
    return subprocess.run([sys.executable, "-m", "hvlab", *arguments], env=env, cwd=ROOT, capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture(name="hvlab_cli", scope="session")
def hvlab_cli_fixture():
    """The lab's command line (``python -m hvlab ...``), for tests that need more of it than a running fleet."""
    return hvlab


@pytest.fixture(scope="module")
def lab_environment():
    """Environment variables the lab process gets besides the test's own (a module overrides this: Kerberos)."""
    return {}


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory, lab_environment):
    """Start the fleet named by the test module's FLEET (a file in tests/integration/fleets) for that module."""
    fleet = FLEETS / request.module.FLEET
    directory = tmp_path_factory.mktemp("lab")
    # Free ports on the fleet's addresses: test runs side by side on one machine never collide.
    started = hvlab("up", str(fleet), "--dir", str(directory), "--http-port", "0", "--https-port", "0", check=False,
                    extra_env=lab_environment)
    if started.returncode != 0:
        pytest.fail("the lab did not start: %s%s" % (started.stdout, started.stderr))
    try:
        yield Lab(directory, fleet)
    finally:
        hvlab("down", "--dir", str(directory), check=False)


@pytest.fixture(scope="session")
def collections_dir():
    """The collections path with this work tree as hyperv.avma, for tests that run Ansible their own way."""
    return collections_path()


@pytest.fixture()
def out_dir(tmp_path):
    """Where a test's playbooks save their per-host results, as <host>.json."""
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


@pytest.fixture(scope="session")
def playbook_runner():
    """``run(workdir, playbook, inventory, *arguments, extra_vars=None, extra_env=None)``: ansible-playbook with this
    work tree as hyperv.avma, run in ``workdir``; ``playbook`` is a file of tests/integration/playbooks or an absolute
    path. Returns the CompletedProcess (output in .stdout)."""

    def run(workdir, playbook, inventory, *arguments, extra_vars=None, extra_env=None):
        env = dict(os.environ, **(extra_env or {}))
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
            ANSIBLE_LOCAL_TEMP=str(workdir / "ansible-tmp"),
            ANSIBLE_HOME=str(workdir / "ansible-home"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_DEPRECATION_WARNINGS="0",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_FORKS="10",
            PATH=str(BIN) + os.pathsep + env.get("PATH", ""),
        )
        env.pop("ANSIBLE_CONFIG", None)
        command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOKS / playbook)]
        if extra_vars:
            # From a file, as users pass secrets: -vvvv echoes the command line, and with it any -e JSON.
            vars_file = workdir / "extra-vars.json"
            vars_file.write_text(json.dumps(extra_vars))
            command += ["-e", "@%s" % vars_file]
        command += list(arguments)
        return subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, timeout=900, check=False)

    return run


@pytest.fixture()
def ansible_playbook(tmp_path, playbook_runner):
    """``run(playbook, inventory, *arguments, extra_vars=None, extra_env=None)`` in this test's temporary directory."""

    def run(playbook, inventory, *arguments, extra_vars=None, extra_env=None):
        return playbook_runner(tmp_path, playbook, inventory, *arguments, extra_vars=extra_vars, extra_env=extra_env)

    return run
