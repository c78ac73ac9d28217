# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Methods of the Software Licensing classes, with AVMA activation as Windows does it.

- ``SoftwareLicensingService`` (key Version): ``InstallProductKey(ProductKey)``, ``RefreshLicenseStatus()``,
  ``ClearProductKeyFromRegistry()``;
- ``SoftwareLicensingProduct`` (key ID): ``Activate()``, ``UninstallProductKey()``.

Installing a key checks it (``activation.check_product_key``) and moves the Windows key to the product row of the
machine's edition in the key's channel: Windows keeps one key per application, and each edition/channel is its own
row (its own ID), so the row with the key changes when the channel does. An AVMA key then tries to activate at once;
so do Activate() and, while the AVMA product is not Licensed, RefreshLicenseStatus(). Each attempt writes Event
12309 on the guest and, when the request reached the host, Event 12310 on the host (``eventlog``).

Software Licensing methods report failure as an HRESULT of the WMI call (slmgr reads ``err.Number``), not as a
ReturnValue: here a fault with that HRESULT as the WSManFault code and in MSFT_WmiError (ProviderFault in the
older layout), rendered in the machine's fault_style. Every successful call that changes the licensing state is a
write, and so is an AVMA Activate() that fails: it has written Event 12309 (and 12310 on the host) all the same.
"""

from dataclasses import dataclass

from . import activation, catalog, eventlog
from .cimtypes import NEVER
from .classes_cimv2 import SOFTWARE_LICENSING_PRODUCT, WIN32_OPERATING_SYSTEM
from .faults import WmiError, WsmanFault, invalid_method_parameters
from .hyperv import guest_vm_status
from .methods import MethodResult, method
from .seed_licensing import keyed_values, stable_guid
from .seed_os import stable_number

AVMA_CHANNEL = catalog.CHANNELS["avma"]

# What a row holds once its key is gone (the values of a row that never had one).
KEYLESS_VALUES = dict(
    PartialProductKey=None, ProductKeyID=None, ProductKeyID2=None, OfflineInstallationId=None, TrustedTime=None,
    ProductKeyChannel=None, KeyManagementServicePort=0, VLActivationInterval=0, VLRenewalInterval=0,
    LicenseStatus=0, LicenseStatusReason=activation.SL_E_PKEY_NOT_INSTALLED, GracePeriodRemaining=0, IAID="",
    AutomaticVMActivationHostMachineName="", AutomaticVMActivationLastActivationTime=NEVER,
    AutomaticVMActivationHostDigitalPid2="",
)


@dataclass(frozen=True)
class LicensingError(WmiError):
    """A Software Licensing HRESULT under the fault, with its slerror.h text."""

    text: str = ""

    @property
    def message(self):
        return self.text


def licensing_fault(hresult, class_name, method_name):
    """The fault Windows answers a licensing method with when the licensing service returns ``hresult``."""
    text = activation.SL_MESSAGES[hresult]
    return WsmanFault(
        code=hresult, subcode="w:InternalError", receiver=True,
        reason="The WS-Management service cannot process the request. The WMI service or the WMI provider returned an "
               "unknown error: HRESULT 0x%08x " % hresult,
        message="%s " % text,
        wmi=LicensingError(hresult, "ExecMethod", "%s.%s" % (class_name, method_name), text=text))


def _update(row, **values):
    """Set properties of a SoftwareLicensingProduct row, type-checked."""
    for name, value in values.items():
        prop = SOFTWARE_LICENSING_PRODUCT.find_property(name)
        row[prop.name] = prop.check(value)


def _is_windows(row):
    return row["ApplicationID"] == catalog.WINDOWS_APPLICATION_ID and not row["LicenseIsAddon"]


def windows_product(machine):
    """The machine's Windows product with a key (ApplicationID Windows, PartialProductKey set, not an add-on), or
    None when no Windows key is installed."""
    for row in machine.store.instances(SOFTWARE_LICENSING_PRODUCT):
        if _is_windows(row) and row["PartialProductKey"]:
            return row
    return None


def is_avma(row):
    """slmgr's test: the Description names the VIRTUAL_MACHINE_ACTIVATION channel."""
    return AVMA_CHANNEL.description_channel in (row["Description"] or "")


