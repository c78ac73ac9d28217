# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Embedded KVP items on the wire: each plausible form, both item shapes, and hostile guest data carried safely."""

import re
import xml.etree.ElementTree as ET

import pytest

from hvlab import hyperv
from hvlab.kvp_items import parse_item, render_item

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    V2, as_list, data_item, fleet_document, invoke_service, item_map, properties, service_for, vm_reference)
from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import call, find, local, request

WEB = hyperv.guest_vm_id("kvpweb")
HOSTILE = hyperv.guest_vm_id("kvphostile")
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"


def component_reply(service, vm_id):
    selectors = {"CreationClassName": "Msvm_KvpExchangeComponent", "DeviceID": hyperv.kvp_settings_id(vm_id),
                 "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": vm_id}
    return call(service, "hv1", request(GET, V2 + "Msvm_KvpExchangeComponent", "", selectors=selectors))


def with_wire(**wire):
    document = fleet_document("kvp_host")
    document["defaults"]["wire"] = wire
    return service_for(document)


def test_escaped_form_carries_the_instance_as_text():
    reply, root = component_reply(service_for("kvp_host"), WEB)
    assert b"&lt;INSTANCE CLASSNAME=\"Msvm_KvpExchangeDataItem\"&gt;" in reply.body
    items = find(root, "s:Body")[0].findall("{%s}GuestExchangeItems" % (V2 + "Msvm_KvpExchangeComponent"))
    assert all(len(element) == 0 for element in items)
    assert item_map([element.text for element in items]) == {"Role": ("web", 1), "Owner": ("team-a", 1)}


def test_cdata_form_carries_the_same_text_in_cdata_sections():
    reply, root = component_reply(with_wire(embedded_instance_form="cdata"), WEB)
    assert b"<![CDATA[<INSTANCE CLASSNAME=\"Msvm_KvpExchangeDataItem\">" in reply.body
    items = find(root, "s:Body")[0].findall("{%s}GuestExchangeItems" % (V2 + "Msvm_KvpExchangeComponent"))
    assert item_map([element.text for element in items]) == {"Role": ("web", 1), "Owner": ("team-a", 1)}


def test_nested_form_carries_instance_elements():
    _reply, root = component_reply(with_wire(embedded_instance_form="nested"), WEB)
    items = find(root, "s:Body")[0].findall("{%s}GuestExchangeItems" % (V2 + "Msvm_KvpExchangeComponent"))
    assert [local(element[0].tag) for element in items] == ["INSTANCE", "INSTANCE"]
    assert item_map([ET.tostring(element[0], encoding="unicode") for element in items]) == {
        "Role": ("web", 1), "Owner": ("team-a", 1)}


@pytest.mark.parametrize("shape, names", [
    ("full", ["Caption", "Data", "Description", "ElementName", "Name", "Source"]),
    ("minimal", ["Data", "Name", "Source"]),
])
def test_item_shapes(shape, names):
    _reply, root = component_reply(with_wire(kvp_item_shape=shape), WEB)
    text = find(root, "s:Body")[0].find("{%s}GuestIntrinsicExchangeItems" % (V2 + "Msvm_KvpExchangeComponent")).text
    instance = ET.fromstring(text)
    assert [prop.get("NAME") for prop in instance] == names
    assert all(prop.find("VALUE") is None for prop in instance if prop.get("NAME") in ("Caption", "Description", "ElementName"))


def hostile_texts(service):
    _reply, root = component_reply(service, HOSTILE)
    return [element.text for element in find(root, "s:Body")[0].findall(
        "{%s}GuestExchangeItems" % (V2 + "Msvm_KvpExchangeComponent"))]


