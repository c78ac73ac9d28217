# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Operations on a Hyper-V host and on a guest's KVP registry view: the Data Exchange (KVP) items of every VM,
host-pushed items (AddKvpItems / ModifyKvpItems / RemoveKvpItems), the Data Exchange integration-service setting,
and the AVMA readiness of the host. The task functions of kvp_info, kvp_item, host_info and integration_service.

Every read of a host is one enumeration per class (Msvm_ComputerSystem, Msvm_KvpExchangeComponent,
Msvm_KvpExchangeComponentSettingData), joined on the controller: the number of requests does not grow with the
number of VMs beyond the paging of those enumerations. Only writes cost requests per VM.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import functools
import re

from ansible_collections.hyperv.avma.plugins.module_utils._avma import activatable_guest_releases, host_problems, is_datacenter_edition
from ansible_collections.hyperv.avma.plugins.module_utils._cim import (
    CimClass,
    CimProperty,
    CimReference,
    EmbeddedInstance,
    UndecodableValue,
    resource_uri,
    wql_string,
)
from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaError,
    AvmaValueError,
    CimJobFailedError,
    CimJobTimeoutError,
    CimMethodError,
    WsmanFaultError,
    WsmanProtocolError,
    answer_lost,
    failure_fields,
    lost_answer_failure,
    lost_answer_warning,
)
from ansible_collections.hyperv.avma.plugins.module_utils._guest_licensing import read_keyed_products, read_operating_system
from ansible_collections.hyperv.avma.plugins.module_utils._guest_registry import HKLM, KVP_KEYS, REG_EXPAND_SZ, REG_SZ, delete_value, enum_values
from ansible_collections.hyperv.avma.plugins.module_utils._guest_registry import get_string_value, set_string_value
from ansible_collections.hyperv.avma.plugins.module_utils._kvp import (
    DATA_ITEM_CLASS,
    INTEGRATION_STATUS_WORKING,
    MAX_ITEMS,
    MAX_VALUE_CHARS,
    SETTING_DISABLED,
    SETTING_ENABLED,
    SOURCE_GUEST,
    SOURCE_HOST,
    SOURCE_HOST_ONLY,
    SOURCE_INTRINSIC,
    VM_RUNNING,
    RawItem,
    ambiguous_names,
    batches,
    bound_values,
    change_in_place,
    change_record,
    collect_items,
    mask_item_values,
    diff_values,
    first_guid,
    integration_status,
    intrinsic_facts,
    is_guid,
    name_matcher,
    plan_absent,
    plan_present,
    select_vms,
    setting_enabled,
    shown_name,
    validate_wanted_items,
    vm_state_name,
)
from ansible_collections.hyperv.avma.plugins.module_utils._licensing import LICENSED, activation_facts

try:
    import jmespath
except ImportError:
    jmespath = None

V2 = "root/virtualization/v2"
CIMV2 = "root/cimv2"

COMPUTER_SYSTEM = CimClass(V2, "Msvm_ComputerSystem", (
    CimProperty("Name", "string"),
    CimProperty("ElementName", "string"),
    CimProperty("EnabledState", "uint16"),
), keys=("CreationClassName", "Name"))

# The item arrays are written by guests: one item that does not decode must not fail the listing of every VM.
KVP_COMPONENT = CimClass(V2, "Msvm_KvpExchangeComponent", (
    CimProperty("SystemName", "string"),
    CimProperty("OperationalStatus", "uint16", array=True),
    CimProperty("GuestIntrinsicExchangeItems", "instance", array=True, isolate_errors=True),
    CimProperty("GuestExchangeItems", "instance", array=True, isolate_errors=True),
), keys=("CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"))

KVP_SETTING = CimClass(V2, "Msvm_KvpExchangeComponentSettingData", (
    CimProperty("InstanceID", "string"),
    CimProperty("EnabledState", "uint16"),
    CimProperty("HostExchangeItems", "instance", array=True, isolate_errors=True),
    CimProperty("HostOnlyItems", "instance", array=True, isolate_errors=True),
), keys=("InstanceID",))

MANAGEMENT_SERVICE = CimClass(V2, "Msvm_VirtualSystemManagementService", (
    CimProperty("CreationClassName", "string"),
    CimProperty("Name", "string"),
    CimProperty("SystemCreationClassName", "string"),
    CimProperty("SystemName", "string"),
), keys=("CreationClassName", "Name", "SystemCreationClassName", "SystemName"))

OPTIONAL_FEATURE = CimClass(CIMV2, "Win32_OptionalFeature", (
    CimProperty("Name", "string"),
    CimProperty("InstallState", "uint32"),
), keys=("Name",))

# Failover clustering (root/MSCluster, Microsoft's Failover Cluster WMI provider). Over WS-Man this is unconfirmed:
# the classes and properties follow the provider's reference; a host outside a cluster has no such namespace.
CLUSTER_NODE = CimClass("root/MSCluster", "MSCluster_Node", (
    CimProperty("Name", "string"),
    CimProperty("State", "uint32"),
), keys=("Name",))
CLUSTER_RESOURCE = CimClass("root/MSCluster", "MSCluster_Resource", (
    CimProperty("Name", "string"),
    CimProperty("Type", "string"),
    CimProperty("OwnerGroup", "string"),
    CimProperty("OwnerNode", "string"),
), keys=("Name",))
CLUSTER_NODE_STATES = {0: "up", 1: "down", 2: "paused", 3: "joining"}
VM_RESOURCE_TYPE = "Virtual Machine"
_VM_RESOURCE_PREFIX = VM_RESOURCE_TYPE + " "

HYPERV_FEATURE = "Microsoft-Hyper-V"
FEATURE_ENABLED = 1

