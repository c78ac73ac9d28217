# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Msvm_VirtualSystemManagementService methods: the host-pushed KVP items and the Data Exchange switch.

AddKvpItems, ModifyKvpItems, RemoveKvpItems (MicrosoftDocs HyperV_v2): ``TargetSystem`` is an endpoint reference
to the VM's Msvm_ComputerSystem (a:Address and a:ReferenceParameters as direct children, or wrapped in
a:EndpointReference; ResourceURI naming Msvm_ComputerSystem, selector Name = the VM GUID); ``DataItems`` repeats
one element per item, each the text (escaped or CDATA) of an embedded Msvm_KvpExchangeDataItem with Source 0; at
most 128. Names compare case-insensitively (they end up as registry value names in the guest).

- Wrong target, malformed or foreign instances, Source other than 0, Name or Data over 1024 characters, no items or
  more than 128: ReturnValue 32773 (invalid parameter), nothing started.
- A Name longer than a VMBus key takes (512 bytes of UTF-16 with its terminating NUL, Linux ``hyperv.h``; what a
  Windows host does with one is unconfirmed): refused with 32773 (``hyperv.long_key_names: refuse``, the default), or
  taken whole and cut to what the VMBus carries on its way to the guest's External key (``truncate``).
- An embedded instance with a named entity (``&amp;``): refused as a real host refuses it, ReturnValue 32773 or
  32768 (``wire.named_entities``), unless the machine accepts them (``accepted``).
- Add of a name the VM already has: ReturnValue 32773 at once, as a real host answered it (containers/libhvee
  issue 193); ``hyperv.add_existing: job_failure`` makes it a failed job instead.
- Modify or Remove of a name it lacks: the job starts and ends in Exception (ErrorCode 32768, ErrorDescription
  naming the item and the VM); nothing changes. That this failure surfaces in the job rather than in ReturnValue
  is the lab's choice (unconfirmed).
- Otherwise the change is made (HostExchangeItems, and the guest's External key while the exchange runs), and the
  job ends Completed, unless a failure rule (``jobs``) makes it end in Exception, with nothing changed, or a refusal
  rule makes the call answer its ReturnValue at once (32769 access denied, 32770 not supported, 32775 invalid state,
  ...), with no job and nothing changed. Refusal rules apply to the Data Exchange methods too.

The Data Exchange integration service is switched by ModifyResourceSettings(ResourceSettings[]) or
ModifyGuestServiceSettings(GuestServiceSettings[]) with embedded Msvm_KvpExchangeComponentSettingData instances whose
InstanceID names the setting and EnabledState is 2 (on) or 3 (off). The Hyper-V PowerShell module and a real-host
WS-Man client use ModifyResourceSettings; whether ModifyGuestServiceSettings takes a KVP setting is unconfirmed, so
``hyperv.data_exchange_switch`` says which the host takes (resource_settings, the default; guest_service_settings;
both): the other answers 32773 (invalid parameter). Their ReturnValues are Hyper-V's (Microsoft's method pages):
4096 job started, 32768 failed, 32773 invalid parameter; ``Resulting...`` gets references to the settings changed.

On a host with ``hyperv.jobs: sync`` every method returns 0 (or its failure code 32768) and no job.
"""

from . import hyperv, jobs
from .classes_virtualization import MSVM_COMPUTER_SYSTEM, MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA
from .jobs import MSVM_CONCRETE_JOB
from .kvp_items import SOURCE_HOST, InstanceError, NamedEntityRefused, parse_instance, parse_item
from .methods import MethodResult, method
from .namespaces import ANONYMOUS, NS, qname
from .xmltext import element

SERVICE = "Msvm_VirtualSystemManagementService"
NAMESPACE = "root/virtualization/v2"
JOB_STARTED = 4096
FAILED = 32768
INVALID_PARAMETER = 32773
NAMED_ENTITY_CODES = {"invalid_parameter": INVALID_PARAMETER, "failed": FAILED}
# hyperv.data_exchange_switch -> the methods that take a KVP setting
SWITCH_METHODS = {
    "resource_settings": ("ModifyResourceSettings",),
    "guest_service_settings": ("ModifyGuestServiceSettings",),
    "both": ("ModifyResourceSettings", "ModifyGuestServiceSettings"),
}
MAX_ITEMS = 128
MAX_ITEM_TEXT = 1024


class _Refused(Exception):
    """The call is refused before any job starts; ``code`` is the ReturnValue."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def endpoint_reference(cim_class, selectors, form):
    """The content of a REF out parameter: a:Address and a:ReferenceParameters as direct children (``direct``, as
    libvirt's Hyper-V driver reads them) or inside a:EndpointReference (``wrapped``); avma-facts "Unconfirmed" 7."""
    declarations = {"xmlns:a": NS["a"], "xmlns:w": NS["w"]}
    selector_xml = "".join(element("w:Selector", value, {"Name": name}) for name, value in selectors.items())
    parameters = ("<a:ReferenceParameters>" + element("w:ResourceURI", cim_class.wmi_resource_uri)
                  + "<w:SelectorSet>%s</w:SelectorSet></a:ReferenceParameters>" % selector_xml)
    if form == "wrapped":
        attributes = "".join(' %s="%s"' % item for item in declarations.items())
        return "<a:EndpointReference%s>%s%s</a:EndpointReference>" % (attributes, element("a:Address", ANONYMOUS), parameters)
    return (element("a:Address", ANONYMOUS, {"xmlns:a": NS["a"]})
            + parameters.replace("<a:ReferenceParameters>", '<a:ReferenceParameters xmlns:a="%s" xmlns:w="%s">'
                                 % (NS["a"], NS["w"]), 1))


