# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host-side operations through the real CimClient and WsmanClient over a fake transport: embedded KVP items in
every wire form, hostile items isolated per item, and the KVP methods' request and job handling."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient, UndecodableValue, decode_instance, parse_embedded_instance
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError
from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import KVP_COMPONENT, KVP_INFO_SPEC, KVP_ITEM_SPEC, kvp_info_task, kvp_item_task
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import NAMESPACES
from ansible_collections.hyperv.avma.plugins.module_utils._xml import parse_xml

V2_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
VM_ID = "B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E"
ENVELOPE = """<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><s:Header>
<a:Action>%s</a:Action>
<a:MessageID>uuid:0B6C0E4E-5A52-4C0F-9B1A-6C1D2E3F4A99</a:MessageID>
<a:RelatesTo>uuid:00000000-0000-0000-0000-000000000000</a:RelatesTo></s:Header><s:Body>%s</s:Body></s:Envelope>"""


def response(action, body):
    return (ENVELOPE % (action, body)).encode()


def cim_item(name, data, source):
    return ('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Caption" TYPE="string"></PROPERTY>'
            '<PROPERTY NAME="Data" TYPE="string"><VALUE>%s</VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
            '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>%d</VALUE></PROPERTY></INSTANCE>' % (escape(data), escape(name), source))


ENTITY_ITEM = ('<?xml version="1.0"?><!DOCTYPE INSTANCE [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
               '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>&b;</VALUE></PROPERTY>'
               '<PROPERTY NAME="Name" TYPE="string"><VALUE>Bomb</VALUE></PROPERTY></INSTANCE>')


def wire_value(text, form):
    """One array element's content in a wire form: escaped text, CDATA, or nested elements."""
    if form == "escaped":
        return escape(text)
    if form == "cdata":
        return "<![CDATA[%s]]>" % text
    return text


def enumerate_response(class_name, rows):
    """An EnumerateResponse holding ``rows`` (lists of (property, content-xml)) as p:<class> instances, all at once."""
    items = []
    for row in rows:
        properties = "".join("<p:%s>%s</p:%s>" % (name, content, name) for name, content in row)
        items.append('<p:%s xmlns:p="%s/%s">%s</p:%s>' % (class_name, V2_URI, class_name, properties, class_name))
    return response("http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse",
                    "<n:EnumerateResponse><w:Items>%s</w:Items><w:EndOfSequence/></n:EnumerateResponse>" % "".join(items))


def host_answers(form, guest_values):
    systems = enumerate_response("Msvm_ComputerSystem", [
        [("Name", "HV01"), ("ElementName", "HV01"), ("Caption", "Hosting Computer System"), ("EnabledState", "2")],
        [("Name", VM_ID), ("ElementName", "web01"), ("Caption", "Virtual Machine"), ("EnabledState", "2")],
    ])
    components = enumerate_response("Msvm_KvpExchangeComponent", [[
        ("SystemName", VM_ID), ("OperationalStatus", "2"),
        ("GuestIntrinsicExchangeItems", wire_value(cim_item("FullyQualifiedDomainName", "web01.corp", 2), form)),
        ("GuestIntrinsicExchangeItems", wire_value(cim_item("NetworkAddressIPv4", "10.0.0.5;10.0.0.6", 2), form)),
        *[("GuestExchangeItems", wire_value(text, form)) for text in guest_values],
    ]])
    settings = enumerate_response("Msvm_KvpExchangeComponentSettingData", [[
        ("InstanceID", "Microsoft:%s\\2A34B1C2-FD73-4043-9B6E-EA7E5D3D9E17\\0" % VM_ID), ("EnabledState", "2"),
        ("HostExchangeItems", wire_value(cim_item("HyperVAvma.Owner", "ops", 0), form)),
    ]])
    return systems, components, settings


def params(spec, **given):
    values = {name: option.get("default") for name, option in spec.items()}
    values.update(given)
    return values


@pytest.fixture
def cim(make_client):
    def factory(*answers):
        wsman, transport = make_client(*answers)
        return CimClient(wsman, sleep=lambda _seconds: None), transport
    return factory


