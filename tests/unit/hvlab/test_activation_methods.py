# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The licensing methods over WS-Man: InstallProductKey, Activate, RefreshLicenseStatus, UninstallProductKey and
ClearProductKeyFromRegistry, AVMA activation through the Hyper-V host, the events it writes, and the faults."""

import os
import re
from datetime import datetime, timezone

import pytest

from hvlab import eventlog, methods_activation
from hvlab.fleet import Fleet
from hvlab.hyperv import VmStatus
from hvlab.service import WsmanService

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import (
    FOUNDATION, NS, FakeClock, call, fault_summary, find, findall, invoke_request, local, make_service, wql_enumerate)

MATRIX = os.path.join(os.path.dirname(FOUNDATION), "avma_matrix.yml")
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
WHEN = datetime(2026, 11, 27, 9, 30, 15, tzinfo=timezone.utc)
WHEN_TEXT = "2026-11-27T09:30:15Z"
MAK = "MK7QX-V2HDT-9PRWC-3JYB4-FG6KM"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CREDENTIALS = {"credentials": [{"user": "Administrator", "password": "Lab-Passw0rd!"}]}

AVMA_KEYS = {
    "g12r2dc": "Y4TGP-NPTV9-HTC2H-7MGQ3-DV4TW", "g12r2std": "DBGBW-NPF86-BJVTX-K3WKJ-MTB6V",
    "g12r2ess": "K2XGM-NMBT3-2R6Q8-WF2FK-P36R2", "g16dc": "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J",
    "g16std": "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD", "g16ess": "B4YNW-62DX9-W8V6M-82649-MHBKQ",
    "g19dc": "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW", "g19std": "TNK62-RXVTB-4P47B-2D623-4GF74",
    "g19ess": "2CTP7-NHT64-BP62M-FV6GG-HFV28", "g22dc": "W3GNR-8DDXR-2TFRP-H8P33-DV9BG",
    "g22std": "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK", "g22az": "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J",
    "g25dc": "YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67", "g25std": "WWVGQ-PNHV9-B89P4-8GGM9-9HPQ4",
    "g25az": "6NMQ9-T38WF-6MFGM-QYGYM-88J4F", "g22dccore": "W3GNR-8DDXR-2TFRP-H8P33-DV9BG",
    "g1909core": "TNK62-RXVTB-4P47B-2D623-4GF74",
}
DC2022 = AVMA_KEYS["g22dc"]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(eventlog, "now", lambda: WHEN)


def matrix():
    return make_service(MATRIX)


def document_service(machines):
    return WsmanService(Fleet.from_document({"defaults": CREDENTIALS, "machines": machines}), clock=FakeClock())


def items(root):
    """The enumerated instances as dicts: property -> text (None for nil), repeated properties as lists."""
    found = []
    for item in findall(root, "s:Body/n:EnumerateResponse/w:Items/*"):
        values = {}
        for child in item:
            datetime_node = child.find("{%s}Datetime" % NS["cim"])
            value = datetime_node.text if datetime_node is not None else (child.text or "")
            if child.get("{%s}nil" % NS["xsi"]) == "true":
                value = None
            name = local(child.tag)
            if name in values:
                values[name] = (values[name] if isinstance(values[name], list) else [values[name]]) + [value]
            else:
                values[name] = value
        found.append(values)
    return found


def query(service, machine, text):
    reply, root = call(service, machine, wql_enumerate(text, max_elements=32000))
    assert reply.status == 200, reply.body
    return items(root)


def windows_keyed(service, machine):
    return query(service, machine, "SELECT * FROM SoftwareLicensingProduct WHERE ApplicationID = '%s' AND "
                                   "PartialProductKey IS NOT NULL AND LicenseIsAddon = FALSE" % WINDOWS_APP)


def windows_product(service, machine):
    rows = windows_keyed(service, machine)
    assert len(rows) == 1, rows
    return rows[0]


def events(service, machine, event_id):
    return query(service, machine, "SELECT * FROM Win32_NTLogEvent WHERE Logfile = 'Application' AND EventCode = %d"
                 % event_id)


def service_version(service, machine):
    return query(service, machine, "SELECT Version FROM SoftwareLicensingService")[0]["Version"]


def install(service, machine, key):
    return call(service, machine, invoke_request(
        "SoftwareLicensingService", "InstallProductKey", params="<p:ProductKey>%s</p:ProductKey>" % key,
        selectors={"Version": service_version(service, machine)}))


def service_method(service, machine, name):
    return call(service, machine, invoke_request("SoftwareLicensingService", name,
                                                 selectors={"Version": service_version(service, machine)}))


def product_method(service, machine, name, product_id):
    return call(service, machine, invoke_request("SoftwareLicensingProduct", name, selectors={"ID": product_id}))


def return_value(root, class_name, method):
    uri = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/" + class_name
    return find(root, "s:Body/{%s}%s_OUTPUT/{%s}ReturnValue" % (uri, method, uri)).text


def licensing_fault(root):
    """(WSManFault codes, MSFT_WmiError error_Code) of a licensing method's fault."""
    code, subcode, codes, wmi = fault_summary(root)
    assert (code, subcode) == ("s:Receiver", "w:InternalError")
    return codes, wmi