# How Data Exchange is switched on or off: an embedded Msvm_KvpExchangeComponentSettingData with its InstanceID and
# the new EnabledState, given to a method of Msvm_VirtualSystemManagementService. The Hyper-V PowerShell module
# (Enable-/Disable-VMIntegrationService) and a WS-Man client tested against a real host use ModifyResourceSettings;
# ModifyGuestServiceSettings is tried when the host does not have that method or refuses the call before any job.
DATA_EXCHANGE_METHODS = (("ModifyResourceSettings", "ResourceSettings"), ("ModifyGuestServiceSettings", "GuestServiceSettings"))

# WS-Man / WMI answers meaning "this method does not exist here".
_INVALID_ACTION_URI = 2150858753
_WBEM_E_INVALID_METHOD = 0x8004102E
_WBEM_E_METHOD_NOT_IMPLEMENTED = 0x80041055
# ... and "this namespace or class does not exist here" (Hyper-V not installed or not started).
_RESOURCE_NOT_FOUND = 2150858752
_CANNOT_PROCESS_FILTER = 2150858778
# ERROR_WSMAN_MAX_ENVELOPE_SIZE_EXCEEDED (w:EncodingLimit): the answer would not fit in MaxEnvelopeSize.
_MAX_ENVELOPE_SIZE_EXCEEDED = 2150858824
# Items per page when a whole enumeration did not fit: a server that fills a page with MaxElements items whatever
# their size may manage with fewer.
_SMALL_PAGE = 8
_WBEM_E_INVALID_NAMESPACE = 0x8004100E
_WBEM_E_INVALID_CLASS = 0x80041010

JOB_OPTIONS = dict(
    job_timeout=dict(type="int", default=300),
    job_poll_interval=dict(type="float", default=1.0),
)


# ------------------------------------------------------------------------------------------------------------------
# Errors


def names_the_machine(task):
    """A task function whose errors name the machine, also those raised before or after any request."""

    @functools.wraps(task)
    def wrapper(cim, params, check_mode, diff):
        try:
            return task(cim, params, check_mode, diff)
        except AvmaError as error:
            error.add_context(machine=cim.display_name, operation=None)
            raise

    return wrapper


# ------------------------------------------------------------------------------------------------------------------
# Reading a host


class HypervMissingError(AvmaError):
    """The machine has no Hyper-V WMI namespace (root/virtualization/v2): the role is not installed or not started."""


def _missing_virtualization(error):
    return isinstance(error, WsmanFaultError) and (
        error.code in (_RESOURCE_NOT_FOUND, _CANNOT_PROCESS_FILTER) or error.wmi_code in (_WBEM_E_INVALID_NAMESPACE, _WBEM_E_INVALID_CLASS))


def _raw_items(values):
    """Decoded item-array values (EmbeddedInstance or UndecodableValue) as RawItems for the domain layer."""
    raw = []
    for value in values or []:
        if isinstance(value, UndecodableValue):
            raw.append(RawItem(error=value.reason))
        elif isinstance(value, EmbeddedInstance):
            source = value.get("Source")
            try:
                source = None if source is None else int(str(source).strip())
            except ValueError:
                source = str(source)
            raw.append(RawItem(name=value.get("Name"), data=value.get("Data"), source=source, class_name=value.class_name))
        else:
            raw.append(RawItem(error="an item that is not an embedded instance"))
    return raw


def read_vms(cim):
    """The host's name and its VMs, in one enumeration of Msvm_ComputerSystem.

    VMs are the systems whose Name is a GUID; the host is the other one. Returns (host name or None, VMs as
    ``{name, id, state, state_code}``). Raises HypervMissingError on a machine without Hyper-V.
    """
    host_name = None
    vms = []
    try:
        rows = cim.query(COMPUTER_SYSTEM)
    except WsmanFaultError as error:
        if not _missing_virtualization(error):
            raise
        raise HypervMissingError("this machine does not answer for Hyper-V (WMI namespace root/virtualization/v2): is it a Hyper-V host, "
                                 "with the role installed and the host restarted since?", machine=error.machine, operation=error.operation) from error
    for row in rows:
        if is_guid(row["Name"]):
            vms.append(dict(name=row["ElementName"], id=row["Name"].strip("{}").upper(), state=vm_state_name(row["EnabledState"]),
                            state_code=row["EnabledState"]))
        elif host_name is None:
            host_name = row["ElementName"] or row["Name"]
    return host_name, vms


def _component_vm_id(row):
    return (row["SystemName"] or "").strip("{}").upper()


def _setting_vm_id(row):
    return first_guid(row["InstanceID"])


def read_components(cim, *, with_items=True, where=None, max_elements=None):
    """Msvm_KvpExchangeComponent rows by VM ID (one enumeration). Without items only the status is read."""
    properties = None if with_items else ["SystemName", "OperationalStatus"]
    return _by_vm_id(cim.query(KVP_COMPONENT, where, properties=properties, max_elements=max_elements), _component_vm_id)


def read_settings(cim, *, with_items=True, where=None, max_elements=None):
    """The active Msvm_KvpExchangeComponentSettingData rows by VM ID (one enumeration): the VM ID is the GUID that
    opens the InstanceID (``Microsoft:<VM ID>\\...``); settings of checkpoints carry other GUIDs and match no VM."""
    properties = None if with_items else ["InstanceID", "EnabledState"]
    return _by_vm_id(cim.query(KVP_SETTING, where, properties=properties, max_elements=max_elements), _setting_vm_id)


def _too_large(error):
    return isinstance(error, WsmanFaultError) and (
        error.code == _MAX_ENVELOPE_SIZE_EXCEEDED or (error.fault_subcode or "").rpartition(":")[2] == "EncodingLimit")


