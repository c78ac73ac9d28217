# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hyper-V fields of a fleet file (FLEET.md, "Hyper-V hosts and their VMs"): ``vm`` on guests, ``hyperv`` and
``synthetic_vms`` on hosts, ``wire`` on any machine; and the pass that tells each host which guests are its VMs.

``read_fields`` runs inside ``fleetfile._MachineReader`` (its ``fail`` names file, machine and field);
``link_vms`` runs once every machine is read.
"""

import dataclasses
import re

from . import catalog
from .cimxml import EMBEDDED_INSTANCE_FORMS, EMBEDDED_OBJECT_FORMS
from .classes_cluster import CLUSTER_ACCESS, CLUSTER_RESOURCE_NAMES
from .eventlog import EVENT_LANGUAGES
from .kvp_items import NAMED_ENTITY_ANSWERS
from .fleetspec import HypervSpec, OsSpec, SyntheticVmsSpec, VmSpec, WireSpec

VM_FIELDS = {"name", "state", "data_exchange", "status", "fqdn", "guest_items", "host_items", "raw_guest_items", "host_only_items"}
HYPERV_FIELDS = {"installed", "jobs", "job_polls", "job_seconds", "job_success_state", "data_exchange_switch", "add_existing",
                 "cluster", "cluster_access", "cluster_resource_names", "long_key_names"}
SYNTHETIC_FIELDS = {"count", "name_prefix", "running", "data_exchange", "os", "guest_items"}
WIRE_CHOICES = {
    "embedded_instance_form": EMBEDDED_INSTANCE_FORMS,
    "kvp_item_shape": ("full", "minimal"),
    "job_reference": ("direct", "wrapped"),
    "named_entities": NAMED_ENTITY_ANSWERS,
    "event_order": ("oldest_first", "newest_first"),
    "event_language": EVENT_LANGUAGES,
    "embedded_object_form": EMBEDDED_OBJECT_FORMS,
}
WIRE_FIELDS = set(WIRE_CHOICES)
HYPERV_CHOICES = {
    "job_success_state": ("completed", "completed_with_warnings"),
    "data_exchange_switch": ("resource_settings", "guest_service_settings", "both"),
    "add_existing": ("invalid_parameter", "job_failure"),
    "cluster_access": CLUSTER_ACCESS,
    "cluster_resource_names": CLUSTER_RESOURCE_NAMES,
    "long_key_names": ("refuse", "truncate"),
}
# Msvm_KvpExchangeComponent.OperationalStatus[0] of a VM whose Data Exchange runs (avma-facts section 6).
KVP_STATUS = {"ok": 2, "degraded": 3, "non_recoverable": 7, "no_contact": 12, "lost_communication": 13}
VM_STATES = ("running", "off")
MAX_SYNTHETIC_VMS = 10000
MAX_ITEM_TEXT = 1024 * 1024
# What no XML document can carry, not even as a character reference: fine in what a guest writes, impossible in
# what a host was sent through WMI.
NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _mapping(reader, field, value, allowed):
    if value is None:
        return {}
    if not isinstance(value, dict):
        reader.fail(field, "must be a mapping")
    unknown = set(value) - allowed
    if unknown:
        reader.fail("%s.%s" % (field, sorted(map(str, unknown))[0]), "unknown field (allowed: %s)" % ", ".join(sorted(allowed)))
    return value


def _int(reader, field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        reader.fail(field, "must be an integer from %d to %d, got %r" % (low, high, value))
    return value


def _bool(reader, field, value, default):
    if value is None:
        return default
    if not isinstance(value, bool):
        reader.fail(field, "must be true or false")
    return value


def _text(reader, field, value, xml_only):
    """``value`` when it is text the lab can serve (no lone surrogates; for ``xml_only``, nothing XML cannot carry)."""
    pattern = NOT_XML_TEXT if xml_only else LONE_SURROGATE
    if pattern.search(value):
        reader.fail(field, "holds characters %s cannot carry" % ("XML" if xml_only else "UTF-8"))
    return value


def _item_value(reader, field, value):
    """An item's data: a string, or ``{repeat: text, count: n}`` for long values (a 5 KB value in one line)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"repeat", "count"} and isinstance(value["repeat"], str):
        count = _int(reader, field + ".count", value["count"], 0, MAX_ITEM_TEXT)
        if len(value["repeat"]) * count <= MAX_ITEM_TEXT:
            return value["repeat"] * count
    reader.fail(field, "must be a string or {repeat: text, count: n} of at most %d characters" % MAX_ITEM_TEXT)
    return None