def _target_row(machine, channel):
    """The Windows row of the machine's edition in ``channel``; 0xC004F069 when the machine has none."""
    edition = machine.spec.os.edition.edition_id.lower()
    description = catalog.windows_description(catalog.CHANNELS[channel])
    for row in machine.store.instances(SOFTWARE_LICENSING_PRODUCT):
        if _is_windows(row) and (row["LicenseFamily"] or "").lower() == edition and row["Description"] == description:
            return row
    raise licensing_fault(activation.SL_E_MISMATCHED_PRODUCT_SKU, "SoftwareLicensingService", "InstallProductKey")


def _move_key(machine, target):
    """Put ``target`` where the keyed Windows row was (or where the seed puts it), so that the row with the key is
    never simply the first Windows row."""
    rows = machine.store.instances(SOFTWARE_LICENSING_PRODUCT)
    previous = windows_product(machine)
    if previous is target:
        return
    if previous is not None:
        _update(previous, **KEYLESS_VALUES)
    rows.remove(target)
    slot = rows.index(previous) if previous is not None else min(3 + len(machine.spec.extra_products), len(rows))
    rows.insert(slot, target)


def install_key(machine, grant):
    """Install the checked key ``grant`` (``activation.KeyGrant``) as the machine's Windows key; return its row."""
    target = _target_row(machine, grant.channel)
    _move_key(machine, target)
    _update(target, **KEYLESS_VALUES)
    _update(target, **keyed_values(machine.name, "key|%s|%s" % (grant.channel, grant.partial_key), grant.partial_key,
                                   grant.channel))
    _update(target, ProductKeyChannel=grant.product_key_channel)
    if grant.channel == AVMA_CHANNEL.name:
        _update(target, LicenseStatusReason=0, IAID=stable_guid(machine.name, "iaid"))
    else:
        _update(target, LicenseStatus=catalog.LICENSE_STATUS["oob_grace"],
                LicenseStatusReason=activation.SL_I_OOB_GRACE_PERIOD,
                GracePeriodRemaining=activation.NEW_KEY_GRACE_MINUTES)
    return target


def _operating_system_sku(machine):
    """OperatingSystemSKU as the machine's Win32_OperatingSystem reports it."""
    return machine.store.instances(WIN32_OPERATING_SYSTEM)[0]["OperatingSystemSKU"]


def _host_view(status):
    host = status.host
    product = windows_product(host)
    return activation.HostView(
        computer_name=host.spec.os.computer_name, version_name=host.spec.os.version.name,
        sku=_operating_system_sku(host),
        activated=product is not None and product["LicenseStatus"] == catalog.LICENSE_STATUS["licensed"],
        running=status.running, data_exchange_enabled=status.data_exchange_enabled)


def host_digital_pid2(host, when):
    """A plausible AutomaticVMActivationHostDigitalPid2 of ``host``: its product ID and build, then the day and year."""
    return "03612-%05d-000-000000-03-1033-%d.0000-%03d%d" % (
        stable_number(host.name, "pid2", modulo=100000), host.spec.os.build, when.timetuple().tm_yday, when.year)


def attempt_avma(machine, fleet, row):
    """One AVMA activation attempt of ``machine``'s AVMA product ``row``: decide, update the row, write the events.

    A product that is already Licensed stays Licensed when a renewal fails (its licence runs until it expires).
    Returns the ``activation.AvmaDecision``.
    """
    status = guest_vm_status(fleet, machine)
    host_view = _host_view(status) if status is not None else None
    decision = activation.decide_avma(machine.spec.os.version.name, host_view)
    when = eventlog.now()
    if decision.licensed:
        _update(row, LicenseStatus=catalog.LICENSE_STATUS["licensed"], LicenseStatusReason=0,
                GracePeriodRemaining=activation.AVMA_LICENSE_MINUTES, IAID=stable_guid(machine.name, "iaid"),
                AutomaticVMActivationHostMachineName=host_view.computer_name,
                AutomaticVMActivationLastActivationTime=when,
                AutomaticVMActivationHostDigitalPid2=host_digital_pid2(status.host, when))
    elif row["LicenseStatus"] != catalog.LICENSE_STATUS["licensed"]:
        _update(row, LicenseStatus=catalog.LICENSE_STATUS["unlicensed"], LicenseStatusReason=decision.reason,
                GracePeriodRemaining=0)
    eventlog.write_guest_avma_event(
        machine.store, computer_name=machine.spec.os.computer_name, outcome=decision.outcome,
        host_name=host_view.computer_name if decision.reached_host else "", hresult=decision.reason, time=when,
        language=machine.spec.wire.event_language)
    if decision.reached_host:
        eventlog.write_host_avma_event(
            status.host.store, computer_name=host_view.computer_name, vm_name=status.vm_name,
            guest_name=machine.spec.os.computer_name, guest_caption=machine.spec.os.caption,
            outcome=decision.outcome, hresult=decision.reason, time=when, language=status.host.spec.wire.event_language)
    return decision