def test_hostile_guest_items_arrive_escaped_and_unexpanded():
    service = service_for("kvp_host")
    reply, _root = component_reply(service, HOSTILE)
    texts = hostile_texts(service)
    assert b"<!DOCTYPE" not in reply.body and b"<!ENTITY" not in reply.body
    readable = {}
    for text in texts:
        try:
            readable.update({parse_item(text, strict=False)[0]: parse_item(text, strict=False)[1]})
        except ValueError:
            continue
    assert readable["TemplateLookup"] == "{{ lookup('pipe', 'id') }}"
    assert readable["{{ name_template }}"] == "a template as the item name"
    assert readable["BigValue"] == "A" * 5120
    assert readable["CdataEnd"] == "]]> and &amp; and <b>not markup</b>"
    assert readable["EntityExpansion"].startswith('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">')
    assert readable["ExternalEntity"] == '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>'
    control = next(text for text in texts if "ControlCharacters" in text)
    assert "bell&#7; escape&#27; vt&#11; nul&#0; tab\t end" in control
    assert "ControlCharacters" not in readable   # a strict parser refuses the character references: a client must cope


def test_raw_guest_items_are_passed_verbatim_after_the_regular_ones():
    texts = hostile_texts(service_for("kvp_host"))
    raw = fleet_document("kvp_host")["machines"]["kvphostile"]["vm"]["raw_guest_items"]
    assert texts[-3:] == raw


def test_hostile_items_in_cdata_form_stay_well_formed_outside():
    service = with_wire(embedded_instance_form="cdata")
    reply, _root = component_reply(service, HOSTILE)
    assert len(re.findall(rb"<!\[CDATA\[", reply.body)) >= 10
    assert "]]> and &amp;" not in reply.body.decode()


def test_the_lab_refuses_a_doctype_in_items_a_client_sends():
    service = service_for("kvp_host")
    bomb = ('<!DOCTYPE INSTANCE [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">'
            '<PROPERTY NAME="Name" TYPE="string"><VALUE>&b;</VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16">'
            '<VALUE>0</VALUE></PROPERTY></INSTANCE>')
    params = "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (
        vm_reference(WEB), bomb.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    _reply, _root, outs = invoke_service(service, "hv1", "AddKvpItems", params)
    assert int(outs["ReturnValue"][0].text) == 32773


def test_host_pushed_items_are_stored_as_sent_and_never_templated():
    service = service_for("kvp_host")
    params = "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (
        vm_reference(WEB), data_item("hyperv.avma.note", "{{ 7 * 7 }} &lt;x&gt;"))
    invoke_service(service, "hv1", "AddKvpItems", params)
    host = service.fleet.machines["hv1"]
    record = hyperv.vm_record(host, WEB)
    assert item_map(record.kvp_settings["HostExchangeItems"])["hyperv.avma.note"] == ("{{ 7 * 7 }} &lt;x&gt;", 0)


def test_render_and_parse_round_trip_every_printable_text():
    text = "".join(chr(code) for code in range(32, 0x2500)) + "\t\n"
    assert parse_item(render_item("name", text, 1), strict=False)[:2] == ("name", text)


def test_the_thousand_vm_items_are_all_well_formed_in_every_form():
    for form in ("escaped", "cdata"):
        document = fleet_document("kvp_1000")
        document["machines"]["hv1000"]["synthetic_vms"]["count"] = 3
        document["defaults"]["wire"] = {"embedded_instance_form": form}
        service = service_for(document)
        host = service.fleet.machines["hv1000"]
        for record_id in [system["Name"] for system in host.store.instances(hyperv.MSVM_COMPUTER_SYSTEM)
                          if system["Caption"] == "Virtual Machine"]:
            selectors = {"CreationClassName": "Msvm_KvpExchangeComponent", "DeviceID": hyperv.kvp_settings_id(record_id),
                         "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": record_id}
            _reply, root = call(service, "hv1000", request(GET, V2 + "Msvm_KvpExchangeComponent", "", selectors=selectors))
            props = properties(find(root, "s:Body")[0])
            assert len(item_map(as_list(props["GuestIntrinsicExchangeItems"]))) == 21
