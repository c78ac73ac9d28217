# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hyper-V host model over WS-Man: the host and its VMs, their KVP data, Data Exchange, optional features."""

import re

from hvlab import hyperv

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    as_list, enumerate_all, get_instance, item_map, properties, service_for, vm_components, vm_systems)
from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import call, fault_summary, wql_enumerate

GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
INTRINSIC_NAMES = {
    "FullyQualifiedDomainName", "OSName", "OSVersion", "CSDVersion", "OSMajorVersion", "OSMinorVersion", "OSBuildNumber",
    "OSPlatformId", "ServicePackMajor", "ServicePackMinor", "SuiteMask", "ProductType", "OSEditionId",
    "ProcessorArchitecture", "IntegrationServicesVersion", "NetworkAddressIPv4", "NetworkAddressIPv6", "RDPAddressIPv4",
    "RDPAddressIPv6", "OSVendor", "OSSignature"}


def test_the_host_and_its_vms_are_computer_systems():
    service = service_for("kvp_host")
    items, _requests = enumerate_all(service, "hv1", "SELECT * FROM Msvm_ComputerSystem")
    systems = [properties(item) for item in items]
    host = [system for system in systems if system["Caption"] == "Hosting Computer System"]
    assert [(system["Name"], system["ElementName"]) for system in host] == [("HV1", "HV1")]
    vms = {system["ElementName"]: system for system in systems if system["Caption"] == "Virtual Machine"}
    assert set(vms) == {"web01", "hostile01", "stopped01"}
    assert all(GUID.match(vm["Name"]) for vm in vms.values())
    assert vms["web01"]["Name"] == hyperv.guest_vm_id("kvpweb")
    assert (vms["web01"]["EnabledState"], vms["stopped01"]["EnabledState"]) == ("2", "3")
    assert vm_systems(service, "hv2") == {}


def test_vm_ids_are_stable_across_fleet_loads():
    first = {name: vm["Name"] for name, vm in vm_systems(service_for("kvp_host"), "hv1").items()}
    assert first == {name: vm["Name"] for name, vm in vm_systems(service_for("kvp_host"), "hv1").items()}


def test_a_running_vm_shows_intrinsic_and_guest_items_of_its_guest():
    service = service_for("kvp_host")
    web = vm_components(service, "hv1")[hyperv.guest_vm_id("kvpweb")]
    assert (web["EnabledState"], web["OperationalStatus"], web["StatusDescriptions"]) == ("2", "2", "OK")
    intrinsic = item_map(web["GuestIntrinsicExchangeItems"])
    assert set(intrinsic) == INTRINSIC_NAMES
    assert {source for _data, source in intrinsic.values()} == {2}
    assert intrinsic["FullyQualifiedDomainName"][0] == "kvpweb.hvlab.test"
    assert intrinsic["OSName"][0] == "Windows Server 2022 Datacenter"
    assert (intrinsic["OSVersion"][0], intrinsic["OSBuildNumber"][0], intrinsic["OSEditionId"][0]) == ("10.0.20348", "20348", "8")
    assert intrinsic["NetworkAddressIPv4"][0] == "127.0.40.11"
    assert item_map(web["GuestExchangeItems"]) == {"Role": ("web", 1), "Owner": ("team-a", 1)}


def test_a_stopped_vm_shows_no_guest_data():
    service = service_for("kvp_host")
    stopped = vm_components(service, "hv1")[hyperv.guest_vm_id("kvpoff")]
    assert stopped["GuestIntrinsicExchangeItems"] is None and stopped["GuestExchangeItems"] is None
    assert stopped["OperationalStatus"] is None and stopped["EnabledState"] == "3"
    _reply, settings = get_instance(service, "hv1", "Msvm_KvpExchangeComponentSettingData",
                                    {"InstanceID": hyperv.kvp_settings_id(hyperv.guest_vm_id("kvpoff"))})
    assert item_map(settings["HostExchangeItems"]) == {"hyperv.avma.owner": ("hosting-ops", 0)}


def test_data_exchange_off_shows_no_guest_data_and_no_contact():
    service = service_for("host_setup")
    components = vm_components(service, "hvready")
    off = components[hyperv.guest_vm_id("dxoff")]
    assert (off["EnabledState"], off["OperationalStatus"], off["StatusDescriptions"]) == ("3", "12", "No Contact")
    assert off["GuestIntrinsicExchangeItems"] is None
    assert components[hyperv.guest_vm_id("dxon")]["GuestIntrinsicExchangeItems"] is not None
    items, _requests = enumerate_all(service, "hvready", "SELECT InstanceID, EnabledState FROM Msvm_KvpExchangeComponentSettingData")
    states = {props["InstanceID"]: props["EnabledState"] for props in map(properties, items)}
    assert states == {hyperv.kvp_settings_id(hyperv.guest_vm_id("dxoff")): "3",
                      hyperv.kvp_settings_id(hyperv.guest_vm_id("dxon")): "2"}


