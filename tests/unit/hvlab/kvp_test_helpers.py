# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the lab's Hyper-V, KVP and registry tests: requests in root/virtualization/v2, embedded items, REFs.

Written from the Hyper-V WMI documentation, not from the lab: the URIs, the REF layout and the CIM-XML of an item
are spelled out here again so that a lab mistake shows up as a failing test.
"""

import os
import xml.etree.ElementTree as ET

import yaml

from hvlab.fleet import Fleet
from hvlab.service import WsmanService

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import NS, FakeClock, call, find, findall, local, pull_request, request, wql_enumerate

HERE = os.path.dirname(os.path.abspath(__file__))
FLEETS = os.path.join(HERE, "..", "..", "hvlab", "fleets")
WMI_ROOT = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
V2 = WMI_ROOT + "root/virtualization/v2/"
SERVICE_URI = V2 + "Msvm_VirtualSystemManagementService"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
HKLM = 2147483650
VM_KEY = "SOFTWARE\\Microsoft\\Virtual Machine"


def fleet_path(name):
    return os.path.join(FLEETS, name + ".yml")


def fleet_document(name):
    """The parsed fleet file ``name``, to be changed by a test and given to ``service_for``."""
    with open(fleet_path(name), encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def service_for(name_or_document):
    """A service over a fleet file of tests/hvlab/fleets (by name) or over a fleet document (a dict)."""
    if isinstance(name_or_document, dict):
        fleet = Fleet.from_document(name_or_document)
    else:
        fleet = Fleet.load(fleet_path(name_or_document))
    return WsmanService(fleet, clock=FakeClock())


def enumerate_all(service, machine, query, namespace="root/virtualization/v2", max_elements=100, max_envelope=512000):
    """Every item of a WQL enumeration, following Pulls: ``(item elements, number of requests)``."""
    uri = WMI_ROOT + namespace + "/*"
    _reply, root = call(service, machine, wql_enumerate(query, max_elements=max_elements, resource_uri=uri,
                                                        max_envelope=max_envelope))
    items, requests = [], 1
    while True:
        fault = find(root, "s:Body/s:Fault")
        assert fault is None, ET.tostring(fault)
        items.extend(findall(root, "s:Body/n:EnumerateResponse/w:Items/*") + findall(root, "s:Body/n:PullResponse/n:Items/*"))
        context = find(root, "s:Body/*/n:EnumerationContext")
        if context is None or not (context.text or "").strip():
            return items, requests
        _reply, root = call(service, machine, pull_request(context.text, max_elements=max_elements, resource_uri=uri,
                                                           max_envelope=max_envelope))
        requests += 1


def properties(instance):
    """``{local name: text}`` of a rendered instance; repeated elements (arrays) give lists, nil gives None."""
    values = {}
    for child in instance:
        name = local(child.tag)
        nil = child.get("{%s}nil" % NS["xsi"]) == "true"
        value = None if nil else (child.text or "")
        if name in values:
            previous = values[name]
            values[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            values[name] = value
    return values


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def item_map(texts):
    """``{Name: (Data, Source)}`` of embedded Msvm_KvpExchangeDataItem texts (the lab's well-formed ones)."""
    items = {}
    for text in as_list(texts):
        root = ET.fromstring(text)
        assert root.tag == "INSTANCE" and root.get("CLASSNAME") == "Msvm_KvpExchangeDataItem", text
        values = {prop.get("NAME"): (prop.findtext("VALUE")) for prop in root}
        items[values["Name"]] = (values["Data"] or "", int(values["Source"]))
    return items


def data_item(name, data="", source=0, named_entities=False):
    """An embedded item as the Microsoft samples build it (GetText(CimDtd20)), escaped for an XML element. Inside
    the instance, markup is written as numeric character references (what a real host takes), or as named
    entities with ``named_entities`` (what a real host refuses)."""
    inner = escape if named_entities else numeric_escape
    text = ('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>%s</VALUE>'
            '</PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>%s</VALUE></PROPERTY><PROPERTY NAME="Source" '
            'TYPE="uint16"><VALUE>%d</VALUE></PROPERTY></INSTANCE>' % (inner(data), inner(name), source))
    return escape(text)


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def numeric_escape(text):
    return text.replace("&", "&#38;").replace("<", "&#60;").replace(">", "&#62;")


def vm_reference(vm_id, wrapped=False):
    """The TargetSystem REF of a VM: a:Address and a:ReferenceParameters, optionally inside a:EndpointReference."""
    inner = ('<a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>%sMsvm_ComputerSystem</w:ResourceURI>'
             '<w:SelectorSet><w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector>'
             '<w:Selector Name="Name">%s</w:Selector></w:SelectorSet></a:ReferenceParameters>' % (ANONYMOUS, V2, vm_id))
    return "<a:EndpointReference>%s</a:EndpointReference>" % inner if wrapped else inner


def service_selectors(host_name):
    return {"CreationClassName": "Msvm_VirtualSystemManagementService", "Name": "vmms",
            "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": host_name}


def invoke_service(service, host, method, params, host_name=None):
    """Invoke a Msvm_VirtualSystemManagementService method: ``(reply, {out name: element list})``."""
    body = '<p:%s_INPUT xmlns:p="%s">%s</p:%s_INPUT>' % (method, SERVICE_URI, params, method)
    reply, root = call(service, host, request(SERVICE_URI + "/" + method, SERVICE_URI, body,
                                              selectors=service_selectors(host_name or host.upper())))
    output = find(root, "s:Body/{%s}%s_OUTPUT" % (SERVICE_URI, method))
    outs = {}
    if output is not None:
        for child in output:
            outs.setdefault(local(child.tag), []).append(child)
    return reply, root, outs


def kvp_call(service, host, method, vm_id, items, host_name=None):
    """AddKvpItems / ModifyKvpItems / RemoveKvpItems with ``items`` = ``[(name, data), ...]``."""
    params = "<p:TargetSystem>%s</p:TargetSystem>%s" % (
        vm_reference(vm_id), "".join("<p:DataItems>%s</p:DataItems>" % data_item(name, data) for name, data in items))
    return invoke_service(service, host, method, params, host_name)


def return_value(outs):
    return int(outs["ReturnValue"][0].text)


def job_id(outs):
    """The InstanceID selector of the Job REF (direct children or wrapped)."""
    selector = outs["Job"][0].find(".//{%s}Selector[@Name='InstanceID']" % NS["w"])
    return selector.text


def get_instance(service, machine, class_name, selectors, namespace="root/virtualization/v2"):
    """``(reply, properties or None)`` of a Get."""
    reply, root = call(service, machine, request(GET, WMI_ROOT + namespace + "/" + class_name, "", selectors=selectors))
    body = find(root, "s:Body")
    instance = body[0] if len(body) and local(body[0].tag) == class_name else None
    return reply, (properties(instance) if instance is not None else None)


def get_job(service, host, instance_id):
    return get_instance(service, host, "Msvm_ConcreteJob", {"InstanceID": instance_id})[1]


def wait_job(service, host, instance_id, limit=20):
    """Get the job until it leaves JobState 4; return its properties and the number of Gets."""
    for count in range(1, limit + 1):
        job = get_job(service, host, instance_id)
        if job["JobState"] != "4":
            return job, count
    raise AssertionError("job %s still running after %d reads" % (instance_id, limit))


def registry_call(service, machine, method, namespace="root/default", **params):
    """Invoke a StdRegProv method; ``(ReturnValue, {out name: [texts]})``."""
    uri = WMI_ROOT + namespace + "/StdRegProv"
    parts = []
    for name, value in params.items():
        parts.append("<p:%s>%s</p:%s>" % (name, escape(str(value)), name))
    body = '<p:%s_INPUT xmlns:p="%s">%s</p:%s_INPUT>' % (method, uri, "".join(parts), method)
    reply, root = call(service, machine, request(uri + "/" + method, uri, body))
    assert reply.status == 200, reply.body
    output = find(root, "s:Body/{%s}%s_OUTPUT" % (uri, method))
    outs = {}
    for child in output:
        nil = child.get("{%s}nil" % NS["xsi"]) == "true"
        outs.setdefault(local(child.tag), []).append(None if nil else (child.text or ""))
    return int(outs.pop("ReturnValue")[0]), outs


def guest_values(service, guest, key):
    """``{name: data}`` of a guest registry key under Virtual Machine, read through StdRegProv."""
    code, outs = registry_call(service, guest, "EnumValues", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\" + key)
    assert code == 0
    values = {}
    for name in outs.get("sNames", []):
        if name is None:
            continue
        code, value = registry_call(service, guest, "GetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\" + key,
                                    sValueName=name)
        assert code == 0
        values[name] = value["sValue"][0]
    return values


def vm_components(service, host):
    """``{VM GUID: properties}`` of the host's Msvm_KvpExchangeComponent instances."""
    items, _requests = enumerate_all(service, host, "SELECT * FROM Msvm_KvpExchangeComponent")
    return {props["SystemName"]: props for props in map(properties, items)}


def vm_systems(service, host):
    """``{ElementName: properties}`` of the host's VMs (Msvm_ComputerSystem with Caption "Virtual Machine")."""
    items, _requests = enumerate_all(service, host, "SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine'")
    return {props["ElementName"]: props for props in map(properties, items)}


def settings_text(vm_id, state, class_name="Msvm_KvpExchangeComponentSettingData"):
    """An escaped embedded setting-data instance switching Data Exchange of ``vm_id`` (2 on, 3 off)."""
    text = ('<INSTANCE CLASSNAME="%s"><PROPERTY NAME="EnabledState" TYPE="uint16"><VALUE>%d</VALUE></PROPERTY>'
            '<PROPERTY NAME="InstanceID" TYPE="string"><VALUE>%s</VALUE></PROPERTY></INSTANCE>'
            % (class_name, state, "Microsoft:%s\\2A34B1C2-FD73-4043-8A5B-DD2159BC743F" % vm_id))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
