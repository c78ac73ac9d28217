# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Hyper-V Data Exchange (KVP) as data: data items read by property name and bounded, the intrinsic items decoded,
VM and integration-service states decoded, item names matched against names and patterns, and the changes a
kvp_item task plans. Pure code: no I/O, no Ansible, no WS-Man.

Facts and their sources: shared reference ``avma-facts.md`` section 6; the integration-component status codes are
those of the Hyper-V PowerShell module (VMIntegrationComponentOperationalStatus).

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ansible_collections.hyperv.avma.plugins.module_utils._licensing import edition_id_for_sku, release_for_build

DATA_ITEM_CLASS = "Msvm_KvpExchangeDataItem"

# Msvm_KvpExchangeDataItem.Source
SOURCE_HOST = 0
SOURCE_GUEST = 1
SOURCE_INTRINSIC = 2
SOURCE_HOST_ONLY = 4
SOURCE_NAMES = {SOURCE_HOST: "host", SOURCE_GUEST: "guest", SOURCE_INTRINSIC: "intrinsic", SOURCE_HOST_ONLY: "host_only"}

# Windows takes names and values of at most 1024 characters; a guest can still write longer registry values.
MAX_NAME_CHARS = 1024
MAX_VALUE_CHARS = 1024
# HostOnlyItems stay on the host and are not bound by the VMBus message size: they may hold 16 KB.
MAX_HOST_ONLY_VALUE_CHARS = 16 * 1024
# An item crosses the VMBus as a key of 512 bytes of UTF-16 (Linux hyperv.h HV_KVP_EXCHANGE_MAX_KEY_SIZE), its
# terminating NUL included: a name the guest could not receive whole is refused before it is written.
MAX_KEY_UTF16_BYTES = 512
# Items kept per array (or registry key) of one VM; a guest could otherwise publish without bound.
MAX_ITEMS = 1024
# AddKvpItems / ModifyKvpItems / RemoveKvpItems take at most this many items per call.
MAX_ITEMS_PER_CALL = 128

HIDDEN_VALUE = "(hidden: sensitive)"

# Integration components' OperationalStatus (the first element is the status; Hyper-V's own names).
INTEGRATION_STATUS_NAMES = {
    2: "OK",
    3: "Degraded",
    6: "Error",
    7: "Non-Recoverable Error",
    12: "No Contact",
    13: "Lost Communication",
    32775: "Protocol Mismatch",
    32782: "Application Critical",
    32783: "Communication Timed Out",
    32784: "Communication Failed",
    32896: "Disabled",
}
INTEGRATION_STATUS_OK = 2
INTEGRATION_STATUS_DEGRADED = 3
# Degraded (3) means "operating normally with an older protocol version" (Microsoft's Msvm_KvpExchangeComponent
# page): the exchange works, typically with a guest whose integration services are older than the host.
INTEGRATION_STATUS_WORKING = frozenset({INTEGRATION_STATUS_OK, INTEGRATION_STATUS_DEGRADED})

# Msvm_ComputerSystem.EnabledState: CIM values and Hyper-V's own (32768 and up).
VM_STATE_NAMES = {
    0: "unknown",
    1: "other",
    2: "running",
    3: "off",
    4: "stopping",
    5: "not applicable",
    6: "saved",
    7: "in test",
    8: "deferred",
    9: "paused",
    10: "starting",
    32768: "paused",
    32769: "saved",
    32770: "starting",
    32771: "snapshotting",
    32773: "saving",
    32774: "stopping",
    32776: "pausing",
    32777: "resuming",
}
VM_RUNNING = 2

# Msvm_KvpExchangeComponentSettingData.EnabledState: whether Data Exchange is switched on for the VM.
SETTING_ENABLED = 2
SETTING_DISABLED = 3

# C0 controls but tab, DEL, C1 controls, and the format characters that reorder displayed text.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_TEMPLATE_MARKERS = ("{{", "{%", "{#")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MAX_SHOWN_NAME = 128


@dataclass(frozen=True)
class RawItem:
    """One data item as it came off the wire: its properties, or why it could not be read (``error``)."""

    name: object = None
    data: object = None
    source: object = None
    class_name: str | None = DATA_ITEM_CLASS
    error: str | None = None


@dataclass(frozen=True)
class ItemChange:
    """What a kvp_item task does to one item: ``add``, ``modify`` or ``remove``, with the value before and after."""

    action: str
    name: str
    before: str | None
    after: str | None


