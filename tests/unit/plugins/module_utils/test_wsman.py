# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WsmanClient: settings, the request each verb sends, the Enumerate/Pull/Release flow and the response gate."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils import _wsman
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaError, AvmaValueError, WsmanProtocolError
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import NAMESPACES, Action, WinrmSettings, WsmanClient
from ansible_collections.hyperv.avma.plugins.module_utils._xml import local_name, qname

CIMV2_WILDCARD = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*"
OS_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem"
DISK_URI = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/win32_diskdrive"
SLS_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/SoftwareLicensingService"
WQL = "SELECT * FROM Win32_OperatingSystem"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"


# -- settings ---------------------------------------------------------------------------------------------------------

def test_settings_endpoint_and_display_name():
    settings = WinrmSettings(host="127.0.10.11", user="u", password="p", label="g2022dc")
    assert settings.endpoint == "http://127.0.10.11:5985/wsman"
    assert settings.display_name == "g2022dc (127.0.10.11:5985)"
    ipv6 = WinrmSettings(host="fd00::11", port=5986, scheme="https", user="u", password="p")
    assert ipv6.endpoint == "https://[fd00::11]:5986/wsman"
    assert ipv6.display_name == "[fd00::11]:5986"


def test_settings_never_show_the_password_or_proxy_credentials():
    settings = WinrmSettings(host="h", user="u", password="s3cr3t-pw", proxy="http://pu:proxy-pw@proxy:3128")
    assert "s3cr3t-pw" not in repr(settings) and "proxy-pw" not in repr(settings)


@pytest.mark.parametrize("overrides, message", [
    (dict(read_timeout_sec=20), "read_timeout_sec (20) must be greater than operation_timeout_sec (20)"),
    (dict(operation_timeout_sec=0), "operation_timeout_sec must be at least 1"),
    (dict(scheme="ftp"), "scheme must be http or https"),
    (dict(transport="digest"), "transport must be one of"),
    (dict(password=None), "transport ntlm needs user and password"),
    (dict(transport="certificate"), "transport certificate needs cert_pem and cert_key_pem"),
    (dict(transport="certificate", cert_pem="c", cert_key_pem="k"), "transport certificate needs scheme https"),
    (dict(transport="basic", message_encryption="always"), "message_encryption=always needs ntlm"),
    (dict(server_cert_validation="maybe"), "server_cert_validation must be validate or ignore"),
    (dict(port=70000), "port must be 1-65535"),
    (dict(host="http://h/wsman"), "host must be a host name or address"),
    (dict(path="wsman"), "path must start with '/'"),
    (dict(retries=-1), "must not be negative"),
    (dict(max_envelope_size=100), "max_envelope_size must be at least 8192"),
])
def test_settings_validation(overrides, message):
    values = dict(host="h", user="u", password="p")
    values.update(overrides)
    with pytest.raises(AvmaValueError, match=re.escape(message)):
        WinrmSettings(**values)


def test_kerberos_needs_no_password():
    assert WinrmSettings(host="h", transport="kerberos").user is None


def test_missing_pywinrm_is_reported_clearly(monkeypatch, settings):
    monkeypatch.setattr(_wsman, "HAS_WINRM", False)
    monkeypatch.setattr(_wsman, "WINRM_IMPORT_ERROR", "Traceback ...\nModuleNotFoundError: No module named 'winrm'\n")
    with pytest.raises(AvmaError) as caught:
        WsmanClient(settings)
    assert "pywinrm is required on the controller" in str(caught.value)
    assert "No module named 'winrm'" in str(caught.value) and "\n" not in str(caught.value)


# -- default transport ------------------------------------------------------------------------------------------------

class RecordingTransport:
    built: list[dict] = []

    def __init__(self, **kwargs):
        RecordingTransport.built.append(kwargs)
        self.closed = False

    def send_message(self, message):
        raise AssertionError("not sent in these tests")

    def close_session(self):
        self.closed = True