def _reference_selectors(reference):
    """``(resource URI, {selector name lower-cased: value})`` of a REF parameter element; None when malformed."""
    if reference is None:
        return None
    wrapped = reference.find(qname("a", "EndpointReference"))
    holder = wrapped if wrapped is not None else reference
    parameters = holder.find(qname("a", "ReferenceParameters"))
    if parameters is None:
        return None
    uri = parameters.find(qname("w", "ResourceURI"))
    selector_set = parameters.find(qname("w", "SelectorSet"))
    if uri is None or selector_set is None:
        return None
    selectors = {selector.get("Name", "").lower(): (selector.text or "").strip()
                 for selector in selector_set.findall(qname("w", "Selector"))}
    return (uri.text or "").strip(), selectors


def _target(call):
    """The ``VmRecord`` ``TargetSystem`` refers to on this host."""
    found = _reference_selectors(call.params["TargetSystem"])
    if found is None:
        raise _Refused(INVALID_PARAMETER)
    uri, selectors = found
    class_name = selectors.get("creationclassname", MSVM_COMPUTER_SYSTEM.name)
    if not uri.lower().endswith("/" + MSVM_COMPUTER_SYSTEM.name.lower()) or class_name.lower() != MSVM_COMPUTER_SYSTEM.name.lower():
        raise _Refused(INVALID_PARAMETER)
    record = hyperv.vm_record(call.machine, selectors.get("name", ""))
    if record is None:
        raise _Refused(INVALID_PARAMETER)
    return record


def _named_entity_answer(host):
    """The strictness of ``host``'s embedded-instance parser, and the ReturnValue it gives a named entity."""
    answer = host.spec.wire.named_entities
    return answer != "accepted", NAMED_ENTITY_CODES.get(answer)


def _data_items(call):
    """``[(name, data), ...]`` of ``DataItems``."""
    texts = call.params["DataItems"]
    if not texts or len(texts) > MAX_ITEMS:
        raise _Refused(INVALID_PARAMETER)
    strict, entity_code = _named_entity_answer(call.machine)
    items = []
    for text in texts:
        try:
            name, data, source = parse_item(text, strict)
        except NamedEntityRefused as error:
            raise _Refused(entity_code) from error
        except InstanceError as error:
            raise _Refused(INVALID_PARAMETER) from error
        if source != SOURCE_HOST or len(name) > MAX_ITEM_TEXT or len(data) > MAX_ITEM_TEXT:
            raise _Refused(INVALID_PARAMETER)
        if hyperv.vmbus_key_bytes(name) > hyperv.MAX_VMBUS_KEY_BYTES and call.machine.spec.hyperv.long_key_names == "refuse":
            raise _Refused(INVALID_PARAMETER)
        items.append((name, data))
    return items


def _refuse_as_planned(host, method_name, vm_name):
    """Raise _Refused with the ReturnValue a refusal rule plans for this call (admin ``POST /jobs/failures``)."""
    code = jobs.planned_refusal(host, method_name, vm_name)
    if code is not None:
        raise _Refused(code)


def _add(current, items, vm_name):
    names = {name.lower() for name, _data in current}
    for name, _data in items:
        if name.lower() in names:
            return None, "The key-value pair item '%s' already exists on virtual machine '%s'." % (name, vm_name)
        names.add(name.lower())
    return current + items, None


def _modify(current, items, vm_name):
    updated = list(current)
    for name, data in items:
        index = next((position for position, (existing, _old) in enumerate(updated) if existing.lower() == name.lower()), None)
        if index is None:
            return None, "The key-value pair item '%s' does not exist on virtual machine '%s'." % (name, vm_name)
        updated[index] = (updated[index][0], data)
    return updated, None


def _remove(current, items, vm_name):
    updated = list(current)
    for name, _data in items:
        remaining = [item for item in updated if item[0].lower() != name.lower()]
        if len(remaining) == len(updated):
            return None, "The key-value pair item '%s' does not exist on virtual machine '%s'." % (name, vm_name)
        updated = remaining
    return updated, None