def _read_isolating(cim, reader, vms, where_of):
    """``reader``'s rows by VM ID, keeping one VM whose data is too large for an answer (w:EncodingLimit) from
    hiding the others: the whole class in one enumeration; if that does not fit, in small pages; if that does not
    either, one enumeration per VM of ``vms``. Returns (rows by VM ID, {VM ID: the error} for the VMs left out)."""
    for max_elements in (None, _SMALL_PAGE):
        try:
            return reader(cim, max_elements=max_elements), {}
        except WsmanFaultError as error:
            if not _too_large(error):
                raise
    rows, too_large = {}, {}
    for vm in vms:
        try:
            rows.update(reader(cim, where=where_of(vm["id"]), max_elements=1))
        except WsmanFaultError as error:
            if not _too_large(error):
                raise
            too_large[vm["id"]] = error
    return rows, too_large


def _too_large_issue(source, error):
    return dict(source=source, name=None, code="too_large",
                message=f"the VM's {source} items do not fit in one answer of the host ({error.message}) and were left out; "
                        "the other VMs were read")


def read_host_kvp(cim, wanted=None):
    """Every VM of the host (or those ``wanted`` names by name or ID) with its KVP items, in three enumerations.
    A VM whose items are too large for any answer is listed with an issue ``too_large`` and without those items;
    finding it costs one enumeration per VM. A wanted VM that is not on this host costs one more enumeration: is
    another node of its failover cluster running it? Returns ``{host_name, vms, missing_vms, owned_elsewhere}``."""
    host_name, vms = read_vms(cim)
    selected, missing = select_vms(vms, wanted)
    components, large_components = _read_isolating(cim, read_components, selected,
                                                   lambda vm_id: f"SystemName = {wql_string(vm_id)}")
    settings, large_settings = _read_isolating(cim, read_settings, selected,
                                               lambda vm_id: f"InstanceID LIKE {wql_string('Microsoft:' + vm_id + '%')}")
    listed = []
    for vm in selected:
        entry = vm_kvp(vm, components.get(vm["id"]), settings.get(vm["id"]))
        if vm["id"] in large_components:
            entry["issues"].append(_too_large_issue("guest", large_components[vm["id"]]))
        if vm["id"] in large_settings:
            entry["issues"].append(_too_large_issue("host", large_settings[vm["id"]]))
        listed.append(entry)
    owned = vms_owned_elsewhere(cim, host_name, missing) if missing else []
    elsewhere = {entry["vm"] for entry in owned}
    return dict(host_name=host_name, vms=listed, missing_vms=[entry for entry in missing if entry not in elsewhere], owned_elsewhere=owned)


def _by_vm_id(rows, vm_id_of):
    joined = {}
    for row in rows:
        vm_id = vm_id_of(row)
        if vm_id and vm_id not in joined:
            joined[vm_id] = row
    return joined


def _data_exchange(component, setting):
    status = integration_status(component["OperationalStatus"] if component else None)
    return dict(enabled=setting_enabled(setting["EnabledState"]) if setting else None, status=status["name"], status_code=status["code"],
                operational_status=status["codes"])


def vm_kvp(vm, component, setting):
    """One VM's KVP view: its items by source as name -> value maps, the intrinsic items decoded, the Data Exchange
    state, and the issues found in what the guest wrote."""
    intrinsic, issues = collect_items(_raw_items(component["GuestIntrinsicExchangeItems"]) if component else [], SOURCE_INTRINSIC)
    guest, guest_issues = collect_items(_raw_items(component["GuestExchangeItems"]) if component else [], SOURCE_GUEST)
    host, host_issues = collect_items(_raw_items(setting["HostExchangeItems"]) if setting else [], SOURCE_HOST)
    host_only, host_only_issues = collect_items(_raw_items(setting["HostOnlyItems"]) if setting else [], SOURCE_HOST_ONLY)
    facts, fact_issues = intrinsic_facts(intrinsic)
    return dict(
        name=vm["name"], id=vm["id"], state=vm["state"], state_code=vm["state_code"],
        data_exchange=_data_exchange(component, setting),
        intrinsic_items=intrinsic, guest_items=guest, host_items=host, host_only_items=host_only,
        intrinsic_facts=facts,
        issues=issues + guest_issues + host_issues + host_only_issues + fact_issues,
    )


# ------------------------------------------------------------------------------------------------------------------
# Failover clusters


def _cluster_rows(cim, cim_class, where=None):
    """The rows of a cluster class, or None when the machine is no cluster node (no root/MSCluster, or no rows)."""
    try:
        rows = cim.query(cim_class, where)
    except WsmanFaultError as error:
        if not _missing_virtualization(error):
            raise
        return None
    return rows or None


def vms_owned_elsewhere(cim, host_name, names):
    """The entries of ``names`` that are VMs of this host's failover cluster running on another node, as
    ``{vm, owner_node}`` (a VM's resource: Name "Virtual Machine <name>", OwnerGroup its role, OwnerNode)."""
    rows = _cluster_rows(cim, CLUSTER_RESOURCE, "Type = %s" % wql_string(VM_RESOURCE_TYPE)) or []
    here = (host_name or "").casefold()
    owned = []
    for entry in names:
        key = str(entry).strip().casefold()
        for row in rows:
            resource = row["Name"] or ""
            vm_name = row["OwnerGroup"] or (resource[len(_VM_RESOURCE_PREFIX):] if resource.startswith(_VM_RESOURCE_PREFIX) else resource)
            if key in (vm_name.casefold(), resource.casefold()) and (row["OwnerNode"] or "").casefold() != here:
                owned.append(dict(vm=str(entry), owner_node=row["OwnerNode"]))
                break
    return owned


def node_endpoint(addresses, name):
    """(host, port or None) of cluster node ``name``: ``addresses[name]`` (any case; ``host``, ``host:port`` or
    ``[IPv6]:port``), else the node's name."""
    folded = (name or "").casefold()
    value = next((str(value) for key, value in (addresses or {}).items() if str(key).casefold() == folded), None)
    if not value:
        return name, None
    match = re.match(r"^\[(.+)\]:(\d+)$", value) or (re.match(r"^([^:]+):(\d+)$", value))
    if match:
        return match.group(1), int(match.group(2))
    return value.strip("[]"), None