def test_pywinrm_transport_is_built_lazily_with_the_settings(monkeypatch):
    RecordingTransport.built = []
    monkeypatch.setattr(_wsman, "Transport", RecordingTransport)
    settings = WinrmSettings(host="h", port=5986, scheme="https", user="u", password="p", ca_trust_path="/ca.pem",
                             operation_timeout_sec=40, read_timeout_sec=50, server_cert_validation="ignore")
    client = WsmanClient(settings)
    assert not RecordingTransport.built
    transport = client._get_transport("Get X")
    assert RecordingTransport.built == [dict(
        endpoint="https://h:5986/wsman", username="u", password="p", service="HTTP", cert_pem=None, cert_key_pem=None,
        read_timeout_sec=50, server_cert_validation="ignore", kerberos_delegation=False, kerberos_hostname_override=None,
        auth_method="ntlm", message_encryption="auto", credssp_disable_tlsv1_2=False, ca_trust_path="/ca.pem")]
    assert client._get_transport("Get X") is transport  # one per client
    client.close()
    assert transport.closed


def test_transport_passed_in_belongs_to_the_caller(make_client):
    client, transport = make_client()
    client.close()
    assert not transport.closed


def test_context_manager_closes(monkeypatch, settings):
    RecordingTransport.built = []
    monkeypatch.setattr(_wsman, "Transport", RecordingTransport)
    with WsmanClient(settings) as client:
        transport = client._get_transport("Get X")
    assert transport.closed


# -- Identify and Get -------------------------------------------------------------------------------------------------

def test_identify(make_client, wire):
    client, transport = make_client(wire("wsman_identify_response_win2016_real.xml"))
    assert client.identify() == {
        "protocol_version": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
        "product_vendor": "Microsoft Corporation",
        "product_version": "OS: 10.0.14393 SP: 0.0 Stack: 3.0",
        "security_profiles": [
            "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic",
            "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/basic",
            "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos",
            "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/spnego-kerberos",
        ],
    }
    request = transport.requests[0]
    assert len(request.header) == 0  # Identify carries no addressing headers (DSP0226)
    assert [local_name(item.tag) for item in request.body] == ["Identify"]
    assert client.request_count == 1


def test_get_builds_the_full_header(make_client, wire):
    client, transport = make_client(wire("get_msvm_concretejob_completed_synthetic.xml"))
    instance = client.get("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob",
                          {"InstanceID": "5D8B", "Index": 3}, options={"IncludeInheritedElements": True})
    assert local_name(instance.tag) == "Msvm_ConcreteJob"
    request = transport.requests[0]
    must_understand = qname(NAMESPACES["s"], "mustUnderstand")
    assert request.action == Action.GET
    assert request.resource_uri.endswith("/root/virtualization/v2/Msvm_ConcreteJob")
    assert request.header.find("w:ResourceURI", NAMESPACES).get(must_understand) == "true"
    assert request.header_text("a:To") == "http://127.0.10.11:5985/wsman"
    assert request.header_text("a:ReplyTo/a:Address") == ANONYMOUS
    assert request.header_text("w:MaxEnvelopeSize") == "512000"
    assert request.header_text("w:OperationTimeout") == "PT20S"
    assert re.fullmatch(r"uuid:[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}", request.message_id)
    locale = request.header.find("w:Locale", NAMESPACES)
    assert locale.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US" and locale.get(must_understand) == "false"
    assert request.header.find("p:DataLocale", NAMESPACES) is not None
    assert request.selectors == {"InstanceID": "5D8B", "Index": "3"}
    assert request.options == {"IncludeInheritedElements": "true"}
    assert len(request.body) == 0


def test_each_request_has_a_new_message_id(make_client, wire):
    client, transport = make_client(*[wire("get_msvm_concretejob_completed_synthetic.xml")] * 2)
    client.get(OS_URI, {"Name": "x"})
    client.get(OS_URI, {"Name": "x"})
    assert transport.requests[0].message_id != transport.requests[1].message_id


