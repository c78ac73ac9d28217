# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest registry over StdRegProv: the calls on the wire, return codes, one-element arrays, bounds on guest data."""

from __future__ import annotations

import pytest
from ansible_collections.hyperv.avma.tests.unit.plugins.module_utils.fake_guest_cim import GUEST_KEY, PARAMETERS_KEY, FakeGuest

from ansible_collections.hyperv.avma.plugins.module_utils import _guest_registry as registry
from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError, WsmanProtocolError

STDREGPROV_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/StdRegProv"


def output(method, *elements):
    """A synthetic <method>_OUTPUT envelope (shape of MS-WSMV 4.1.4), with the given output elements."""
    body = "".join("<p:%s>%s</p:%s>" % (name, value, name) for name, value in elements)
    return ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
            '<s:Header><a:Action>%s/%sResponse</a:Action><a:MessageID>uuid:1</a:MessageID>'
            '<a:RelatesTo>uuid:0</a:RelatesTo></s:Header><s:Body><p:%s_OUTPUT xmlns:p="%s">%s</p:%s_OUTPUT></s:Body></s:Envelope>'
            % (STDREGPROV_URI, method, method, STDREGPROV_URI, body, method)).encode()


def test_enum_values_on_the_wire(make_client):
    wsman, transport = make_client(output("EnumValues", ("sNames", "HyperVAvma.Status"), ("sNames", "Other"), ("Types", "1"), ("Types", "4"),
                                          ("ReturnValue", "0")))
    assert registry.enum_values(CimClient(wsman), GUEST_KEY) == [("HyperVAvma.Status", 1), ("Other", 4)]
    request = transport.requests[0]
    assert request.action == STDREGPROV_URI + "/EnumValues"
    assert request.resource_uri == STDREGPROV_URI
    assert request.selectors == {}  # a static method: invoked on the class
    assert request.body_text("{%s}EnumValues_INPUT/{%s}hDefKey" % (STDREGPROV_URI, STDREGPROV_URI)) == "2147483650"
    assert request.body_text("{%s}EnumValues_INPUT/{%s}sSubKeyName" % (STDREGPROV_URI, STDREGPROV_URI)) == GUEST_KEY


def test_one_element_arrays_on_the_wire(make_client):
    wsman, _transport = make_client(output("EnumKey", ("sNames", "Parameters"), ("ReturnValue", "0")))
    assert registry.enum_keys(CimClient(wsman), GUEST_KEY.rsplit("\\", 1)[0] + "\\Guest") == ["Parameters"]


def test_set_string_value_on_the_wire(make_client):
    wsman, transport = make_client(output("SetStringValue", ("ReturnValue", "0")))
    registry.set_string_value(CimClient(wsman), GUEST_KEY, "HyperVAvma.Status", "Licensed")
    body = transport.requests[0].body
    names = [element.tag.split("}")[1] for element in body[0]]
    assert names == ["hDefKey", "sSubKeyName", "sValueName", "sValue"]
    assert [element.text for element in body[0]][2:] == ["HyperVAvma.Status", "Licensed"]


@pytest.mark.parametrize("code", ["1", "2"])
def test_a_missing_value_or_key_reads_as_none(make_client, code):
    # 2: the key is missing; 1 (ERROR_INVALID_FUNCTION): what StdRegProv is seen to answer for a missing value.
    wsman, _transport = make_client(output("GetStringValue", ("ReturnValue", code)))
    assert registry.get_string_value(CimClient(wsman), GUEST_KEY, "HyperVAvma.Status") is None


def test_access_denied_names_key_value_and_machine(make_client):
    wsman, _transport = make_client(output("GetStringValue", ("ReturnValue", "5")))
    with pytest.raises(registry.GuestRegistryError) as caught:
        registry.get_string_value(CimClient(wsman), PARAMETERS_KEY, "HostName")
    message = str(caught.value)
    assert message.startswith("g2022dc")
    assert "HKLM\\" + PARAMETERS_KEY in message and "'HostName'" in message and "access denied" in message
    assert caught.value.return_value == 5


def test_kvp_keys():
    assert registry.KVP_KEYS == {
        "auto": r"SOFTWARE\Microsoft\Virtual Machine\Auto",
        "guest": r"SOFTWARE\Microsoft\Virtual Machine\Guest",
        "external": r"SOFTWARE\Microsoft\Virtual Machine\External",
        "guest_parameters": r"SOFTWARE\Microsoft\Virtual Machine\Guest\Parameters",
    }
    assert registry.HKLM == 0x80000002