@pytest.mark.parametrize("form", ["escaped", "cdata", "nested"])
def test_every_wire_form_gives_the_same_items(cim, form):
    client, transport = cim(*host_answers(form, [cim_item("AppRole", "web & db <1>", 1)]))
    result = kvp_info_task(client, params(KVP_INFO_SPEC), False, False)
    assert len(transport.requests) == 3
    vm = result["vms"][0]
    assert vm["intrinsic_items"] == {"FullyQualifiedDomainName": "web01.corp", "NetworkAddressIPv4": "10.0.0.5;10.0.0.6"}
    assert vm["guest_items"] == {"AppRole": "web & db <1>"}
    assert vm["host_items"] == {"HyperVAvma.Owner": "ops"}
    assert vm["intrinsic_facts"]["ipv4_addresses"] == ["10.0.0.5", "10.0.0.6"]
    assert vm["issues"] == []


@pytest.mark.parametrize("form", ["escaped", "cdata"])
def test_an_entity_payload_is_refused_for_its_item_only(cim, form):
    hostile = [cim_item("Before", "1", 1), ENTITY_ITEM, cim_item("Tmpl", "{{ lookup('pipe', 'id') }}", 1), cim_item("Big", "x" * 5120, 1)]
    client, _transport = cim(*host_answers(form, hostile))
    vm = kvp_info_task(client, params(KVP_INFO_SPEC), False, False)["vms"][0]
    assert vm["guest_items"] == {"Before": "1", "Tmpl": "{{ lookup('pipe', 'id') }}", "Big": "x" * 1024}
    undecodable = [issue for issue in vm["issues"] if issue["code"] == "undecodable"]
    assert len(undecodable) == 1 and "DOCTYPE" in undecodable[0]["message"] and "item 2" in undecodable[0]["message"]
    assert "aaaaaaaaaa" not in repr(vm)
    assert sorted(issue["code"] for issue in vm["issues"]) == ["template_syntax", "undecodable", "value_truncated"]


def test_a_value_with_a_control_character_reference_is_isolated(cim):
    # A guest value with U+0001 cannot be carried by XML 1.0: its embedded text fails to parse, alone.
    bad = cim_item("Ctl", "PLACEHOLDER", 1).replace("PLACEHOLDER", "&#1;")
    client, _transport = cim(*host_answers("escaped", [bad, cim_item("Good", "g", 1)]))
    vm = kvp_info_task(client, params(KVP_INFO_SPEC), False, False)["vms"][0]
    assert vm["guest_items"] == {"Good": "g"}
    assert [issue["code"] for issue in vm["issues"]] == ["undecodable"]


JOB_REF = """<p:Job><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters>
<w:ResourceURI>%s/Msvm_ConcreteJob</w:ResourceURI><w:SelectorSet><w:Selector Name="InstanceID">JOB-1</w:Selector></w:SelectorSet>
</a:ReferenceParameters></p:Job>""" % V2_URI


def invoke_response(method, return_value, job=True):
    return response("%s/Msvm_VirtualSystemManagementService/%sResponse" % (V2_URI, method),
                    '<p:%s_OUTPUT xmlns:p="%s/Msvm_VirtualSystemManagementService">%s<p:ReturnValue>%d</p:ReturnValue></p:%s_OUTPUT>'
                    % (method, V2_URI, JOB_REF if job else "", return_value, method))


def job_response(state, code=0, description=""):
    return response("http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse",
                    '<p:Msvm_ConcreteJob xmlns:p="%s/Msvm_ConcreteJob"><p:InstanceID>JOB-1</p:InstanceID><p:JobState>%d</p:JobState>'
                    "<p:ErrorCode>%d</p:ErrorCode><p:ErrorDescription>%s</p:ErrorDescription></p:Msvm_ConcreteJob>" % (V2_URI, state, code, description))


SERVICE = enumerate_response("Msvm_VirtualSystemManagementService", [[
    ("CreationClassName", "Msvm_VirtualSystemManagementService"), ("Name", "vmms"), ("SystemCreationClassName", "Msvm_ComputerSystem"),
    ("SystemName", "HV01")]])


