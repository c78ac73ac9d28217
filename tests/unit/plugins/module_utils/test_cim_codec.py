# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The CIM value codec: names, schemas, decoding instances and embedded CIM-XML, encoding method parameters."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._cim import (
    MAX_EMBEDDED_INSTANCE_CHARS,
    CimClass,
    CimProperty,
    CimReference,
    EmbeddedInstance,
    UndecodableValue,
    build_method_input,
    decode_instance,
    format_dmtf_datetime,
    parse_cim_datetime,
    parse_embedded_instance,
    render_embedded_instance,
    resource_uri,
    wql_string,
)
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError, WsmanProtocolError
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import NAMESPACES
from ansible_collections.hyperv.avma.plugins.module_utils._xml import local_name, parse_xml, qname, serialize

V2 = "root/virtualization/v2"
UTC = timezone.utc
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

OPERATING_SYSTEM = CimClass("root/cimv2", "Win32_OperatingSystem", (
    CimProperty("Caption", "string"),
    CimProperty("BuildNumber", "string"),
    CimProperty("CSDVersion", "string"),
    CimProperty("InstallDate", "datetime"),
    CimProperty("LastBootUpTime", "datetime"),
    CimProperty("MUILanguages", "string", array=True),
    CimProperty("OperatingSystemSKU", "uint32"),
    CimProperty("ProductType", "uint32"),
    CimProperty("SerialNumber", "string"),
))

KVP_COMPONENT = CimClass(V2, "Msvm_KvpExchangeComponent", (
    CimProperty("SystemName", "string"),
    CimProperty("GuestIntrinsicExchangeItems", "instance", array=True),
    CimProperty("GuestExchangeItems", "instance", array=True),
    CimProperty("OperationalStatus", "uint16", array=True),
))

DISK = CimClass("root/cimv2", "Win32_DiskDrive", (
    CimProperty("DeviceID", "string"),
    CimProperty("Capabilities", "uint16", array=True),
    CimProperty("PowerManagementCapabilities", "uint16", array=True),
    CimProperty("Size", "uint64"),
    CimProperty("MediaLoaded", "boolean"),
    CimProperty("Availability", "uint16"),
))


def body_item(wire, sample):
    """The first instance element in the sample's s:Body (GetResponse) or its Items (EnumerateResponse)."""
    body = parse_xml(wire(sample)).find("s:Body", NAMESPACES)
    first = body[0]
    items = first.find("{*}Items")
    return items[0] if items is not None else first


# -- names ------------------------------------------------------------------------------------------------------------

def test_resource_uris():
    assert resource_uri("root/cimv2", "Win32_OperatingSystem") == "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem"
    assert resource_uri("root\\virtualization\\v2", "*") == "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/*"
    assert CimClass(V2, "Msvm_ConcreteJob").resource_uri.endswith("/wmi/root/virtualization/v2/Msvm_ConcreteJob")


@pytest.mark.parametrize("namespace, class_name", [("root/cimv2", "Win32 OS"), ("root/../x", "C"), ("", "C"), ("root/cimv2", "a/b")])
def test_resource_uri_refuses_odd_names(namespace, class_name):
    with pytest.raises(AvmaValueError):
        resource_uri(namespace, class_name)


@pytest.mark.parametrize("value, literal", [
    ("plain", "'plain'"),
    ("O'Brien", r"'O\'Brien'"),
    ("C:\\Windows", r"'C:\\Windows'"),
    ("x' OR '1'='1", r"'x\' OR \'1\'=\'1'"),
    ("", "''"),
])
def test_wql_string(value, literal):
    assert wql_string(value) == literal


def test_wql_string_needs_text():
    with pytest.raises(AvmaValueError):
        wql_string(5)


def test_schema_descriptors():
    with pytest.raises(AvmaValueError, match="unknown CIM type 'int'"):
        CimProperty("X", "int")
    with pytest.raises(AvmaValueError):
        CimProperty("bad name", "string")
    cim_class = CimClass("root/cimv2", "SoftwareLicensingProduct", [CimProperty("ID", "string")], keys=["ID"])
    assert cim_class.properties == (CimProperty("ID", "string"),) and cim_class.keys == ("ID",)
    assert cim_class.property("id") is cim_class.properties[0] and cim_class.property("Nope") is None