# ------------------------------------------------------------------------------------------------------------------
# Untrusted items


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def shown_name(name: object) -> str:
    """A name fit for a message: bounded, control characters escaped."""
    text = str(name)
    if len(text) > _MAX_SHOWN_NAME:
        text = text[:_MAX_SHOWN_NAME] + "..."
    return _CONTROL.sub(_escaped, text)


def _issue(source: str, name: object, code: str, message: str) -> dict:
    return dict(source=source, name=None if name is None else shown_name(name), code=code, message=message)


def _text_issues(source: str, name: str, value: str) -> list[dict]:
    issues = []
    if _CONTROL.search(name) or _CONTROL.search(value):
        issues.append(_issue(source, name, "control_characters",
                             "the item holds control or text-reordering characters; returned as they are"))
    if any(marker in name or marker in value for marker in _TEMPLATE_MARKERS):
        issues.append(_issue(source, name, "template_syntax", "the item holds template markers; returned as plain text, never templated"))
    return issues


def collect_items(raw_items: Iterable[RawItem] | None, source: int | None, label: str | None = None) -> tuple[dict[str, str], list[dict]]:
    """Items of one array (GuestIntrinsicExchangeItems, GuestExchangeItems, HostExchangeItems, HostOnlyItems) as a
    name -> value map, and the issues found on the way (``label`` names the array in them; default the source's
    name).

    Items are bounded: at most MAX_ITEMS; names longer than MAX_NAME_CHARS are dropped; values longer than
    MAX_VALUE_CHARS (MAX_HOST_ONLY_VALUE_CHARS for host-only items) are cut to it; an item that could not be read, has no name, is of another class or repeats a
    name is left out. Each of those, and control characters or template markers, is reported as an issue
    ``{source, name, code, message}``; a Source other than ``source`` (when given) is reported and the item kept.
    """
    label = label or SOURCE_NAMES.get(source, str(source))
    max_value_chars = MAX_HOST_ONLY_VALUE_CHARS if source == SOURCE_HOST_ONLY else MAX_VALUE_CHARS
    items: dict[str, str] = {}
    issues: list[dict] = []
    dropped = 0
    for position, raw in enumerate(raw_items or (), start=1):
        if len(items) >= MAX_ITEMS:
            dropped += 1
            continue
        if raw.error is not None:
            issues.append(_issue(label, None, "undecodable", f"item {position} could not be read and was left out: {raw.error}"))
            continue
        if (raw.class_name or "").lower() != DATA_ITEM_CLASS.lower():
            issues.append(_issue(label, None, "unexpected_class",
                                 f"item {position} is a {shown_name(raw.class_name)}, not a {DATA_ITEM_CLASS}, and was left out"))
            continue
        name = raw.name
        if not isinstance(name, str) or not name:
            issues.append(_issue(label, None, "missing_name", f"item {position} has no name and was left out"))
            continue
        if len(name) > MAX_NAME_CHARS:
            issues.append(_issue(label, name, "name_too_long",
                                 f"item {position} has a name of {len(name)} characters (limit {MAX_NAME_CHARS}) and was left out"))
            continue
        value = "" if raw.data is None else str(raw.data)
        if len(value) > max_value_chars:
            issues.append(_issue(label, name, "value_truncated",
                                 f"the value has {len(value)} characters; only the first {max_value_chars} are returned"))
            value = value[:max_value_chars]
        if name in items:
            issues.append(_issue(label, name, "duplicate_name", f"item {position} repeats a name; the first value is kept"))
            continue
        if source is not None and raw.source is not None and raw.source != source:
            issues.append(_issue(label, name, "unexpected_source", f"the item says Source {shown_name(raw.source)}, expected {source}"))
        issues.extend(_text_issues(label, name, value))
        items[name] = value
    if dropped:
        issues.append(_issue(label, None, "too_many_items", f"{dropped} items beyond the first {MAX_ITEMS} were left out"))
    return items, issues


def bound_values(values: Mapping[str, object], source: str) -> tuple[dict[str, str], list[dict]]:
    """Registry values of one KVP key (the guest's view) bounded and checked like collect_items; ``source`` names
    the key in the issues."""
    return collect_items([RawItem(name=name, data=value) for name, value in values.items()], None, source)


# ------------------------------------------------------------------------------------------------------------------
# Intrinsic items


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _addresses(items: Mapping[str, str], name: str, version: int, issues: list[dict]) -> list[str]:
    addresses = []
    for entry in (items.get(name) or "").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        try:
            address = ipaddress.ip_address(entry)
        except ValueError:
            address = None
        if address is None or address.version != version:
            issues.append(_issue("intrinsic", name, "invalid_address", f"{shown_name(entry)} is not an IPv{version} address; left out"))
            continue
        addresses.append(str(address))
    return addresses