def read_cluster(cim, this_node, this_node_activated, addresses):
    """The host's failover cluster, or None when it is no cluster node: ``{nodes: [{name, state, checked, activated,
    release, edition_id, error}]}``. Every other node is asked for its own activation over WS-Man with this
    connection's settings, at node_endpoint(addresses, node); a node that cannot be read is reported with
    ``checked`` false and the error."""
    rows = _cluster_rows(cim, CLUSTER_NODE)
    if rows is None:
        return None
    nodes = []
    for row in rows:
        name = row["Name"]
        node = dict(name=name, state=CLUSTER_NODE_STATES.get(row["State"], "unknown (%s)" % row["State"]), checked=False,
                    activated=None, release=None, edition_id=None, error=None)
        if (name or "").casefold() == (this_node or "").casefold():
            node.update(checked=True, activated=this_node_activated)
        else:
            try:
                address, port = node_endpoint(addresses, name)
                sibling = cim.sibling(address, name, port)
                try:
                    facts = activation_facts(read_operating_system(sibling), read_keyed_products(sibling))
                finally:
                    sibling.close()
                node.update(checked=True, activated=(facts["windows_product"] or {}).get("license_status") == LICENSED,
                            release=facts["os"]["release"], edition_id=facts["os"]["edition_id"])
            except AvmaError as error:
                node["error"] = str(error)
        nodes.append(node)
    return dict(nodes=nodes)


# ------------------------------------------------------------------------------------------------------------------
# A guest's registry view


def _unreadable(key, name, error):
    # A value holding characters XML cannot carry makes the whole answer unparsable: only that value is lost.
    what = "the value" if name is not None else "the key"
    return dict(source=key, name=None if name is None else shown_name(name), code="unreadable",
                message=f"{what} could not be read and was left out: {error.message}")


def read_guest_key(cim, key):
    """The string values of one KVP registry key of the guest (``auto``, ``guest``, ``external``,
    ``guest_parameters``), bounded like host-side items; values of other types are reported and left out.
    A value (or the key's listing) whose answer cannot be parsed is reported and left out. Costs one request plus
    one per string value read. Returns (name -> value, issues)."""
    key_path = KVP_KEYS[key]
    values = {}
    issues = []
    try:
        listed = enum_values(cim, key_path, hive=HKLM)
    except WsmanProtocolError as error:
        return {}, [_unreadable(key, None, error)]
    for name, kind in listed[:MAX_ITEMS]:
        if kind not in (REG_SZ, REG_EXPAND_SZ):
            issues.append(dict(source=key, name=shown_name(name), code="not_a_string",
                               message=f"the registry value has type {kind}, not a string, and was left out"))
            continue
        try:
            value = get_string_value(cim, key_path, name, hive=HKLM)
        except WsmanProtocolError as error:
            issues.append(_unreadable(key, name, error))
            continue
        if value is not None:
            values[name] = value
    items, bound_issues = bound_values(values, key)
    if len(listed) > MAX_ITEMS:
        bound_issues.append(dict(source=key, name=None, code="too_many_items",
                                 message=f"{len(listed) - MAX_ITEMS} values beyond the first {MAX_ITEMS} were left out"))
    return items, issues + bound_issues


def read_guest_kvp(cim):
    """The guest's own view of KVP: ``guest_registry`` (the four keys as name -> value maps), the intrinsic items
    of ``Auto`` decoded, and the issues."""
    registry = {}
    issues = []
    for key in ("auto", "guest", "external", "guest_parameters"):
        registry[key], key_issues = read_guest_key(cim, key)
        issues.extend(key_issues)
    facts, fact_issues = intrinsic_facts(registry["auto"])
    return dict(guest_registry=registry, intrinsic_facts=facts, issues=issues + fact_issues)


# ------------------------------------------------------------------------------------------------------------------
# kvp_info


KVP_INFO_SPEC = dict(
    scope=dict(type="str", choices=["host", "guest"], default="host"),
    vms=dict(type="list", elements="str"),
    query=dict(type="str"),
    mask_values=dict(type="list", elements="str", default=[]),
)

_ITEM_MAPS = ("intrinsic_items", "guest_items", "host_items", "host_only_items")


def _masked(document, patterns):
    """The kvp_info document with the values of items named by ``patterns`` (names or fnmatch patterns, in any
    case) replaced by MASK, wherever they appear."""
    if not patterns:
        return document
    masked = name_matcher(patterns, patterns)
    if "guest_registry" in document:
        document["guest_registry"] = {key: mask_item_values(values, masked) for key, values in document["guest_registry"].items()}
    for vm in document.get("vms", []):
        for key in _ITEM_MAPS:
            vm[key] = mask_item_values(vm[key], masked)
    return document


def compile_query(expression):
    """A compiled JMESPath expression, or None without one. Raises AvmaValueError when jmespath is missing on the
    controller or the expression is not valid."""
    if expression is None:
        return None
    if jmespath is None:
        raise AvmaValueError("the query option needs the Python library jmespath on the controller (pip install jmespath)")
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as error:
        raise AvmaValueError(f"query is not a valid JMESPath expression: {error}") from error


def _issue_warning(issues, vms=None):
    if not issues:
        return []
    where = f" ({vms} VMs)" if vms is not None else ""
    return [f"{len(issues)} problems in KVP data written by guests{where}; the items concerned are reported in 'issues' and "
            "returned as plain data, never expanded or templated"]