def test_remove_kvp_items_request_and_job(cim):
    systems, _components, settings = host_answers("escaped", [])
    client, transport = cim(systems, settings, SERVICE, invoke_response("RemoveKvpItems", 4096), job_response(4), job_response(7))
    result = kvp_item_task(client, params(KVP_ITEM_SPEC, vms=["web01"], state="absent", patterns=["HyperVAvma.*"]), False, True)
    assert result["changed"] is True and result.get("failed") is None
    invoke = transport.requests[3]
    assert invoke.action == V2_URI + "/Msvm_VirtualSystemManagementService/RemoveKvpItems"
    assert invoke.selectors == {"CreationClassName": "Msvm_VirtualSystemManagementService", "Name": "vmms",
                                "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": "HV01"}
    body = invoke.body.find("{%s/Msvm_VirtualSystemManagementService}RemoveKvpItems_INPUT" % V2_URI)
    target = body.find("{%s/Msvm_VirtualSystemManagementService}TargetSystem" % V2_URI)
    assert target.find("a:ReferenceParameters/w:ResourceURI", NAMESPACES).text == V2_URI + "/Msvm_ComputerSystem"
    selectors = {element.get("Name"): element.text for element in target.findall("a:ReferenceParameters/w:SelectorSet/w:Selector", NAMESPACES)}
    assert selectors == {"CreationClassName": "Msvm_ComputerSystem", "Name": VM_ID}
    items = body.findall("{%s/Msvm_VirtualSystemManagementService}DataItems" % V2_URI)
    assert len(items) == 1
    embedded = parse_embedded_instance(items[0].text)
    assert embedded.class_name == "Msvm_KvpExchangeDataItem"
    assert embedded.properties == {"Data": "ops", "Name": "HyperVAvma.Owner", "Source": 0}
    assert [request.action.rsplit("/", 1)[-1] for request in transport.requests[4:]] == ["Get", "Get"]


def test_a_failed_job_on_the_wire_names_the_vm(cim):
    systems, _components, settings = host_answers("escaped", [])
    client, _transport = cim(systems, settings, SERVICE, invoke_response("RemoveKvpItems", 4096),
                             job_response(10, 32768, "Injected failure"))
    result = kvp_item_task(client, params(KVP_ITEM_SPEC, vms=[VM_ID], state="absent", names=["HyperVAvma.Owner"]), False, False)
    assert result["failed"] is True
    assert "RemoveKvpItems: VM 'web01' (%s): job JOB-1 ended in state 10 (exception); error 32768: Injected failure" % VM_ID in result["msg"]


def test_isolated_decoding_replaces_only_the_bad_value(wire):
    envelope = parse_xml(wire("get_msvm_kvpexchangecomponent_entity_synthetic.xml"))
    element = next(iter(envelope.find("s:Body", NAMESPACES)))
    decoded = decode_instance(element, KVP_COMPONENT)
    [bad] = decoded["GuestIntrinsicExchangeItems"]
    assert isinstance(bad, UndecodableValue) and "DOCTYPE" in bad.reason and bad.size > 100
    nested = parse_xml('<p:C xmlns:p="urn:c"><p:GuestExchangeItems><INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">'
                       '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>one</VALUE></PROPERTY></INSTANCE></p:GuestExchangeItems>'
                       '<p:GuestExchangeItems><INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string">'
                       '<VALUE>ok</VALUE></PROPERTY></INSTANCE></p:GuestExchangeItems></p:C>')
    first, second = decode_instance(nested, KVP_COMPONENT)["GuestExchangeItems"]
    assert isinstance(first, UndecodableValue) and "Source" in first.reason
    assert second.get("Name") == "ok"


def test_errors_found_by_the_task_name_the_machine(cim):
    systems, _components, _settings = host_answers("escaped", [])
    no_cluster = enumerate_response("MSCluster_Resource", [])  # not a cluster node: no VM runs elsewhere
    client, _transport = cim(systems, no_cluster)
    with pytest.raises(AvmaValueError) as raised:
        kvp_item_task(client, params(KVP_ITEM_SPEC, vms=["ghost"], items={"a": "1"}), False, False)
    assert str(raised.value).startswith("g2022dc") and "ghost" in str(raised.value)