def intrinsic_facts(items: Mapping[str, str]) -> tuple[dict, list[dict]]:
    """The intrinsic items (what the guest's integration services publish by themselves) decoded, and issues about
    addresses that are not addresses. Missing items give None (or an empty list)."""
    issues: list[dict] = []
    build = _int_or_none(items.get("OSBuildNumber"))
    version = items.get("OSVersion") or None
    if build is None and version:
        build = _int_or_none(version.split(".")[-1]) if version.count(".") == 2 else None
    sku = _int_or_none(items.get("OSEditionId"))
    facts = dict(
        fqdn=items.get("FullyQualifiedDomainName") or None,
        os_name=items.get("OSName") or None,
        os_version=version,
        os_build=build,
        os_release=release_for_build(build),
        os_edition_sku=sku,
        os_edition_id=edition_id_for_sku(sku),
        ipv4_addresses=_addresses(items, "NetworkAddressIPv4", 4, issues),
        ipv6_addresses=_addresses(items, "NetworkAddressIPv6", 6, issues),
        rdp_ipv4_addresses=_addresses(items, "RDPAddressIPv4", 4, issues),
        rdp_ipv6_addresses=_addresses(items, "RDPAddressIPv6", 6, issues),
        integration_services_version=items.get("IntegrationServicesVersion") or None,
        os_vendor=items.get("OSVendor") or None,
        os_signature=items.get("OSSignature") or None,
    )
    return facts, issues


# ------------------------------------------------------------------------------------------------------------------
# States


def integration_status(operational_status: list | None) -> dict:
    """An integration component's OperationalStatus decoded: ``{code, name, codes}``; code and name are None when the
    component reports nothing (a VM that does not run has no live component)."""
    codes = [code for code in (operational_status or []) if isinstance(code, int)]
    if not codes:
        return dict(code=None, name=None, codes=[])
    return dict(code=codes[0], name=INTEGRATION_STATUS_NAMES.get(codes[0], f"Unknown ({codes[0]})"), codes=codes)


def vm_state_name(enabled_state: int | None) -> str:
    """Msvm_ComputerSystem.EnabledState as a word: running, off, saved, paused, ..."""
    if enabled_state is None:
        return "unknown"
    return VM_STATE_NAMES.get(enabled_state, f"unknown ({enabled_state})")


def setting_enabled(enabled_state: int | None) -> bool | None:
    """Whether the Data Exchange setting is on: True for 2, False for 3, None for anything else."""
    if enabled_state == SETTING_ENABLED:
        return True
    if enabled_state == SETTING_DISABLED:
        return False
    return None


def first_guid(text: str | None) -> str | None:
    """The first GUID in ``text`` (upper case), e.g. the VM ID in a setting's ``Microsoft:<VM GUID>\\...`` InstanceID."""
    match = _GUID.search(text or "")
    return match.group().upper() if match else None


def is_guid(text: str | None) -> bool:
    return bool(text) and _GUID.fullmatch(text.strip("{}")) is not None


# ------------------------------------------------------------------------------------------------------------------
# Selecting VMs and items


def select_vms(vms: list[dict], wanted: Iterable[str] | None) -> tuple[list[dict], list[str]]:
    """The VMs (dicts with ``name`` and ``id``) that ``wanted`` names, by ID (any case, braces allowed) or by name
    (case-insensitive, as Hyper-V compares them), in the host's order; and the entries that matched none.
    ``wanted`` None selects every VM."""
    if wanted is None:
        return list(vms), []
    wanted = list(wanted)
    selected_ids = set()
    missing = []
    for entry in wanted:
        key = str(entry).strip().strip("{}").casefold()
        matches = [vm for vm in vms if (vm["id"] or "").casefold() == key or (vm["name"] or "").casefold() == key]
        if not matches:
            missing.append(str(entry))
        selected_ids.update(vm["id"] for vm in matches)
    return [vm for vm in vms if vm["id"] in selected_ids], missing


def ambiguous_names(vms: list[dict], wanted: Iterable[str]) -> list[str]:
    """Entries of ``wanted`` that are names (not IDs) shared by more than one VM: Hyper-V allows that."""
    ambiguous = []
    for entry in wanted:
        key = str(entry).strip().casefold()
        if sum(1 for vm in vms if (vm["name"] or "").casefold() == key) > 1:
            ambiguous.append(str(entry))
    return ambiguous


