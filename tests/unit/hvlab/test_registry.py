# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""StdRegProv on the lab's machines, and the guest's KVP keys kept consistent with its host."""

import pytest

from hvlab import hyperv

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    HKLM, VM_KEY, guest_values, invoke_service, item_map, registry_call, service_for, settings_text, vm_components)

WEB = hyperv.guest_vm_id("kvpweb")


def guest_items_on_host(service, guest="kvpweb", host="hv1"):
    return item_map(vm_components(service, host)[hyperv.guest_vm_id(guest)]["GuestExchangeItems"])


@pytest.mark.parametrize("namespace", ["root/default", "root/cimv2"])
def test_a_vm_guest_has_the_kvp_keys(namespace):
    service = service_for("kvp_host")
    code, outs = registry_call(service, "kvpweb", "EnumKey", namespace, hDefKey=HKLM, sSubKeyName=VM_KEY)
    assert (code, outs["sNames"]) == (0, ["Auto", "External", "Guest"])
    code, outs = registry_call(service, "kvpweb", "EnumKey", namespace, hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest")
    assert (code, outs["sNames"]) == (0, ["Parameters"])
    assert guest_values(service, "kvpweb", "Guest") == {"Role": "web", "Owner": "team-a"}
    assert guest_values(service, "kvpweb", "External") == {"hyperv.avma.owner": "hosting-ops",
                                                           "LegacyActivationNote": "keyed 2026-01-10"}
    assert guest_values(service, "kvpweb", "Guest\\Parameters") == {
        "HostName": "hv1.hvlab.test", "PhysicalHostName": "HV1", "PhysicalHostNameFullyQualified": "hv1.hvlab.test",
        "VirtualMachineName": "web01", "VirtualMachineId": WEB}


def test_the_auto_key_holds_what_the_host_sees_as_intrinsic_items():
    service = service_for("kvp_host")
    auto = guest_values(service, "kvphostile", "Auto")
    intrinsic = item_map(vm_components(service, "hv1")[hyperv.guest_vm_id("kvphostile")]["GuestIntrinsicExchangeItems"])
    assert auto == {name: data for name, (data, _source) in intrinsic.items()}
    assert (auto["OSName"], auto["OSEditionId"], auto["OSBuildNumber"]) == ("Windows Server 2019 Standard", "7", "17763")


def test_machines_without_a_host_have_no_virtual_machine_key():
    service = service_for("kvp_host")
    assert registry_call(service, "hv1", "EnumKey", hDefKey=HKLM, sSubKeyName=VM_KEY)[0] == 2
    code, outs = registry_call(service, "hv1", "GetStringValue", hDefKey=HKLM,
                               sSubKeyName="SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", sValueName="EditionID")
    assert (code, outs["sValue"]) == (0, ["ServerDatacenter"])


def test_return_codes_for_reads():
    service = service_for("kvp_host")
    version = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
    assert registry_call(service, "kvpweb", "GetStringValue", hDefKey=HKLM, sSubKeyName=version, sValueName="Nope") == (
        1, {"sValue": [None]})
    assert registry_call(service, "kvpweb", "GetStringValue", hDefKey=HKLM, sSubKeyName="SOFTWARE\\Nope",
                         sValueName="x")[0] == 2
    assert registry_call(service, "kvpweb", "GetStringValue", hDefKey=HKLM, sSubKeyName=version,
                         sValueName="CurrentMajorVersionNumber")[0] == 2147749893
    assert registry_call(service, "kvpweb", "GetDWORDValue", hDefKey=HKLM, sSubKeyName=version,
                         sValueName="CurrentMajorVersionNumber") == (0, {"uValue": ["10"]})
    assert registry_call(service, "kvpweb", "EnumKey", hDefKey=7, sSubKeyName="SOFTWARE")[0] == 6
    # hDefKey defaults to HKEY_LOCAL_MACHINE; value names and keys compare case-insensitively.
    assert registry_call(service, "kvpweb", "GetStringValue", sSubKeyName=version.upper(), sValueName="editionid") == (
        0, {"sValue": ["ServerDatacenter"]})
    code, outs = registry_call(service, "kvpweb", "EnumValues", hDefKey=HKLM, sSubKeyName=VM_KEY)
    assert code == 0 and outs["sNames"] == [None] and outs["Types"] == [None]


def test_writes_to_the_integration_services_keys_are_denied():
    service = service_for("kvp_host")
    for key in ("Auto", "External", "Guest\\Parameters"):
        code, _outs = registry_call(service, "kvpweb", "SetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\" + key,
                                    sValueName="x", sValue="y")
        assert code == 5
        assert registry_call(service, "kvpweb", "DeleteValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\" + key,
                             sValueName="HostName")[0] == 5
    assert service.stats()["total_writes"] == 0


def test_a_guest_write_is_published_to_the_host_and_a_delete_withdraws_it():
    service = service_for("kvp_host")
    code, _outs = registry_call(service, "kvpweb", "SetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest",
                                sValueName="hyperv.avma.activation", sValue="{{ not templated }}")
    assert code == 0
    assert guest_items_on_host(service)["hyperv.avma.activation"] == ("{{ not templated }}", 1)
    assert registry_call(service, "kvpweb", "DeleteValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest",
                         sValueName="HYPERV.AVMA.ACTIVATION")[0] == 0
    assert "hyperv.avma.activation" not in guest_items_on_host(service)
    assert registry_call(service, "kvpweb", "DeleteValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest",
                         sValueName="hyperv.avma.activation")[0] == 2
    stats = service.stats()["machines"]["kvpweb"]
    assert stats["writes"] == {"Invoke": 2, "Invoke:StdRegProv.SetStringValue": 1, "Invoke:StdRegProv.DeleteValue": 1}


def test_data_exchange_off_stops_the_exchange_until_it_is_on_again():
    service = service_for("host_setup")
    guest_key = VM_KEY + "\\Guest"
    registry_call(service, "dxoff", "SetStringValue", hDefKey=HKLM, sSubKeyName=guest_key, sValueName="late", sValue="1")
    assert vm_components(service, "hvready")[hyperv.guest_vm_id("dxoff")]["GuestExchangeItems"] is None
    params = "<p:ResourceSettings>%s</p:ResourceSettings>" % settings_text(hyperv.guest_vm_id("dxoff"), 2)
    invoke_service(service, "hvready", "ModifyResourceSettings", params)
    assert guest_items_on_host(service, "dxoff", "hvready") == {"late": ("1", 1)}


def test_a_stopped_vm_publishes_nothing():
    service = service_for("kvp_host")
    registry_call(service, "kvpoff", "SetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest", sValueName="x", sValue="1")
    assert vm_components(service, "hv1")[hyperv.guest_vm_id("kvpoff")]["GuestExchangeItems"] is None


def test_keys_are_created_and_deleted_like_the_registry_api():
    service = service_for("kvp_host")
    base = "SOFTWARE\\Lab"
    assert registry_call(service, "kvpweb", "SetStringValue", hDefKey=HKLM, sSubKeyName=base, sValueName="a", sValue="b")[0] == 2
    assert registry_call(service, "kvpweb", "CreateKey", hDefKey=HKLM, sSubKeyName=base + "\\Deep\\Er")[0] == 0
    assert registry_call(service, "kvpweb", "EnumKey", hDefKey=HKLM, sSubKeyName=base) == (0, {"sNames": ["Deep"]})
    assert registry_call(service, "kvpweb", "DeleteKey", hDefKey=HKLM, sSubKeyName=base)[0] == 5
    assert registry_call(service, "kvpweb", "DeleteKey", hDefKey=HKLM, sSubKeyName=base + "\\Deep\\Er")[0] == 0
    assert registry_call(service, "kvpweb", "EnumKey", hDefKey=HKLM, sSubKeyName=base + "\\Deep") == (0, {"sNames": [None]})
    assert registry_call(service, "kvpweb", "DeleteKey", hDefKey=HKLM, sSubKeyName=base + "\\Nope")[0] == 2


def test_hostile_guest_values_are_stored_verbatim():
    service = service_for("kvp_host")
    code, outs = registry_call(service, "kvphostile", "GetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest",
                               sValueName="TemplateLookup")
    assert (code, outs["sValue"]) == (0, ["{{ lookup('pipe', 'id') }}"])
    code, outs = registry_call(service, "kvphostile", "GetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest",
                               sValueName="BigValue")
    assert (code, outs["sValue"]) == (0, ["A" * 5120])