# -- datetimes --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("20260105081233.500000+060", datetime(2026, 1, 5, 8, 12, 33, 500000, tzinfo=timezone(timedelta(hours=1)))),
    ("20260105081233.000000-300", datetime(2026, 1, 5, 8, 12, 33, tzinfo=timezone(timedelta(hours=-5)))),
    ("16010101000000.000000+000", datetime(1601, 1, 1, tzinfo=UTC)),
    ("1601-01-01T00:00:00Z", datetime(1601, 1, 1, tzinfo=UTC)),
    ("2026-01-05T08:12:33.5000000+01:00", datetime(2026, 1, 5, 8, 12, 33, 500000, tzinfo=timezone(timedelta(hours=1)))),
    ("2025-11-02T14:05:09-05:00", datetime(2025, 11, 2, 14, 5, 9, tzinfo=timezone(timedelta(hours=-5)))),
    ("2025-11-02T14:05:09", datetime(2025, 11, 2, 14, 5, 9)),
    ("00000001020304.000005:000", timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5)),
    ("P1DT2H3M4.5S", timedelta(days=1, hours=2, minutes=3, seconds=4.5)),
    ("PT30S", timedelta(seconds=30)),
    ("-P2D", -timedelta(days=2)),
])
def test_parse_cim_datetime(text, expected):
    value = parse_cim_datetime(text)
    assert value == expected and type(value) is type(expected)
    if isinstance(expected, datetime):
        assert value.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["", "P", "PT", "yesterday", "20260105", "2026-13-01T00:00:00Z", "P1Y", "20260105******.******+***"])
def test_parse_cim_datetime_refuses(text):
    with pytest.raises(ValueError):
        parse_cim_datetime(text)


def test_format_dmtf_datetime_round_trips():
    value = datetime(2026, 1, 5, 8, 12, 33, 1234, tzinfo=timezone(timedelta(minutes=-330)))
    assert format_dmtf_datetime(value) == "20260105081233.001234-330"
    assert parse_cim_datetime(format_dmtf_datetime(value)) == value
    assert format_dmtf_datetime(datetime(1601, 1, 1, tzinfo=UTC)) == "16010101000000.000000+000"
    with pytest.raises(AvmaValueError, match="no time zone"):
        format_dmtf_datetime(datetime(2026, 1, 1))


# -- decoding instances -----------------------------------------------------------------------------------------------

def test_decode_typed_instance(wire):
    item = body_item(wire, "enumerate_win32_operatingsystem_response_synthetic.xml")
    assert decode_instance(item, OPERATING_SYSTEM) == {
        "Caption": "Microsoft Windows Server 2022 Datacenter",
        "BuildNumber": "20348",
        "CSDVersion": None,
        "InstallDate": datetime(2025, 11, 2, 14, 5, 9, tzinfo=timezone(timedelta(hours=-5))),
        "LastBootUpTime": datetime(2026, 1, 5, 8, 12, 33, 500000, tzinfo=timezone(timedelta(hours=1))),
        "MUILanguages": ["en-US"],  # a one-element array: a list because the schema says so
        "OperatingSystemSKU": 8,
        "ProductType": 3,
        "SerialNumber": None,  # in the schema, absent from the answer
        # not in the schema: kept raw
        "OSArchitecture": "64-bit",
        "Version": "10.0.20348",
    }


def test_decode_without_schema_keeps_raw_values(wire):
    item = body_item(wire, "enumerate_win32_operatingsystem_response_synthetic.xml")
    decoded = decode_instance(item)
    assert decoded["OperatingSystemSKU"] == "8" and decoded["CSDVersion"] is None
    assert decoded["LastBootUpTime"] == "2026-01-05T08:12:33.5000000+01:00"