@names_the_machine
def kvp_info_task(cim, params, check_mode, diff):
    """The kvp_info task: read-only."""
    query = compile_query(params.get("query"))
    if params["scope"] == "guest":
        if params.get("vms") is not None:
            raise AvmaValueError("vms selects VMs of a host; it does not apply to scope=guest")
        document = read_guest_kvp(cim)
        warnings = _issue_warning(document["issues"])
    else:
        document = read_host_kvp(cim, params.get("vms"))
        warnings = _issue_warning([issue for vm in document["vms"] for issue in vm["issues"]],
                                  sum(1 for vm in document["vms"] if vm["issues"]))
        if document["missing_vms"]:
            warnings.append("no VM of this host is named or has the ID: " + ", ".join(document["missing_vms"]))
        if document["owned_elsewhere"]:
            warnings.append("owned by another node of the failover cluster (run the task against that node): " + ", ".join(
                "%s (%s)" % (entry["vm"], entry["owner_node"]) for entry in document["owned_elsewhere"]))
    document = _masked(document, params.get("mask_values"))
    result = dict(changed=False)
    if query is None:
        result.update(document)
    else:
        result["query_result"] = query.search(document)
    if warnings:
        result["warnings"] = warnings
    return result


# ------------------------------------------------------------------------------------------------------------------
# Writing host-pushed items


def management_service(cim):
    """The key selectors of the host's Msvm_VirtualSystemManagementService (one enumeration)."""
    rows = cim.query(MANAGEMENT_SERVICE)
    if not rows:
        raise AvmaError("the host has no Msvm_VirtualSystemManagementService; is the Hyper-V Virtual Machine Management service running?",
                        operation=f"Enumerate {MANAGEMENT_SERVICE.name}")
    return {key: rows[0][key] for key in MANAGEMENT_SERVICE.keys}


def vm_reference(vm_id):
    """A REF to a VM's Msvm_ComputerSystem, as the KVP methods take it in TargetSystem."""
    return CimReference(resource_uri(V2, COMPUTER_SYSTEM.name), {"CreationClassName": COMPUTER_SYSTEM.name, "Name": vm_id})


def _data_item(name, value):
    return EmbeddedInstance(DATA_ITEM_CLASS, {"Data": value or "", "Name": name, "Source": SOURCE_HOST},
                            {"Data": "string", "Name": "string", "Source": "uint16"})


def vm_label(vm):
    return f"VM '{vm['name']}' ({vm['id']})"


def run_vm_method(cim, service, vm, method, params, params_options):
    """Invoke ``method`` of the management service for ``vm`` and wait for its job. A refused call, a failed job or
    a job that did not finish in time raises AvmaError naming the VM and the method."""
    try:
        result = cim.invoke(MANAGEMENT_SERVICE, method, params, selectors=service)
        if result.job is not None:
            cim.wait_for_job(result.job, timeout=params_options["job_timeout"], poll_interval=params_options["job_poll_interval"])
    except (CimMethodError, CimJobFailedError, CimJobTimeoutError) as error:
        raise AvmaError(f"{vm_label(vm)}: {error.message}", machine=error.machine, operation=method) from error


_KVP_METHODS = {"add": "AddKvpItems", "modify": "ModifyKvpItems", "remove": "RemoveKvpItems"}


def _host_items_now(cim, vm):
    """The host-pushed items of one VM as the host reports them now (one enumeration)."""
    setting = read_settings(cim).get(vm["id"])
    return collect_items(_raw_items(setting["HostExchangeItems"]), SOURCE_HOST)[0] if setting else {}


def _apply_host_changes(cim, service, vm, changes, params, applied, warnings):
    """Send one VM's changes, removals first, at most 128 items per call; each change done is appended to ``applied``
    as (vm, change). A call whose answer was lost is checked by reading the VM's items again: done, it counts (with a
    warning); not visible, LostAnswerError."""
    for action in ("remove", "modify", "add"):
        selected = [change for change in changes if change.action == action]
        for batch in batches(selected):
            method = _KVP_METHODS[action]
            items = [_data_item(change.name, change.after if change.after is not None else change.before) for change in batch]
            try:
                run_vm_method(cim, service, vm, method, {"TargetSystem": vm_reference(vm["id"]), "DataItems": items}, params)
            except AvmaError as error:
                if not answer_lost(error):
                    raise
                what = f"{vm_label(vm)}: {method} of {', '.join(change.name for change in batch)}"
                check = f"check with hyperv.avma.kvp_info (vms: ['{vm['id']}'])"
                try:
                    current = _host_items_now(cim, vm)
                except AvmaError as reread_error:
                    raise lost_answer_failure(what, error, check, reread_error=reread_error) from error
                if not all(change_in_place(change, current) for change in batch):
                    raise lost_answer_failure(what, error, check) from error
                warnings.append(lost_answer_warning(what, error))
            applied.extend((vm, change) for change in batch)


