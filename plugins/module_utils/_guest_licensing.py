# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Guest licensing operations over WMI: what a Windows guest says about its operating system and its licences
(activation_facts), and installing, activating and removing its Windows key (product_key) with slmgr.vbs's calls.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.hyperv.avma.plugins.module_utils._avma import (
    STATUS_DIGEST_ITEM,
    avma_key_entry,
    avma_key_for,
    edition_for,
    kvp_name_matches,
    mask_product_key,
    published_items,
    validate_product_key,
)
from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClass, CimProperty, wql_string
from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaError,
    AvmaValueError,
    CimMethodError,
    WsmanFaultError,
    answer_lost,
    lost_answer_failure,
    lost_answer_warning,
)
from ansible_collections.hyperv.avma.plugins.module_utils._events import latest_guest_outcome, utc_now
from ansible_collections.hyperv.avma.plugins.module_utils._guest_registry import (
    KVP_KEYS,
    delete_value,
    enum_values,
    get_string_value,
    read_string_values,
    set_string_value,
)
from ansible_collections.hyperv.avma.plugins.module_utils._licensing import (
    KNOWN_AFTER_ACTIVATION,
    LICENSED,
    REPLACE_NOT_LICENSED,
    REPLACE_POLICIES,
    WINDOWS_APPLICATION_ID,
    activation_facts,
    avma_refusal,
    description_channel,
    plan_key_install,
    predicted_key_summary,
    status_reason,
)

CIMV2 = "root/cimv2"

OPERATING_SYSTEM = CimClass(CIMV2, "Win32_OperatingSystem", (
    CimProperty("Caption", "string"),
    CimProperty("Version", "string"),
    CimProperty("BuildNumber", "string"),
    CimProperty("OperatingSystemSKU", "uint32"),
    CimProperty("ProductType", "uint32"),
    CimProperty("CSName", "string"),
), keys=("Name",))

COMPUTER_SYSTEM = CimClass(CIMV2, "Win32_ComputerSystem", (
    CimProperty("Name", "string"),
    CimProperty("Manufacturer", "string"),
    CimProperty("Model", "string"),
), keys=("Name",))
# What Hyper-V's virtual hardware reports in Win32_ComputerSystem.
HYPERV_VM_HARDWARE = ("microsoft corporation", "virtual machine")

SOFTWARE_LICENSING_PRODUCT = CimClass(CIMV2, "SoftwareLicensingProduct", (
    CimProperty("ID", "string"),
    CimProperty("ApplicationID", "string"),
    CimProperty("Name", "string"),
    CimProperty("Description", "string"),
    CimProperty("PartialProductKey", "string"),
    CimProperty("ProductKeyChannel", "string"),
    CimProperty("LicenseFamily", "string"),
    CimProperty("LicenseIsAddon", "boolean"),
    CimProperty("LicenseStatus", "uint32"),
    CimProperty("LicenseStatusReason", "uint32"),
    CimProperty("GracePeriodRemaining", "uint32"),
    CimProperty("IAID", "string"),
    CimProperty("AutomaticVMActivationHostMachineName", "string"),
    CimProperty("AutomaticVMActivationLastActivationTime", "datetime"),
    CimProperty("AutomaticVMActivationHostDigitalPid2", "string"),
), keys=("ID",))

# Rows of the Windows application that carry a key; add-ons are told apart by the domain layer.
_KEYED_WINDOWS_PRODUCTS = "ApplicationID = %s AND PartialProductKey IS NOT NULL" % wql_string(WINDOWS_APPLICATION_ID)


def read_operating_system(cim):
    """The Win32_OperatingSystem row (one request); an empty dict when there is none."""
    operating_systems = cim.query(OPERATING_SYSTEM)
    return operating_systems[0] if operating_systems else {}


