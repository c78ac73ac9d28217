# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Windows licensing as data: licence states, AVMA status reasons, Windows versions and editions, and which
SoftwareLicensingProduct row is the Windows product. Pure code: no I/O, no Ansible, no WS-Man.

Facts and their sources: shared reference ``avma-facts.md`` sections 3 and 4.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import datetime

WINDOWS_APPLICATION_ID = "55c92734-d682-4d71-983e-d6ec3f16059f"

# SoftwareLicensingProduct.Description of an AVMA key, as slmgr.vbs recognises it.
AVMA_CHANNEL_MARKER = "VIRTUAL_MACHINE_ACTIVATION"

LICENSE_STATUS_NAMES = {
    0: "Unlicensed",
    1: "Licensed",
    2: "OOBGrace",
    3: "OOTGrace",
    4: "NonGenuineGrace",
    5: "Notification",
    6: "ExtendedGrace",
}
LICENSED = 1

# AVMA status reasons (slerror.h SL_E_IA_*): meaning and what to do next.
AVMA_STATUS_REASONS = {
    0xC004FD00: ("AVMA request limit reached", "wait and activate again later"),
    0xC004FD01: ("not running on a supported Hyper-V platform",
                 "run the guest on a Windows Server Datacenter Hyper-V host; on other hypervisors and in public Azure use KMS"),
    0xC004FD02: ("the Hyper-V host is not activated", "activate the Hyper-V host, then activate the guest again"),
    0xC004FD03: ("the Hyper-V host cannot activate this edition (AVMA ID mismatch)",
                 "check that the host is Datacenter and not older than the guest, and that the key matches the guest's edition"),
    0xC004FD04: ("the guest is not activated: it is not bound to a host", "check that Data Exchange is enabled for the VM, then activate again"),
}

# Build number -> Windows Server release. 1709 to 20H2 are Semi-Annual Channel releases.
RELEASES_BY_BUILD = {
    9600: "2012 R2",
    14393: "2016",
    16299: "1709",
    17134: "1803",
    17763: "2019",
    18362: "1903",
    18363: "1909",
    19041: "2004",
    19042: "20H2",
    20348: "2022",
    26100: "2025",
}

# Win32_OperatingSystem.OperatingSystemSKU -> EditionID of the server editions AVMA deals with.
EDITION_IDS_BY_SKU = {
    7: "ServerStandard",
    8: "ServerDatacenter",
    12: "ServerDatacenterCore",
    13: "ServerStandardCore",
    50: "ServerSolution",
    79: "ServerStandardEval",
    80: "ServerDatacenterEval",
    407: "ServerTurbine",
    408: "ServerTurbineCor",
}

# SoftwareLicensingProduct reports 1601-01-01 (the FILETIME epoch) for "never".
_NEVER_YEAR = 1601


def license_status_name(code):
    """Name of a LicenseStatus code; 'Unknown(<code>)' for codes Windows does not document."""
    if code is None:
        return None
    return LICENSE_STATUS_NAMES.get(code, "Unknown(%d)" % code)


def status_reason(code):
    """Decode a LicenseStatusReason HRESULT into {code, hex, meaning, next_step}; meaning is None for non-AVMA codes."""
    if code is None:
        return dict(code=None, hex=None, meaning=None, next_step=None)
    unsigned = code & 0xFFFFFFFF
    meaning, next_step = AVMA_STATUS_REASONS.get(unsigned, (None, None))
    if unsigned == 0:
        meaning = "no error"
    return dict(code=unsigned, hex="0x%08X" % unsigned, meaning=meaning, next_step=next_step)


def release_for_build(build):
    """Windows Server release name ('2022', ...) for a build number, or None when the build is not a known release."""
    return RELEASES_BY_BUILD.get(build)


def edition_id_for_sku(sku):
    """EditionID for an OperatingSystemSKU, or None for SKUs outside the server editions AVMA knows."""
    return EDITION_IDS_BY_SKU.get(sku)


def is_avma_description(description):
    """True when a product's Description names the AVMA channel, as slmgr.vbs decides it."""
    return bool(description) and AVMA_CHANNEL_MARKER in description.upper()