def writes(service, machine):
    return service.stats()["machines"][machine]["total_writes"]


@pytest.mark.parametrize("machine", sorted(AVMA_KEYS))
def test_every_eligible_guest_activates_through_its_host(machine):
    service = matrix()
    before = windows_keyed(service, machine)
    host_events = len(events(service, "hv2025", 12310))
    reply, root = install(service, machine, AVMA_KEYS[machine])
    assert reply.status == 200 and reply.wrote
    assert return_value(root, "SoftwareLicensingService", "InstallProductKey") == "0"
    product = windows_product(service, machine)
    assert product["Description"] == "Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel"
    assert product["PartialProductKey"] == AVMA_KEYS[machine][-5:]
    assert (product["LicenseStatus"], product["LicenseStatusReason"], product["GracePeriodRemaining"]) == ("1", "0", "10080")
    assert product["AutomaticVMActivationHostMachineName"] == "HV2025"
    assert product["AutomaticVMActivationLastActivationTime"] == WHEN_TEXT
    assert GUID.match(product["IAID"])
    assert "-26100.0000-" in product["AutomaticVMActivationHostDigitalPid2"]
    assert product["ProductKeyChannel"] == "Retail"
    if before:
        assert before[0]["ID"] != product["ID"], "a key of another channel lives in another product row"
    guest_events = events(service, machine, 12309)
    assert [event["InsertionStrings"] for event in guest_events] == [["AVMA Success", "HV2025", "0x00000000"]]
    assert guest_events[0]["Type"] == "Information" and guest_events[0]["TimeGenerated"] == WHEN_TEXT
    new_host_events = events(service, "hv2025", 12310)[host_events:]
    assert len(new_host_events) == 1
    assert new_host_events[0]["InsertionStrings"][:2] == [machine, machine.upper()]
    assert new_host_events[0]["InsertionStrings"][3:] == ["AVMA Success", "0x00000000"]
    assert writes(service, machine) == 1


def test_the_keyed_row_is_not_the_first_windows_row():
    service = matrix()
    install(service, "g22std", AVMA_KEYS["g22std"])
    windows_rows = query(service, "g22std", "SELECT ID, PartialProductKey FROM SoftwareLicensingProduct WHERE "
                                            "ApplicationID = '%s'" % WINDOWS_APP)
    assert windows_rows[0]["PartialProductKey"] is None
    assert [row["PartialProductKey"] for row in windows_rows].count("78VHK") == 1


@pytest.mark.parametrize("machine, key", [
    ("g22eval", "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK"),
    ("g22ess", DC2022),
    ("g22dc", "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK"),
])
def test_a_key_for_another_edition_is_refused_and_changes_nothing(machine, key):
    service = matrix()
    before = query(service, machine, "SELECT * FROM SoftwareLicensingProduct")
    reply, root = install(service, machine, key)
    assert reply.status == 500 and not reply.wrote
    assert licensing_fault(root) == ([0xC004F069], 0xC004F069)
    assert query(service, machine, "SELECT * FROM SoftwareLicensingProduct") == before
    assert events(service, machine, 12309) == [] and writes(service, machine) == 0


@pytest.mark.parametrize("key", ["H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW", "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV", MAK, "12345"])
def test_other_releases_keys_undeclared_keys_and_garbage_are_invalid(key):
    service = matrix()
    reply, root = install(service, "g22dc", key)
    assert reply.status == 500 and licensing_fault(root) == ([0xC004F050], 0xC004F050)
    assert find(root, "s:Body/s:Fault/s:Detail/wmie:MSFT_WmiError/wmie:Message").text == \
        "The Software Licensing Service reported that the product key is invalid."