def test_get_with_empty_body(make_client, wire):
    client, _transport = make_client(wire("release_response_synthetic.xml"))
    with pytest.raises(WsmanProtocolError, match="GetResponse body is empty") as caught:
        client.get(OS_URI, {"Name": "x"})
    assert str(caught.value).startswith("g2022dc (127.0.10.11:5985): Get Win32_OperatingSystem: ")


def test_bad_selector_value_is_a_value_error_with_context(make_client):
    client, transport = make_client()
    with pytest.raises(AvmaValueError, match="selector Name must be a string") as caught:
        client.get(OS_URI, {"Name": 1.5})
    assert caught.value.operation == "Get Win32_OperatingSystem" and not transport.requests


# -- Enumerate / Pull / Release -----------------------------------------------------------------------------------------

def test_enumerate_that_fits_in_one_envelope_costs_one_request(make_client, wire):
    client, transport = make_client(wire("enumerate_win32_operatingsystem_response_synthetic.xml"))
    items = client.enumerate(CIMV2_WILDCARD, wql=WQL)
    assert [local_name(item.tag) for item in items] == ["Win32_OperatingSystem"]
    assert client.request_count == 1
    request = transport.requests[0]
    assert request.action == Action.ENUMERATE
    assert request.resource_uri == CIMV2_WILDCARD
    enumerate_body = request.body.find("n:Enumerate", NAMESPACES)
    assert [local_name(item.tag) for item in enumerate_body] == ["OptimizeEnumeration", "MaxElements", "Filter"]
    assert request.body_text("n:Enumerate/w:MaxElements") == "32000"
    wql_filter = enumerate_body.find("w:Filter", NAMESPACES)
    assert wql_filter.get("Dialect") == "http://schemas.microsoft.com/wbem/wsman/1/WQL" and wql_filter.text == WQL


def test_enumerate_request_matches_the_real_cim_session_shape(make_client, wire):
    """Our Enumerate body carries the same elements, in the same order, as PowerShell's CIM session does."""
    client, transport = make_client(wire("enumerate_win32_operatingsystem_response_synthetic.xml"))
    client.enumerate(DISK_URI, enumeration_mode="EnumerateObjectAndEPR")
    real = ET.fromstring(wire("wmi_enumerate_EPR_win32_diskdrive_request_cimsession_real.xml"))
    real_body = real.find("s:Body/n:Enumerate", NAMESPACES)
    ours = transport.requests[0].body.find("n:Enumerate", NAMESPACES)
    assert [(item.tag, item.text) for item in ours] == [(item.tag, item.text) for item in real_body]


def test_enumerate_pulls_until_end_of_sequence(make_client, wire):
    client, transport = make_client(wire("wmi_enumerate_EPR_win32_diskdrive_response_real.xml"),
                                    wire("wmi_pull_response_EndOfSequence_real.xml"))
    items = client.enumerate(DISK_URI, enumeration_mode="EnumerateObjectAndEPR")
    device_ids = [item.find("{*}Win32_DiskDrive/{*}DeviceID").text for item in items]
    assert device_ids == [r"\\.\PHYSICALDRIVE0", r"\\.\PHYSICALDRIVE2", r"\\.\PHYSICALDRIVE3", r"\\.\PHYSICALDRIVE1"]
    assert client.request_count == 2
    pull = transport.requests[1]
    assert pull.action == Action.PULL and pull.resource_uri == DISK_URI
    assert pull.body_text("n:Pull/n:EnumerationContext") == "uuid:58109219-945F-45AC-8EAA-8F021221F0A6"
    assert pull.body_text("n:Pull/n:MaxElements") == "32000"