def description_channel(description):
    """The channel a product's Description names ("Windows(R) Operating System, VOLUME_MAK channel" -> "VOLUME_MAK"),
    or None when it names none."""
    if not description:
        return None
    tail = description.rsplit(",", 1)[-1].strip()
    if not tail.lower().endswith(" channel"):
        return None
    return tail[:-len(" channel")].strip() or None


def select_windows_product(products):
    """Pick the Windows product among SoftwareLicensingProduct rows (dicts keyed by WMI property names).

    The Windows product has the Windows ApplicationID, an installed key (PartialProductKey) and is not an add-on.
    Several rows can qualify on a damaged system; the choice is still deterministic: a licensed row first, then the
    lowest ID. Returns the row or None.
    """
    candidates = [
        product for product in products
        if (product.get("ApplicationID") or "").lower() == WINDOWS_APPLICATION_ID
        and product.get("PartialProductKey")
        and not product.get("LicenseIsAddon")
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda product: (product.get("LicenseStatus") != LICENSED, (product.get("ID") or "").lower()))


def activation_time_or_none(value):
    """An AVMA activation time as ISO 8601 text, or None when Windows reports 'never' or nothing."""
    if not isinstance(value, datetime.datetime) or value.year <= _NEVER_YEAR:
        return None
    return value.isoformat()


def os_facts(operating_system):
    """Facts about the operating system from a Win32_OperatingSystem row."""
    build = _int_or_none(operating_system.get("BuildNumber"))
    sku = operating_system.get("OperatingSystemSKU")
    return dict(
        caption=operating_system.get("Caption"),
        version=operating_system.get("Version"),
        build=build,
        release=release_for_build(build),
        sku=sku,
        edition_id=edition_id_for_sku(sku),
    )


def product_facts(product):
    """Facts about the Windows product from its SoftwareLicensingProduct row (see select_windows_product)."""
    status = product.get("LicenseStatus")
    is_avma = is_avma_description(product.get("Description"))
    return dict(
        name=product.get("Name"),
        description=product.get("Description"),
        id=product.get("ID"),
        partial_product_key=product.get("PartialProductKey"),
        channel=product.get("ProductKeyChannel"),
        license_family=product.get("LicenseFamily"),
        license_status=status,
        license_status_name=license_status_name(status),
        license_status_reason=status_reason(product.get("LicenseStatusReason")),
        grace_period_minutes=product.get("GracePeriodRemaining"),
        is_avma_key=is_avma,
        avma_activated=is_avma and status == LICENSED,
        avma_host_machine_name=product.get("AutomaticVMActivationHostMachineName") or None,
        avma_last_activation_time=activation_time_or_none(product.get("AutomaticVMActivationLastActivationTime")),
        avma_host_digital_pid2=product.get("AutomaticVMActivationHostDigitalPid2") or None,
        iaid=product.get("IAID") or None,
    )


def activation_facts(operating_system, products):
    """The ``avma`` facts of a guest: ``os`` and ``windows_product`` (None when no Windows key is installed)."""
    os_part = os_facts(operating_system)
    windows_product = select_windows_product(products)
    product_part = product_facts(windows_product) if windows_product else None
    if os_part["edition_id"] is None and product_part:
        os_part["edition_id"] = product_part["license_family"]
    return dict(os=os_part, windows_product=product_part)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------------------------
# product_key: what to do, decided before anything is written; check mode and the real run follow the same plan

REPLACE_NOT_LICENSED = "not_licensed"
REPLACE_ALWAYS = "always"
REPLACE_POLICIES = (REPLACE_NOT_LICENSED, REPLACE_ALWAYS)

# What check mode says of a licence status that only the run itself can tell: an AVMA key activates with its Hyper-V
# host (when the key goes in, or when asked), and whether the host does depends on the host; any other key on the
# activation service, or, without an activation, on what Windows makes of a new key.
KNOWN_AFTER_HOST_ACTIVATION = "(known after activation: it depends on the Hyper-V host)"
KNOWN_AFTER_ACTIVATION = "(known after activation)"
KNOWN_AFTER_INSTALL = "(known after the key is installed)"