def name_matcher(names: Iterable[str] = (), patterns: Iterable[str] = ()) -> Callable[[str], bool]:
    """A predicate: does an item name equal one of ``names`` or match one of the glob ``patterns`` (``*``, ``?``,
    ``[...]``)? Case-insensitive: KVP item names end up as registry value names in the guest, and the registry
    compares them so."""
    exact = {name.casefold() for name in names}
    globs = [pattern.casefold() for pattern in patterns]
    return lambda name: name.casefold() in exact or any(fnmatch.fnmatchcase(name.casefold(), pattern) for pattern in globs)


MASK = "********"


def mask_item_values(items: Mapping[str, str], masked: Callable[[str], bool]) -> dict[str, str]:
    """``items`` with the value of every item whose name is ``masked`` replaced by MASK."""
    return {name: MASK if masked(name) else value for name, value in items.items()}


# ------------------------------------------------------------------------------------------------------------------
# Planning kvp_item


def utf16_key_bytes(name: str) -> int:
    """How many bytes ``name`` takes as a VMBus KVP key: UTF-16 code units (2 bytes, 4 beyond the BMP) plus the NUL."""
    return len(name.encode("utf-16-le", "surrogatepass")) + 2


def validate_wanted_items(items: Mapping[str, object]) -> dict[str, str]:
    """Items a user wants set, as name -> str value; ValueError for an empty or too long name or value, or one with
    characters XML cannot carry (only tab, newline and carriage return of the control characters are allowed)."""
    wanted = {}
    for name, value in items.items():
        name = str(name)
        text = "" if value is None else str(value)
        if not name:
            raise ValueError("an item name is empty")
        if len(name) > MAX_NAME_CHARS:
            raise ValueError(f"item name {shown_name(name)} has {len(name)} characters; the limit is {MAX_NAME_CHARS}")
        key_bytes = utf16_key_bytes(name)
        if key_bytes > MAX_KEY_UTF16_BYTES:
            raise ValueError(f"item name {shown_name(name)} takes {key_bytes} bytes as a VMBus key (UTF-16 with its terminating NUL); "
                             f"the limit is {MAX_KEY_UTF16_BYTES}, so the guest could not receive it whole")
        if len(text) > MAX_VALUE_CHARS:
            raise ValueError(f"the value of item {shown_name(name)} has {len(text)} characters; the limit is {MAX_VALUE_CHARS}")
        if re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", name + text):
            raise ValueError(f"item {shown_name(name)} holds control characters that cannot be sent")
        wanted[name] = text
    return wanted


def plan_present(current: Mapping[str, str], wanted: Mapping[str, str]) -> list[ItemChange]:
    """Add the wanted items that are missing, modify those whose value differs; in the order of ``wanted``. Names
    match in any case (see name_matcher); a modification carries the existing spelling."""
    existing = {name.casefold(): name for name in current}
    changes = []
    for name, value in wanted.items():
        found = existing.get(name.casefold())
        if found is None:
            changes.append(ItemChange("add", name, None, value))
        elif current[found] != value:
            changes.append(ItemChange("modify", found, current[found], value))
    return changes


def plan_absent(current: Mapping[str, str], matches: Callable[[str], bool]) -> list[ItemChange]:
    """Remove every current item whose name ``matches``, in the current order."""
    return [ItemChange("remove", name, value, None) for name, value in current.items() if matches(name)]


def change_in_place(change: ItemChange, current: Mapping[str, str]) -> bool:
    """Whether ``current`` (name -> value, as read again) shows ``change`` done: a removed item is gone, an added or
    modified one has its new value. Names match in any case, as in the plans."""
    found = {name.casefold(): value for name, value in current.items()}.get(change.name.casefold())
    if change.action == "remove":
        return found is None
    return found == change.after


def batches(changes: list[ItemChange], size: int = MAX_ITEMS_PER_CALL) -> list[list[ItemChange]]:
    """``changes`` in runs of at most ``size`` (the KVP methods' per-call limit)."""
    return [changes[start:start + size] for start in range(0, len(changes), size)]


def change_record(change: ItemChange) -> dict:
    """A change for the result: what was done to which item, without values."""
    return dict(action=change.action, name=change.name)


def diff_values(changes: Iterable[ItemChange], sensitive: Callable[[str], bool]) -> tuple[dict, dict]:
    """The before and after values of the changed items (absent items are left out of their side); values of
    sensitive items are HIDDEN_VALUE."""
    before, after = {}, {}
    for change in changes:
        hide = sensitive(change.name)
        if change.before is not None:
            before[change.name] = HIDDEN_VALUE if hide else change.before
        if change.after is not None:
            after[change.name] = HIDDEN_VALUE if hide else change.after
    return before, after
