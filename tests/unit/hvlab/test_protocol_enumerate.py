# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enumerate / Pull / Release: WQL and class enumeration, paging, contexts, and their faults, checked against the
real Windows captures in fixtures/."""

import pytest

from hvlab.fleet import Fleet
from hvlab.service import WsmanService

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import (
    ALL_CLASSES, NS, WMI, FakeClock, call, class_enumerate, fault_summary, find, findall, fixture, local, make_service,
    parse, pull_request, release_request, request, structure, text, wql_enumerate)

ENUM_RESPONSE = "s:Body/n:EnumerateResponse"
PULL_RESPONSE = "s:Body/n:PullResponse"
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
INVALID_CLASS_QUERY = 'Select * from Win32_Processa where name="sshd.exe"'


def product_ids(service, machine):
    fleet_machine = service.fleet.machines[machine]
    cls = fleet_machine.registry.lookup("root/cimv2", "SoftwareLicensingProduct")
    return [row["ID"] for row in fleet_machine.store.instances(cls)]


def items_of(root, response):
    return [child for items in findall(root, response + "/*") if local(items.tag) == "Items" for child in items]


def test_select_star_instance_has_the_shape_of_the_windows_capture():
    service = make_service()
    reply, root = call(service, "g2022dc", wql_enumerate("SELECT * FROM Win32_OperatingSystem", max_elements=32000))
    real = parse(fixture("txwinrm_win2008r2_win32_operatingsystem_star_response.xml"))
    assert reply.status == 200
    assert structure(root, skip_below=("Win32_OperatingSystem",)) == structure(real, skip_below=("Win32_OperatingSystem",))
    assert find(root, ENUM_RESPONSE + "/n:EnumerationContext").text is None
    assert find(root, ENUM_RESPONSE + "/w:EndOfSequence") is not None
    uri = WMI + "Win32_OperatingSystem"
    ours = find(root, ENUM_RESPONSE + "/w:Items/{%s}Win32_OperatingSystem" % uri)
    theirs = find(real, ENUM_RESPONSE + "/w:Items/{%s}Win32_OperatingSystem" % uri)
    assert ours is not None and theirs is not None
    assert ours.get("{%s}type" % NS["xsi"]) == theirs.get("{%s}type" % NS["xsi"]) == "p:Win32_OperatingSystem_Type"
    our_names = [local(child.tag) for child in ours]
    real_names = [local(child.tag) for child in theirs]
    assert set(real_names) <= set(our_names)
    assert our_names == sorted(our_names, key=str.lower) and real_names == sorted(real_names, key=str.lower)
    for name in ("InstallDate", "LastBootUpTime"):
        assert [local(node.tag) for node in ours.find("{%s}%s" % (uri, name))] == ["Datetime"]
        assert ours.find("{%s}%s/{%s}Datetime" % (uri, name, NS["cim"])) is not None
    assert ours.find("{%s}LargeSystemCache" % uri).get("{%s}nil" % NS["xsi"]) == "true"
    assert ours.find("{%s}BuildNumber" % uri).text == "20348"
    assert ours.find("{%s}Caption" % uri).text == "Microsoft Windows Server 2022 Datacenter"
    assert ours.find("{%s}OperatingSystemSKU" % uri).text == "8"
    assert ours.find("{%s}Primary" % uri).text == "true"
    assert ours.find("{%s}LastBootUpTime/{%s}Datetime" % (uri, NS["cim"])).text.endswith(".5Z")


def test_selected_properties_come_as_an_xml_fragment_like_windows():
    service = make_service()
    query = "SELECT Version, MUILanguages, InstallDate, LargeSystemCache, Caption FROM Win32_OperatingSystem"
    _reply, root = call(service, "g2022dc", wql_enumerate(query, max_elements=10))
    real = parse(fixture("txwinrm_win2008r2_win32_operatingsystem_properties_response.xml"))
    ours = find(root, ENUM_RESPONSE + "/w:Items/w:XmlFragment")
    theirs = find(real, ENUM_RESPONSE + "/w:Items/w:XmlFragment")
    assert ours is not None and theirs is not None
    assert [child.tag for child in ours] == ["Caption", "InstallDate", "LargeSystemCache", "MUILanguages", "Version"]
    assert [child.tag for child in ours.find("InstallDate")] == [child.tag for child in theirs.find("InstallDate")] == ["Datetime"]
    assert ours.find("LargeSystemCache").get("{%s}nil" % NS["xsi"]) == "true"
    assert ours.find("Version").text == "10.0.20348"


def test_where_clause_picks_the_windows_product_not_office_or_add_on():
    query = ("SELECT * FROM SoftwareLicensingProduct WHERE ApplicationID = '%s' AND PartialProductKey IS NOT NULL "
             "AND LicenseIsAddon = FALSE" % WINDOWS_APP)
    _reply, root = call(make_service(), "g2019std", wql_enumerate(query, max_elements=100))
    uri = WMI + "SoftwareLicensingProduct"
    rows = findall(root, ENUM_RESPONSE + "/w:Items/{%s}SoftwareLicensingProduct" % uri)
    assert len(rows) == 1
    assert rows[0].find("{%s}PartialProductKey" % uri).text == "4GF74"
    assert "VIRTUAL_MACHINE_ACTIVATION" in rows[0].find("{%s}Description" % uri).text


def test_all_keyed_rows_include_office_and_add_on():
    query = "SELECT ID, PartialProductKey FROM SoftwareLicensingProduct WHERE PartialProductKey IS NOT NULL"
    _reply, root = call(make_service(), "g2019std", wql_enumerate(query, max_elements=100))
    keys = [frag.find("PartialProductKey").text for frag in findall(root, ENUM_RESPONSE + "/w:Items/w:XmlFragment")]
    assert keys == ["6F7TH", "Q7XKD", "4GF74"]


def test_empty_result_matches_the_real_empty_enumeration():
    service = make_service()
    query = "SELECT * FROM SoftwareLicensingProduct WHERE Name = 'no such product'"
    _reply, root = call(service, "g2022dc", wql_enumerate(query, max_elements=32000))
    real = parse(fixture("pypsrp_enumerate_shells_01_response.xml"))
    # Bodies only: that capture's header also has Windows' diagnostic p:ActivityId, which the lab does not send.
    assert structure(find(root, "s:Body")) == structure(find(real, "s:Body"))


def cim_session_enumerate(class_name, max_elements):
    """The real PowerShell CIM-session Enumerate (DMTF URI, __cimnamespace, EnumerateObjectAndEPR), retargeted."""
    data = fixture("wmi_enumerate_EPR_win32_diskdrive_request_cimsession_real.xml")
    data = data.replace(b"cim-schema/2/win32_diskdrive", b"cim-schema/2/" + class_name.encode())
    return data.replace(b"<w:MaxElements>32000</w:MaxElements>", b"<w:MaxElements>%d</w:MaxElements>" % max_elements)


def test_object_and_epr_mode_has_the_shape_of_the_windows_capture():
    service = make_service()
    reply, root = call(service, "g2022dc", cim_session_enumerate("softwarelicensingservice", 32000))
    real = parse(fixture("wmi_enumerate_EPR_win32_diskdrive_response_real.xml"))
    assert reply.status == 200
    skip = ("SoftwareLicensingService", "Win32_DiskDrive")
    eos = "/{%s}Envelope/{%s}Body/{%s}EnumerateResponse/{%s}EndOfSequence" % (NS["s"], NS["s"], NS["n"], NS["w"])
    ours = structure(root, skip)
    # The capture is a first page (context, no EndOfSequence); here everything fits, so EndOfSequence ends it.
    assert eos in ours
    assert ours - {eos} == {path.replace("Win32_DiskDrive", "SoftwareLicensingService") for path in structure(real, skip)}
    item = find(root, ENUM_RESPONSE + "/w:Items/w:Item")
    dmtf_uri = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SoftwareLicensingService"
    assert item[0].tag == "{%s}SoftwareLicensingService" % dmtf_uri
    epr = find(item, "a:EndpointReference")
    assert text(epr, "a:ReferenceParameters/w:ResourceURI") == dmtf_uri
    selectors = {node.get("Name"): node.text for node in findall(epr, "a:ReferenceParameters/w:SelectorSet/w:Selector")}
    assert selectors == {"Version": "10.0.20348.1", "__cimnamespace": "root/cimv2"}


def test_pull_after_a_cim_session_enumerate_matches_the_real_pull_response():
    service = make_service()
    _reply, root = call(service, "g2022dc", cim_session_enumerate("softwarelicensingproduct", 1))
    context = text(root, ENUM_RESPONSE + "/n:EnumerationContext")
    assert context.startswith("uuid:") and find(root, ENUM_RESPONSE + "/w:EndOfSequence") is None
    assert len(findall(root, ENUM_RESPONSE + "/w:Items/w:Item")) == 1
    pull = fixture("wmi_pull_request_cimsession_real.xml").replace(
        b"uuid:686ECA2F-690B-4013-8516-EAEFBEAAAD02", context.encode()).replace(
        b"cim-schema/2/win32_diskdrive", b"cim-schema/2/softwarelicensingproduct")
    reply, root = call(service, "g2022dc", pull)
    real = parse(fixture("wmi_pull_response_EndOfSequence_real.xml"))
    skip = ("SoftwareLicensingProduct", "Win32_DiskDrive")
    assert reply.status == 200
    assert structure(root, skip) == {path.replace("Win32_DiskDrive", "SoftwareLicensingProduct") for path in structure(real, skip)}
    assert text(root, "s:Header/a:Action") == text(real, "s:Header/a:Action")
    assert len(findall(root, PULL_RESPONSE + "/n:Items/w:Item")) == len(product_ids(service, "g2022dc")) - 1


def enumerate_all(service, machine, first, pull_max, **kwargs):
    """Follow an enumeration to its end; return (ids in order, responses)."""
    _reply, root = call(service, machine, first)
    responses = [root]
    ids = [node.text for node in root.iter("{%s}ID" % (WMI + "SoftwareLicensingProduct"))]
    response = ENUM_RESPONSE
    while find(root, response + "/" + ("w:EndOfSequence" if response == ENUM_RESPONSE else "n:EndOfSequence")) is None:
        context = text(root, response + "/n:EnumerationContext")
        _reply, root = call(service, machine, pull_request(context, pull_max, **kwargs))
        responses.append(root)
        ids.extend(node.text for node in root.iter("{%s}ID" % (WMI + "SoftwareLicensingProduct")))
        response = PULL_RESPONSE
    return ids, responses


def test_max_elements_pages_through_every_row_once_in_order():
    service = make_service()
    ids, responses = enumerate_all(service, "g2019std", class_enumerate("SoftwareLicensingProduct", max_elements=4), 4)
    assert ids == product_ids(service, "g2019std") and len(ids) == 11
    assert [len(items_of(root, ENUM_RESPONSE if index == 0 else PULL_RESPONSE)) for index, root in enumerate(responses)] == [4, 4, 3]
    last = responses[-1]
    assert find(last, PULL_RESPONSE + "/n:EnumerationContext") is None
    assert find(last, PULL_RESPONSE + "/n:EndOfSequence") is not None


def test_enumerate_without_optimization_returns_only_a_context():
    service = make_service()
    _reply, root = call(service, "g2022dc", class_enumerate("SoftwareLicensingProduct", optimize=False))
    response = find(root, ENUM_RESPONSE)
    assert [local(child.tag) for child in response] == ["EnumerationContext"]
    context = response[0].text
    _reply, root = call(service, "g2022dc", pull_request(context))
    assert len(items_of(root, PULL_RESPONSE)) == 1  # WS-Enumeration's default MaxElements is 1
    assert text(root, PULL_RESPONSE + "/n:EnumerationContext") == context


def test_max_envelope_size_limits_each_page():
    service = make_service()
    first = wql_enumerate("SELECT * FROM SoftwareLicensingProduct", max_elements=32000, max_envelope=8192)
    ids, responses = enumerate_all(service, "g2019std", first, 32000, max_envelope=8192)
    assert ids == product_ids(service, "g2019std")
    assert len(responses) > 2
    # Again, measuring the raw bytes of every page, which is what MaxEnvelopeSize limits.
    service = make_service()
    reply = service.handle("g2019std", first, user="Administrator")
    assert len(reply.body) <= 8192
    context = text(parse(reply.body), ENUM_RESPONSE + "/n:EnumerationContext")
    while context:
        reply = service.handle("g2019std", pull_request(context, 32000, max_envelope=8192), user="Administrator")
        assert reply.status == 200 and len(reply.body) <= 8192
        found = find(parse(reply.body), PULL_RESPONSE + "/n:EnumerationContext")
        context = found.text if found is not None else None


def big_machine_service(style="combined"):
    document = {
        "defaults": {"credentials": [{"user": "Administrator", "password": "x-Passw0rd"}]},
        "machines": {"big": {"address": "127.0.20.1", "kind": "guest", "fault_style": style,
                             "os": {"version": "2022", "edition": "ServerDatacenter", "caption": "C" * 9000}}},
    }
    return WsmanService(Fleet.from_document(document), clock=FakeClock())


def test_an_item_larger_than_max_envelope_size_is_a_fault():
    service = big_machine_service()
    reply, root = call(service, "big", wql_enumerate("SELECT * FROM Win32_OperatingSystem", max_elements=5, max_envelope=8192))
    assert reply.status == 500
    assert text(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value") == "w:EncodingLimit"
    assert find(root, "s:Body/s:Fault/s:Detail/f:WSManFault").get("Code") == "2150858824"
    assert "exceeds the maximum envelope size that is allowed (8192)" in text(root, "s:Body/s:Fault/s:Reason/s:Text")
    with_room = service.handle("big", wql_enumerate("SELECT * FROM Win32_OperatingSystem", max_elements=5,
                                                    max_envelope=40000), user="Administrator")
    assert with_room.status == 200


def test_release_ends_the_enumeration():
    service = make_service()
    _reply, root = call(service, "g2022dc", class_enumerate("SoftwareLicensingProduct", max_elements=2))
    context = text(root, ENUM_RESPONSE + "/n:EnumerationContext")
    reply, root = call(service, "g2022dc", release_request(context))
    assert reply.status == 200
    assert text(root, "s:Header/a:Action") == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse"
    assert len(find(root, "s:Body")) == 0
    reply, root = call(service, "g2022dc", pull_request(context, 10))
    assert reply.status == 500
    assert fault_summary(root)[:3] == ("s:Receiver", "n:InvalidEnumerationContext", [2150858779])
    assert text(root, "s:Header/a:Action") == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"


@pytest.mark.parametrize("context", ["uuid:00000000-0000-0000-0000-000000000000", ""])
def test_unknown_context_is_a_fault(context):
    service = make_service()
    for body in (pull_request(context, 1), release_request(context)):
        reply, root = call(service, "g2022dc", body)
        assert reply.status == 500 and fault_summary(root)[2] == [2150858779]


def test_context_expires_after_the_enumeration_timeout_of_inactivity():
    clock = FakeClock()
    service = make_service(clock=clock)
    _reply, root = call(service, "g2022dc", class_enumerate("SoftwareLicensingProduct", max_elements=1))
    context = text(root, ENUM_RESPONSE + "/n:EnumerationContext")
    clock.now += 200
    reply, _root = call(service, "g2022dc", pull_request(context, 1))
    assert reply.status == 200  # used within 240 s: still alive, and the idle time starts again
    clock.now += 239
    reply, _root = call(service, "g2022dc", pull_request(context, 1))
    assert reply.status == 200
    clock.now += 241
    reply, root = call(service, "g2022dc", pull_request(context, 1))
    assert reply.status == 500 and fault_summary(root)[2] == [2150858779]


def test_context_belongs_to_its_machine_and_ends_with_its_last_page():
    service = make_service()
    _reply, root = call(service, "g2022dc", class_enumerate("SoftwareLicensingProduct", max_elements=1))
    context = text(root, ENUM_RESPONSE + "/n:EnumerationContext")
    reply, _root = call(service, "g2016dc", pull_request(context, 1))
    assert reply.status == 500
    reply, root = call(service, "g2022dc", pull_request(context, 100))
    assert find(root, PULL_RESPONSE + "/n:EndOfSequence") is not None
    reply, _root = call(service, "g2022dc", pull_request(context, 1))
    assert reply.status == 500


def test_enumerate_epr_mode_returns_references_only():
    body = class_enumerate("SoftwareLicensingProduct", max_elements=3, mode="EnumerateEPR")
    _reply, root = call(make_service(), "g2022dc", body)
    items = items_of(root, ENUM_RESPONSE)
    assert len(items) == 3 and all(item.tag == "{%s}EndpointReference" % NS["a"] for item in items)
    assert text(items[0], "a:ReferenceParameters/w:ResourceURI") == WMI + "SoftwareLicensingProduct"
    assert [node.get("Name") for node in findall(items[0], "a:ReferenceParameters/w:SelectorSet/w:Selector")] == ["ID"]


def test_unsupported_enumeration_mode_is_a_fault():
    reply, root = call(make_service(), "g2022dc", class_enumerate("SoftwareLicensingProduct", mode="EnumerateObject"))
    assert reply.status == 500 and fault_summary(root)[1] == "w:UnsupportedFeature"


def test_invalid_class_in_wql_matches_the_windows_2008r2_capture():
    """provider_fault style: the exact layout of the real fault, inner fault and __ExtendedStatus included."""
    document = {"defaults": {"credentials": [{"user": "u", "password": "p"}]},
                "machines": {"old": {"address": "127.0.20.2", "kind": "guest", "fault_style": "provider_fault",
                                     "os": {"version": "2012 R2", "edition": "ServerStandard"}}}}
    service = WsmanService(Fleet.from_document(document), clock=FakeClock())
    reply, root = call(service, "old", wql_enumerate(INVALID_CLASS_QUERY, to="http://vagrant-2008R2:5985/wsman"))
    real = parse(fixture("fault_wql_invalid_class_2150858778_win2008r2_rubywinrm.xml"))
    assert reply.status == 500
    assert structure(root) == structure(real)
    for path in ("s:Header/a:Action", "s:Body/s:Fault/s:Code/s:Value", "s:Body/s:Fault/s:Code/s:Subcode/s:Value",
                 "s:Body/s:Fault/s:Reason/s:Text"):
        assert text(root, path) == text(real, path), path
    ours_inner = find(root, "s:Body/s:Fault/s:Detail/f:WSManFault/f:Message/f:ProviderFault/f:WSManFault")
    real_inner = find(real, "s:Body/s:Fault/s:Detail/f:WSManFault/f:Message/f:ProviderFault/f:WSManFault")
    assert ours_inner.get("Code") == real_inner.get("Code") == "2150858778"
    assert text(ours_inner, "f:Message") == text(real_inner, "f:Message")
    extended = "s:Body/s:Fault/s:Detail/f:WSManFault/f:Message/f:ProviderFault/f:ExtendedError/*"
    assert [local(node.tag) for node in findall(root, extended)] == ["__ExtendedStatus"]
    status = findall(root, extended)[0]
    assert [local(child.tag) for child in status] == [local(child.tag) for child in findall(real, extended)[0]]
    assert status.find("{%s__ExtendedStatus}ParameterInfo" % WMI).text == INVALID_CLASS_QUERY


def test_invalid_class_in_wql_combined_style_carries_both_codes():
    reply, root = call(make_service(), "g2022dc", wql_enumerate(INVALID_CLASS_QUERY))
    assert reply.status == 500
    assert fault_summary(root) == ("s:Sender", "n:CannotProcessFilter", [2150858778], 0x80041010)


def test_invalid_class_in_wql_wmi_error_style_matches_the_msft_wmierror_sample():
    document = {"defaults": {"credentials": [{"user": "u", "password": "p"}]},
                "machines": {"new": {"address": "127.0.20.3", "kind": "guest", "fault_style": "wmi_error",
                                     "os": {"version": "2025", "edition": "ServerDatacenter"}}}}
    service = WsmanService(Fleet.from_document(document), clock=FakeClock())
    _reply, root = call(service, "new", wql_enumerate(INVALID_CLASS_QUERY))
    real = parse(fixture("fault_internalerror_msft_wmierror_0x803381A6_pywinrm_test.xml"))
    assert fault_summary(root)[2:] == ([], 0x80041010)
    ours = find(root, "s:Body/s:Fault/s:Detail/wmie:MSFT_WmiError")
    theirs = find(real, "s:Body/s:Fault/s:Detail/wmie:MSFT_WmiError")
    assert [local(child.tag) for child in ours] == [local(child.tag) for child in theirs]
    assert [child.get("{%s}type" % NS["xsi"]) for child in ours] == [child.get("{%s}type" % NS["xsi"]) for child in theirs]
    assert ours.get("{http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd}IsCIM_Error") == "true"
    assert text(ours, "wmie:MessageID") == "HRESULT 0x80041010"


@pytest.mark.parametrize("query", [
    "SELECT FROM SoftwareLicensingProduct",
    "SELECT * FROM SoftwareLicensingProduct WHERE",
    "SELECT * FROM SoftwareLicensingProduct WHERE NoSuchProperty = 1",
    "SELECT NoSuchProperty FROM SoftwareLicensingProduct",
    "SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus = 'one'",
    "ASSOCIATORS OF {Win32_OperatingSystem} WHERE ResultClass = x",
])
def test_invalid_query_is_cannot_process_filter_with_invalid_query(query):
    reply, root = call(make_service(), "g2022dc", wql_enumerate(query))
    assert reply.status == 500
    assert fault_summary(root) == ("s:Sender", "n:CannotProcessFilter", [2150858778], 0x80041017)


def test_filter_in_another_dialect_is_refused():
    body = request("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", ALL_CLASSES,
                   '<n:Enumerate><w:Filter Dialect="http://www.w3.org/TR/1999/REC-xpath-19991116">/x</w:Filter></n:Enumerate>')
    reply, root = call(make_service(), "g2022dc", body)
    assert reply.status == 500 and fault_summary(root)[1] == "n:FilterDialectRequestedUnavailable"


def test_all_classes_uri_needs_a_filter():
    body = request("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", ALL_CLASSES,
                   "<n:Enumerate><w:OptimizeEnumeration/></n:Enumerate>")
    reply, root = call(make_service(), "g2022dc", body)
    assert reply.status == 500 and fault_summary(root)[1:3] == ("w:FilteringRequired", [2150858831])


def test_wql_on_a_class_uri_is_refused():
    reply, root = call(make_service(), "g2022dc", wql_enumerate("SELECT * FROM SoftwareLicensingProduct",
                                                                resource_uri=WMI + "SoftwareLicensingProduct"))
    assert reply.status == 500 and fault_summary(root)[2] == [2150859003]


@pytest.mark.parametrize("uri, wmi_code", [
    (WMI + "Win32_NoSuchClass", 0x80041010),
    ("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem", 0x8004100E),
])
def test_unknown_class_or_namespace_in_the_resource_uri(uri, wmi_code):
    body = request("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", uri, "<n:Enumerate/>")
    reply, root = call(make_service(), "g2022dc", body)
    assert reply.status == 500
    assert fault_summary(root) == ("s:Sender", "a:DestinationUnreachable", [2150858752], wmi_code)


def test_class_names_are_case_insensitive_and_answers_use_the_canonical_name():
    _reply, root = call(make_service(), "g2022dc", wql_enumerate("select * from win32_operatingsystem", max_elements=5))
    assert find(root, ENUM_RESPONSE + "/w:Items/{%s}Win32_OperatingSystem" % (WMI + "Win32_OperatingSystem")) is not None


def test_enumeration_requests_are_counted_per_operation():
    service = make_service()
    enumerate_all(service, "g2019std", class_enumerate("SoftwareLicensingProduct", max_elements=4), 4)
    stats = service.stats()["machines"]["g2019std"]
    assert stats["requests"] == {"Enumerate": 1, "Pull": 2} and stats["total_requests"] == 3
    assert stats["total_writes"] == 0


def test_wql_on_the_dmtf_all_classes_uri_uses_the_cimnamespace_selector():
    body = wql_enumerate("SELECT * FROM SoftwareLicensingService", max_elements=5,
                         resource_uri="http://schemas.dmtf.org/wbem/wscim/1/*", selectors={"__cimnamespace": "root/cimv2"})
    reply, root = call(make_service(), "g2022dc", body)
    assert reply.status == 200
    dmtf_uri = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SoftwareLicensingService"
    assert find(root, ENUM_RESPONSE + "/w:Items/{%s}SoftwareLicensingService" % dmtf_uri) is not None
    body = body.replace(b">root/cimv2<", b">root/nothing<")
    reply, root = call(make_service(), "g2022dc", body)
    assert reply.status == 500 and fault_summary(root)[3] == 0x8004100E


def test_max_batch_items_of_the_machine_caps_every_page():
    document = {
        "defaults": {"credentials": [{"user": "Administrator", "password": "x-Passw0rd"}]},
        "machines": {"small": {"address": "127.0.20.2", "kind": "guest", "winrm_config": {"max_batch_items": 3},
                               "os": {"version": "2019", "edition": "ServerStandard"}}},
    }
    service = WsmanService(Fleet.from_document(document), clock=FakeClock())
    ids, responses = enumerate_all(service, "small", class_enumerate("SoftwareLicensingProduct", max_elements=32000), 32000)
    assert ids == product_ids(service, "small") and len(ids) > 6
    sizes = [len(items_of(root, ENUM_RESPONSE if index == 0 else PULL_RESPONSE)) for index, root in enumerate(responses)]
    assert sizes == [3] * (len(ids) // 3) + ([len(ids) % 3] if len(ids) % 3 else [])
    # A client asking for fewer items still gets its MaxElements.
    ids, responses = enumerate_all(make_service(), "g2019std", class_enumerate("SoftwareLicensingProduct", max_elements=2), 2)
    assert len(responses) == (len(ids) + 1) // 2


@pytest.mark.parametrize("winrm_config, message", [
    ({"max_batch_items": 0}, "winrm_config.max_batch_items: must be an integer from 1"),
    ({"max_batch_items": "5"}, "winrm_config.max_batch_items: must be an integer from 1"),
    ({"max_envelope_size_kb": 8}, "winrm_config: must be a mapping with max_batch_items"),
])
def test_fleet_file_refuses_bad_winrm_config(winrm_config, message):
    document = {"machines": {"small": {"address": "127.0.20.2", "kind": "guest", "winrm_config": winrm_config,
                                       "credentials": [{"user": "Administrator", "password": "x-Passw0rd"}],
                                       "os": {"version": "2019", "edition": "ServerStandard"}}}}
    with pytest.raises(ValueError, match=message):
        Fleet.from_document(document)
