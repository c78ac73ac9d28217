# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hyper-V hosts, their VMs and the Data Exchange (KVP) between them: the state model behind root/virtualization/v2.

A VM lives on its host as five instances: Msvm_ComputerSystem (Name = the VM's GUID, ElementName = its name,
EnabledState 2 running / 3 off), Msvm_VirtualSystemSettingData, Msvm_KvpExchangeComponentSettingData (EnabledState 2/3
= Data Exchange on/off, HostExchangeItems), Msvm_KvpExchangeComponent (what the host shows of the guest) and the
lab-internal ``VM_GUEST_DATA`` (what the guest's integration services last published). A guest of the fleet file
(``hyperv_host``) is a VM whose GUID is derived from its machine name; its guest side is its registry
(``HKLM\\SOFTWARE\\Microsoft\\Virtual Machine``). Synthetic VMs (``synthetic_vms``) have no machine: their guest
side is generated once and kept in ``VM_GUEST_DATA``.

``exchange`` is one round of the KVP service, run after anything that changes either side: while the VM runs with
Data Exchange on, the guest's ``Auto`` and ``Guest`` values become the host's GuestIntrinsicExchangeItems and
GuestExchangeItems, and the host's items and identity become the guest's ``External`` and ``Guest\\Parameters``
keys. A stopped VM shows no guest data; with Data Exchange off nothing moves and the host shows no guest data
(OperationalStatus [12] No Contact, EnabledState 3). While exchanging, OperationalStatus[0] is the VM's ``vm.status``
(2 OK, 3 Degraded: data shown; 7, 12, 13: no data).

The lab does not enforce the 1024-character limit on items a guest publishes: hostile values reach the host as
they are, so that a client is shown to bound them itself. HostOnlyItems (fleet ``vm.host_only_items``, Source 4)
stay on the host, never reach the guest, and may be as long as the fleet file makes them (16 KB on Windows). A host
item crosses the VMBus as a key of at most 512 bytes of UTF-16 with its terminating NUL (Linux ``hyperv.h``): a
longer name reaches the guest's External key cut to that size.
"""

import ipaddress
from dataclasses import dataclass

from . import catalog
from .classes_virtualization import (MSVM_COMPUTER_SYSTEM, MSVM_KVP_EXCHANGE_COMPONENT,
                                     MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA, MSVM_VIRTUAL_SYSTEM_MANAGEMENT_SERVICE,
                                     MSVM_VIRTUAL_SYSTEM_SETTING_DATA, VM_GUEST_DATA, WIN32_OPTIONAL_FEATURE)
from .kvp_items import SOURCE_GUEST, SOURCE_HOST, SOURCE_HOST_ONLY, SOURCE_INTRINSIC, parse_item, render_item
from .registry import AUTO_KEY, EXTERNAL_KEY, GUEST_KEY, HKEY_LOCAL_MACHINE, PARAMETERS_KEY, Registry
from .seed_licensing import stable_guid
from .seed_os import SUITE_DATACENTER, SUITE_OTHER

# The Key-Value Pair Exchange integration service's ID, as in Get-VMIntegrationService's Id "Microsoft:<VM>\<ID>".
KVP_SERVICE_ID = "2A34B1C2-FD73-4043-8A5B-DD2159BC743F"
COMPUTER_SYSTEM = "Msvm_ComputerSystem"
RUNNING = 2
OFF = 3
ENABLED = 2
DISABLED = 3
NO_CONTACT = 12
STATUS_TEXT = {2: "OK", 3: "Degraded", 7: "Non-Recoverable Error", 12: "No Contact", 13: "Lost Communication"}
DELIVERING_STATUSES = (2, 3)
FIXED_TIME = "2026-11-01T06:00:00Z"
# HV_KVP_EXCHANGE_MAX_KEY_SIZE (Linux hyperv.h): a key on the VMBus, UTF-16 with its terminating NUL.
MAX_VMBUS_KEY_BYTES = 512

# Win32_OptionalFeature rows: (Name, Caption, installed on a Hyper-V host, installed elsewhere).
OPTIONAL_FEATURES = (
    ("Microsoft-Hyper-V", "Hyper-V", True, False),
    ("Microsoft-Hyper-V-Offline", "Hyper-V - Offline", True, False),
    ("Microsoft-Hyper-V-Online", "Hyper-V - Online", True, False),
    ("Microsoft-Hyper-V-Management-Clients", "Hyper-V Management Clients", True, False),
    ("Microsoft-Hyper-V-Management-PowerShell", "Hyper-V Module for Windows PowerShell", True, False),
    ("NetFx4ServerFeatures", ".NET Framework 4.8 Features", True, True),
    ("TelnetClient", "Telnet Client", False, False),
)


@dataclass(frozen=True)
class VmStatus:
    """A guest seen as a VM: ``host`` (the host's ``Machine``), ``vm_name``, ``running``, ``data_exchange_enabled``."""

    host: object
    vm_name: str
    running: bool
    data_exchange_enabled: bool


@dataclass
class VmRecord:
    """The instances of one VM on its host (live dicts of the host's store)."""

    system: dict
    settings: dict
    kvp_settings: dict
    component: dict
    guest_data: dict

    @property
    def vm_id(self):
        return self.system["Name"]

    @property
    def name(self):
        return self.system["ElementName"]

    @property
    def exchanging(self):
        return self.system["EnabledState"] == RUNNING and self.kvp_settings["EnabledState"] == ENABLED


# ---- identities and generated values ------------------------------------------------------------------------------

def guest_vm_id(machine_name):
    """The VM GUID (upper case, as Hyper-V writes it) of the guest machine ``machine_name``."""
    return stable_guid("vm", machine_name.lower()).upper()


def synthetic_vm_id(host_name, number):
    return stable_guid("synthetic-vm", host_name.lower(), str(number)).upper()


def fqdn(computer_name):
    return "%s.%s" % (computer_name.lower(), catalog.LAB_DNS_DOMAIN)


def link_local_ipv6(ipv4):
    """A stable link-local IPv6 address for an IPv4 address (the lab has no IPv6 network)."""
    packed = ipaddress.ip_address(ipv4).packed
    return "fe80::%x:%x:%x%%%d" % (0x215, packed[0] << 8 | packed[1], packed[2] << 8 | packed[3], 4 + packed[3] % 8)


def intrinsic_items(os_spec, full_name, ipv4):
    """The items a guest's integration services publish by themselves (the ``Auto`` key), from its OS."""
    major, minor = os_spec.version_string.split(".")[:2]
    ipv6 = link_local_ipv6(ipv4)
    suite = SUITE_DATACENTER if "Datacenter" in os_spec.edition.caption_suffix else SUITE_OTHER
    caption = os_spec.caption[len("Microsoft "):] if os_spec.caption.startswith("Microsoft ") else os_spec.caption
    return [
        ("FullyQualifiedDomainName", full_name),
        ("OSName", caption),
        ("OSVersion", os_spec.version_string),
        ("CSDVersion", ""),
        ("OSMajorVersion", major),
        ("OSMinorVersion", minor),
        ("OSBuildNumber", str(os_spec.build)),
        ("OSPlatformId", "2"),
        ("ServicePackMajor", "0"),
        ("ServicePackMinor", "0"),
        ("SuiteMask", str(suite)),
        ("ProductType", "3"),
        ("OSEditionId", str(os_spec.sku)),
        ("ProcessorArchitecture", "9"),
        ("IntegrationServicesVersion", os_spec.version_string + ".1"),
        ("NetworkAddressIPv4", ipv4),
        ("NetworkAddressIPv6", ipv6),
        ("RDPAddressIPv4", ipv4),
        ("RDPAddressIPv6", ipv6),
        # Real hosts also publish these two (their values here are the lab's choice: no public sample shows them).
        ("OSVendor", "Microsoft Corporation"),
        ("OSSignature", "%s.%s.%d" % (major, minor, os_spec.build)),
    ]


def parameters_items(host_spec, vm_name, vm_id):
    """What the host pushes into the guest's ``Guest\\Parameters`` key."""
    host_fqdn = fqdn(host_spec.os.computer_name)
    return [("HostName", host_fqdn), ("PhysicalHostName", host_spec.os.computer_name),
            ("PhysicalHostNameFullyQualified", host_fqdn), ("VirtualMachineName", vm_name), ("VirtualMachineId", vm_id)]


# ---- instances ----------------------------------------------------------------------------------------------------

def _system_values(vm_id, name, running):
    return MSVM_COMPUTER_SYSTEM.new_instance(
        Caption="Virtual Machine", CreationClassName=COMPUTER_SYSTEM, Description="Microsoft Virtual Machine",
        ElementName=name, EnabledDefault=2, EnabledState=RUNNING if running else OFF, EnhancedSessionModeState=3,
        FailedOverReplicationType=0, HealthState=5, InstallDate=FIXED_TIME, LastReplicationType=0, Name=vm_id,
        NumberOfNumaNodes=1, OnTimeInMilliseconds=86400000 if running else 0, OperationalStatus=[2],
        ProcessID=4000 + int(vm_id[:4], 16) % 4000 if running else None, ReplicationHealth=0, ReplicationMode=0,
        ReplicationState=0, RequestedState=RUNNING if running else OFF, ResetCapability=1,
        StatusDescriptions=["Operating normally"], TimeOfLastConfigurationChange=FIXED_TIME,
        TimeOfLastStateChange=FIXED_TIME)


def _settings_values(vm_id, name):
    return MSVM_VIRTUAL_SYSTEM_SETTING_DATA.new_instance(
        AutomaticRecoveryAction=3, AutomaticShutdownAction=4, AutomaticStartupAction=2, BIOSGUID="{%s}" % vm_id,
        Caption="Virtual Machine Settings", ConfigurationDataRoot="C:\\ProgramData\\Microsoft\\Windows\\Hyper-V",
        ConfigurationID=vm_id, CreationTime=FIXED_TIME, Description="Active settings for the virtual machine.",
        ElementName=name, InstanceID="Microsoft:%s" % vm_id, IsSaved=False, SecureBootEnabled=True, Version="10.0",
        VirtualSystemIdentifier=vm_id, VirtualSystemSubType="Microsoft:Hyper-V:SubType:2",
        VirtualSystemType="Microsoft:Hyper-V:System:Realized")


def kvp_settings_id(vm_id):
    return "Microsoft:%s\\%s" % (vm_id, KVP_SERVICE_ID)


def vmbus_key_bytes(name):
    """The bytes ``name`` takes as a VMBus key: UTF-16 code units and the terminating NUL."""
    return len(name.encode("utf-16-le")) + 2


def vmbus_key(name):
    """``name`` as the guest receives it: cut to what a VMBus key carries (never in the middle of a surrogate pair)."""
    while vmbus_key_bytes(name) > MAX_VMBUS_KEY_BYTES:
        name = name[:-1]
    return name


def _kvp_settings_values(vm_id, data_exchange, host_items, shape, host_only_items=()):
    return MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA.new_instance(
        AllocationUnits="count", AutomaticAllocation=True, AutomaticDeallocation=True, Caption="Key-Value Pair Exchange",
        ConsumerVisibility=3, Description="Microsoft Key-Value Pair Exchange Service Setting Data",
        DisableHostKVPItems=False, ElementName="Key-Value Pair Exchange", EnabledState=ENABLED if data_exchange else DISABLED,
        HostExchangeItems=render_items(host_items, SOURCE_HOST, shape),
        HostOnlyItems=render_items(list(host_only_items), SOURCE_HOST_ONLY, shape), InstanceID=kvp_settings_id(vm_id), Limit=1,
        OtherResourceType="Microsoft:Hyper-V:Key-Value Pair Exchange Component", Reservation=1, ResourceType=1,
        VirtualQuantity=1, VirtualQuantityUnits="count", Weight=0)


def _component_keys(vm_id):
    return {"CreationClassName": "Msvm_KvpExchangeComponent", "DeviceID": kvp_settings_id(vm_id),
            "SystemCreationClassName": COMPUTER_SYSTEM, "SystemName": vm_id}


def _component_values(vm_id):
    return MSVM_KVP_EXCHANGE_COMPONENT.new_instance(
        AdditionalAvailability=[6], Availability=6, Caption="Key-Value Pair Exchange",
        Description="Microsoft Key-Value Pair Exchange Service", ElementName="Key-Value Pair Exchange", EnabledDefault=7,
        EnabledState=DISABLED, HealthState=5, InstanceID=kvp_settings_id(vm_id), Name="Key-Value Pair Exchange",
        RequestedState=12, TimeOfLastStateChange=FIXED_TIME, **_component_keys(vm_id))


def render_items(items, source, shape):
    """Embedded-instance texts of ``[(name, data), ...]``, or None for none (WMI's null array)."""
    return [render_item(name, data, source, shape) for name, data in items] or None


def item_pairs(texts):
    """``[(name, data), ...]`` of stored embedded-instance texts (the lab's own, so always well formed)."""
    return [parse_item(text, strict=False)[:2] for text in texts or ()]


def _show(record, shape):
    """Set what the host shows of the guest (``record.component``) from the rest of ``record``."""
    data = record.guest_data
    status = data["KvpStatus"]
    delivering = record.exchanging and status in DELIVERING_STATUSES
    if record.exchanging:
        operational = [status]
    else:
        operational = [NO_CONTACT] if record.system["EnabledState"] == RUNNING else None
    intrinsic = list(zip(data["IntrinsicNames"] or [], data["IntrinsicValues"] or []))
    guest = list(zip(data["GuestNames"] or [], data["GuestValues"] or []))
    guest_texts = (render_items(guest, SOURCE_GUEST, shape) or []) + list(data["RawGuestItems"] or [])
    record.component.update(
        EnabledState=ENABLED if record.exchanging else DISABLED,
        OperationalStatus=operational,
        StatusDescriptions=[STATUS_TEXT[operational[0]]] if operational else None,
        GuestIntrinsicExchangeItems=render_items(intrinsic, SOURCE_INTRINSIC, shape) if delivering else None,
        GuestExchangeItems=(guest_texts or None) if delivering else None)


def _published(intrinsic, guest):
    """VM_GUEST_DATA columns of ``[(name, value), ...]`` intrinsic and guest items."""
    return {"IntrinsicNames": [item[0] for item in intrinsic], "IntrinsicValues": [item[1] for item in intrinsic],
            "GuestNames": [item[0] for item in guest], "GuestValues": [item[1] for item in guest]}


def _guest_data(vm_id, guest_machine, status, intrinsic, guest, raw):
    return VM_GUEST_DATA.new_instance(VmId=vm_id, GuestMachine=guest_machine, KvpStatus=status, RawGuestItems=list(raw),
                                      **_published(intrinsic, guest))


def _vm_instances(host_spec, vm_id, name, *, running, data_exchange, host_items, guest_data, host_only_items=()):
    """The five instances of a new VM, in the order of ``VM_CLASSES``, what the host shows already set."""
    record = VmRecord(_system_values(vm_id, name, running), _settings_values(vm_id, name),
                      _kvp_settings_values(vm_id, data_exchange, host_items, host_spec.wire.kvp_item_shape, host_only_items),
                      _component_values(vm_id), guest_data)
    _show(record, host_spec.wire.kvp_item_shape)
    return [record.system, record.settings, record.kvp_settings, record.component, record.guest_data]


VM_CLASSES = (MSVM_COMPUTER_SYSTEM, MSVM_VIRTUAL_SYSTEM_SETTING_DATA, MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA,
              MSVM_KVP_EXCHANGE_COMPONENT, VM_GUEST_DATA)


# ---- seeding ------------------------------------------------------------------------------------------------------

def _optional_features(spec):
    has_hyperv = spec.kind == "host" and spec.hyperv.installed
    return [WIN32_OPTIONAL_FEATURE.new_instance(
        Caption=caption, Description=caption, InstallState=1 if (on_host if has_hyperv else elsewhere) else 2, Name=name)
        for name, caption, on_host, elsewhere in OPTIONAL_FEATURES]


def _host_system(spec):
    name = spec.os.computer_name
    return MSVM_COMPUTER_SYSTEM.new_instance(
        Caption="Hosting Computer System", CreationClassName=COMPUTER_SYSTEM, Description="Microsoft Hosting Computer System",
        ElementName=name, EnabledDefault=2, EnabledState=2, HealthState=5, InstallDate=FIXED_TIME, Name=name,
        NumberOfNumaNodes=1, OperationalStatus=[2], RequestedState=12, ResetCapability=1, StatusDescriptions=["OK"],
        TimeOfLastStateChange=FIXED_TIME)


def _management_service(spec):
    return MSVM_VIRTUAL_SYSTEM_MANAGEMENT_SERVICE.new_instance(
        Caption="Virtual System Management Service", CreationClassName="Msvm_VirtualSystemManagementService",
        Description="Service for creating, manipulating, and managing virtual machines",
        ElementName="Hyper-V Virtual System Management Service", EnabledDefault=2, EnabledState=2, HealthState=5,
        Name="vmms", OperationalStatus=[2], RequestedState=12, Started=True, StartMode="Automatic",
        StatusDescriptions=["The service is running normally"], SystemCreationClassName=COMPUTER_SYSTEM,
        SystemName=spec.os.computer_name)


def _guest_vm(host_spec, guest):
    vm = guest.vm
    intrinsic = intrinsic_items(guest.os, vm.fqdn, guest.address)
    data = _guest_data(guest_vm_id(guest.name), guest.name, vm.status, intrinsic, list(vm.guest_items), vm.raw_guest_items)
    return _vm_instances(host_spec, guest_vm_id(guest.name), vm.name, running=vm.running, data_exchange=vm.data_exchange,
                         host_items=list(vm.host_items), guest_data=data, host_only_items=vm.host_only_items)


def _synthetic_vms(host_spec):
    synthetic = host_spec.synthetic_vms
    width = max(4, len(str(synthetic.count)))
    for number in range(1, synthetic.count + 1):
        vm_id = synthetic_vm_id(host_spec.name, number)
        name = "%s%0*d" % (synthetic.name_prefix, width, number)
        address = "10.200.%d.%d" % divmod(number, 250)
        data = _guest_data(vm_id, "", 2, intrinsic_items(synthetic.os, fqdn(name), address), list(synthetic.guest_items), ())
        yield _vm_instances(host_spec, vm_id, name, running=synthetic.running, data_exchange=synthetic.data_exchange,
                            host_items=[], guest_data=data)


def seed(store, spec):
    """Add what ``MachineSpec`` ``spec`` has of Hyper-V: optional features everywhere; on a host with Hyper-V its own
    Msvm_ComputerSystem, the management service and its VMs; on a guest that is a VM, its Virtual Machine keys."""
    store.extend(WIN32_OPTIONAL_FEATURE, _optional_features(spec))
    if spec.kind == "host" and spec.hyperv.installed:
        store.add(MSVM_COMPUTER_SYSTEM, _host_system(spec))
        store.add(MSVM_VIRTUAL_SYSTEM_MANAGEMENT_SERVICE, _management_service(spec))
        vms = [_guest_vm(spec, guest) for guest in spec.guests]
        if spec.synthetic_vms is not None:
            vms.extend(_synthetic_vms(spec))
        for index, cim_class in enumerate(VM_CLASSES):
            store.extend(cim_class, [instances[index] for instances in vms])
    if spec.vm is not None:
        _seed_guest_keys(Registry(store), spec)


def _seed_guest_keys(registry, spec):
    vm = spec.vm
    host_fqdn = vm.host_fqdn
    registry.replace_values(HKEY_LOCAL_MACHINE, AUTO_KEY, intrinsic_items(spec.os, vm.fqdn, spec.address))
    registry.replace_values(HKEY_LOCAL_MACHINE, GUEST_KEY, list(vm.guest_items))
    registry.replace_values(HKEY_LOCAL_MACHINE, EXTERNAL_KEY, list(vm.host_items))
    registry.replace_values(HKEY_LOCAL_MACHINE, PARAMETERS_KEY, [
        ("HostName", host_fqdn), ("PhysicalHostName", vm.host_computer_name), ("PhysicalHostNameFullyQualified", host_fqdn),
        ("VirtualMachineName", vm.name), ("VirtualMachineId", guest_vm_id(spec.name))])


# ---- finding VMs --------------------------------------------------------------------------------------------------

def hosts(fleet):
    return [machine for machine in fleet.machines.values() if machine.kind == "host"]


def vm_record(host, vm_id):
    """The ``VmRecord`` of VM ``vm_id`` on ``host``, or None when the host does not have it."""
    store = host.store
    system = store.find(MSVM_COMPUTER_SYSTEM, {"CreationClassName": COMPUTER_SYSTEM, "Name": vm_id})
    if system is None or system["Caption"] != "Virtual Machine":
        return None
    return VmRecord(
        system, store.find(MSVM_VIRTUAL_SYSTEM_SETTING_DATA, {"InstanceID": "Microsoft:%s" % vm_id}),
        store.find(MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA, {"InstanceID": kvp_settings_id(vm_id)}),
        store.find(MSVM_KVP_EXCHANGE_COMPONENT, _component_keys(vm_id)), store.find(VM_GUEST_DATA, {"VmId": vm_id}))


def locate_vm(fleet, vm_id):
    """``(host Machine, VmRecord)`` of the VM ``vm_id`` wherever it runs now, or ``(None, None)``. The host it was
    last found on is tried first, so only a VM that moved costs a look at every host."""
    hinted = fleet.machines.get(fleet.vm_host_hints.get(vm_id.lower()))
    record = vm_record(hinted, vm_id) if hinted is not None else None
    if record is not None:
        return hinted, record
    for host in hosts(fleet):
        record = vm_record(host, vm_id)
        if record is not None:
            fleet.vm_host_hints[vm_id.lower()] = host.name
            return host, record
    return None, None


def vms_named(fleet, name_or_id):
    """``[(host, VmRecord), ...]`` of the VMs whose name (case-insensitive) or GUID is ``name_or_id``."""
    found = []
    wanted = name_or_id.lower()
    for host in hosts(fleet):
        for system in host.store.instances(MSVM_COMPUTER_SYSTEM):
            if system["Caption"] == "Virtual Machine" and wanted in (system["Name"].lower(), system["ElementName"].lower()):
                found.append((host, vm_record(host, system["Name"])))
    return found


def guest_vm_status(fleet, guest):
    """The ``VmStatus`` of the guest ``Machine`` ``guest``, or None when it is not a VM of a host in ``fleet``."""
    if guest.kind != "guest" or guest.hyperv_host is None:
        return None
    host, record = locate_vm(fleet, guest_vm_id(guest.name))
    if record is None:
        return None
    return VmStatus(host=host, vm_name=record.name, running=record.system["EnabledState"] == RUNNING,
                    data_exchange_enabled=record.kvp_settings["EnabledState"] == ENABLED)


# ---- the exchange -------------------------------------------------------------------------------------------------

def exchange(fleet, host, record):
    """One round of the KVP service for the VM of ``record`` on ``host`` (see the module docstring)."""
    guest = fleet.machines.get(record.guest_data["GuestMachine"]) if record.guest_data["GuestMachine"] else None
    if record.exchanging and guest is not None:
        registry = Registry(guest.store)
        record.guest_data.update(_published(registry.items(HKEY_LOCAL_MACHINE, AUTO_KEY),
                                            registry.items(HKEY_LOCAL_MACHINE, GUEST_KEY)))
        registry.replace_values(HKEY_LOCAL_MACHINE, EXTERNAL_KEY,
                                [(vmbus_key(name), data) for name, data in item_pairs(record.kvp_settings["HostExchangeItems"])])
        registry.replace_values(HKEY_LOCAL_MACHINE, PARAMETERS_KEY, parameters_items(host.spec, record.name, record.vm_id))
    _show(record, host.spec.wire.kvp_item_shape)


def guest_registry_changed(fleet, machine):
    """After a registry write on ``machine``: when it is a VM, let its host see what it publishes now."""
    if fleet is None or machine.kind != "guest" or machine.hyperv_host is None:
        return
    host, record = locate_vm(fleet, guest_vm_id(machine.name))
    if record is not None:
        exchange(fleet, host, record)


def move_vm(fleet, source, target, record):
    """Move the VM of ``record`` from host ``source`` to host ``target`` with all its instances, then exchange on
    the new host (the guest's ``Guest\\Parameters`` now name it). Host items are re-rendered in the target's shape."""
    instances = [record.system, record.settings, record.kvp_settings, record.component, record.guest_data]
    for cim_class, instance in zip(VM_CLASSES, instances):
        source.store.remove(cim_class, instance)
        target.store.add(cim_class, instance)
    moved = vm_record(target, record.vm_id)
    moved.kvp_settings["HostExchangeItems"] = render_items(
        item_pairs(moved.kvp_settings["HostExchangeItems"]), SOURCE_HOST, target.spec.wire.kvp_item_shape)
    moved.kvp_settings["HostOnlyItems"] = render_items(
        item_pairs(moved.kvp_settings["HostOnlyItems"]), SOURCE_HOST_ONLY, target.spec.wire.kvp_item_shape)
    exchange(fleet, target, moved)
    return moved
