# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hyper-V fields of a fleet file: what they accept, what they refuse, and the inventory they add to."""

import pytest

from hvlab.fleet import Fleet
from hvlab.statedir import build_inventory

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import fleet_path


def fleet(host=None, guest=None, defaults=None):
    document = {
        "defaults": dict({"credentials": [{"user": "a", "password": "b"}]}, **(defaults or {})),
        "machines": {
            "hv": dict({"address": "127.0.9.1", "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"}},
                       **(host or {})),
            "g": dict({"address": "127.0.9.2", "kind": "guest", "hyperv_host": "hv",
                       "os": {"version": "2019", "edition": "ServerStandard"}}, **(guest or {})),
        }}
    return Fleet.from_document(document, "test.yml")


def test_defaults_make_every_guest_a_running_vm_with_data_exchange():
    spec = fleet().machines["g"].spec
    assert (spec.vm.name, spec.vm.running, spec.vm.data_exchange, spec.vm.status, spec.vm.fqdn) == (
        "g", True, True, 2, "g.hvlab.test")
    assert (spec.vm.host_computer_name, spec.vm.host_fqdn) == ("HV", "hv.hvlab.test")
    host = fleet().machines["hv"].spec
    assert [guest.name for guest in host.guests] == ["g"] and host.hyperv.installed
    assert host.wire.embedded_instance_form == "escaped" and host.wire.job_reference == "direct"


def test_long_values_can_be_written_as_repeats():
    spec = fleet(guest={"vm": {"guest_items": {"Big": {"repeat": "ab", "count": 3}}}}).machines["g"].spec
    assert spec.vm.guest_items == (("Big", "ababab"),)


@pytest.mark.parametrize("host, guest, defaults, message", [
    ({}, {"vm": {"state": "paused"}}, None, "vm.state: must be one of running, off"),
    ({}, {"vm": {"status": "fine"}}, None, "vm.status: must be one of"),
    ({}, {"vm": {"colour": 1}}, None, "vm.colour: unknown field"),
    ({}, {"vm": {"guest_items": ["a"]}}, None, "vm.guest_items: must be a mapping"),
    ({}, {"vm": {"guest_items": {"a": 3}}}, None, "vm.guest_items.a: must be a string or {repeat"),
    ({}, {"vm": {"raw_guest_items": "x"}}, None, "vm.raw_guest_items: must be a list of strings"),
    ({}, {"vm": {"raw_guest_items": ["\ud800"]}}, None, "vm.raw_guest_items: holds characters UTF-8 cannot carry"),
    ({}, {"vm": {"guest_items": {"a": "\udfff"}}}, None, "vm.guest_items.a: holds characters UTF-8 cannot carry"),
    ({}, {"vm": {"host_items": {"a": "bell\x07"}}}, None, "vm.host_items.a: holds characters XML cannot carry"),
    ({}, {"hyperv_host": None, "vm": {}}, None, "vm: only a guest with a hyperv_host is a VM"),
    ({}, {"hyperv": {}}, None, "hyperv: applies to machines of kind host"),
    ({"hyperv": {"jobs": "later"}}, {}, None, "hyperv.jobs: must be async or sync"),
    ({"hyperv": {"job_polls": -1}}, {}, None, "hyperv.job_polls: must be an integer"),
    ({"hyperv": {"installed": False}}, {}, None, "hyperv_host: 'hv' does not have Hyper-V"),
    ({"synthetic_vms": {"count": 20000}}, {}, None, "synthetic_vms.count: must be an integer from 0 to 10000"),
    ({"synthetic_vms": {"count": 1, "os": {"version": "2025", "edition": "ServerSolution"}}}, {}, None, "synthetic_vms.os"),
    ({}, {}, {"wire": {"embedded_instance_form": "xml"}}, "wire.embedded_instance_form: must be one of escaped, cdata, nested"),
    ({}, {}, {"wire": {"job_reference": "epr"}}, "wire.job_reference: must be one of direct, wrapped"),
])
def test_mistakes_name_the_machine_and_field(host, guest, defaults, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{")):
        fleet(host, guest, defaults)


def test_the_inventory_names_each_guests_hyperv_host():
    machines = Fleet.load(fleet_path("kvp_host")).machines.values()
    ports = {machine.name: {"http": 5985, "https": 5986} for machine in machines}
    hosts = build_inventory(machines, ports, "/tmp/ca.pem")["all"]["children"]
    guests = hosts["hyperv_guests"]["hosts"]
    assert {name: host_vars["hvlab_hyperv_host"] for name, host_vars in guests.items()} == {
        "kvpweb": "hv1", "kvphostile": "hv1", "kvpoff": "hv1"}
    assert "hvlab_hyperv_host" not in hosts["hyperv_hosts"]["hosts"]["hv1"]
