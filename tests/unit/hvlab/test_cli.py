# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m hvlab up|down|serve`` as real subprocesses, on a temporary two-machine fleet and free ports."""

import dataclasses
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time

import pytest
import winrm
import yaml

from hvlab.admin import admin_request
from hvlab.fleet import Credential
from hvlab.statedir import build_inventory

TESTS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

FLEET = """\
defaults:
  credentials: [{user: Administrator, password: "Guest-Pass1"}]
machines:
  hv01:
    address: "%(host)s"
    kind: host
    credentials: [{user: labadmin, password: "Host-Pass2", domain: CONTOSO}]
    os: {version: "2022", edition: ServerDatacenter}
  g01:
    address: "%(guest)s"
    kind: guest
    hyperv_host: hv01
    inventory: {scheme: https, transport: basic}
    os: {version: "2022", edition: ServerStandard}
"""

IDENTIFY = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
            b'<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>')


def free_port(address):
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


@pytest.fixture(name="fleet")
def fleet_fixture(tmp_path):
    third = random.randrange(20, 250)
    addresses = {"host": "127.0.%d.1" % third, "guest": "127.0.%d.2" % third}
    path = tmp_path / "fleet.yml"
    path.write_text(FLEET % addresses)
    return {"path": str(path), "addresses": addresses, "http": free_port(addresses["host"]), "https": free_port(addresses["guest"])}


@pytest.fixture(name="lab_dir")
def lab_dir_fixture(tmp_path):
    directory = tmp_path / "lab"
    yield str(directory)
    # Never leave a lab running, whatever the test did.
    hvlab("down", "--dir", str(directory))


def hvlab(*arguments, timeout=60):
    environment = dict(os.environ, PYTHONPATH=TESTS_DIR)
    return subprocess.run([sys.executable, "-m", "hvlab", *arguments], capture_output=True, text=True,
                          timeout=timeout, env=environment, check=False)


def up(fleet, lab_dir, *extra):
    return hvlab("up", fleet["path"], "--dir", lab_dir, "--http-port", str(fleet["http"]),
                 "--https-port", str(fleet["https"]), *extra)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid, encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"


def read_json(path):
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def test_up_writes_the_files_and_serves_until_down(fleet, lab_dir):
    started = up(fleet, lab_dir)
    assert started.returncode == 0, started.stderr
    assert started.stderr == ""

    with open(os.path.join(lab_dir, "pid"), encoding="ascii") as pid_file:
        pid = int(pid_file.read())
    admin = read_json(os.path.join(lab_dir, "admin.json"))
    assert admin["pid"] == pid and admin["url"].startswith("http://127.0.0.1:")
    assert alive(pid)
    assert admin_request(admin["url"], "GET", "/health")[0] == 200
    assert os.path.isfile(os.path.join(lab_dir, "ca.pem"))
    assert os.path.isfile(os.path.join(lab_dir, "state", "snapshot.jsonl"))

    with open(os.path.join(lab_dir, "inventory.yml"), encoding="utf-8") as stream:
        inventory = yaml.safe_load(stream)
    groups = inventory["all"]["children"]
    host = groups["hyperv_hosts"]["hosts"]["hv01"]
    guest = groups["hyperv_guests"]["hosts"]["g01"]
    assert host == {
        "ansible_host": fleet["addresses"]["host"], "ansible_connection": "winrm", "ansible_port": fleet["http"],
        "ansible_winrm_scheme": "http", "ansible_winrm_transport": "ntlm", "ansible_winrm_path": "/wsman",
        "ansible_user": "CONTOSO\\labadmin", "ansible_password": "Host-Pass2",
        "ansible_winrm_server_cert_validation": "validate",
        "ansible_winrm_ca_trust_path": os.path.join(os.path.abspath(lab_dir), "ca.pem"), "hvlab_kind": "host",
    }
    assert (guest["ansible_port"], guest["ansible_winrm_scheme"], guest["ansible_winrm_transport"], guest["hvlab_kind"]) == (
        fleet["https"], "https", "basic", "guest")

    for host_vars in (host, guest):
        endpoint = "%s://%s:%d%s" % (host_vars["ansible_winrm_scheme"], host_vars["ansible_host"],
                                     host_vars["ansible_port"], host_vars["ansible_winrm_path"])
        client = winrm.Protocol(endpoint, transport=host_vars["ansible_winrm_transport"], username=host_vars["ansible_user"],
                                password=host_vars["ansible_password"], ca_trust_path=host_vars["ansible_winrm_ca_trust_path"],
                                proxy=None)
        assert b"ProductVendor" in client.send_message(IDENTIFY)

    again = up(fleet, lab_dir)
    assert again.returncode == 1
    assert "already running" in again.stderr and len(again.stderr.splitlines()) == 1

    stopped = hvlab("down", "--dir", lab_dir)
    assert stopped.returncode == 0, stopped.stderr
    assert not alive(pid)
    assert not os.path.exists(os.path.join(lab_dir, "pid"))
    assert not os.path.exists(os.path.join(lab_dir, "admin.json"))

    assert hvlab("down", "--dir", lab_dir).returncode == 0