def test_decode_real_instance_with_arrays_nulls_and_epr(wire):
    item = body_item(wire, "wmi_enumerate_EPR_win32_diskdrive_response_real.xml")
    assert local_name(item.tag) == "Item"
    decoded = decode_instance(item, DISK)
    assert decoded["DeviceID"] == r"\\.\PHYSICALDRIVE0"
    assert decoded["Capabilities"] == [3, 4]
    assert decoded["PowerManagementCapabilities"] is None  # xsi:nil with m:IsNullArray
    assert decoded["Size"] == 54755688960 and decoded["MediaLoaded"] is True and decoded["Availability"] is None
    assert decoded["CapabilityDescriptions"] == ["Random Access", "Supports Writing"]  # raw list
    assert decoded["PNPDeviceID"] == "SCSI\\DISK&VEN_RED_HAT&PROD_VIRTIO\\4&35110308&0&000000"


@pytest.mark.parametrize("xml, message", [
    ("<p:C xmlns:p='urn:c'><p:Size>12x</p:Size></p:C>", "property Size .uint64.: invalid literal"),
    ("<p:C xmlns:p='urn:c'><p:MediaLoaded>maybe</p:MediaLoaded></p:C>", "not a boolean"),
    ("<p:C xmlns:p='urn:c'><p:DeviceID>a</p:DeviceID><p:DeviceID>b</p:DeviceID></p:C>", "declared scalar but came 2 times"),
])
def test_decode_errors_are_protocol_errors(xml, message):
    with pytest.raises(WsmanProtocolError, match=message):
        decode_instance(parse_xml(xml), DISK)


def test_decode_reference_property_in_both_shapes():
    job_class = CimClass(V2, "Msvm_X", (CimProperty("Job", "reference"), CimProperty("Jobs", "reference", array=True)))
    direct = """<a:Address>urn:anon</a:Address><a:ReferenceParameters><w:ResourceURI>urn:job</w:ResourceURI>
        <w:SelectorSet><w:Selector Name="InstanceID">J1</w:Selector></w:SelectorSet></a:ReferenceParameters>"""
    xml = f"""<p:X xmlns:p="urn:x" xmlns:a="{NAMESPACES['a']}" xmlns:w="{NAMESPACES['w']}">
        <p:Job>{direct}</p:Job><p:Jobs><a:EndpointReference>{direct}</a:EndpointReference></p:Jobs></p:X>"""
    decoded = decode_instance(parse_xml(xml), job_class)
    expected = CimReference("urn:job", {"InstanceID": "J1"}, "urn:anon")
    assert decoded == {"Job": expected, "Jobs": [expected]}
    assert expected.selector("instanceid") == "J1" and expected.selector("Nope") is None


def test_reference_without_reference_parameters():
    job_class = CimClass(V2, "Msvm_X", (CimProperty("Job", "reference"),))
    with pytest.raises(WsmanProtocolError, match="not an endpoint reference"):
        decode_instance(parse_xml("<p:X xmlns:p='urn:x'><p:Job>text</p:Job></p:X>"), job_class)


# -- embedded instances -----------------------------------------------------------------------------------------------

FORMS = ["escaped", "cdata", "nested"]


@pytest.mark.parametrize("form", FORMS)
def test_embedded_instances_in_every_form(wire, form):
    item = body_item(wire, f"get_msvm_kvpexchangecomponent_{form}_synthetic.xml")
    decoded = decode_instance(item, KVP_COMPONENT)
    intrinsic = decoded["GuestIntrinsicExchangeItems"]
    assert [entry.class_name for entry in intrinsic] == ["Msvm_KvpExchangeDataItem"] * 3
    # by NAME, whatever the order and whatever extra properties come along
    assert [(entry.get("Name"), entry.get("Data"), entry.get("Source")) for entry in intrinsic] == [
        ("FullyQualifiedDomainName", "web01.corp.example", 2),
        ("OSEditionId", "8", 2),
        ("CSDVersion", None, 2),  # an empty Data has no VALUE
    ]
    assert intrinsic[0].properties["Caption"] is None and intrinsic[0].types["Source"] == "uint16"
    assert intrinsic[2].properties["Tags"] == ["a", "b & c"]  # PROPERTY.ARRAY
    assert intrinsic[1].get("name") == "OSEditionId" and intrinsic[1].get("Nope", "default") == "default"
    # a one-element array of embedded instances still decodes as a list
    assert [(entry.get("Name"), entry.get("Data"), entry.get("Source")) for entry in decoded["GuestExchangeItems"]] == [
        ("AvmaPartialKey", "DV9BG", 1)]
    assert decoded["OperationalStatus"] == [2] and decoded["SystemName"] == "B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E"