@pytest.mark.parametrize("machine, host, reason, outcome", [
    ("g22on19", "hv2019", 0xC004FD03, "Activation Denied"),
    ("g22onstd", "hv2022std", 0xC004FD03, "Invalid Host"),
    ("g22onna", "hv2022na", 0xC004FD02, "Activation Denied"),
])
def test_an_ineligible_host_leaves_the_guest_unlicensed_with_the_reason(machine, host, reason, outcome):
    service = matrix()
    reply, _root = install(service, machine, DC2022)
    assert reply.status == 200 and reply.wrote
    product = windows_product(service, machine)
    assert "VIRTUAL_MACHINE_ACTIVATION" in product["Description"]
    assert (product["LicenseStatus"], int(product["LicenseStatusReason"])) == ("0", reason)
    assert product["AutomaticVMActivationHostMachineName"] == ""
    assert product["AutomaticVMActivationLastActivationTime"] == "1601-01-01T00:00:00Z"
    guest_event = events(service, machine, 12309)[-1]
    assert guest_event["InsertionStrings"] == [outcome, host.upper(), "0x%08X" % reason]
    assert guest_event["Type"] == "Warning" and outcome in guest_event["Message"]
    host_event = events(service, host, 12310)[-1]
    assert host_event["InsertionStrings"][:2] == [machine, machine.upper()] and host_event["InsertionStrings"][3] == outcome
    writes_before = writes(service, machine)
    reply, root = product_method(service, machine, "Activate", product["ID"])
    assert reply.status == 500 and licensing_fault(root) == ([reason], reason)
    assert len(events(service, machine, 12309)) == 2 and len(events(service, host, 12310)) == 2
    # The failed attempt still wrote its events: a write, so the lab persists it and counts it.
    assert reply.wrote and writes(service, machine) == writes_before + 1


def test_the_matrix_guest_with_data_exchange_off_is_not_bound():
    service = matrix()
    host_events = len(events(service, "hv2025", 12310))
    reply, _root = install(service, "g22nodx", DC2022)
    assert reply.status == 200 and reply.wrote
    product = windows_product(service, "g22nodx")
    assert (product["LicenseStatus"], int(product["LicenseStatusReason"])) == ("0", 0xC004FD04)
    assert events(service, "g22nodx", 12309)[-1]["InsertionStrings"] == ["Invalid Host", "", "0xC004FD04"]
    assert len(events(service, "hv2025", 12310)) == host_events


def test_data_exchange_off_is_not_bound_and_never_reaches_the_host(monkeypatch):
    service = matrix()
    host = service.fleet.machines["hv2025"]
    monkeypatch.setattr(methods_activation, "guest_vm_status",
                        lambda fleet, machine: VmStatus(host=host, vm_name="g22dc-vm", running=True, data_exchange_enabled=False))
    host_events = len(events(service, "hv2025", 12310))
    install(service, "g22dc", DC2022)
    product = windows_product(service, "g22dc")
    assert (product["LicenseStatus"], int(product["LicenseStatusReason"])) == ("0", 0xC004FD04)
    assert events(service, "g22dc", 12309)[-1]["InsertionStrings"] == ["Invalid Host", "", "0xC004FD04"]
    assert len(events(service, "hv2025", 12310)) == host_events
    monkeypatch.setattr(methods_activation, "guest_vm_status",
                        lambda fleet, machine: VmStatus(host=host, vm_name="g22dc-vm", running=True, data_exchange_enabled=True))
    reply, root = service_method(service, "g22dc", "RefreshLicenseStatus")
    assert reply.status == 200 and reply.wrote and return_value(root, "SoftwareLicensingService", "RefreshLicenseStatus") == "0"
    assert windows_product(service, "g22dc")["LicenseStatus"] == "1"
    assert events(service, "hv2025", 12310)[-1]["InsertionStrings"][0] == "g22dc-vm"


def test_a_machine_that_is_no_vm_is_not_on_a_hyper_v_platform():
    service = document_service({"alone": {"address": "127.0.41.1", "kind": "guest",
                                          "os": {"version": "2022", "edition": "ServerDatacenter"}}})
    install(service, "alone", DC2022)
    product = windows_product(service, "alone")
    assert (product["LicenseStatus"], int(product["LicenseStatusReason"])) == ("0", 0xC004FD01)
    assert events(service, "alone", 12309)[-1]["InsertionStrings"] == ["Invalid Host", "", "0xC004FD01"]


