# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request parsing and the envelope-level answers: headers, unsafe XML, invalid headers, unknown actions."""

import pytest

from hvlab.envelope import parse_duration, parse_request
from hvlab.faults import WsmanFault
from hvlab.xmlsafe import XmlRejected, parse_xml

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import (
    ALL_CLASSES, ANONYMOUS, NS, UUID_RE, call, class_enumerate, find, fixture, make_service, parse, request, structure,
    text, wql_enumerate)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol2;</s:Body></s:Envelope>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE s [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&xxe;</s:Body></s:Envelope>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, b"<!DOCTYPE s><s/>"])
def test_parse_xml_refuses_any_dtd(data):
    with pytest.raises(XmlRejected, match="document type"):
        parse_xml(data)


@pytest.mark.parametrize("data", [b"", b"<a><b></a>", b"not xml", b"<a/><b/>"])
def test_parse_xml_refuses_malformed_input(data):
    with pytest.raises(XmlRejected, match="malformed"):
        parse_xml(data)


def test_parse_xml_expands_namespaces_of_elements_and_attributes():
    root = parse_xml(b'<x:a xmlns:x="urn:x" xml:lang="en-US"><x:b x:c="1">t</x:b></x:a>')
    assert root.tag == "{urn:x}a"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert root[0].get("{urn:x}c") == "1" and root[0].text == "t"


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_service_answers_a_dtd_with_a_fault_and_changes_nothing(data):
    service = make_service()
    reply, root = call(service, "g2022dc", data)
    assert reply.status == 400 and not reply.wrote
    assert text(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value") == "w:SchemaValidationError"
    assert find(root, "s:Body/s:Fault/s:Detail/f:WSManFault").get("Code") == "2150858819"
    assert b"lollol" not in reply.body and b"root:" not in reply.body


def test_real_cim_session_request_headers_are_read():
    parsed = parse_request(fixture("wmi_enumerate_EPR_win32_diskdrive_request_cimsession_real.xml"))
    assert parsed.action == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
    assert parsed.to == "http://smnnovmsfs01:5985/wsman"
    assert parsed.message_id == "uuid:F7001EF7-6F3A-4A4C-A84B-97C3234529F8"
    assert parsed.operation_id == "uuid:252F987F-4C09-4A43-90FF-361F1416F49D"
    assert parsed.selectors == {"__cimnamespace": "root/cimv2"}
    assert parsed.options["msftwinrm:UsePreciseArrays"] == "true"
    assert parsed.max_envelope_size == 512000
    assert parsed.body.tag == "{%s}Enumerate" % NS["n"]


def test_max_envelope_size_above_the_service_limit_is_capped():
    parsed = parse_request(request(ENUMERATE_ACTION, ALL_CLASSES, max_envelope=10_000_000))
    assert parsed.max_envelope_size == 512000


ENUMERATE_ACTION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"


@pytest.mark.parametrize("value, seconds", [
    ("PT60.000S", 60.0), ("PT20S", 20.0), ("P0DT0H0M20S", 20.0), ("PT1M30S", 90.0), ("P1D", 86400.0), ("PT0.5S", 0.5)])
def test_valid_operation_timeouts(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["PT-1S", "P", "PT", "20", "PTS", "P1DT", "-PT1S", "PT1.S"])
def test_invalid_operation_timeouts(value):
    assert parse_duration(value) is None


def test_invalid_timeout_gets_the_real_windows_fault():
    """The pypsrp capture: Get with OperationTimeout PT-1S -> a:InvalidMessageInformationHeader, 2150858767."""
    service = make_service()
    reply, root = call(service, "g2022dc", fixture("fault_invalid_header_PT-1S_2150858767_request_pypsrp_real.xml"))
    real = parse(fixture("fault_invalid_header_PT-1S_2150858767_response_pypsrp_real.xml"))
    assert reply.status == 500
    assert structure(root) == structure(real)
    for path in ("s:Header/a:Action", "s:Header/a:RelatesTo", "s:Header/a:To", "s:Body/s:Fault/s:Code/s:Value",
                 "s:Body/s:Fault/s:Code/s:Subcode/s:Value", "s:Body/s:Fault/s:Reason/s:Text",
                 "s:Body/s:Fault/s:Detail/f:WSManFault/f:Message"):
        assert text(root, path) == text(real, path), path
    assert find(root, "s:Body/s:Fault/s:Detail/f:WSManFault").get("Code") == "2150858767"
    # Machine is the host the client addressed, as in the capture.
    assert find(root, "s:Body/s:Fault/s:Detail/f:WSManFault").get("Machine") == "127.0.0.1"


def test_success_response_headers():
    service = make_service()
    sent_id = "uuid:0CB1C49A-5054-4C12-AF30-FC60BE995DD9"
    _reply, root = call(service, "g2022dc", class_enumerate("Win32_OperatingSystem", msg_id=sent_id))
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert text(root, "s:Header/a:RelatesTo") == sent_id
    assert text(root, "s:Header/a:To") == ANONYMOUS
    assert UUID_RE.match(text(root, "s:Header/a:MessageID"))
    assert text(root, "s:Header/a:MessageID") != sent_id
    assert [child.tag.rpartition("}")[2] for child in find(root, "s:Header")] == ["Action", "MessageID", "To", "RelatesTo"]


def test_operation_id_is_echoed_like_windows():
    service = make_service()
    extra = '<p:OperationID mustUnderstand="false">uuid:252F987F-4C09-4A43-90FF-361F1416F49D</p:OperationID>'
    _reply, root = call(service, "g2022dc", class_enumerate("Win32_OperatingSystem", extra_headers=extra))
    assert text(root, "s:Header/p:OperationID") == "uuid:252F987F-4C09-4A43-90FF-361F1416F49D"
    assert text(root, "s:Header/p:SequenceId") == "1"


def test_unknown_action_is_action_not_supported():
    service = make_service()
    body = request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", ALL_CLASSES)
    reply, root = call(service, "g2022dc", body)
    assert reply.status == 500
    assert text(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value") == "a:ActionNotSupported"
    assert text(root, "s:Header/a:Action") == "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"


def test_cim_session_end_action_is_not_supported():
    """A CIM session ends with wsman/End; the lab serves pywinrm-style clients and refuses it as Windows refuses
    unknown actions, rather than answering an empty success."""
    service = make_service()
    end = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
           b'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
           b'<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wsman/FullDuplex</w:ResourceURI>'
           b'<a:Action>http://schemas.microsoft.com/wbem/wsman/1/wsman/End</a:Action>'
           b'<a:MessageID>uuid:07E5A2E9-775F-4664-B9C4-E073CAC8B343</a:MessageID></s:Header><s:Body></s:Body></s:Envelope>')
    _reply, root = call(service, "g2022dc", end)
    assert text(root, "s:Header/a:RelatesTo") == "uuid:07E5A2E9-775F-4664-B9C4-E073CAC8B343"
    assert text(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value") == "a:ActionNotSupported"


def test_missing_message_id_is_a_header_fault():
    service = make_service()
    body = class_enumerate("Win32_OperatingSystem").replace(b"<a:MessageID>", b"<a:X>").replace(b"</a:MessageID>", b"</a:X>")
    reply, root = call(service, "g2022dc", body)
    assert reply.status == 500
    assert text(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value") == "a:MessageInformationHeaderRequired"
    assert find(root, "s:Header/a:RelatesTo") is None


@pytest.mark.parametrize("size, code", [("4096", "2150858878"), ("big", "2150858767")])
def test_bad_max_envelope_size(size, code):
    service = make_service()
    reply, root = call(service, "g2022dc", wql_enumerate("SELECT * FROM Win32_OperatingSystem", max_envelope=size))
    assert reply.status == 500
    assert find(root, "s:Body/s:Fault/s:Detail/f:WSManFault").get("Code") == code


def test_not_a_soap_envelope_is_a_schema_fault():
    service = make_service()
    reply, root = call(service, "g2022dc", b"<Envelope><Body/></Envelope>")
    assert reply.status == 500
    assert text(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value") == "w:SchemaValidationError"


def test_request_for_a_resource_outside_wmi():
    """The pypsrp shell enumeration request (windows/shell): the lab only serves WMI, like a machine without the
    shell plugin; the fault is the real 'not found in the WS-Management catalog' one."""
    service = make_service()
    reply, root = call(service, "g2022dc", fixture("pypsrp_enumerate_shells_00_request.xml"))
    assert reply.status == 500
    assert text(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value") == "a:DestinationUnreachable"
    assert find(root, "s:Body/s:Fault/s:Detail/f:WSManFault").get("Code") == "2150858811"
    assert "was not found in the WS-Management catalog" in text(root, "s:Body/s:Fault/s:Reason/s:Text")


def test_parse_request_raises_wsman_fault_for_a_missing_body():
    with pytest.raises(WsmanFault) as raised:
        parse_request(b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/></s:Envelope>')
    assert raised.value.code == 2150858817