def test_all_embedded_forms_decode_identically(wire):
    decoded = [decode_instance(body_item(wire, f"get_msvm_kvpexchangecomponent_{form}_synthetic.xml"), KVP_COMPONENT) for form in FORMS]
    assert decoded[0] == decoded[1] == decoded[2]


def test_several_nested_instances_in_one_element_and_wscim_form():
    xml = """<p:C xmlns:p="urn:c" xmlns:q="urn:item">
      <p:Items><INSTANCE CLASSNAME="A"><PROPERTY NAME="N" TYPE="string"><VALUE>1</VALUE></PROPERTY></INSTANCE>
               <INSTANCE CLASSNAME="A"><PROPERTY NAME="N" TYPE="string"><VALUE>2</VALUE></PROPERTY></INSTANCE></p:Items>
      <p:One><q:Msvm_KvpExchangeDataItem><q:Name>FQDN</q:Name><q:Data>web01</q:Data></q:Msvm_KvpExchangeDataItem></p:One>
    </p:C>"""
    schema = CimClass(V2, "C", (CimProperty("Items", "instance", array=True), CimProperty("One", "instance")))
    decoded = decode_instance(parse_xml(xml), schema)
    assert [entry.get("N") for entry in decoded["Items"]] == ["1", "2"]
    assert decoded["One"] == EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Name": "FQDN", "Data": "web01"})


def test_scalar_instance_property_holding_two_instances():
    xml = """<p:C xmlns:p="urn:c"><p:One><INSTANCE CLASSNAME="A"/><INSTANCE CLASSNAME="A"/></p:One></p:C>"""
    with pytest.raises(WsmanProtocolError, match="holds 2 instances"):
        decode_instance(parse_xml(xml), CimClass(V2, "C", (CimProperty("One", "instance"),)))


def test_embedded_entity_bomb_is_refused(wire):
    item = body_item(wire, "get_msvm_kvpexchangecomponent_entity_synthetic.xml")
    with pytest.raises(WsmanProtocolError, match="DOCTYPE.*refused"):
        decode_instance(item, KVP_COMPONENT)


def test_embedded_instance_size_bound():
    big = '<INSTANCE CLASSNAME="A"><PROPERTY NAME="Data" TYPE="string"><VALUE>' + "x" * MAX_EMBEDDED_INSTANCE_CHARS + "</VALUE></PROPERTY></INSTANCE>"
    with pytest.raises(WsmanProtocolError, match="exceeds the limit"):
        parse_embedded_instance(big)


@pytest.mark.parametrize("text, message", [
    ("<CIM/>", "no INSTANCE element"),
    ("<INSTANCE/>", "no CLASSNAME"),
    ('<INSTANCE CLASSNAME="A"><PROPERTY TYPE="string"/></INSTANCE>', "PROPERTY without NAME"),
    ('<INSTANCE CLASSNAME="A"><PROPERTY NAME="S" TYPE="uint16"><VALUE>x</VALUE></PROPERTY></INSTANCE>', r"embedded A\.S: invalid literal"),
    ("not xml", "malformed XML"),
])
def test_embedded_instance_errors(text, message):
    with pytest.raises(WsmanProtocolError, match=message):
        parse_embedded_instance(text)


