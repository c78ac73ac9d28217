# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Get: an instance by its key selectors, and the selector faults Windows sends."""

import pytest

from hvlab.fleet import Fleet
from hvlab.service import WsmanService

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import (
    WMI, FakeClock, call, fault_summary, find, fixture, get_request, local, make_service, parse, request, structure,
    text)

PRODUCT_URI = WMI + "SoftwareLicensingProduct"


def windows_row(service, machine):
    fleet_machine = service.fleet.machines[machine]
    cls = fleet_machine.registry.lookup("root/cimv2", "SoftwareLicensingProduct")
    return next(row for row in fleet_machine.store.instances(cls) if row["PartialProductKey"] and not row["LicenseIsAddon"]
                and row["ApplicationID"] == "55c92734-d682-4d71-983e-d6ec3f16059f")


def test_get_by_key_returns_the_instance_with_a_get_response():
    service = make_service()
    row = windows_row(service, "g2022dc")
    reply, root = call(service, "g2022dc", get_request("SoftwareLicensingProduct", {"ID": row["ID"]}))
    assert reply.status == 200
    assert text(root, "s:Header/a:Action") == "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    body = find(root, "s:Body")
    assert len(body) == 1 and body[0].tag == "{%s}SoftwareLicensingProduct" % PRODUCT_URI
    assert body[0].find("{%s}PartialProductKey" % PRODUCT_URI).text == "DV9BG"
    assert body[0].find("{%s}AutomaticVMActivationLastActivationTime/{http://schemas.dmtf.org/wbem/wscim/1/common}Datetime"
                        % PRODUCT_URI).text == "2026-11-20T08:30:00Z"


def test_get_response_envelope_declares_the_transfer_namespaces_like_windows():
    """The real Get of winrm/config: the envelope declares s, a, x, w and p."""
    service = make_service()
    reply = service.handle("g2022dc", get_request("Win32_OperatingSystem", {
        "Name": "Microsoft Windows Server 2022 Datacenter|C:\\Windows|\\Device\\Harddisk0\\Partition2"}), user="u")
    head = reply.body.split(b"<s:Header>")[0]
    for prefix in (b"s", b"a", b"x", b"w", b"p"):
        assert b"xmlns:" + prefix + b"=" in head
    assert b"xmlns:n=" not in head


def test_key_selector_values_compare_case_insensitively_like_wmi():
    service = make_service()
    row = windows_row(service, "g2022dc")
    reply, root = call(service, "g2022dc", get_request("softwarelicensingproduct", {"id": row["ID"].upper()}))
    assert reply.status == 200
    assert find(root, "s:Body/{%s}SoftwareLicensingProduct" % PRODUCT_URI) is not None


def test_get_without_keys_on_a_keyed_class_is_the_singleton_fault():
    """Win32_OperatingSystem and SoftwareLicensingService have one instance per machine but keyed classes are not
    WMI singletons: Windows wants the keys (fault 2150859002 and its documented message)."""
    service = make_service()
    for class_name in ("Win32_OperatingSystem", "SoftwareLicensingService", "SoftwareLicensingProduct"):
        reply, root = call(service, "g2022dc", get_request(class_name))
        assert reply.status == 500
        assert fault_summary(root)[:3] == ("s:Sender", "w:InvalidSelectors", [2150859002])
        assert "the class selected is not a singleton" in text(root, "s:Body/s:Fault/s:Detail/f:WSManFault/f:Message")


def test_unexpected_selector_matches_the_real_invalid_selectors_fault():
    service = make_service()
    reply, root = call(service, "g2022dc", get_request("SoftwareLicensingService", {"ShellId": "CCF84E0D"}))
    real = parse(fixture("fault_unexpected_selectors_2150858843_response_pypsrp_real.xml"))
    assert reply.status == 500
    assert structure(find(root, "s:Body")) == structure(find(real, "s:Body"))
    for path in ("s:Header/a:Action", "s:Body/s:Fault/s:Code/s:Value", "s:Body/s:Fault/s:Code/s:Subcode/s:Value",
                 "s:Body/s:Fault/s:Reason/s:Text", "s:Body/s:Fault/s:Detail/w:FaultDetail"):
        assert text(root, path) == text(real, path), path
    assert find(root, "s:Body/s:Fault/s:Detail/f:WSManFault").get("Code") == "2150858843"


def test_extra_selector_next_to_the_key_is_unexpected():
    service = make_service()
    reply, root = call(service, "g2022dc", get_request("SoftwareLicensingService", {"Version": "10.0.20348.1", "Name": "x"}))
    assert reply.status == 500 and fault_summary(root)[2] == [2150858843]


def test_cimnamespace_selector_is_not_a_key():
    service = make_service()
    reply, _root = call(service, "g2022dc", get_request("SoftwareLicensingService", {
        "Version": "10.0.20348.1", "__cimnamespace": "root/cimv2"}))
    assert reply.status == 200


def test_duplicate_selector_is_a_fault():
    service = make_service()
    body = get_request("SoftwareLicensingService", {"Version": "10.0.20348.1"}).replace(
        b"</w:SelectorSet>", b'<w:Selector Name="version">10.0.20348.1</w:Selector></w:SelectorSet>')
    reply, root = call(service, "g2022dc", body)
    assert reply.status == 500 and fault_summary(root)[1:3] == ("w:InvalidSelectors", [2150858847])


def test_missing_instance_is_resource_not_found():
    service = make_service()
    reply, root = call(service, "g2022dc", get_request("SoftwareLicensingProduct", {"ID": "00000000-0000-0000-0000-000000000000"}))
    assert reply.status == 500
    assert fault_summary(root) == ("s:Sender", "a:DestinationUnreachable", [2150858752], 0x80041002)
    assert text(root, "s:Body/s:Fault/s:Reason/s:Text").startswith(
        "The WS-Management service cannot process the request. The service cannot find the resource identified")


def test_get_on_the_all_classes_uri_or_outside_wmi_is_refused():
    service = make_service()
    reply, root = call(service, "g2022dc", request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", WMI + "*"))
    assert reply.status == 500 and fault_summary(root)[2] == [2150858811]
    reply, root = call(service, "g2022dc", fixture("pypsrp_get_wsman_config_00_request.xml"))
    assert reply.status == 500 and fault_summary(root)[2] == [2150858811]


@pytest.mark.parametrize("style", ["combined", "wmi_error", "provider_fault"])
def test_every_fault_style_reports_not_found(style):
    document = {"defaults": {"credentials": [{"user": "u", "password": "p"}]},
                "machines": {"m1": {"address": "127.0.20.9", "kind": "guest", "fault_style": style,
                                    "os": {"version": "2019", "edition": "ServerStandard"}}}}
    service = WsmanService(Fleet.from_document(document), clock=FakeClock())
    reply, root = call(service, "m1", get_request("SoftwareLicensingProduct", {"ID": "nope"}))
    assert reply.status == 500
    _code, subcode, wsman_codes, wmi_code = fault_summary(root)
    assert subcode == "a:DestinationUnreachable"
    expected = {"combined": ([2150858752], 0x80041002), "wmi_error": ([], 0x80041002),
                "provider_fault": ([2150858752, 2150858752], None)}[style]
    assert (wsman_codes, wmi_code) == expected
    detail = [local(child.tag) for child in find(root, "s:Body/s:Fault/s:Detail")]
    assert detail == {"combined": ["WSManFault", "MSFT_WmiError"], "wmi_error": ["MSFT_WmiError"],
                      "provider_fault": ["WSManFault"]}[style]
