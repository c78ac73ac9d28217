# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hyperv.avma.kvp inventory plugin run by real ansible-inventory and ansible-playbook against two lab Hyper-V
hosts: groups by OS edition and activation state, hostile guest data kept literal, unreachable hosts, caching, and
a play that runs on the guests the inventory found."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import capture_scan
import pytest
import yaml

from saved_results import saved  # pylint: disable=import-error

FLEET = "inventory_kvp.yml"
HERE = pathlib.Path(__file__).resolve().parent
INVENTORY = HERE / "inventories" / "lab.kvp.yml"
PLAYBOOKS = HERE / "playbooks"
ROOT = HERE.parents[1]
BIN = pathlib.Path(sys.executable).parent
MACHINES = yaml.safe_load((HERE / "fleets" / FLEET).read_text())["machines"]
PASSWORD = "Lab-Passw0rd!"
HOSTILE = "{{ lookup('pipe','id') }}"
TEMPLATED_MARKER = pathlib.Path("/tmp/hyperv_avma_inventory_templated")
HYPERV_HOSTS = ("hv50a", "hv50b")


@pytest.fixture()
def ansible(lab, tmp_path, ansible_playbook):
    """Run an Ansible command line tool of the venv with this work tree as hyperv.avma (the ansible_playbook fixture
    links it into .build/collections), the lab password and CA in the plugin's environment variables."""
    del ansible_playbook
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        HYPERV_AVMA_WINRM_PASSWORD=PASSWORD,
        HYPERV_AVMA_WINRM_CA_TRUST_PATH=str(lab.ca),
        PATH=str(BIN) + os.pathsep + env.get("PATH", ""),
    )
    env.pop("ANSIBLE_CONFIG", None)

    def run(tool, *arguments, **extra_env):
        return subprocess.run([str(BIN / tool), *arguments], env=dict(env, **extra_env), cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, check=False)

    return run


def inventory_file(tmp_path, name, lab=None, **changes):
    """A copy of lab.kvp.yml with ``changes`` (None removes an option), named ``name`` (must end in .kvp.yml); with
    ``lab``, the Hyper-V hosts of the fleet get the ports the lab gave them."""
    config = yaml.safe_load(INVENTORY.read_text())
    for option, value in changes.items():
        if value is None:
            config.pop(option, None)
        else:
            config[option] = value
    if lab is not None:
        for host in config["hyperv_hosts"]:
            if host["name"] in MACHINES and "winrm_port" not in host:
                host["winrm_port"] = lab.port(host["name"], host.get("winrm_scheme", config.get("winrm_scheme", "http")))
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture()
def lab_inventory(lab, tmp_path):
    """lab.kvp.yml with the ports of this run's lab."""
    return str(inventory_file(tmp_path, "lab.kvp.yml", lab))


def graph(text):
    """``ansible-inventory --graph`` output as {group: [hosts]} (direct members only)."""
    groups = {}
    current = None
    for line in text.splitlines():
        match = re.fullmatch(r"[\s|]*--(@?)(\S+?):?", line)
        if not match:
            continue
        if match.group(1):
            current = groups.setdefault(match.group(2), [])
        else:
            current.append(match.group(2))
    return {name: sorted(hosts) for name, hosts in groups.items()}


def listed(run):
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)