def is_hyperv_vm(hardware_is_vm, has_guest_parameters):
    """Whether an AVMA key may go on this machine. Its virtual hardware decides: Win32_ComputerSystem shows every
    Hyper-V VM as Manufacturer "Microsoft Corporation", Model "Virtual Machine". The values a Hyper-V host publishes
    into the guest's ``Guest\\Parameters`` key only decide when the hardware names nothing (``hardware_is_vm`` None):
    they stay in the registry of an image captured in a VM and installed on a physical machine, and an AVMA key there
    replaces a working licence with one that cannot activate, while refusing costs nothing but the message."""
    return has_guest_parameters if hardware_is_vm is None else hardware_is_vm


def plan_key_install(*, target_key, target_is_avma, installed, activate, replace):
    """The plan of product_key with state=present, as a dict:

    - ``install``: whether to install ``target_key``; ``activate``: whether to activate afterwards;
    - ``kept``: the installed key kept by the replace policy (``partial_product_key``, ``channel``, ``license_status``,
      ``reason``), else None;
    - ``writes``: whether the plan writes to the machine at all (install or activate);
    - ``vm_check``: whether the machine must be shown to be a Hyper-V VM first (avma_refusal): for an AVMA key, unless
      the machine is already activated with it, which only a VM can be. A machine that is no VM is refused also when
      the plan would keep its key: told that the key was kept, its owner would think replace_key=always could switch it.

    ``installed`` is the Windows product's key summary (``partial_product_key``, ``is_avma``, ``channel``,
    ``license_status`` name) or None; ``replace`` one of REPLACE_POLICIES: V(not_licensed) never replaces a Licensed
    non-AVMA key, V(always) replaces any other key.
    """
    if replace not in REPLACE_POLICIES:
        raise ValueError("replace must be one of %s, not %r" % (", ".join(REPLACE_POLICIES), replace))
    plan = dict(install=False, activate=False, kept=None, writes=False)
    partial = ((installed or {}).get("partial_product_key") or "").strip().upper()
    licensed = (installed or {}).get("license_status") == license_status_name(LICENSED)
    plan["vm_check"] = target_is_avma and not (partial == target_key[-5:] and licensed)
    if partial and partial == target_key[-5:]:
        plan["activate"] = activate and not licensed
    elif partial and licensed and not installed.get("is_avma") and replace == REPLACE_NOT_LICENSED:
        plan["kept"] = dict(partial_product_key=partial, channel=installed.get("description_channel") or installed.get("channel"),
                            license_status=installed.get("license_status"),
                            reason="a Licensed non-AVMA key is kept unless replace_key=always")
    else:
        plan["install"] = True
        plan["activate"] = activate
    plan["writes"] = plan["install"] or plan["activate"]
    return plan


def avma_refusal(*, hardware_is_vm, has_guest_parameters, hardware=None):
    """Why an AVMA key must not be installed or activated on this machine (it is no Hyper-V VM: is_hyperv_vm), or
    None. ``hardware`` (the machine's manufacturer and model) is named in the refusal."""
    if is_hyperv_vm(hardware_is_vm, has_guest_parameters):
        return None
    if hardware_is_vm is None:
        seen = "Win32_ComputerSystem names no hardware"
    else:
        seen = "Win32_ComputerSystem reports %s" % (hardware or "no Hyper-V virtual hardware")
    if has_guest_parameters:
        seen += (", which outweighs the Guest\\Parameters KVP values it holds: they can be left over in an image captured in a "
                 "virtual machine")
    else:
        seen += ", and no Hyper-V host has published Guest\\Parameters KVP values to it"
    return "this machine is not a Hyper-V virtual machine (%s), so an AVMA key cannot activate it; nothing was changed" % seen


def predicted_key_summary(installed, plan, *, target_key, target_is_avma):
    """The key summary that check mode returns as ``after`` for ``plan`` (plan_key_install's): the installed key's
    when the plan changes nothing; else the key it installs, if any, with a licence status that says what will tell
    it (KNOWN_AFTER_*), never a status nobody has seen. ``installed`` is the key summary before the task."""
    if not (plan["install"] or plan["activate"]):
        return dict(installed)
    after = dict(installed, license_status_reason=None)
    if plan["install"]:
        after.update(partial_product_key=target_key[-5:], channel=None, description_channel=None, is_avma=target_is_avma)
    if after["is_avma"]:
        after["license_status"] = KNOWN_AFTER_HOST_ACTIVATION
    else:
        after["license_status"] = KNOWN_AFTER_ACTIVATION if plan["activate"] else KNOWN_AFTER_INSTALL
    return after