def test_enumerate_with_limit_releases_the_open_enumeration(make_client, wire):
    client, transport = make_client(wire("wmi_enumerate_EPR_win32_diskdrive_response_real.xml"),
                                    wire("pull_response_more_items_synthetic.xml"),
                                    wire("release_response_synthetic.xml"))
    items = client.enumerate(DISK_URI, limit=2)
    assert len(items) == 2
    assert [request.action for request in transport.requests] == [Action.ENUMERATE, Action.PULL, Action.RELEASE]
    assert transport.requests[0].body_text("n:Enumerate/w:MaxElements") == "2"
    assert transport.requests[1].body_text("n:Pull/n:MaxElements") == "1"
    # Release names the context the last PullResponse handed out.
    assert transport.requests[2].body_text("n:Release/n:EnumerationContext") == "uuid:7D6C5B4A-0000-4000-8000-00000000C0DE"


def test_limit_reached_in_the_enumerate_response(make_client, wire):
    client, transport = make_client(wire("wmi_enumerate_EPR_win32_diskdrive_response_real.xml"),
                                    wire("release_response_synthetic.xml"))
    assert len(client.enumerate(DISK_URI, limit=1)) == 1
    assert [request.action for request in transport.requests] == [Action.ENUMERATE, Action.RELEASE]
    assert transport.requests[1].body_text("n:Release/n:EnumerationContext") == "uuid:58109219-945F-45AC-8EAA-8F021221F0A6"


def test_no_release_when_the_sequence_ended(make_client, wire):
    client, transport = make_client(wire("enumerate_softwarelicensingproduct_response_synthetic.xml"))
    assert len(client.enumerate(CIMV2_WILDCARD, wql="SELECT * FROM SoftwareLicensingProduct", limit=2)) == 2
    assert len(transport.requests) == 1


def test_enumerate_needs_end_or_context(make_client, wire):
    client, _transport = make_client(wire("enumerate_response_no_context_no_end_synthetic.xml"))
    with pytest.raises(WsmanProtocolError, match="neither EndOfSequence nor an EnumerationContext") as caught:
        client.enumerate(CIMV2_WILDCARD, wql=WQL)
    assert caught.value.operation == "Enumerate Win32_OperatingSystem"


def test_endless_empty_pulls_are_cut_off(make_client, wire):
    client, transport = make_client(wire("wmi_enumerate_EPR_win32_diskdrive_response_real.xml"),
                                    *[wire("pull_response_empty_synthetic.xml")] * 10)
    with pytest.raises(WsmanProtocolError, match="10 Pull responses in a row carried no items"):
        client.enumerate(DISK_URI)
    assert len(transport.requests) == 11


def test_enumerate_argument_checks(make_client):
    client, transport = make_client()
    with pytest.raises(AvmaValueError, match="must be at least 1"):
        client.enumerate(CIMV2_WILDCARD, wql=WQL, limit=0)
    with pytest.raises(AvmaValueError, match="must be at least 1"):
        client.enumerate(CIMV2_WILDCARD, wql=WQL, max_elements=0)
    assert not transport.requests


def test_wrong_response_element(make_client, wire):
    client, _transport = make_client(wire("get_msvm_concretejob_completed_synthetic.xml"))
    with pytest.raises(WsmanProtocolError, match="expected n:EnumerateResponse, got Msvm_ConcreteJob"):
        client.enumerate(CIMV2_WILDCARD, wql=WQL)


# -- Invoke -----------------------------------------------------------------------------------------------------------

def _install_product_key_input(key: str = "W3GNR-8DDXR-2TFRP-H8P33-DV9BG") -> ET.Element:
    root = ET.Element(qname(SLS_URI, "InstallProductKey_INPUT"))
    ET.SubElement(root, qname(SLS_URI, "ProductKey")).text = key
    return root