def install_product_key(call):
    """SoftwareLicensingService.InstallProductKey(ProductKey): check, install, and for an AVMA key try to activate."""
    key = call.params["ProductKey"]
    if key is None:
        raise invalid_method_parameters(call.cim_class.name, "InstallProductKey", "ProductKey must not be null.")
    spec = call.machine.spec
    try:
        grant = activation.check_product_key(key, spec.os.version, spec.os.edition, spec.accepted_keys)
    except activation.KeyRejected as rejected:
        raise licensing_fault(rejected.hresult, call.cim_class.name, "InstallProductKey") from rejected
    row = install_key(call.machine, grant)
    if grant.channel == AVMA_CHANNEL.name:
        attempt_avma(call.machine, call.fleet, row)
    return MethodResult(0, wrote=True)


def refresh_license_status(call):
    """SoftwareLicensingService.RefreshLicenseStatus(): an AVMA product that is not Licensed tries again (a guest
    activates once its host is fixed); otherwise nothing changes and nothing is written."""
    row = windows_product(call.machine)
    if row is None or not is_avma(row) or row["LicenseStatus"] == catalog.LICENSE_STATUS["licensed"]:
        return MethodResult(0)
    attempt_avma(call.machine, call.fleet, row)
    return MethodResult(0, wrote=True)


def clear_product_key_from_registry(_call):
    """SoftwareLicensingService.ClearProductKeyFromRegistry(): removes the key from the registry; a write that
    changes nothing the lab models."""
    return MethodResult(0, wrote=True)


def _channel_of(row):
    for channel in catalog.CHANNELS.values():
        if row["Description"] and row["Description"].endswith(", %s channel" % channel.description_channel):
            return channel.name
    return None


def activate(call):
    """SoftwareLicensingProduct.Activate(): AVMA asks the host; MAK, retail and OEM keys activate; KMS client keys
    activate only where the fleet file says a KMS host answers (``accepted_keys[].activates``)."""
    row = call.instance
    if not row["PartialProductKey"]:
        raise licensing_fault(activation.SL_E_PKEY_NOT_INSTALLED, call.cim_class.name, "Activate")
    if is_avma(row):
        decision = attempt_avma(call.machine, call.fleet, row)
        if not decision.licensed:
            failure = licensing_fault(decision.reason, call.cim_class.name, "Activate")
            failure.wrote = True  # the attempt wrote Event 12309 (and 12310 on the host)
            raise failure
        return MethodResult(0, wrote=True)
    channel = _channel_of(row)
    if not activation.key_activates(channel, row["PartialProductKey"], call.machine.spec.accepted_keys):
        raise licensing_fault(activation.SL_E_VL_BINDING_SERVICE_UNAVAILABLE, call.cim_class.name, "Activate")
    _update(row, LicenseStatus=catalog.LICENSE_STATUS["licensed"], LicenseStatusReason=0,
            GracePeriodRemaining=activation.KMS_LICENSE_MINUTES if channel == "kms" else 0)
    return MethodResult(0, wrote=True)


def uninstall_product_key(call):
    """SoftwareLicensingProduct.UninstallProductKey(): the row keeps no key and is Unlicensed."""
    row = call.instance
    if not row["PartialProductKey"]:
        raise licensing_fault(activation.SL_E_PKEY_NOT_INSTALLED, call.cim_class.name, "UninstallProductKey")
    _update(row, **KEYLESS_VALUES)
    return MethodResult(0, wrote=True)


METHODS = (
    method("root/cimv2", "SoftwareLicensingService", "InstallProductKey", install_product_key, params="ProductKey:string"),
    method("root/cimv2", "SoftwareLicensingService", "RefreshLicenseStatus", refresh_license_status),
    method("root/cimv2", "SoftwareLicensingService", "ClearProductKeyFromRegistry", clear_product_key_from_registry),
    method("root/cimv2", "SoftwareLicensingProduct", "Activate", activate),
    method("root/cimv2", "SoftwareLicensingProduct", "UninstallProductKey", uninstall_product_key),
)
