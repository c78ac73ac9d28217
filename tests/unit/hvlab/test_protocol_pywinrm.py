# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab against pywinrm's own envelope builder and fault parser (the library the collection sends through):
what pywinrm sends is understood, and every fault the lab renders gives pywinrm its codes."""

import pytest
import xmltodict
from winrm.exceptions import WinRMOperationTimeoutError, WinRMTransportError, WSManFaultError
from winrm.protocol import Protocol

from hvlab.fleet import Fleet
from hvlab.service import WsmanService

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import ALL_CLASSES, WMI, WQL, FakeClock, make_service

ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"


class ServiceTransport:
    """Stands in for pywinrm's HTTP transport: hands the message to the lab and raises like pywinrm on non-200."""

    def __init__(self, service, machine):
        self.service = service
        self.machine = machine

    def send_message(self, message):
        reply = self.service.handle(self.machine, message.encode("utf-8"), user="Administrator")
        if reply.status != 200:
            raise WinRMTransportError("http", reply.status, reply.body.decode("utf-8"))
        return reply.body


def client(service, machine):
    protocol = Protocol(endpoint="http://%s:5985/wsman" % service.fleet.machines[machine].address, transport="plaintext",
                        username="Administrator", password="Lab-Passw0rd!")
    protocol.transport = ServiceTransport(service, machine)
    return protocol


def enumerate_message(protocol, query, resource_uri=ALL_CLASSES, selectors=None):
    envelope = {"env:Envelope": protocol.build_wsman_header(resource_uri=resource_uri, action=ENUMERATE)}
    if selectors:
        envelope["env:Envelope"]["env:Header"]["w:SelectorSet"] = {
            "w:Selector": [{"@Name": name, "#text": value} for name, value in selectors.items()]}
    envelope["env:Envelope"]["env:Body"] = {"n:Enumerate": {
        "w:OptimizeEnumeration": None, "w:MaxElements": "32000", "w:Filter": {"@Dialect": WQL, "#text": query}}}
    return xmltodict.unparse(envelope)


def test_pywinrm_enumerate_is_answered():
    service = make_service()
    protocol = client(service, "g2022dc")
    response = xmltodict.parse(protocol.send_message(enumerate_message(
        protocol, "SELECT PartialProductKey FROM SoftwareLicensingProduct WHERE PartialProductKey IS NOT NULL")))
    items = response["s:Envelope"]["s:Body"]["n:EnumerateResponse"]["w:Items"]
    assert items["w:XmlFragment"]["PartialProductKey"] == "DV9BG"


def styled_service(style):
    document = {"defaults": {"credentials": [{"user": "Administrator", "password": "Lab-Passw0rd!"}]},
                "machines": {"m1": {"address": "127.0.40.1", "kind": "guest", "fault_style": style,
                                    "os": {"version": "2022", "edition": "ServerDatacenter"}}}}
    return WsmanService(Fleet.from_document(document), clock=FakeClock())


@pytest.mark.parametrize("style, wsman_code, wmi_code", [
    ("combined", 2150858778, 0x80041010),
    ("wmi_error", None, 0x80041010),
    ("provider_fault", 2150858778, None),
])
def test_pywinrm_reads_the_codes_of_every_fault_style(style, wsman_code, wmi_code):
    service = styled_service(style)
    protocol = client(service, "m1")
    with pytest.raises(WSManFaultError) as raised:
        protocol.send_message(enumerate_message(protocol, "SELECT * FROM Win32_NoSuchClass"))
    fault = raised.value
    assert fault.code == 500 and fault.fault_subcode == "n:CannotProcessFilter"
    assert (fault.wsman_fault_code, fault.wmierror_code) == (wsman_code, wmi_code)
    assert fault.reason.startswith("The data source could not process the filter.")


def test_pywinrm_turns_the_injected_timeout_into_its_timeout_error():
    service = make_service()
    service.inject_fault({"machine": "g2016dc", "kind": "operation_timeout", "count": 1})
    protocol = client(service, "g2016dc")
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.send_message(enumerate_message(protocol, "SELECT * FROM Win32_OperatingSystem"))


def test_pywinrm_reads_a_fault_without_a_wmi_error():
    service = make_service()
    protocol = client(service, "g2022dc")
    message = enumerate_message(protocol, "SELECT * FROM SoftwareLicensingService",
                                resource_uri=WMI + "SoftwareLicensingService")
    with pytest.raises(WSManFaultError) as raised:
        protocol.send_message(message)
    assert raised.value.wsman_fault_code == 2150859003