def test_embedded_instance_inside_a_cim_wrapper():
    text = ('<?xml version="1.0"?><CIM CIMVERSION="2.0"><DECLARATION><VALUE.NAMEDINSTANCE><INSTANCE CLASSNAME="A">'
            '<QUALIFIER NAME="q"/><PROPERTY NAME="B" TYPE="boolean"><VALUE>TRUE</VALUE></PROPERTY></INSTANCE>'
            '</VALUE.NAMEDINSTANCE></DECLARATION></CIM>')
    assert parse_embedded_instance(text) == EmbeddedInstance("A", {"B": True}, {"B": "boolean"})


def _item_text(name):
    return (f'<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string"><VALUE>{name}</VALUE></PROPERTY>'
            '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>1</VALUE></PROPERTY></INSTANCE>')


def _component_with(texts):
    component = ET.Element("{urn:c}Msvm_KvpExchangeComponent")
    for text in texts:
        ET.SubElement(component, "{urn:c}GuestExchangeItems").text = text
    return component


ISOLATED = CimClass(V2, "Msvm_KvpExchangeComponent", (CimProperty("GuestExchangeItems", "instance", array=True, isolate_errors=True),))


@pytest.mark.parametrize("hostile", [
    # closes more than it opened: alone it is malformed, together it must not close a neighbour
    _item_text("evil") + "</x>",
    # opens an instance the next item would close
    '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string"><VALUE>evil',
    # two instances in one item
    _item_text("evil") + _item_text("twin"),
    '<?xml version="1.0"?>' + _item_text("declared"),
])
def test_an_array_of_items_decodes_as_each_item_alone_would(hostile):
    texts = [_item_text("first"), hostile, "</VALUE></PROPERTY></INSTANCE>", _item_text("last")]
    together = decode_instance(_component_with(texts), ISOLATED)["GuestExchangeItems"]
    alone = []
    for text in texts:
        try:
            alone.append(parse_embedded_instance(text))
        except WsmanProtocolError as error:
            alone.append(error)
    assert len(together) == len(texts)
    for decoded, expected in zip(together, alone):
        if isinstance(expected, WsmanProtocolError):
            assert isinstance(decoded, UndecodableValue)
        else:
            assert decoded == expected
    assert [entry.get("Name") for entry in together if isinstance(entry, EmbeddedInstance)][:1] == ["first"]
    assert together[-1].get("Name") == "last"


def test_an_array_of_good_items_decodes_in_order():
    names = [f"item{index}" for index in range(50)]
    decoded = decode_instance(_component_with([_item_text(name) for name in names]), ISOLATED)["GuestExchangeItems"]
    assert [entry.get("Name") for entry in decoded] == names and decoded[0].get("Source") == 1


# -- rendering and encoding -------------------------------------------------------------------------------------------

def test_render_embedded_instance_round_trips():
    item = EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Name": "hyperv.avma.owner", "Data": "a<b>&'\"", "Source": 0, "Flags": None},
                            {"Source": "uint16", "Flags": "uint32"})
    text = render_embedded_instance(item)
    assert text.startswith('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string"><VALUE>hyperv.avma.owner</VALUE>')
    assert '<PROPERTY NAME="Flags" TYPE="uint32"></PROPERTY>' in text
    assert "<VALUE>a&#60;b&#62;&#38;&#39;&#34;</VALUE>" in text
    expected_types = {"Name": "string", "Data": "string", "Source": "uint16", "Flags": "uint32"}
    assert parse_embedded_instance(text) == EmbeddedInstance(item.class_name, item.properties, expected_types)


def test_render_arrays_booleans_and_datetimes():
    when = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    text = render_embedded_instance(EmbeddedInstance("A", {"Tags": ["x", "y"], "On": True, "At": when}))
    assert '<PROPERTY.ARRAY NAME="Tags" TYPE="string"><VALUE.ARRAY><VALUE>x</VALUE><VALUE>y</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>' in text
    assert parse_embedded_instance(text).properties == {"Tags": ["x", "y"], "On": True, "At": when}