def plain(value):
    """A --list value without the ``__ansible_unsafe`` marker ansible-inventory puts around untrusted strings."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {plain(key): plain(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [plain(entry) for entry in value]
    return value


def test_graph_groups_the_guests_by_edition_and_activation_state(lab, ansible, lab_inventory):
    lab.reset_stats()
    run = ansible("ansible-inventory", "-i", lab_inventory, "--graph")
    assert run.returncode == 0, run.stdout + run.stderr
    print(run.stdout)
    groups = graph(run.stdout)
    assert groups["edition_ServerDatacenter"] == ["spoof50", "web50"]
    assert groups["edition_ServerStandard"] == ["app50.tenant.example", "hostile50", "hvname50", "std50.tenant.example"]
    assert groups["edition_ServerDatacenterCore"] == ["core50.tenant.example"]
    assert groups["edition_ServerSolution"] == ["ess50.tenant.example"]
    assert groups["edition_ServerTurbine"] == ["az50.tenant.example"]
    assert groups["edition_ServerStandardEval"] == ["eval50.tenant.example"]
    assert groups["edition_unknown"] == ["dxoff50", "stopped50"]
    assert groups["activation_Licensed"] == ["app50.tenant.example", "az50.tenant.example", "core50.tenant.example", "ess50.tenant.example",
                                             "hvname50", "spoof50", "web50"]
    assert groups["activation_Notification"] == ["std50.tenant.example"]
    assert groups["activation_unpublished"] == ["dxoff50", "eval50.tenant.example", "stopped50"]
    assert groups["activation____lookup__pipe___id_____"] == ["hostile50"]
    assert groups["avma_activated"] == groups["activation_Licensed"]
    assert groups["data_exchange_off"] == ["dxoff50"]
    assert groups["hyperv_host_hv50a"] == ["app50.tenant.example", "az50.tenant.example", "eval50.tenant.example", "hvname50", "spoof50", "web50"]
    assert groups["hyperv_host_hv50b"] == ["core50.tenant.example", "dxoff50", "ess50.tenant.example", "hostile50", "std50.tenant.example",
                                           "stopped50"]
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) for name in groups)
    # Neither the guest whose FQDN another guest publishes nor the impostor keeps it; nor does a guest publishing a
    # name of the Hyper-V host hv50b.
    warnings = " ".join(run.stderr.split())
    assert "VM web50 on hv50a is named web50 in the inventory: web50.tenant.example is claimed by 2 guests" in warnings
    assert "VM spoof50 on hv50a is named spoof50 in the inventory: web50.tenant.example is claimed by 2 guests" in warnings
    assert "VM hvname50 on hv50a is named hvname50 in the inventory: hv50b.lab.example is named like the Hyper-V host hv50b" in warnings
    stats = lab.stats()["machines"]
    for host in HYPERV_HOSTS:
        assert stats[host]["requests"] == {"Enumerate": 3}, stats[host]
        assert stats[host]["total_writes"] == 0
    assert all(stats[name]["total_requests"] == 0 for name in MACHINES if name not in HYPERV_HOSTS)


def test_hostvars_come_from_the_hosts_kvp_data(ansible, lab_inventory):
    hostvars = plain(listed(ansible("ansible-inventory", "-i", lab_inventory, "--list"))["_meta"]["hostvars"])
    web = hostvars["web50"]
    assert web["hyperv_host"] == "hv50a" and web["hyperv_vm"]["name"] == "web50" and web["hyperv_vm"]["state"] == "running"
    assert web["hyperv_vm"]["data_exchange"] == dict(enabled=True, status="OK", status_code=2, operational_status=[2])
    assert (web["kvp"]["fqdn"], web["kvp"]["os_release"], web["kvp"]["os_edition_id"]) == ("web50.tenant.example", "2022", "ServerDatacenter")
    assert web["kvp"]["guest_items"] == MACHINES["web50"]["vm"]["guest_items"]
    assert web["avma_published"] == dict(published=True, activated=True, release="2022", edition="ServerDatacenter", partial_product_key="DV9BG",
                                         channel="AVMA", license_status="Licensed", license_status_reason="0x00000000", host_machine_name="HV50A",
                                         last_activation_time="2026-11-20T06:00:04+00:00")
    assert web["os_release"] == "2022"
    assert hostvars["std50.tenant.example"]["avma_published"]["license_status_reason"] == "0xC004FD04"
    assert hostvars["dxoff50"]["hyperv_vm"]["data_exchange"]["enabled"] is False and hostvars["dxoff50"]["kvp"]["fqdn"] is None
    assert hostvars["stopped50"]["hyperv_vm"]["state"] == "off"
    assert not any("ansible_host" in variables for variables in hostvars.values())


def test_hostile_values_stay_literal_in_the_inventory_and_in_a_play(ansible, tmp_path, lab_inventory):
    TEMPLATED_MARKER.unlink(missing_ok=True)
    listing = listed(ansible("ansible-inventory", "-i", lab_inventory, "--list"))
    hostile = listing["_meta"]["hostvars"]["hostile50"]
    # ansible-inventory marks the untrusted strings as such, and keeps them literal.
    assert hostile["avma_published"]["license_status"] == {"__ansible_unsafe": HOSTILE}
    assert plain(hostile["kvp"]["guest_items"])["{{ lookup('pipe', 'id') }}"] == "a template as the item name"
    assert plain(hostile["kvp"]["fqdn"]) == "{{ lookup('pipe', 'id') }}.tenant.example"
    assert {issue["code"] for issue in plain(hostile["kvp_issues"])} == {"template_syntax", "invalid_fqdn"}

    playbook = tmp_path / "show.yml"
    playbook.write_text(yaml.safe_dump([dict(
        name="Show what a hostile guest published", hosts="hostile50", gather_facts=False,
        tasks=[dict(name="Show the activation state", **{"ansible.builtin.debug": dict(msg="state={{ avma_published.license_status }}")}),
               dict(name="Show the host machine name", **{"ansible.builtin.debug": dict(var="avma_published.host_machine_name")}),
               dict(name="Show the group names", **{"ansible.builtin.debug": dict(msg="{{ group_names | join(',') }}")})])]))
    run = ansible("ansible-playbook", "-i", lab_inventory, str(playbook))
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"msg": "state=%s"' % HOSTILE in run.stdout
    assert "\"avma_published.host_machine_name\": \"{{ lookup('pipe', 'touch /tmp/hyperv_avma_inventory_templated') }}\"" in run.stdout
    assert "activation____lookup__pipe___id_____" in run.stdout
    assert "uid=" not in run.stdout + run.stderr
    assert not TEMPLATED_MARKER.exists()


def test_a_play_runs_on_the_guests_the_inventory_found(lab, ansible, tmp_path, out_dir):
    # The guests' ports in this lab, by the address they publish (on Windows this would be 5985 for all).
    ports = {variables["ansible_host"]: variables["ansible_port"] for variables in lab.host_vars.values()}
    inventory = inventory_file(tmp_path, "connect.kvp.yml", lab, use_kvp_address=True,
                               compose={"ansible_connection": "'winrm'", "ansible_port": "%r[kvp.ipv4_addresses[0]]" % ports, "ansible_winrm_scheme": "'http'",
                                        "ansible_winrm_transport": "'ntlm'", "ansible_user": "'Administrator'"})
    hostvars = plain(listed(ansible("ansible-inventory", "-i", str(inventory), "--list"))["_meta"]["hostvars"])
    assert hostvars["web50"]["ansible_host"] == MACHINES["web50"]["address"]
    assert "ansible_host" not in hostvars["stopped50"]

    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(dict(target_hosts="activation_Notification:edition_ServerSolution", out_dir=str(out_dir),
                                         ansible_password=PASSWORD)))
    run = ansible("ansible-playbook", "-i", str(inventory), str(PLAYBOOKS / "activation_facts_connection.yml"), "-e", "@%s" % vars_file)
    assert run.returncode == 0, run.stdout + run.stderr
    facts = saved(out_dir)
    assert sorted(facts) == ["ess50.tenant.example", "std50.tenant.example"]
    assert facts["std50.tenant.example"]["windows_product"]["license_status_name"] == "Notification"
    assert facts["ess50.tenant.example"]["os"]["edition_id"] == "ServerSolution"


def test_unreadable_hosts_are_warned_about_or_fail_with_strict(lab, ansible, tmp_path):
    wrong_password = "Wrong-Passw0rd!x"
    hosts = [dict(name="hv50a", winrm_host="127.0.50.1"), dict(name="hv50gone", winrm_host="127.0.50.99", winrm_retries=0),
             dict(name="hv50b", winrm_host="127.0.50.2", winrm_scheme="https", winrm_transport="basic", winrm_password=wrong_password)]
    https_port = lab.port("hv50b", "https")
    lenient = inventory_file(tmp_path, "broken.kvp.yml", lab, hyperv_hosts=hosts)
    run = ansible("ansible-inventory", "-i", str(lenient), "--graph")
    assert run.returncode == 0, run.stdout + run.stderr
    assert graph(run.stdout)["hyperv_host_hv50a"] == ["app50.tenant.example", "az50.tenant.example", "eval50.tenant.example", "hvname50", "spoof50",
                                                      "web50"]
    assert "hyperv_host_hv50b" not in graph(run.stdout)
    warnings = " ".join(run.stderr.split())
    assert ("Hyper-V host hv50gone could not be read: hv50gone (127.0.50.99:5985): Enumerate Msvm_ComputerSystem: connection to "
            "http://127.0.50.99:5985/wsman refused; its guests are left out of the inventory") in warnings
    assert "Hyper-V host hv50b could not be read: hv50b (127.0.50.2:%d): Enumerate Msvm_ComputerSystem: authentication failed" % https_port in warnings

    strict = inventory_file(tmp_path, "strict.kvp.yml", lab, hyperv_hosts=hosts, strict=True)
    run = ansible("ansible-inventory", "-i", str(strict), "--graph", ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    assert run.returncode != 0
    errors = " ".join(run.stderr.split())
    assert "hyperv.avma.kvp: Hyper-V host hv50gone could not be read" in errors and "Hyper-V host hv50b could not be read" in errors
    for output in (run.stdout + run.stderr, warnings):
        assert wrong_password not in output and PASSWORD not in output


def test_a_cached_inventory_sends_no_request_until_flushed(lab, ansible, tmp_path):
    inventory = inventory_file(tmp_path, "cached.kvp.yml", lab, cache=True, cache_plugin="ansible.builtin.jsonfile",
                               cache_connection=str(tmp_path / "cache"), cache_timeout=3600)
    first = listed(ansible("ansible-inventory", "-i", str(inventory), "--list"))
    lab.reset_stats()
    second = listed(ansible("ansible-inventory", "-i", str(inventory), "--list"))
    assert lab.stats()["total_requests"] == 0
    assert second == first
    assert second["_meta"]["hostvars"]["hostile50"]["avma_published"]["license_status"] == {"__ansible_unsafe": HOSTILE}
    # ansible-inventory takes --flush-cache from ansible-core 2.19 on; ansible-playbook in every supported release.
    playbook = tmp_path / "hosts.yml"
    playbook.write_text(yaml.safe_dump([dict(name="List the guests", hosts="all", gather_facts=False, tasks=[])]))
    flushed = ansible("ansible-playbook", "-i", str(inventory), str(playbook), "--list-hosts", "--flush-cache")
    assert flushed.returncode == 0 and "hostile50" in flushed.stdout, flushed.stdout + flushed.stderr
    stats = lab.stats()["machines"]
    assert all(stats[host]["requests"] == {"Enumerate": 3} for host in HYPERV_HOSTS)


@pytest.mark.parametrize("switch", ["environment", "option"])
def test_the_plugin_captures_each_host_it_reads_and_the_capture_passes_the_scan(lab, ansible, tmp_path, switch):
    capture = tmp_path / "capture"
    if switch == "option":
        inventory, environment = inventory_file(tmp_path, "captured.kvp.yml", lab, winrm_capture_dir=str(capture)), {}
    else:
        inventory, environment = inventory_file(tmp_path, "lab.kvp.yml", lab), {"HYPERV_AVMA_CAPTURE_DIR": str(capture)}
    hostvars = listed(ansible("ansible-inventory", "-i", str(inventory), "--list", **environment))["_meta"]["hostvars"]
    assert "web50" in hostvars
    documents = [json.loads(text) for text in capture_scan.capture_texts(capture).values()]
    assert len(documents) == len(HYPERV_HOSTS) and len({document["endpoint"] for document in documents}) == len(HYPERV_HOSTS)
    assert all(len(document["exchanges"]) == 3 and document["task"] is None for document in documents), "three enumerations a host"
    texts = capture_scan.capture_texts(capture)
    values = capture_scan.identifying_values(HERE / "fleets" / FLEET)
    assert capture_scan.leftovers(texts, values) + capture_scan.address_leftovers(texts) == []
    assert (capture / ".capture-key").exists(), "the placeholder key stays with the capture, and the scan tells to remove it"