def read_hardware(cim):
    """(whether Win32_ComputerSystem describes a Hyper-V VM, None when it names no hardware; "<Manufacturer> <Model>")
    in one request."""
    rows = cim.query(COMPUTER_SYSTEM)
    row = rows[0] if rows else {}
    manufacturer, model = (str(row.get("Manufacturer") or "").strip(), str(row.get("Model") or "").strip())
    if not (manufacturer or model):
        return None, None
    return (manufacturer.lower(), model.lower()) == HYPERV_VM_HARDWARE, ("%s %s" % (manufacturer or "?", model or "?"))[:128]


def read_keyed_products(cim):
    """The SoftwareLicensingProduct rows of the Windows application that carry a key (one request)."""
    return cim.query(SOFTWARE_LICENSING_PRODUCT, _KEYED_WINDOWS_PRODUCTS)


def read_activation_facts(cim):
    """Read the ``avma`` facts of one guest in two WS-Man requests (one query per class).

    Returns the dict of ``_licensing.activation_facts``. Raises the AvmaError subclasses of the CIM client.
    """
    return activation_facts(read_operating_system(cim), read_keyed_products(cim))


ACTIVATION_FACTS_SPEC: dict = {}


def activation_facts_task(cim, params, check_mode, diff):
    """The activation_facts task: read-only, so check mode and diff change nothing."""
    return dict(changed=False, ansible_facts=dict(avma=read_activation_facts(cim)))


# ------------------------------------------------------------------------------------------------------------------
# product_key: install, activate, uninstall a Windows key the way slmgr.vbs does it (/ipk, /ato, /upk, /cpky)

SOFTWARE_LICENSING_SERVICE = CimClass(CIMV2, "SoftwareLicensingService", (
    CimProperty("Version", "string"),
    CimProperty("ClientMachineID", "string"),
), keys=("Version",))

AVMA_KEYWORD = "avma"
GUEST_PARAMETER_NAMES = {
    "HostName": "host_name",
    "PhysicalHostName": "physical_host_name",
    "PhysicalHostNameFullyQualified": "physical_host_name_fully_qualified",
    "VirtualMachineName": "virtual_machine_name",
    "VirtualMachineId": "virtual_machine_id",
}
_MAX_GUEST_PARAMETER_CHARS = 256
_MAX_KVP_VALUE_CHARS = 1024
# Event 12309 is looked up from a little before the activation attempt, so that a guest clock a few minutes behind the
# controller's does not hide it.
_EVENT_CLOCK_SKEW = datetime.timedelta(minutes=15)