def _kvp_method(method_name, operation):
    def handler(call):
        try:
            record = _target(call)
            items = _data_items(call)
            _refuse_as_planned(call.machine, method_name, record.name)
        except _Refused as refused:
            return MethodResult(refused.code, {"Job": None})
        current = hyperv.item_pairs(record.kvp_settings["HostExchangeItems"])
        updated, conflict = operation(current, items, record.name)
        if conflict and operation is _add and call.machine.spec.hyperv.add_existing == "invalid_parameter":
            return MethodResult(INVALID_PARAMETER, {"Job": None})
        failure = (FAILED, conflict) if conflict else jobs.planned_failure(call.machine, method_name, record.name)
        if failure is None:
            record.kvp_settings["HostExchangeItems"] = hyperv.render_items(
                updated, SOURCE_HOST, call.machine.spec.wire.kvp_item_shape)
            hyperv.exchange(call.fleet, call.machine, record)
        return _result(call, method_name, record.name, failure, FAILED)
    return handler


def _settings_change(text, host):
    """``(setting instance, new EnabledState)`` from one embedded Msvm_KvpExchangeComponentSettingData."""
    strict, entity_code = _named_entity_answer(host)
    try:
        class_name, properties = parse_instance(text, strict)
    except NamedEntityRefused as error:
        raise _Refused(entity_code) from error
    except InstanceError as error:
        raise _Refused(INVALID_PARAMETER) from error
    setting = host.store.find(MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA, {"InstanceID": properties.get("instanceid") or ""})
    state = (properties.get("enabledstate") or "").strip()
    if class_name.lower() != MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA.name.lower() or setting is None:
        raise _Refused(INVALID_PARAMETER)
    if state and state not in (str(hyperv.ENABLED), str(hyperv.DISABLED)):
        raise _Refused(INVALID_PARAMETER)
    return setting, int(state) if state else setting["EnabledState"]


def _settings_method(method_name, in_name, out_name):
    def handler(call):
        host = call.machine
        try:
            if not call.params[in_name] or method_name not in SWITCH_METHODS[host.spec.hyperv.data_exchange_switch]:
                raise _Refused(INVALID_PARAMETER)
            changes = [_settings_change(text, host) for text in call.params[in_name]]
            vm_ids = [setting["InstanceID"].split(":", 1)[1].split("\\", 1)[0] for setting, _state in changes]
            records = [hyperv.vm_record(host, vm_id) for vm_id in vm_ids]
            _refuse_as_planned(host, method_name, records[0].name)
        except _Refused as refused:
            return MethodResult(refused.code, {out_name: None, "Job": None})
        vm_name = ", ".join(record.name for record in records)
        failure = jobs.planned_failure(host, method_name, records[0].name)
        if failure is None:
            for (setting, state), record in zip(changes, records):
                setting["EnabledState"] = state
                hyperv.exchange(call.fleet, host, record)
        references = [endpoint_reference(MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA, {"InstanceID": setting["InstanceID"]},
                                         host.spec.wire.job_reference) for setting, _state in changes]
        return _result(call, method_name, vm_name, failure, FAILED, {out_name: None if failure else references})
    return handler


def _result(call, method_name, vm_name, failure, failure_code, out=None):
    """The method's result: a job (async hosts) or a direct return value (sync hosts)."""
    host = call.machine
    out = dict(out or {})
    if host.spec.hyperv.jobs == "sync":
        return MethodResult(failure_code if failure else 0, dict(out, Job=None), wrote=failure is None)
    caption = "%s on virtual machine '%s'" % (method_name, vm_name)
    job_id = jobs.start_job(host, caption, caption, failure)
    out["Job"] = endpoint_reference(MSVM_CONCRETE_JOB, {"InstanceID": job_id}, host.spec.wire.job_reference)
    return MethodResult(JOB_STARTED, out, wrote=True)


def _declare(name, handler, params, out):
    return method(NAMESPACE, SERVICE, name, handler, params=params, out=out)


KVP_PARAMS = "TargetSystem:reference DataItems:embedded_instance[]"
METHODS = (
    _declare("AddKvpItems", _kvp_method("AddKvpItems", _add), KVP_PARAMS, "Job:reference"),
    _declare("ModifyKvpItems", _kvp_method("ModifyKvpItems", _modify), KVP_PARAMS, "Job:reference"),
    _declare("RemoveKvpItems", _kvp_method("RemoveKvpItems", _remove), KVP_PARAMS, "Job:reference"),
    _declare("ModifyResourceSettings", _settings_method("ModifyResourceSettings", "ResourceSettings", "ResultingResourceSettings"),
             "ResourceSettings:embedded_instance[]", "ResultingResourceSettings:reference[] Job:reference"),
    _declare("ModifyGuestServiceSettings",
             _settings_method("ModifyGuestServiceSettings", "GuestServiceSettings", "ResultingGuestServiceSettings"),
             "GuestServiceSettings:embedded_instance[]", "ResultingGuestServiceSettings:reference[] Job:reference"),
)