def test_integration_status_other_than_ok_is_reported_and_hides_data_when_no_longer_delivered():
    document = {"defaults": {"credentials": [{"user": "a", "password": "b"}]}, "machines": {
        "hv": {"address": "127.0.9.1", "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"}},
        "slow": {"address": "127.0.9.2", "kind": "guest", "hyperv_host": "hv",
                 "os": {"version": "2022", "edition": "ServerDatacenter"}, "vm": {"status": "degraded"}},
        "lost": {"address": "127.0.9.3", "kind": "guest", "hyperv_host": "hv",
                 "os": {"version": "2022", "edition": "ServerDatacenter"}, "vm": {"status": "lost_communication"}}}}
    components = vm_components(service_for(document), "hv")
    slow, lost = components[hyperv.guest_vm_id("slow")], components[hyperv.guest_vm_id("lost")]
    assert (slow["OperationalStatus"], slow["StatusDescriptions"]) == ("3", "Degraded")
    assert slow["GuestIntrinsicExchangeItems"] is not None
    assert (lost["OperationalStatus"], lost["GuestIntrinsicExchangeItems"]) == ("13", None)


def test_every_vm_has_settings_with_the_vm_guid():
    service = service_for("kvp_host")
    vm_id = hyperv.guest_vm_id("kvpweb")
    _reply, settings = get_instance(service, "hv1", "Msvm_VirtualSystemSettingData", {"InstanceID": "Microsoft:" + vm_id})
    assert (settings["ElementName"], settings["VirtualSystemIdentifier"]) == ("web01", vm_id)
    _reply, kvp = get_instance(service, "hv1", "Msvm_KvpExchangeComponentSettingData",
                               {"InstanceID": "Microsoft:%s\\2A34B1C2-FD73-4043-8A5B-DD2159BC743F" % vm_id})
    assert kvp["EnabledState"] == "2"
    assert item_map(kvp["HostExchangeItems"]) == {"hyperv.avma.owner": ("hosting-ops", 0),
                                                  "LegacyActivationNote": ("keyed 2026-01-10", 0)}


def test_the_management_service_needs_its_four_keys():
    service = service_for("kvp_host")
    keys = {"CreationClassName": "Msvm_VirtualSystemManagementService", "Name": "vmms",
            "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": "HV1"}
    reply, found = get_instance(service, "hv1", "Msvm_VirtualSystemManagementService", keys)
    assert reply.status == 200 and found["ElementName"] == "Hyper-V Virtual System Management Service"
    reply, _found = get_instance(service, "hv1", "Msvm_VirtualSystemManagementService", {})
    assert reply.status == 500


def test_guests_have_no_virtualization_namespace():
    reply, root = call(service_for("kvp_host"), "kvpweb", wql_enumerate(
        "SELECT * FROM Msvm_ComputerSystem", resource_uri="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/*"))
    assert reply.status == 500 and fault_summary(root)[3] == 0x8004100E


def test_optional_features_tell_a_hyperv_host():
    document = {"defaults": {"credentials": [{"user": "a", "password": "b"}]}, "machines": {
        "hv": {"address": "127.0.9.1", "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"}},
        "plain": {"address": "127.0.9.2", "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"},
                  "hyperv": {"installed": False}}}}
    service = service_for(document)

    def hyperv_state(machine):
        items, _requests = enumerate_all(service, machine, "SELECT Name, InstallState FROM Win32_OptionalFeature "
                                         "WHERE Name = 'Microsoft-Hyper-V'", namespace="root/cimv2")
        return [properties(item)["InstallState"] for item in items]

    assert (hyperv_state("hv"), hyperv_state("plain")) == (["1"], ["2"])
    assert vm_systems(service, "plain") == {}


def test_guest_vm_status_follows_the_host_state():
    service = service_for("kvp_host")
    fleet = service.fleet
    status = hyperv.guest_vm_status(fleet, fleet.machines["kvpweb"])
    assert (status.host.name, status.vm_name, status.running, status.data_exchange_enabled) == ("hv1", "web01", True, True)
    stopped = hyperv.guest_vm_status(fleet, fleet.machines["kvpoff"])
    assert (stopped.running, stopped.data_exchange_enabled) == (False, True)
    assert hyperv.guest_vm_status(fleet, fleet.machines["hv1"]) is None
    off = service_for("host_setup").fleet
    assert hyperv.guest_vm_status(off, off.machines["dxoff"]).data_exchange_enabled is False


def test_a_guest_without_a_host_is_no_vm():
    fleet = service_for("foundation").fleet
    assert hyperv.guest_vm_status(fleet, fleet.machines["g2025az"]) is None


def test_a_thousand_vms_enumerate_in_pages():
    service = service_for("kvp_1000")
    items, requests = enumerate_all(service, "hv1000", "SELECT * FROM Msvm_KvpExchangeComponent", max_elements=1000)
    components = [properties(item) for item in items]
    assert len(components) == 1000 and len({props["SystemName"] for props in components}) == 1000
    assert all(len(as_list(props["GuestIntrinsicExchangeItems"])) == 21 for props in components)
    assert item_map(components[0]["GuestExchangeItems"]) == {"Role": ("tenant", 1), "Tier": ("bronze", 1)}
    # 500 KB envelopes hold about 30 components of ~16 KB: the requests are paging, nothing per VM.
    assert requests < 60
    assert service.stats()["machines"]["hv1000"]["requests"] == {"Enumerate": 1, "Pull": requests - 1}
    systems, system_requests = enumerate_all(service, "hv1000", "SELECT Name, ElementName, EnabledState FROM Msvm_ComputerSystem",
                                             max_elements=5000)
    assert len(systems) == 1001 and system_requests == 1
    names = sorted(properties(item)["ElementName"] for item in systems)
    assert names[:2] == ["HV1000", "vm0001"] and names[-1] == "vm1000"