KVP_ITEM_SPEC = dict(
    scope=dict(type="str", choices=["host", "guest"], default="host"),
    vms=dict(type="list", elements="str"),
    all_vms=dict(type="bool", default=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    items=dict(type="dict"),
    names=dict(type="list", elements="str", default=[]),
    patterns=dict(type="list", elements="str", default=[]),
    key=dict(type="str", choices=["guest", "external", "guest_parameters"], default="guest"),
    sensitive=dict(type="list", elements="str", default=[]),
    **JOB_OPTIONS,
)


def _wanted_items(params):
    try:
        return validate_wanted_items(params.get("items") or {})
    except ValueError as error:
        raise AvmaValueError(f"items: {error}") from error


def _check_item_params(params):
    if params["state"] == "present" and not params.get("items"):
        raise AvmaValueError("state=present needs items (name: value)")
    if params["state"] == "present" and (params["names"] or params["patterns"]):
        raise AvmaValueError("names and patterns select items to remove; they apply to state=absent only")
    if params["state"] == "absent" and not (params.get("items") or params["names"] or params["patterns"]):
        raise AvmaValueError("state=absent needs names, patterns or items to remove")
    if params["scope"] == "host":
        if bool(params.get("vms")) == bool(params["all_vms"]):
            raise AvmaValueError("scope=host needs exactly one of vms (names or IDs) and all_vms=true")
    elif params.get("vms") or params["all_vms"]:
        raise AvmaValueError("vms and all_vms select VMs of a host; they do not apply to scope=guest (run the task against the guest)")


def select_for_change(vms, params, cim=None, host_name=None):
    """The VMs a changing task works on: ``params["vms"]`` (names or IDs) or every VM with ``params["all_vms"]``.
    Raises AvmaValueError for both or neither, a name several VMs share, and entries that match no VM; with ``cim``,
    entries that another node of the host's failover cluster runs are named with that node."""
    wanted = params.get("vms")
    if bool(wanted) == bool(params["all_vms"]):
        raise AvmaValueError("give exactly one of vms (names or IDs) and all_vms=true")
    if wanted:
        ambiguous = ambiguous_names(vms, wanted)
        if ambiguous:
            raise AvmaValueError("these names belong to more than one VM; give the VM ID instead: " + ", ".join(ambiguous))
    selected, missing = select_vms(vms, wanted if wanted else None)
    if missing:
        owned = vms_owned_elsewhere(cim, host_name, missing) if cim is not None else []
        if owned:
            raise AvmaValueError("these VMs run on another node of the failover cluster; run the task against that node: "
                                 + ", ".join("%s (%s)" % (entry["vm"], entry["owner_node"]) for entry in owned))
        raise AvmaValueError("no VM of this host is named or has the ID: " + ", ".join(missing))
    return selected


def _plan(current, params):
    if params["state"] == "present":
        return plan_present(current, _wanted_items(params))
    names = list(params["names"]) + list(_wanted_items(params))
    return plan_absent(current, name_matcher(names, params["patterns"]))


def _item_result(changes, params, *, failure=None, warnings=()):
    """The result of kvp_item for ``changes`` ([(vm or None, ItemChange)]: planned, or done before ``failure``)."""
    sensitive = name_matcher(params["sensitive"], params["sensitive"])
    records = []
    before, after = {}, {}
    for vm, change in changes:
        record = change_record(change)
        if vm is not None:
            record.update(vm=vm["name"], vm_id=vm["id"])
        records.append(record)
        change_before, change_after = diff_values([change], sensitive)
        if vm is None:
            before.update(change_before)
            after.update(change_after)
        else:
            before.setdefault(vm["name"], {}).update(change_before)
            after.setdefault(vm["name"], {}).update(change_after)
    result = dict(changed=bool(records), changes=records, diff=dict(before=before, after=after))
    if warnings:
        result["warnings"] = list(warnings)
    if failure is not None:
        result.update(failure_fields(failure))
    return result


def _host_item_task(cim, params, check_mode):
    host_name, vms = read_vms(cim)
    selected = select_for_change(vms, params, cim, host_name)
    settings = read_settings(cim)
    planned = []
    for vm in selected:
        setting = settings.get(vm["id"])
        if setting is None:
            raise AvmaError(f"{vm_label(vm)} has no {KVP_SETTING.name}; the host did not report its Data Exchange setting",
                            operation=f"Enumerate {KVP_SETTING.name}")
        current, _issues = collect_items(_raw_items(setting["HostExchangeItems"]), SOURCE_HOST)
        planned.extend((vm, change) for change in _plan(current, params))
    if check_mode or not planned:
        return _item_result(planned, params)
    service = management_service(cim)
    applied = []
    warnings = []
    for vm in selected:
        changes = [change for owner, change in planned if owner is vm]
        if not changes:
            continue
        try:
            _apply_host_changes(cim, service, vm, changes, params, applied, warnings)
        except AvmaError as error:
            # What was done before stays done: report it with the failure.
            return _item_result(applied, params, failure=error, warnings=warnings)
    return _item_result(applied, params, warnings=warnings)


def _guest_item_task(cim, params, check_mode):
    key_path = KVP_KEYS[params["key"]]
    names = [name for name, _kind in enum_values(cim, key_path, hive=HKLM)]
    if params["state"] == "present":
        relevant = name_matcher(list(_wanted_items(params)))
    else:
        relevant = name_matcher(list(params["names"]) + list(_wanted_items(params)), params["patterns"])
    current = {}
    for name in names:
        if relevant(name):
            try:
                value = get_string_value(cim, key_path, name, hive=HKLM)
            except WsmanProtocolError:
                value = None  # unreadable (characters XML cannot carry): changed or removed all the same
            current[name] = None if value is None else value[:MAX_VALUE_CHARS]
    planned = [(None, change) for change in _plan(current, params)]
    if check_mode:
        return _item_result(planned, params)
    applied = []
    warnings = []
    for vm, change in planned:
        try:
            _write_guest_value(cim, key_path, change, warnings)
        except AvmaError as error:
            return _item_result(applied, params, failure=error, warnings=warnings)
        applied.append((vm, change))
    return _item_result(applied, params, warnings=warnings)


def _write_guest_value(cim, key_path, change, warnings):
    """Set or delete one guest registry value; a call whose answer was lost is checked by reading the value again."""
    method = "DeleteValue" if change.action == "remove" else "SetStringValue"
    try:
        if change.action == "remove":
            delete_value(cim, key_path, change.name, hive=HKLM)
        else:
            set_string_value(cim, key_path, change.name, change.after, hive=HKLM)
    except AvmaError as error:
        if not answer_lost(error):
            raise
        what = f"StdRegProv.{method} of {change.name}"
        check = f"check with hyperv.avma.kvp_info (scope: guest) or the registry key HKLM\\{key_path}"
        try:
            value = get_string_value(cim, key_path, change.name, hive=HKLM)
        except AvmaError as reread_error:
            raise lost_answer_failure(what, error, check, reread_error=reread_error) from error
        if not change_in_place(change, {} if value is None else {change.name: value[:MAX_VALUE_CHARS]}):
            raise lost_answer_failure(what, error, check) from error
        warnings.append(lost_answer_warning(what, error))


@names_the_machine
def kvp_item_task(cim, params, check_mode, diff):
    """The kvp_item task: host-pushed items of VMs (scope=host) or the guest's own KVP registry values
    (scope=guest) made present or absent. Check mode sends nothing and reports what would change."""
    _check_item_params(params)
    result = _guest_item_task(cim, params, check_mode) if params["scope"] == "guest" else _host_item_task(cim, params, check_mode)
    if not diff:
        del result["diff"]
    return result


# ------------------------------------------------------------------------------------------------------------------
# integration_service


INTEGRATION_SERVICE_SPEC = dict(
    vms=dict(type="list", elements="str"),
    all_vms=dict(type="bool", default=False),
    state=dict(type="str", choices=["enabled", "disabled"], default="enabled"),
    **JOB_OPTIONS,
)


def _worth_another_method(error):
    """Whether the host turned the call down before doing anything: the method does not exist, or its ReturnValue
    refused it (not supported, invalid parameter, failed, ...). A failed or unfinished job is not: that method ran."""
    if isinstance(error, WsmanFaultError):
        return error.code == _INVALID_ACTION_URI or error.wmi_code in (_WBEM_E_INVALID_METHOD, _WBEM_E_METHOD_NOT_IMPLEMENTED)
    return isinstance(error, CimMethodError)


def set_data_exchange(cim, service, vm, setting, enabled, params, methods=DATA_EXCHANGE_METHODS):
    """Switch Data Exchange on or off for one VM through the first of ``methods`` the host takes (ModifyResourceSettings
    first). Returns the list of methods still worth trying (the one that worked first), so that later VMs skip those
    the host does not have or refused."""
    instance = EmbeddedInstance(KVP_SETTING.name, {"InstanceID": setting["InstanceID"], "EnabledState": SETTING_ENABLED if enabled else SETTING_DISABLED},
                                {"InstanceID": "string", "EnabledState": "uint16"})
    remaining = list(methods)
    while remaining:
        method, parameter = remaining[0]
        try:
            run_vm_method(cim, service, vm, method, {parameter: [instance]}, params)
            return remaining
        except AvmaError as error:
            cause = error.__cause__ if isinstance(error.__cause__, AvmaError) else error
            if len(remaining) == 1 or not _worth_another_method(cause):
                raise
            remaining.pop(0)
    return remaining


@names_the_machine
def integration_service_task(cim, params, check_mode, diff):
    """The integration_service task: Data Exchange on or off for the selected VMs (two enumerations, then one method
    call and its job per VM that changes)."""
    enabled = params["state"] == "enabled"
    host_name, vms = read_vms(cim)
    selected = select_for_change(vms, params, cim, host_name)
    settings = read_settings(cim, with_items=False)
    report = []
    for vm in selected:
        setting = settings.get(vm["id"])
        if setting is None:
            raise AvmaError(f"{vm_label(vm)} has no {KVP_SETTING.name}; the host did not report its Data Exchange setting",
                            operation=f"Enumerate {KVP_SETTING.name}")
        before = setting_enabled(setting["EnabledState"])
        report.append(dict(name=vm["name"], id=vm["id"], enabled_before=before, enabled=before, changed=before is not enabled, vm=vm, setting=setting))
    pending = [entry for entry in report if entry["changed"]]
    failure = None
    warnings = []
    if check_mode:
        for entry in pending:
            entry["enabled"] = enabled
    elif pending:
        service = management_service(cim)
        methods = DATA_EXCHANGE_METHODS
        for position, entry in enumerate(pending):
            try:
                try:
                    methods = set_data_exchange(cim, service, entry["vm"], entry["setting"], enabled, params, methods)
                except AvmaError as error:
                    if not answer_lost(error):
                        raise
                    _verify_data_exchange(cim, entry["vm"], enabled, error, warnings)
            except AvmaError as error:
                failure = error
                for unchanged in pending[position:]:
                    unchanged["changed"] = False
                break
            entry["enabled"] = enabled
    changed = [entry for entry in report if entry["changed"]]
    result = dict(
        changed=bool(changed),
        vms=[{key: entry[key] for key in ("name", "id", "enabled_before", "enabled", "changed")} for entry in report],
        diff=dict(before={entry["name"]: _state_word(entry["enabled_before"]) for entry in changed},
                  after={entry["name"]: _state_word(entry["enabled"]) for entry in changed}),
    )
    if warnings:
        result["warnings"] = warnings
    if failure is not None:
        result.update(failure_fields(failure))
    if not diff:
        del result["diff"]
    return result


def _verify_data_exchange(cim, vm, enabled, error, warnings):
    """After the switch's answer was lost: read the VM's Data Exchange setting again; switched, warn, else raise
    LostAnswerError."""
    what = f"{vm_label(vm)}: switching Data Exchange {_state_word(enabled)}"
    check = f"check with hyperv.avma.kvp_info (vms: ['{vm['id']}'], data_exchange in the result)"
    try:
        setting = read_settings(cim, with_items=False).get(vm["id"])
    except AvmaError as reread_error:
        raise lost_answer_failure(what, error, check, reread_error=reread_error) from error
    if setting is None or setting_enabled(setting["EnabledState"]) is not enabled:
        raise lost_answer_failure(what, error, check) from error
    warnings.append(lost_answer_warning(what, error))


def _state_word(enabled):
    return {True: "enabled", False: "disabled"}.get(enabled, "unknown")


# ------------------------------------------------------------------------------------------------------------------
# host_info


HOST_INFO_SPEC = dict(
    check_cluster_nodes=dict(type="bool", default=True),
    cluster_node_addresses=dict(type="dict", default={}),
)


def _problem(code, message, remedy, vm=None):
    return dict(code=code, message=message, remedy=remedy, vm=vm)


def readiness_problems(host, vms, virtualization_answered, cluster=None):
    """Why the host cannot activate its guests through AVMA, as ``{code, message, remedy, vm}`` (empty: ready).

    Codes: those of ``_avma.host_problems`` (host_release_unknown, host_not_datacenter, host_not_activated), then
    ``hyperv_missing``, ``hyperv_unavailable`` (installed but its WMI namespace does not answer), and per VM
    ``data_exchange_off`` and ``data_exchange_not_ok`` (a running VM whose Data Exchange reports a status other than OK
    or Degraded: Degraded is an older protocol version, working normally); and per other node of a failover cluster
    ``cluster_node_not_activated`` and ``cluster_node_unchecked`` (every node must be activated for guests to stay
    activated wherever they run).
    """
    problems = [dict(problem, vm=None) for problem in host_problems(host["os"]["release"], host["os"]["edition_id"], host["activated"])]
    if not host["hyperv_installed"]:
        problems.append(_problem("hyperv_missing", "the Hyper-V role is not installed",
                                 "install the Hyper-V role and restart (the hyperv.avma.host_setup role with host_setup_install_hyperv=true, "
                                 "or Install-WindowsFeature Hyper-V -IncludeManagementTools -Restart)"))
    elif not virtualization_answered:
        problems.append(_problem("hyperv_unavailable", "the Hyper-V role is installed but its WMI namespace root/virtualization/v2 does not answer",
                                 "restart the host to finish installing Hyper-V, and check that the Hyper-V Virtual Machine Management service runs"))
    for node in (cluster or {}).get("nodes", []):
        if (node["name"] or "").casefold() == (host["name"] or "").casefold():
            continue
        if not node["checked"]:
            problems.append(_problem("cluster_node_unchecked", f"cluster node {node['name']} could not be asked whether it is activated: {node['error']}",
                                     "give its address in cluster_node_addresses, or check that it answers WinRM with these credentials"))
        elif not node["activated"]:
            problems.append(_problem("cluster_node_not_activated", f"cluster node {node['name']} is not activated, so guests that move there lose activation",
                                     "activate every node of the cluster"))
    for vm in vms:
        if vm["data_exchange_enabled"] is False:
            problems.append(_problem("data_exchange_off", f"Data Exchange is off for VM '{vm['name']}', so AVMA cannot reach it",
                                     "enable it: hyperv.avma.integration_service with state=enabled "
                                     "(or Enable-VMIntegrationService -Name 'Key-Value Pair Exchange')", vm["name"]))
        elif vm["state_code"] == VM_RUNNING and vm["data_exchange_status_code"] not in (None, *INTEGRATION_STATUS_WORKING):
            problems.append(_problem("data_exchange_not_ok", f"Data Exchange of running VM '{vm['name']}' reports {vm['data_exchange_status']}",
                                     "check the guest's Hyper-V Data Exchange Service (vmickvpexchange) and its integration services", vm["name"]))
    return problems


def read_host_readiness(cim, params=None):
    """The host_info result: the host's OS and licence, Hyper-V, its VMs' Data Exchange, problems and readiness.

    Seven requests (beyond paging): Win32_OperatingSystem, SoftwareLicensingProduct, Win32_OptionalFeature, and when
    Hyper-V is installed Msvm_ComputerSystem, Msvm_KvpExchangeComponent and Msvm_KvpExchangeComponentSettingData
    with their status properties only, and MSCluster_Node; on a cluster node, two more per other node, on that node.
    """
    params = params or {}
    operating_system = read_operating_system(cim)
    facts = activation_facts(operating_system, read_keyed_products(cim))
    features = cim.query(OPTIONAL_FEATURE, "Name = %s" % wql_string(HYPERV_FEATURE))
    product = facts["windows_product"] or {}
    host = dict(
        name=operating_system.get("CSName"),
        os=facts["os"],
        is_datacenter=is_datacenter_edition(facts["os"]["edition_id"]),
        activated=product.get("license_status") == LICENSED,
        license_status_name=product.get("license_status_name"),
        hyperv_installed=any(row["InstallState"] == FEATURE_ENABLED for row in features),
    )
    vms = []
    answered = False
    if host["hyperv_installed"]:
        try:
            _host_name, machines = read_vms(cim)
            components = read_components(cim, with_items=False)
            settings = read_settings(cim, with_items=False)
            answered = True
        except HypervMissingError:
            machines = []
        for vm in machines:
            exchange = _data_exchange(components.get(vm["id"]), settings.get(vm["id"]))
            vms.append(dict(name=vm["name"], id=vm["id"], state=vm["state"], state_code=vm["state_code"],
                            data_exchange_enabled=exchange["enabled"], data_exchange_status=exchange["status"],
                            data_exchange_status_code=exchange["status_code"]))
    cluster = None
    if host["hyperv_installed"] and params.get("check_cluster_nodes", True):
        cluster = read_cluster(cim, host["name"], host["activated"], params.get("cluster_node_addresses"))
    problems = readiness_problems(host, vms, answered, cluster)
    return dict(
        host=host,
        cluster=cluster,
        can_activate_releases=list(activatable_guest_releases(facts["os"]["release"])) if host["is_datacenter"] else [],
        vms=vms,
        vms_with_data_exchange_off=[vm["name"] for vm in vms if vm["data_exchange_enabled"] is False],
        problems=problems,
        ready=not problems,
    )


@names_the_machine
def host_info_task(cim, params, check_mode, diff):
    """The host_info task: read-only."""
    return dict(changed=False, **read_host_readiness(cim, params))