def test_render_needs_the_type_of_numbers():
    with pytest.raises(AvmaValueError, match="give its CIM type"):
        render_embedded_instance(EmbeddedInstance("A", {"Source": 0}))
    with pytest.raises(AvmaValueError, match="invalid embedded property name"):
        render_embedded_instance(EmbeddedInstance("A", {"bad name": "x"}))


CLASS_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_VirtualSystemManagementService"


def _param(root, name):
    return root.findall(qname(CLASS_URI, name))


def test_build_method_input():
    vm = CimReference("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem",
                      {"CreationClassName": "Msvm_ComputerSystem", "Name": "B2D9C3E4"})
    item = EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Name": "k", "Data": "v<1>", "Source": 0}, {"Source": "uint16"})
    root = build_method_input(CLASS_URI, "RemoveKvpItems", {
        "TargetSystem": vm, "DataItems": [item, item], "Flag": False, "Count": 7, "Ratio": 0.5,
        "Nothing": None, "Empty": [], "When": datetime(2026, 1, 5, tzinfo=UTC),
    })
    # serialize and parse back, as the server would see it
    root = parse_xml(serialize(root, NAMESPACES))
    assert root.tag == qname(CLASS_URI, "RemoveKvpItems_INPUT")
    assert [local_name(element.tag) for element in root] == ["TargetSystem", "DataItems", "DataItems", "Flag", "Count", "Ratio", "Nothing", "When"]
    target = _param(root, "TargetSystem")[0]
    assert [element.tag for element in target] == [qname(NAMESPACES["a"], "Address"), qname(NAMESPACES["a"], "ReferenceParameters")]
    assert target.find("a:Address", NAMESPACES).text == ANONYMOUS
    assert target.find("a:ReferenceParameters/w:ResourceURI", NAMESPACES).text.endswith("/Msvm_ComputerSystem")
    assert {s.get("Name"): s.text for s in target.findall("a:ReferenceParameters/w:SelectorSet/w:Selector", NAMESPACES)} == vm.selectors
    data_items = _param(root, "DataItems")
    assert all(len(element) == 0 for element in data_items)  # CIM-XML travels as escaped text, not as elements
    expected_types = {"Name": "string", "Data": "string", "Source": "uint16"}
    assert parse_embedded_instance(data_items[0].text) == EmbeddedInstance(item.class_name, item.properties, expected_types)
    assert _param(root, "Flag")[0].text == "false" and _param(root, "Count")[0].text == "7" and _param(root, "Ratio")[0].text == "0.5"
    assert _param(root, "Nothing")[0].get(qname(NAMESPACES["xsi"], "nil")) == "true"
    assert _param(root, "When")[0].find("cim:Datetime", NAMESPACES).text == "2026-01-05T00:00:00+00:00"


@pytest.mark.parametrize("params, message", [
    ({"When": datetime(2026, 1, 5)}, "has no time zone"),
    ({"Blob": b"bytes"}, "cannot send a bytes"),
    ({"bad name": 1}, "invalid parameter name"),
])
def test_build_method_input_refuses(params, message):
    with pytest.raises(AvmaValueError, match=message):
        build_method_input(CLASS_URI, "AddKvpItems", params)


def test_build_method_input_matches_the_ms_wsmv_example(wire):
    """MS-WSMV 4.1.4: Win32_Process.Create with CommandLine and CurrentDirectory."""
    spec = ET.fromstring(wire("spec_ms-wsmv_4.1.4_invoke_win32_process_create_request.xml"))
    spec_input = spec.find("s:Body", NAMESPACES)[0]
    uri = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process"
    ours = build_method_input(uri, "Create", {"CommandLine": "notepad.exe", "CurrentDirectory": "C:\\"})
    assert [(local_name(e.tag), e.text) for e in ours] == [(local_name(e.tag), e.text) for e in spec_input]
    assert local_name(ours.tag) == local_name(spec_input.tag) == "Create_INPUT"
    # the same URI for the input element's namespace as for the ResourceURI (the spec's own example differs: see its note)
    assert ours.tag == qname(uri, "Create_INPUT")