def repairable_fleet():
    return document_service({
        "host": {"address": "127.0.41.1", "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"},
                 "windows_license": {"channel": "kms", "status": "notification", "status_reason": "0xC004F074"},
                 "accepted_keys": [{"key": "HHHHH-JJJJJ-KKKKK-MMMMM-PPPPP", "channel": "retail"}]},
        "guest": {"address": "127.0.41.2", "kind": "guest", "hyperv_host": "host",
                  "os": {"version": "2019", "edition": "ServerStandard"}},
    })


def test_a_guest_activates_on_refresh_once_its_host_is_activated():
    service = repairable_fleet()
    install(service, "guest", "TNK62-RXVTB-4P47B-2D623-4GF74")
    assert int(windows_product(service, "guest")["LicenseStatusReason"]) == 0xC004FD02
    install(service, "host", "HHHHH-JJJJJ-KKKKK-MMMMM-PPPPP")
    host_product = windows_product(service, "host")
    assert (host_product["Description"], host_product["LicenseStatus"]) == ("Windows(R) Operating System, RETAIL channel", "2")
    reply, _root = product_method(service, "host", "Activate", host_product["ID"])
    assert reply.status == 200 and windows_product(service, "host")["LicenseStatus"] == "1"
    reply, _root = service_method(service, "guest", "RefreshLicenseStatus")
    assert reply.wrote and windows_product(service, "guest")["LicenseStatus"] == "1"
    reply, _root = service_method(service, "guest", "RefreshLicenseStatus")
    assert reply.status == 200 and not reply.wrote
    assert [event["InsertionStrings"][0] for event in events(service, "guest", 12309)] == ["Activation Denied", "AVMA Success"]
    assert [event["RecordNumber"] for event in events(service, "guest", 12309)] == ["1", "2"]


def test_a_licensed_guest_stays_licensed_when_a_renewal_fails():
    service = document_service({
        "host": {"address": "127.0.41.1", "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"},
                 "windows_license": {"channel": "kms", "status": "unlicensed"}},
        "guest": {"address": "127.0.41.2", "kind": "guest", "hyperv_host": "host",
                  "os": {"version": "2022", "edition": "ServerDatacenter"},
                  "windows_license": {"channel": "avma", "status": "licensed"}},
    })
    product = windows_product(service, "guest")
    reply, root = product_method(service, "guest", "Activate", product["ID"])
    assert reply.status == 500 and licensing_fault(root)[1] == 0xC004FD02
    assert windows_product(service, "guest")["LicenseStatus"] == "1"
    assert events(service, "guest", 12309)[-1]["InsertionStrings"][0] == "Activation Denied"


def test_switching_from_avma_to_a_declared_mak_key():
    service = matrix()
    avma = windows_product(service, "g22mak")
    assert avma["LicenseStatus"] == "1" and avma["AutomaticVMActivationHostMachineName"] == "HV2025"
    guest_events = len(events(service, "g22mak", 12309))
    reply, _root = install(service, "g22mak", MAK.lower())
    assert reply.status == 200 and reply.wrote
    mak = windows_product(service, "g22mak")
    assert mak["ID"] != avma["ID"]
    assert (mak["Description"], mak["ProductKeyChannel"], mak["PartialProductKey"]) == \
        ("Windows(R) Operating System, VOLUME_MAK channel", "Volume:MAK", "FG6KM")
    assert (mak["LicenseStatus"], int(mak["LicenseStatusReason"]), mak["GracePeriodRemaining"]) == ("2", 0x4004F00C, "43200")
    assert (mak["IAID"], mak["AutomaticVMActivationHostMachineName"]) == ("", "")
    old_row = query(service, "g22mak", "SELECT * FROM SoftwareLicensingProduct WHERE ID = '%s'" % avma["ID"])[0]
    assert (old_row["PartialProductKey"], old_row["LicenseStatus"], old_row["IAID"]) == (None, "0", "")
    reply, root = product_method(service, "g22mak", "Activate", mak["ID"])
    assert reply.status == 200 and return_value(root, "SoftwareLicensingProduct", "Activate") == "0"
    assert windows_product(service, "g22mak")["LicenseStatus"] == "1"
    assert len(events(service, "g22mak", 12309)) == guest_events
    reply, root = install(service, "g22dc", MAK)
    assert licensing_fault(root)[1] == 0xC004F050