def test_enum_keys_and_values_of_the_fake_guest():
    guest = FakeGuest(registry={GUEST_KEY: {"A": (1, "x")}, PARAMETERS_KEY: {"HostName": (1, "hv"), "Count": (4, "7")}})
    assert registry.enum_keys(guest, r"SOFTWARE\Microsoft\Virtual Machine") == ["Auto", "External", "Guest"]
    assert registry.enum_keys(guest, GUEST_KEY) == ["Parameters"]
    assert registry.enum_values(guest, GUEST_KEY) == [("A", 1)]
    assert registry.enum_values(guest, PARAMETERS_KEY) == [("HostName", 1), ("Count", 4)]
    assert registry.enum_values(guest, r"SOFTWARE\Microsoft\Virtual Machine\Auto") == []


def test_missing_key_reads_as_empty_and_missing_value_as_none():
    guest = FakeGuest()
    assert registry.enum_keys(guest, r"SOFTWARE\Nope") == []
    assert registry.enum_values(guest, r"SOFTWARE\Nope") == []
    assert registry.get_string_value(guest, GUEST_KEY, "Nope") is None
    assert registry.get_string_value(guest, r"SOFTWARE\Nope", "Nope") is None
    assert registry.delete_value(guest, GUEST_KEY, "Nope") is False


def test_set_then_delete():
    guest = FakeGuest()
    registry.set_string_value(guest, GUEST_KEY, "HyperVAvma.Status", "Licensed")
    assert registry.get_string_value(guest, GUEST_KEY, "HyperVAvma.Status") == "Licensed"
    assert registry.delete_value(guest, GUEST_KEY, "HyperVAvma.Status") is True
    assert guest.values() == {}


def test_set_on_a_missing_key_fails_with_not_found():
    with pytest.raises(registry.GuestRegistryError) as caught:
        registry.set_string_value(FakeGuest(), r"SOFTWARE\Nope", "A", "b")
    assert "not found" in str(caught.value) and caught.value.return_value == 2


def test_denied_enumeration_is_an_error_not_an_empty_list():
    guest = FakeGuest(denied_keys=[GUEST_KEY])
    with pytest.raises(registry.GuestRegistryError, match="access denied"):
        registry.enum_values(guest, GUEST_KEY)


def test_read_string_values_is_bounded():
    values = {"Big": (1, "x" * 5000), "N" * 2000: (1, "long name"), "Binary": (3, "AQI="), "Short": (1, "ok")}
    values.update({"Item%03d" % index: (1, str(index)) for index in range(300)})
    guest = FakeGuest(registry={GUEST_KEY: values})
    read = registry.read_string_values(guest, GUEST_KEY, max_values=10, max_length=1024)
    assert len(read) == 10
    assert read["Big"] == "x" * 1024
    assert "N" * 2000 not in read and "Binary" not in read
    gets = [call for call in guest.calls if call[0] == "invoke" and call[2] == "GetStringValue"]
    assert len(gets) == 10  # nothing read beyond the bound


def test_read_string_values_skips_values_of_other_types_without_reading_them():
    guest = FakeGuest(registry={PARAMETERS_KEY: {"HostName": (1, "HV2022"), "Flags": (4, "1")}})
    assert registry.read_string_values(guest, PARAMETERS_KEY) == {"HostName": "HV2022"}
    assert [call[3].get("sValueName") for call in guest.calls if call[2] == "GetStringValue"] == ["HostName"]


@pytest.mark.parametrize("call", [
    lambda guest: registry.enum_keys(guest, ""),
    lambda guest: registry.enum_values(guest, "\\"),
    lambda guest: registry.get_string_value(guest, GUEST_KEY, "a\x00b"),
    lambda guest: registry.set_string_value(guest, GUEST_KEY, "A", "b\x00"),
    lambda guest: registry.set_string_value(guest, GUEST_KEY, "A", 5),
    lambda guest: registry.read_string_values(guest, GUEST_KEY, max_length=0),
])
def test_bad_input_is_refused_before_any_request(call):
    guest = FakeGuest()
    with pytest.raises(AvmaValueError):
        call(guest)
    assert guest.calls == []


def test_names_and_types_that_do_not_pair_up_are_a_protocol_error(make_client):
    wsman, _transport = make_client(output("EnumValues", ("sNames", "A"), ("sNames", "B"), ("Types", "1"), ("ReturnValue", "0")))
    with pytest.raises(WsmanProtocolError, match="2 names but 1 types"):
        registry.enum_values(CimClient(wsman), GUEST_KEY)