def test_invoke(make_client, wire):
    client, transport = make_client(wire("invoke_installproductkey_ok_synthetic.xml"))
    output = client.invoke(SLS_URI, "InstallProductKey", _install_product_key_input(), {"Version": "10.0.20348.1"})
    assert local_name(output.tag) == "InstallProductKey_OUTPUT"
    request = transport.requests[0]
    assert request.action == SLS_URI + "/InstallProductKey"
    assert request.resource_uri == SLS_URI
    assert request.selectors == {"Version": "10.0.20348.1"}
    assert request.body_text(f"{{{SLS_URI}}}InstallProductKey_INPUT/{{{SLS_URI}}}ProductKey") == "W3GNR-8DDXR-2TFRP-H8P33-DV9BG"


def test_invoke_checks_the_output_element(make_client, wire):
    client, _transport = make_client(wire("invoke_installproductkey_ok_synthetic.xml"))
    with pytest.raises(WsmanProtocolError, match="expected Activate_OUTPUT, got InstallProductKey_OUTPUT") as caught:
        client.invoke(SLS_URI, "Activate", _install_product_key_input())
    assert caught.value.operation == "Invoke SoftwareLicensingService.Activate"


def test_invoke_refuses_a_bad_method_name(make_client):
    client, transport = make_client()
    with pytest.raises(AvmaValueError, match="invalid method name"):
        client.invoke(SLS_URI, "../Delete", _install_product_key_input())
    assert not transport.requests


# -- the response gate ------------------------------------------------------------------------------------------------

def test_relates_to_mismatch_is_refused(make_client, wire):
    client, _transport = make_client(wire("enumerate_win32_operatingsystem_response_synthetic.xml"), echo_relates_to=False)
    with pytest.raises(WsmanProtocolError, match=r"RelatesTo uuid:00000000-0000-0000-0000-000000000000 does not match the MessageID sent"):
        client.enumerate(CIMV2_WILDCARD, wql=WQL)


def test_relates_to_comparison_ignores_uuid_case(make_client, wire):
    def lower_case_echo(request):
        return wire("get_msvm_concretejob_completed_synthetic.xml").replace(
            b"uuid:00000000-0000-0000-0000-000000000000", request.message_id.lower().encode())
    client, _transport = make_client(lower_case_echo, echo_relates_to=False)
    client.get(OS_URI, {"Name": "x"})


def test_missing_relates_to_is_refused_on_success(make_client, wire):
    no_relates_to = re.sub(rb"<a:RelatesTo>[^<]*</a:RelatesTo>", b"", wire("get_msvm_concretejob_completed_synthetic.xml"))
    client, _transport = make_client(no_relates_to)
    with pytest.raises(WsmanProtocolError, match="no RelatesTo header"):
        client.get(OS_URI, {"Name": "x"})


@pytest.mark.parametrize("answer, message", [
    (b"<html><body>It works</body></html>", "not a SOAP 1.2 envelope"),
    (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>', "not a SOAP 1.2 envelope"),
    (b"<s:Envelope", "malformed XML"),
])
def test_answers_that_are_not_soap_envelopes(make_client, answer, message):
    client, _transport = make_client(answer)
    with pytest.raises(WsmanProtocolError, match=message) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert caught.value.machine == "g2022dc (127.0.10.11:5985)" and caught.value.operation == "Get Win32_OperatingSystem"


@pytest.mark.parametrize("sample", [
    "entity_billion_laughs_envelope_synthetic.xml",
    "entity_external_envelope_synthetic.xml",
    "entity_parameter_envelope_synthetic.xml",
])
def test_hostile_envelopes_are_refused(make_client, wire, sample):
    client, _transport = make_client(wire(sample))
    with pytest.raises(WsmanProtocolError, match="refused") as caught:
        client.get(OS_URI, {"Name": "x"})
    assert caught.value.operation == "Get Win32_OperatingSystem"


def test_oversized_answer_is_refused(make_client):
    client, _transport = make_client(b"<x>" + b"a" * 40000 + b"</x>", max_envelope_size=8192)
    with pytest.raises(WsmanProtocolError, match="exceeds the limit of 32768"):
        client.get(OS_URI, {"Name": "x"})