PRODUCT_KEY_SPEC = dict(
    key=dict(type="str", no_log=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    activate=dict(type="bool", default=True),
    activation_timeout=dict(type="int", default=120),
    poll_interval=dict(type="int", default=5),
    clean_stale_kvp=dict(type="bool", default=True),
    stale_kvp_names=dict(type="list", elements="str", default=[]),
    publish_kvp=dict(type="bool", default=False),
    replace_key=dict(type="str", default=REPLACE_NOT_LICENSED, choices=list(REPLACE_POLICIES)),
)


def key_summary(facts):
    """What product_key returns and diffs about the Windows key: never more of the key than its last five characters."""
    product = facts.get("windows_product")
    if product is None:
        return dict(partial_product_key=None, channel=None, description_channel=None, license_status=None,
                    license_status_reason=None, is_avma=False)
    return dict(
        partial_product_key=product["partial_product_key"],
        channel=product["channel"],
        description_channel=description_channel(product["description"]),
        license_status=product["license_status_name"],
        license_status_reason=product["license_status_reason"]["hex"],
        is_avma=product["is_avma_key"],
    )


def _same_key(product, key):
    partial = (product or {}).get("partial_product_key")
    return bool(partial) and partial.strip().upper() == key[-5:]


def _explicit_key(params):
    """The key given, in canonical form, or None for the AVMA key (key omitted or "avma"). Checked before any request."""
    explicit = params.get("key")
    if explicit is None or explicit.strip().lower() == AVMA_KEYWORD:
        return None
    return validate_product_key(explicit)


def _target_key(explicit, os_part):
    """(key, whether it is an AVMA key) for state=present. The AVMA key comes from the guest's version and edition;
    an explicit AVMA key must be that one too. Raises AvmaValueError before anything is written."""
    if explicit is None:
        return avma_key_for(os_part["release"], os_part["edition_id"]), True
    entry = avma_key_entry(explicit)
    if entry is None:
        return explicit, False
    if avma_key_for(os_part["release"], os_part["edition_id"]) != explicit:
        raise AvmaValueError("the key given is the AVMA key of Windows Server %s %s, but this guest runs Windows Server %s %s: "
                             "AVMA keys only fit their own version and edition" % (entry.release, entry.column, os_part["release"], os_part["edition_id"]))
    return explicit, True


def _removal_wanted(explicit, product):
    """For state=absent: whether the installed Windows key is the one to remove (the AVMA key by default)."""
    if product is None:
        return False
    if explicit is None:
        return bool(product["is_avma_key"])
    return _same_key(product, explicit)


def read_guest_parameters(cim):
    """What the Hyper-V host told the guest about itself through KVP (``Guest\\Parameters``): host and VM names and the
    VM ID, None where absent. Untrusted and bounded."""
    values = read_string_values(cim, KVP_KEYS["guest_parameters"], max_values=32, max_length=_MAX_GUEST_PARAMETER_CHARS)
    lowered = {name.lower(): value for name, value in values.items()}
    return {field: lowered.get(name.lower()) or None for name, field in GUEST_PARAMETER_NAMES.items()}


def _read_matching_items(cim, patterns):
    """The guest KVP items (``Guest`` registry values) of the collection or matching ``patterns``, name -> value."""
    items = {}
    for name, _kind in enum_values(cim, KVP_KEYS["guest"]):
        if kvp_name_matches(name, patterns):
            value = get_string_value(cim, KVP_KEYS["guest"], name)
            items[name] = "" if value is None else value[:_MAX_KVP_VALUE_CHARS]
    return items


# How to look at a guest's licence when a licensing write's answer was lost and the state does not show it.
_CHECK_LICENSE = "check with hyperv.avma.activation_facts"


class _Guest:
    """The licensing writes of one product_key run; the SoftwareLicensingService is looked up once, when needed.

    A write whose answer was lost (reset, no answer within the read timeout) is never repeated: the state is read
    again, and when it shows the write done the run goes on with a warning in ``warnings``; otherwise it fails with
    LostAnswerError, which says the write may have been applied all the same and how to check.
    """

    def __init__(self, cim, operating_system):
        self.cim = cim
        self.operating_system = operating_system
        self.warnings = []
        self._service = None

    def service(self):
        if self._service is None:
            rows = self.cim.query(SOFTWARE_LICENSING_SERVICE)
            if not rows or not rows[0].get("Version"):
                raise AvmaError("SoftwareLicensingService has no instance with a Version")
            self._service = {"Version": rows[0]["Version"]}
        return self._service

    def invoke_service(self, method, params=None):
        return self.cim.invoke(SOFTWARE_LICENSING_SERVICE, method, params, selectors=self.service())

    def read_facts(self):
        return activation_facts(self.operating_system, read_keyed_products(self.cim))

    def _verify(self, what, lost, applied):
        """After a write whose answer was lost: read the licence again; ``applied(facts)`` says whether it shows the
        write done (then a warning), else LostAnswerError."""
        try:
            facts = self.read_facts()
        except AvmaError as reread_error:
            raise lost_answer_failure(what, lost, _CHECK_LICENSE, reread_error=reread_error) from lost
        if not applied(facts):
            raise lost_answer_failure(what, lost, _CHECK_LICENSE) from lost
        self.warnings.append(lost_answer_warning(what, lost))

    def install(self, key):
        try:
            self.invoke_service("InstallProductKey", {"ProductKey": key})
        except AvmaError as error:
            if answer_lost(error):
                self._verify("InstallProductKey of the key %s" % mask_product_key(key), error,
                             lambda facts: _same_key(facts["windows_product"], key))
            else:
                if not isinstance(error, (CimMethodError, WsmanFaultError)):
                    raise
                hresult = licensing_hresult(error)
                if hresult is None:
                    raise
                reason = status_reason(hresult)
                raise AvmaError("installing the key %s failed: InstallProductKey returned %s%s" % (
                    mask_product_key(key), reason["hex"], " (%s)" % reason["meaning"] if reason["meaning"] else
                    " (the key does not fit this Windows version and edition, or is not a valid key)")) from error
        self.refresh()

    def refresh(self):
        """RefreshLicenseStatus. It only makes Windows evaluate its licence again (an AVMA product that is not
        Licensed asks its host once more), so a lost answer is not a failure: the licence is read again, and what was
        found goes into the warning; the caller reports what it reads afterwards."""
        try:
            self.invoke_service("RefreshLicenseStatus")
        except AvmaError as error:
            if not answer_lost(error):
                raise
            try:
                found = _licence_words(self.read_facts()["windows_product"])
            except AvmaError as reread_error:
                found = "reading it failed too (%s)" % reread_error.message
            self.warnings.append("RefreshLicenseStatus: the answer was lost (%s); it changes no key, so the task goes on and "
                                 "reports the licence as read afterwards; read again now: %s" % (error.message, found))

    def uninstall(self, product):
        masked = mask_product_key(product["partial_product_key"])
        try:
            self.cim.invoke(SOFTWARE_LICENSING_PRODUCT, "UninstallProductKey", selectors={"ID": product["id"]})
        except AvmaError as error:
            if not answer_lost(error):
                raise
            self._verify("UninstallProductKey of the key %s" % masked, error,
                         lambda facts: not _same_key(facts["windows_product"], product["partial_product_key"]))
        try:
            self.invoke_service("ClearProductKeyFromRegistry")
        except AvmaError as error:
            if not answer_lost(error):
                raise
            # What ClearProductKeyFromRegistry removes is not readable over WMI: nothing to read back.
            self.warnings.append("ClearProductKeyFromRegistry: the answer was lost (%s); the key %s is uninstalled, but whether "
                                 "its copy was also cleared from the registry cannot be read over WMI: run slmgr.vbs /cpky on "
                                 "the guest if that matters (it is safe to run again)" % (error.message, masked))
        self.refresh()

    def activate(self, product):
        """Activate() on the Windows product, then RefreshLicenseStatus. Returns (the HRESULT Activate() failed with or
        None, the error that lost Activate()'s answer or None): the caller reads the licence either way."""
        refused = None
        lost = None
        try:
            self.cim.invoke(SOFTWARE_LICENSING_PRODUCT, "Activate", selectors={"ID": product["id"]})
        except (CimMethodError, WsmanFaultError) as error:
            refused = licensing_hresult(error)
            if refused is None:
                raise
        except AvmaError as error:
            if not answer_lost(error):
                raise
            lost = error
        self.refresh()
        return refused, lost


def _licence_words(product):
    """``Licensed, key ...DV9BG`` for a warning; ``no Windows key`` when none is installed."""
    if product is None:
        return "no Windows key"
    return "%s, key ...%s" % (product["license_status_name"], product["partial_product_key"])


def licensing_hresult(error):
    """The Software Licensing HRESULT (0xC004xxxx, slerror.h) a method failed with: a ReturnValue, or, as slmgr.vbs
    sees it in err.Number, the error of the WMI call itself, which WS-Man turns into a fault. None for other faults."""
    if isinstance(error, CimMethodError):
        return error.return_value & 0xFFFFFFFF
    for code in (error.wmi_code, error.code):
        if code is not None and (code & 0xFFFF0000) == 0xC0040000:
            return code & 0xFFFFFFFF
    return None


def _wait_until_licensed(cim, operating_system, timeout, interval, refused):
    """Read the Windows product until it is Licensed or ``timeout`` seconds passed (not at all once Activate() itself
    failed). Returns (facts, licensed)."""
    deadline = time.monotonic() + timeout
    while True:
        facts = activation_facts(operating_system, read_keyed_products(cim))
        product = facts["windows_product"]
        if product is not None and product["license_status"] == LICENSED:
            return facts, True
        remaining = deadline - time.monotonic()
        if refused is not None or remaining <= 0:
            return facts, False
        status = "%s (%s)" % (product["license_status"], product["license_status_name"]) if product else "not found"
        cim.progress("waiting for activation: Windows' license status is %s; %.0f s of at most %d s" % (status, timeout - remaining, timeout))
        time.sleep(min(interval, remaining))


def _activation_failure(cim, facts, refused, timeout, since, hyperv_host, *, lost=None):
    """The error of an activation that did not end Licensed: decoded reason, latest Event 12309, what to do next; after
    an Activate() whose answer was lost (``lost``), that it may have been applied all the same."""
    product = facts["windows_product"] or {}
    reason = product.get("license_status_reason") or status_reason(None)
    parts = []
    if lost is not None:
        parts.append("the answer to Activate() was lost (%s), so it may have been applied all the same (%s later)"
                     % (lost.message, _CHECK_LICENSE))
    refusal = status_reason(refused) if refused is not None else None
    if refusal is not None:
        parts.append("Activate() returned %s%s" % (refusal["hex"], " (%s)" % refusal["meaning"] if refusal["meaning"] else ""))
    else:
        parts.append("not licensed %d s after Activate()" % timeout)
    status = "licence status %s" % (product.get("license_status_name") or "unknown")
    if refusal is None or refusal["hex"] != reason["hex"]:
        status += ", reason %s%s" % (reason["hex"] or "none", " (%s)" % reason["meaning"] if reason["meaning"] else "")
    parts.append(status)
    outcome = None
    try:
        event = latest_guest_outcome(cim, since=since)
    except AvmaError as error:
        parts.append("the Application log could not be read (%s)" % error.message)
    else:
        if event is None:
            parts.append("no Event 12309 with a known outcome since %s" % since.isoformat())
        else:
            outcome = event["outcome"]
            parts.append("latest Event 12309 (%s): %s, %s" % (event["time_generated"], outcome["text"], outcome["meaning"]))
    host = hyperv_host.get("physical_host_name") or hyperv_host.get("host_name")
    if host:
        parts.append("Hyper-V host (from KVP): %s" % host)
    next_step = ((refusal or {}).get("next_step") or reason["next_step"] or (outcome or {}).get("next_step")
                 or "check the Hyper-V host with hyperv.avma.host_info (Datacenter, activated, not older than the guest, Data Exchange on) "
                    "and run the task again")
    parts.append("next step: %s" % next_step)
    return AvmaError("activation failed: " + "; ".join(parts), operation="product_key")


def _kvp_changes(cim, after_is_avma, after_facts, params, predicted):
    """(items now, items wanted): the guest KVP items the collection publishes or cleans, as name -> value.

    Not AVMA after the task, with clean_stale_kvp: the collection's items and those matching stale_kvp_names go.
    AVMA after the task, with publish_kvp: the published items are wanted (values unknown while ``predicted``). When
    the guest's digest item already holds the digest of the wanted items, the items are as the collection last
    published them: that one value is read, not every item.
    """
    clean = not after_is_avma and params["clean_stale_kvp"]
    publish = after_is_avma and params["publish_kvp"]
    if not (clean or publish):
        return {}, {}
    if clean:
        return _read_matching_items(cim, params["stale_kvp_names"]), {}
    wanted = published_items(after_facts)
    if predicted:
        return _read_matching_items(cim, ()), {name: KNOWN_AFTER_ACTIVATION for name in wanted}
    if get_string_value(cim, KVP_KEYS["guest"], STATUS_DIGEST_ITEM) == wanted[STATUS_DIGEST_ITEM]:
        return dict(wanted), wanted
    return _read_matching_items(cim, ()), wanted


def _apply_kvp(cim, current, wanted, warnings):
    """Remove the items no longer wanted, then write the wanted ones that differ; the digest item last, so that a run
    cut short leaves a digest that no longer matches and the next run writes the items again."""
    for name in sorted(current):
        if name not in wanted:
            _write_kvp_item(cim, name, None, warnings)
    for name, value in sorted(wanted.items(), key=lambda item: (item[0] == STATUS_DIGEST_ITEM, item[0])):
        if current.get(name) != value:
            _write_kvp_item(cim, name, value, warnings)


def _write_kvp_item(cim, name, value, warnings):
    """Set one guest KVP item to ``value``, or delete it (None). A call whose answer was lost is checked by reading
    the value again: done, a warning; not visible, LostAnswerError."""
    key = KVP_KEYS["guest"]
    method = "DeleteValue" if value is None else "SetStringValue"
    try:
        if value is None:
            delete_value(cim, key, name)
        else:
            set_string_value(cim, key, name, value)
    except AvmaError as error:
        if not answer_lost(error):
            raise
        what = "StdRegProv.%s of the guest KVP item %s" % (method, name)
        check = "check with hyperv.avma.kvp_info (scope: guest) or the registry key HKLM\\%s" % key
        try:
            found = get_string_value(cim, key, name)
        except AvmaError as reread_error:
            raise lost_answer_failure(what, error, check, reread_error=reread_error) from error
        if (None if found is None else found[:_MAX_KVP_VALUE_CHARS]) != value:
            raise lost_answer_failure(what, error, check) from error
        warnings.append(lost_answer_warning(what, error))


def _kvp_report(current, wanted):
    return dict(removed=sorted(name for name in current if name not in wanted),
                published=sorted(name for name, value in wanted.items() if current.get(name) != value))


def _diff_view(summary, items):
    view = dict(product_key=mask_product_key(summary["partial_product_key"]) if summary["partial_product_key"] else None,
                channel=summary["description_channel"] or summary["channel"], license_status=summary["license_status"],
                is_avma=summary["is_avma"])
    if items:
        view["kvp_items"] = dict(sorted(items.items()))
    return view


def _options(params):
    timeout, interval = params["activation_timeout"], params["poll_interval"]
    if timeout < 0 or interval < 1:
        raise AvmaValueError("activation_timeout (%d) must not be negative and poll_interval (%d) must be at least 1" % (timeout, interval))
    for pattern in params["stale_kvp_names"]:
        if not pattern:
            raise AvmaValueError("stale_kvp_names must not contain empty names")


def product_key_task(cim, params, check_mode, diff):
    """The product_key task. Returns changed, actions, os, hyperv_host, before, after, kvp (and diff when asked).
    Raises AvmaError naming the machine: ineligible guests and bad keys before anything is written."""
    try:
        return _product_key(cim, params, check_mode, diff)
    except AvmaError as error:
        error.add_context(machine=cim.display_name, operation="product_key")
        raise


def _product_key(cim, params, check_mode, diff):
    _options(params)
    explicit = _explicit_key(params)
    operating_system = read_operating_system(cim)
    before = activation_facts(operating_system, read_keyed_products(cim))
    product = before["windows_product"]
    os_part = dict(before["os"], edition_id=edition_for(before["os"]["sku"], None, (product or {}).get("license_family")))
    # What the Hyper-V host published into the guest (Guest\Parameters: a request per value) is read only for a
    # write: the host to name when activation fails, and to the guest_activation role the host to check first.
    hyperv_host = None
    guest = _Guest(cim, operating_system)
    actions = []
    after = before
    after_summary = key_summary(before)

    kept = None
    installs = activates = False
    if params["state"] == "present":
        key, key_is_avma = _target_key(explicit, os_part)
        plan = plan_key_install(target_key=key, target_is_avma=key_is_avma, installed=key_summary(before), activate=params["activate"],
                                replace=params["replace_key"])
        if plan["vm_check"]:
            # A Hyper-V VM by its virtual hardware, else (hardware that names nothing) by what its host publishes into it;
            # a refusal also says what the host published.
            is_vm, hardware = read_hardware(cim)
            if is_vm is not True:
                hyperv_host = read_guest_parameters(cim)
            refusal = avma_refusal(hardware_is_vm=is_vm, has_guest_parameters=any((hyperv_host or {}).values()), hardware=hardware)
            if refusal:
                raise AvmaValueError(refusal)
        if plan["writes"] and hyperv_host is None:
            hyperv_host = read_guest_parameters(cim)
        install, activate, kept = plan["install"], plan["activate"], plan["kept"]
        installs, activates = install, activate
        if install:
            actions.append("install the key %s%s" % (mask_product_key(key), " (AVMA)" if key_is_avma else ""))
        if activate:
            actions.append("activate Windows")
        after_summary = predicted_key_summary(after_summary, plan, target_key=key, target_is_avma=key_is_avma)
        if kept:
            key_is_avma = bool(after_summary["is_avma"])
        if not check_mode:
            since = utc_now() - _EVENT_CLOCK_SKEW
            if install:
                guest.install(key)
                after = guest.read_facts()
                if not _same_key(after["windows_product"], key):
                    raise AvmaError("InstallProductKey succeeded but the Windows product does not carry the key %s" % mask_product_key(key))
                if activate and after["windows_product"]["license_status"] == LICENSED:
                    # Windows activated by itself when the key went in (an AVMA key asks its host at once).
                    activate = activates = False
                    actions.remove("activate Windows")
            if activate:
                refused, lost = guest.activate(after["windows_product"])
                after, licensed = _wait_until_licensed(cim, operating_system, params["activation_timeout"], params["poll_interval"], refused)
                if not licensed:
                    _publish_best_effort(cim, after, params, key_is_avma)
                    raise _activation_failure(cim, after, refused, params["activation_timeout"], since, hyperv_host, lost=lost)
                if lost is not None:
                    guest.warnings.append(lost_answer_warning("Activate() of the Windows product", lost))
            after_summary = key_summary(after)
        after_is_avma = key_is_avma
    else:
        if _removal_wanted(explicit, product):
            actions.append("uninstall the key %s and clear it from the registry" % mask_product_key(product["partial_product_key"]))
            after_summary = key_summary(dict(before, windows_product=None))
            if not check_mode:
                guest.uninstall(product)
                after = guest.read_facts()
                after_summary = key_summary(after)
        after_is_avma = bool(after_summary["is_avma"])

    # A kept licence is left exactly as it is: no KVP write either.
    current, wanted = ({}, {}) if kept else _kvp_changes(cim, after_is_avma, after, params, predicted=check_mode and bool(actions))
    kvp = _kvp_report(current, wanted)
    if kvp["removed"]:
        actions.append("remove the guest KVP items %s" % ", ".join(kvp["removed"]))
    if kvp["published"]:
        actions.append("publish the guest KVP items %s" % ", ".join(kvp["published"]))
    if not check_mode:
        _apply_kvp(cim, current, wanted, guest.warnings)

    result = dict(changed=bool(actions), actions=actions, installs=installs, activates=activates, os=os_part, hyperv_host=hyperv_host,
                  before=key_summary(before), after=after_summary, kvp=kvp, kept=kept)
    if guest.warnings:
        result["warnings"] = guest.warnings
    if diff:
        result["diff"] = dict(before=_diff_view(key_summary(before), current), after=_diff_view(after_summary, wanted))
    return result


def _publish_best_effort(cim, facts, params, key_is_avma):
    """Publish the failed state too, so that the host sees it; a failure here must not hide the activation failure."""
    if not (key_is_avma and params["publish_kvp"]):
        return
    try:
        current, wanted = _kvp_changes(cim, True, facts, params, predicted=False)
        _apply_kvp(cim, current, wanted, [])
    except AvmaError:
        return