def test_kms_keys_stay_in_grace_unless_a_kms_host_answers():
    service = document_service({
        "m": {"address": "127.0.41.1", "kind": "guest", "os": {"version": "2022", "edition": "ServerStandard"},
              "accepted_keys": [{"key": "VDYBN-27WPP-V4HQT-9VMD4-VMK7H", "channel": "kms"},
                                {"key": "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "channel": "kms", "activates": True},
                                {"key": "CCCCC-DDDDD-FFFFF-GGGGG-HHHHH", "channel": "oem", "edition": "ServerDatacenter"}]},
    })
    install(service, "m", "VDYBN-27WPP-V4HQT-9VMD4-VMK7H")
    product = windows_product(service, "m")
    assert (product["Description"], product["ProductKeyChannel"]) == \
        ("Windows(R) Operating System, VOLUME_KMSCLIENT channel", "Volume:GVLK")
    reply, root = product_method(service, "m", "Activate", product["ID"])
    assert reply.status == 500 and licensing_fault(root)[1] == 0xC004F074
    assert windows_product(service, "m")["LicenseStatus"] == "2"
    install(service, "m", "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG")
    product = windows_product(service, "m")
    product_method(service, "m", "Activate", product["ID"])
    assert (windows_product(service, "m")["LicenseStatus"], windows_product(service, "m")["GracePeriodRemaining"]) == \
        ("1", "259200")
    _reply, root = install(service, "m", "CCCCC-DDDDD-FFFFF-GGGGG-HHHHH")
    assert licensing_fault(root)[1] == 0xC004F069


def test_uninstall_leaves_no_windows_key_and_is_a_write():
    service = matrix()
    product = windows_product(service, "g22mak")
    reply, root = product_method(service, "g22mak", "UninstallProductKey", product["ID"])
    assert reply.status == 200 and reply.wrote
    assert return_value(root, "SoftwareLicensingProduct", "UninstallProductKey") == "0"
    assert windows_keyed(service, "g22mak") == []
    row = query(service, "g22mak", "SELECT * FROM SoftwareLicensingProduct WHERE ID = '%s'" % product["ID"])[0]
    assert (row["PartialProductKey"], row["LicenseStatus"], row["AutomaticVMActivationHostMachineName"]) == (None, "0", "")
    for method in ("UninstallProductKey", "Activate"):
        reply, root = product_method(service, "g22mak", method, product["ID"])
        assert reply.status == 500 and licensing_fault(root)[1] == 0xC004F014
    reply, root = service_method(service, "g22mak", "ClearProductKeyFromRegistry")
    assert reply.status == 200 and reply.wrote
    assert return_value(root, "SoftwareLicensingService", "ClearProductKeyFromRegistry") == "0"
    assert service.stats()["machines"]["g22mak"]["writes"] == {
        "Invoke": 2, "Invoke:SoftwareLicensingProduct.UninstallProductKey": 1,
        "Invoke:SoftwareLicensingService.ClearProductKeyFromRegistry": 1}


def test_installing_leaves_the_keys_of_other_applications_and_add_ons_alone():
    service = make_service()
    install(service, "g2019std", "TNK62-RXVTB-4P47B-2D623-4GF74")
    keyed = query(service, "g2019std", "SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey IS NOT NULL")
    assert sorted(row["PartialProductKey"] for row in keyed) == ["4GF74", "6F7TH", "Q7XKD"]


def test_a_null_key_is_an_invalid_parameter():
    service = matrix()
    reply, root = call(service, "g22dc", invoke_request(
        "SoftwareLicensingService", "InstallProductKey", params='<p:ProductKey xsi:nil="true"/>',
        selectors={"Version": service_version(service, "g22dc")}))
    assert reply.status == 500 and fault_summary(root)[1] == "w:InvalidParameter"


@pytest.mark.parametrize("style, wsman_codes, wmi_code", [
    ("combined", [0xC004F069], 0xC004F069),
    ("wmi_error", [], 0xC004F069),
    ("provider_fault", [0xC004F069, 0xC004F069], None),
])
def test_licensing_faults_in_every_fault_style(style, wsman_codes, wmi_code):
    service = document_service({"m": {"address": "127.0.41.1", "kind": "guest", "fault_style": style,
                                      "os": {"version": "2022", "edition": "ServerDatacenterEval"}}})
    reply, root = install(service, "m", DC2022)
    assert reply.status == 500
    assert fault_summary(root) == ("s:Receiver", "w:InternalError", wsman_codes, wmi_code)
    assert "0xc004f069" in find(root, "s:Body/s:Fault/s:Reason/s:Text").text
