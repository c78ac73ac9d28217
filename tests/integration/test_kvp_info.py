# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.kvp_info run by real ansible-playbook against lab Hyper-V hosts: every embedded-instance wire form,
a guest's registry view, live migration, and hostile guest data that must not be expanded or templated."""

from __future__ import annotations

import json
import os
import pathlib

import yaml

from saved_results import saved  # pylint: disable=import-error

FLEET = "kvp_info.yml"
MACHINES = yaml.safe_load((pathlib.Path(__file__).parent / "fleets" / FLEET).read_text())["machines"]
TEMPLATED_MARKER = pathlib.Path("/tmp/hyperv_avma_kvp_templated")
PASSWORD = "Lab-Passw0rd!"


def read_kvp(ansible_playbook, lab, out_dir, hosts, *arguments, **extra):
    run = ansible_playbook("kvp_info.yml", lab.inventory, *arguments, extra_vars=dict(target_hosts=hosts, out_dir=str(out_dir), **extra))
    assert run.returncode == 0, run.stdout + run.stderr
    return saved(out_dir)


def by_name(result):
    return {vm["name"]: vm for vm in result["vms"]}


def test_every_wire_form_gives_the_same_items_in_three_requests(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    results = read_kvp(ansible_playbook, lab, out_dir, "hv43esc,hv43cdata,hv43nest", "--check")
    twins = [by_name(results["hv43esc"])["web01"], by_name(results["hv43cdata"])["web02"], by_name(results["hv43nest"])["web03"]]
    expected = MACHINES["web43"]["vm"]
    for vm in twins:
        assert vm["state"] == "running" and vm["data_exchange"]["enabled"] is True and vm["data_exchange"]["status"] == "OK"
        assert vm["guest_items"] == expected["guest_items"]
        assert vm["host_items"] == expected["host_items"]
        assert vm["intrinsic_facts"]["fqdn"] == expected["fqdn"]
        assert vm["intrinsic_facts"]["os_release"] == "2022" and vm["intrinsic_facts"]["os_edition_id"] == "ServerDatacenter"
        assert vm["issues"] == []
    # Apart from name, ID and addresses, the three VMs are the same, whatever the wire form.
    addresses = ("ipv4_addresses", "ipv6_addresses", "rdp_ipv4_addresses", "rdp_ipv6_addresses")
    comparable = [dict(vm, name=None, id=None, intrinsic_items={key: value for key, value in vm["intrinsic_items"].items() if "Address" not in key},
                       intrinsic_facts={key: value for key, value in vm["intrinsic_facts"].items() if key not in addresses}) for vm in twins]
    assert comparable[0] == comparable[1] == comparable[2]
    stats = lab.stats()["machines"]
    for host in ("hv43esc", "hv43cdata", "hv43nest"):
        assert stats[host]["requests"] == {"Enumerate": 3}, stats[host]
        assert stats[host]["total_writes"] == 0


def test_masked_values_show_neither_in_the_task_output_nor_in_the_registered_result(lab, ansible_playbook, out_dir):
    run = ansible_playbook("kvp_info.yml", lab.inventory, "-v",
                           extra_vars=dict(target_hosts="hv43esc", out_dir=str(out_dir), kvp_mask_values=["*owner", "Legacy*"]))
    assert run.returncode == 0, run.stdout + run.stderr
    vm = by_name(saved(out_dir)["hv43esc"])["web01"]
    assert vm["guest_items"] == {"Role": "web", "Owner": "********"}
    assert vm["host_items"] == {"HyperVAvma.Owner": "********", "LegacyActivationNote": "********"}
    task_output = run.stdout[run.stdout.index("TASK [Read the KVP items]"):run.stdout.index("TASK [Save the result")]
    assert '"Owner": "********"' in task_output and '"Role": "web"' in task_output, "-v shows the result, masked"
    for value in ("team-a", "hosting-ops", "keyed 2026-01-10"):
        assert value not in run.stdout + run.stderr


def test_a_stopped_vm_shows_no_guest_data_but_keeps_its_host_items(lab, ansible_playbook, out_dir):
    stopped = by_name(read_kvp(ansible_playbook, lab, out_dir, "hv43esc", kvp_vms=["STOPPED01"])["hv43esc"])
    assert list(stopped) == ["stopped01"]
    vm = stopped["stopped01"]
    assert vm["state"] == "off" and vm["intrinsic_items"] == {} and vm["guest_items"] == {}
    assert vm["host_items"] == MACHINES["off43"]["vm"]["host_items"]
    assert vm["data_exchange"]["status"] is None


def test_query_filters_on_the_controller(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    result = read_kvp(ansible_playbook, lab, out_dir, "hv43esc", kvp_query="vms[?state=='running'].name")["hv43esc"]
    assert result["query_result"] == ["web01", "hostile01"]
    assert "vms" not in result
    assert lab.stats()["machines"]["hv43esc"]["total_requests"] == 3


def test_guest_registry_view(lab, ansible_playbook, out_dir):
    result = read_kvp(ansible_playbook, lab, out_dir, "nest43", kvp_scope="guest")["nest43"]
    registry = result["guest_registry"]
    assert registry["guest"] == MACHINES["nest43"]["vm"]["guest_items"]
    assert registry["external"] == MACHINES["nest43"]["vm"]["host_items"]
    assert registry["guest_parameters"]["VirtualMachineName"] == "web03"
    assert registry["auto"]["FullyQualifiedDomainName"] == "web01.tenant.example"
    assert result["intrinsic_facts"]["os_release"] == "2022"


def test_a_migrated_vm_is_found_on_its_new_host_with_its_items(lab, ansible_playbook, out_dir):
    before = by_name(read_kvp(ansible_playbook, lab, out_dir, "hv43esc")["hv43esc"])["web01"]
    moved = lab.admin("POST", "/migrate", {"vm": "web01", "to": "hv43cdata"})
    assert moved["to"] == "hv43cdata"
    results = read_kvp(ansible_playbook, lab, out_dir, "hv43esc,hv43cdata")
    assert "web01" not in by_name(results["hv43esc"])
    after = by_name(results["hv43cdata"])["web01"]
    assert after["id"] == before["id"]
    for key in ("guest_items", "host_items", "intrinsic_facts", "state", "data_exchange"):
        assert after[key] == before[key], key
    lab.admin("POST", "/migrate", {"vm": "web01", "to": "hv43esc"})


def test_hostile_guest_data_is_returned_as_plain_data_and_never_templated(lab, ansible_playbook, out_dir):
    if TEMPLATED_MARKER.exists():
        TEMPLATED_MARKER.unlink()
    run = ansible_playbook("kvp_hostile.yml", lab.inventory, extra_vars=dict(target_hosts="hv43esc", out_dir=str(out_dir)))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Traceback" not in output
    assert not TEMPLATED_MARKER.exists(), "a KVP value was templated: the pipe lookup ran"
    items = MACHINES["hostile43"]["vm"]["guest_items"]
    lookup = items["TemplateLookup"]
    assert "lookup=[%s]" % lookup in output and "fact=[%s]" % lookup in output
    assert "block=[%s]" % items["TemplateBlock"] in output
    assert "{{ name_template }}" in output
    assert PASSWORD not in output

    result_size = os.path.getsize(next(out_dir.glob("*.json")))
    vm = saved(out_dir)["hv43esc"]["vms"][0]
    guest = vm["guest_items"]
    for name in ("TemplateLookup", "TemplateBlock", "{{ name_template }}", "UnsafeTag", "CdataEnd", "EntityText"):
        assert guest[name] == items[name], name
    assert guest["BigValue"] == "A" * 1024
    assert "RawEntityBomb" not in guest and "RawExternalEntity" not in guest
    assert "aaaaaaaaaa" not in json.dumps(vm) and "root:" not in json.dumps(vm)
    codes = sorted(issue["code"] for issue in vm["issues"])
    assert codes.count("undecodable") >= 2 and "value_truncated" in codes and "template_syntax" in codes
    assert any("DOCTYPE" in issue["message"] for issue in vm["issues"] if issue["code"] == "undecodable")
    assert "problems in KVP data written by guests" in output
    assert result_size < 200_000


def test_hostile_guest_registry_is_read_around_what_cannot_be_parsed(lab, ansible_playbook, out_dir):
    result = read_kvp(ansible_playbook, lab, out_dir, "hostile43", kvp_scope="guest")["hostile43"]
    items = MACHINES["hostile43"]["vm"]["guest_items"]
    guest = result["guest_registry"]["guest"]
    assert guest["TemplateLookup"] == items["TemplateLookup"] and guest["EntityText"] == items["EntityText"]
    assert guest["BigValue"] == "A" * 1024
    assert "ControlCharacters" not in guest
    assert ("ControlCharacters", "unreadable") in [(issue["name"], issue["code"]) for issue in result["issues"]]
    assert not TEMPLATED_MARKER.exists()