def _items(reader, field, value, xml_only=False):
    """``((name, data), ...)`` from a mapping of item name to data, kept verbatim (hostile data included)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        reader.fail(field, "must be a mapping of item name to data")
    items = []
    for name, data in value.items():
        if not isinstance(name, str) or not name:
            reader.fail(field, "item names must be non-empty strings, got %r" % (name,))
        item_field = "%s.%s" % (field, name)
        items.append((_text(reader, item_field, name, xml_only),
                      _text(reader, item_field, _item_value(reader, item_field, data), xml_only)))
    return tuple(items)


def _wire(reader):
    raw = _mapping(reader, "wire", reader.raw.get("wire"), WIRE_FIELDS)
    values = {}
    for name, choices in WIRE_CHOICES.items():
        value = raw.get(name, getattr(WireSpec, name))
        if value not in choices:
            reader.fail("wire.%s" % name, "must be one of %s, got %r" % (", ".join(choices), value))
        values[name] = value
    return WireSpec(**values)


def _vm(reader, os_spec):
    raw = reader.raw.get("vm")
    if raw is not None and reader.raw.get("hyperv_host") is None:
        reader.fail("vm", "only a guest with a hyperv_host is a VM")
    if reader.raw.get("hyperv_host") is None:
        return None
    raw = _mapping(reader, "vm", raw, VM_FIELDS)
    name = raw.get("name", reader.name)
    fqdn = raw.get("fqdn", "%s.%s" % (os_spec.computer_name.lower(), catalog.LAB_DNS_DOMAIN))
    for field, value in (("vm.name", name), ("vm.fqdn", fqdn)):
        if not isinstance(value, str) or not value:
            reader.fail(field, "must be a non-empty string")
    state = raw.get("state", "running")
    if state not in VM_STATES:
        reader.fail("vm.state", "must be one of %s, got %r" % (", ".join(VM_STATES), state))
    status = raw.get("status", "ok")
    if status not in KVP_STATUS:
        reader.fail("vm.status", "must be one of %s, got %r" % (", ".join(KVP_STATUS), status))
    raw_items = raw.get("raw_guest_items") or []
    if not isinstance(raw_items, list) or not all(isinstance(item, str) for item in raw_items):
        reader.fail("vm.raw_guest_items", "must be a list of strings")
    for item in raw_items:
        _text(reader, "vm.raw_guest_items", item, False)
    return VmSpec(
        name=name, running=state == "running", data_exchange=_bool(reader, "vm.data_exchange", raw.get("data_exchange"), True),
        status=KVP_STATUS[status], fqdn=fqdn, guest_items=_items(reader, "vm.guest_items", raw.get("guest_items")),
        host_items=_items(reader, "vm.host_items", raw.get("host_items"), xml_only=True), raw_guest_items=tuple(raw_items),
        host_only_items=_items(reader, "vm.host_only_items", raw.get("host_only_items"), xml_only=True))


def _hyperv(reader, kind):
    raw = reader.raw.get("hyperv")
    if kind != "host":
        if raw is not None:
            reader.fail("hyperv", "applies to machines of kind host")
        return None
    raw = _mapping(reader, "hyperv", raw, HYPERV_FIELDS)
    jobs = raw.get("jobs", "async")
    if jobs not in ("async", "sync"):
        reader.fail("hyperv.jobs", "must be async or sync, got %r" % (jobs,))
    seconds = raw.get("job_seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 3600:
        reader.fail("hyperv.job_seconds", "must be a number from 0 to 3600, got %r" % (seconds,))
    choices = {}
    for name, allowed in HYPERV_CHOICES.items():
        value = raw.get(name, getattr(HypervSpec, name))
        if value not in allowed:
            reader.fail("hyperv.%s" % name, "must be one of %s, got %r" % (", ".join(allowed), value))
        choices[name] = value
    cluster = raw.get("cluster", "")
    if not isinstance(cluster, str):
        reader.fail("hyperv.cluster", "must be the cluster's name (a string)")
    for name in ("cluster_access", "cluster_resource_names"):
        if not cluster and choices[name] != getattr(HypervSpec, name):
            reader.fail("hyperv.%s" % name, "applies to a node of a failover cluster (hyperv.cluster)")
    return HypervSpec(
        **choices, cluster=cluster,
        installed=_bool(reader, "hyperv.installed", raw.get("installed"), True), jobs=jobs,
        job_polls=_int(reader, "hyperv.job_polls", raw.get("job_polls", 1), 0, 1000),
        job_seconds=float(seconds))


def _synthetic_os(reader, raw, host_os):
    raw = _mapping(reader, "synthetic_vms.os", raw, {"version", "edition"})
    version = catalog.VERSIONS_BY_NAME.get(str(raw.get("version", host_os.version.name)).lower())
    edition = catalog.EDITIONS_BY_ID.get(str(raw.get("edition", "ServerDatacenter")).lower())
    if version is None or edition is None or edition.edition_id not in version.editions:
        reader.fail("synthetic_vms.os", "needs a known version and an edition that exists for it, got %r" % (raw,))
    return OsSpec(version=version, edition=edition, caption=catalog.caption(version, edition), build=version.build,
                  sku=edition.sku, computer_name="")


def _synthetic_vms(reader, kind, os_spec):
    raw = reader.raw.get("synthetic_vms")
    if raw is None:
        return None
    if kind != "host":
        reader.fail("synthetic_vms", "applies to machines of kind host")
    raw = _mapping(reader, "synthetic_vms", raw, SYNTHETIC_FIELDS)
    prefix = raw.get("name_prefix", "vm")
    if not isinstance(prefix, str) or not prefix:
        reader.fail("synthetic_vms.name_prefix", "must be a non-empty string")
    return SyntheticVmsSpec(
        count=_int(reader, "synthetic_vms.count", raw.get("count"), 0, MAX_SYNTHETIC_VMS),
        name_prefix=prefix, running=_bool(reader, "synthetic_vms.running", raw.get("running"), True),
        data_exchange=_bool(reader, "synthetic_vms.data_exchange", raw.get("data_exchange"), True),
        os=_synthetic_os(reader, raw.get("os"), os_spec),
        guest_items=_items(reader, "synthetic_vms.guest_items", raw.get("guest_items")))


def read_fields(reader, kind, os_spec):
    """The Hyper-V fields of one machine, as ``MachineSpec`` keyword arguments."""
    hyperv = _hyperv(reader, kind)
    synthetic = _synthetic_vms(reader, kind, os_spec)
    if synthetic is not None and synthetic.count and not hyperv.installed:
        reader.fail("synthetic_vms", "a host without Hyper-V (hyperv.installed false) has no VMs")
    return {"wire": _wire(reader), "vm": _vm(reader, os_spec), "hyperv": hyperv, "synthetic_vms": synthetic}


def link_vms(source, specs):
    """The specs again, each guest's ``vm`` naming its host and each host listing its guests (``guests``)."""
    hosts = {spec.name.lower(): spec for spec in specs if spec.kind == "host"}
    linked = []
    for spec in specs:
        if spec.vm is not None:
            host = hosts[spec.hyperv_host.lower()]
            if not host.hyperv.installed:
                raise ValueError("%s: machine %r: hyperv_host: %r does not have Hyper-V (hyperv.installed false)"
                                 % (source, spec.name, host.name))
            spec = dataclasses.replace(spec, vm=dataclasses.replace(
                spec.vm, host_computer_name=host.os.computer_name,
                host_fqdn="%s.%s" % (host.os.computer_name.lower(), catalog.LAB_DNS_DOMAIN)))
        linked.append(spec)
    guests = {}
    for spec in linked:
        if spec.vm is not None:
            guests.setdefault(spec.hyperv_host.lower(), []).append(spec)
    return tuple(dataclasses.replace(spec, guests=tuple(guests.get(spec.name.lower(), ()))) if spec.kind == "host" else spec
                 for spec in linked)