def test_restart_restores_saved_state(fleet, lab_dir):
    assert up(fleet, lab_dir).returncode == 0
    assert hvlab("down", "--dir", lab_dir).returncode == 0

    assert up(fleet, lab_dir).returncode == 0
    admin = read_json(os.path.join(lab_dir, "admin.json"))
    assert admin_request(admin["url"], "GET", "/health")[1]["restored"] is True


def test_up_with_a_bad_fleet_fails_with_one_line(tmp_path, lab_dir):
    bad = tmp_path / "bad.yml"
    bad.write_text("machines:\n  g01: {address: 10.1.2.3, kind: guest}\n")

    result = hvlab("up", str(bad), "--dir", lab_dir, "--http-port", "0", "--https-port", "0")

    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "g01" in result.stderr and "lab.log" in result.stderr
    assert not os.path.exists(os.path.join(lab_dir, "pid"))


def test_up_fails_when_a_port_is_taken(fleet, lab_dir):
    with socket.socket() as squatter:
        squatter.bind((fleet["addresses"]["guest"], fleet["https"]))
        squatter.listen()

        result = up(fleet, lab_dir)

    assert result.returncode == 1
    assert "cannot listen on %s:%d" % (fleet["addresses"]["guest"], fleet["https"]) in result.stderr


def test_up_with_a_missing_fleet_file(tmp_path, lab_dir):
    result = hvlab("up", str(tmp_path / "nothing.yml"), "--dir", lab_dir)

    assert (result.returncode, result.stderr.strip()) == (1, "hvlab: error: fleet file %s does not exist" % (tmp_path / "nothing.yml"))


def test_serve_in_the_foreground_stops_on_sigterm(fleet, lab_dir):
    environment = dict(os.environ, PYTHONPATH=TESTS_DIR)
    with subprocess.Popen([sys.executable, "-m", "hvlab", "serve", fleet["path"], "--dir", lab_dir, "--http-port", "0",
                           "--https-port", "0", "--quiet"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as serving:
        admin_file = os.path.join(lab_dir, "admin.json")
        deadline = time.monotonic() + 30
        while not os.path.exists(admin_file) and time.monotonic() < deadline and serving.poll() is None:
            time.sleep(0.1)
        assert admin_request(read_json(admin_file)["url"], "GET", "/health")[0] == 200

        serving.send_signal(signal.SIGTERM)
        assert serving.wait(30) == 0
    assert not os.path.exists(admin_file)
    assert not os.path.exists(os.path.join(lab_dir, "pid"))


def test_usage_errors_exit_with_1():
    result = hvlab("up")

    assert result.returncode == 1
    assert "error" in result.stderr


def test_inventory_defaults_to_http_ntlm_and_qualifies_domain_users():
    @dataclasses.dataclass
    class Machine:
        name: str
        kind: str
        credentials: list
        inventory: dict
        address: str = "127.0.0.9"

    machines = [
        Machine("g1", "guest", [Credential("Administrator", "P1")], {}),
        Machine("h1", "host", [Credential("ops", "P2", "CORP"), Credential("other", "P3")], {"scheme": "https"}),
    ]
    inventory = build_inventory(machines, {"g1": {"http": 5985, "https": 5986}, "h1": {"http": 5985, "https": 5986}}, "ca.pem")

    groups = inventory["all"]["children"]
    guest = groups["hyperv_guests"]["hosts"]["g1"]
    host = groups["hyperv_hosts"]["hosts"]["h1"]
    assert (guest["ansible_port"], guest["ansible_winrm_scheme"], guest["ansible_winrm_transport"], guest["ansible_user"]) == (
        5985, "http", "ntlm", "Administrator")
    assert (host["ansible_port"], host["ansible_winrm_scheme"], host["ansible_winrm_transport"], host["ansible_user"]) == (
        5986, "https", "ntlm", "CORP\\ops")
    assert os.path.isabs(guest["ansible_winrm_ca_trust_path"])
