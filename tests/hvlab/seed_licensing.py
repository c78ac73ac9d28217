# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SoftwareLicensingService and SoftwareLicensingProduct instances of a machine, from its fleet spec.

Like real Windows, a machine has many SoftwareLicensingProduct rows: keyless Windows rows for the installed edition
in its other channels and for other editions (same ApplicationID, no PartialProductKey, LicenseStatus 0), the
fleet file's extra rows (other applications, add-ons; with or without keys), and at most one Windows row with the
installed key. The keyed Windows row is never first, and keyed extra rows come before it, so that a client picking
"the first Windows row" or "the first row with a key" gets the wrong answer here as it would on Windows.
Row IDs are GUIDs derived from the machine name and the row, so a fleet file always yields the same state.
"""

import uuid

from . import catalog
from .cimtypes import NEVER
from .classes_cimv2 import SOFTWARE_LICENSING_PRODUCT, SOFTWARE_LICENSING_SERVICE
from .seed_os import stable_number

LAB_GUID_NAMESPACE = uuid.UUID("6b9f3c2e-41d7-4f0a-9a43-3c1d5e2a7b10")
SL_E_PRODUCT_KEY_INSTALLATION_NOT_FOUND = 0xC004F014
KEYLESS_ROWS = 8
OTHER_EDITION_POOL = ("ServerStandard", "ServerDatacenter", "ServerDatacenterEval", "ServerStandardEval",
                      "ServerSolution", "ServerTurbine")
KEYED_TIME = "2026-11-01T07:45:12Z"


def stable_guid(*parts):
    """A lower-case GUID derived from ``parts``."""
    return str(uuid.uuid5(LAB_GUID_NAMESPACE, "|".join(parts)))


def licensing_service(spec):
    """The SoftwareLicensingService instance."""
    return SOFTWARE_LICENSING_SERVICE.new_instance(
        ClientMachineID=stable_guid(spec.name, "cmid"),
        DiscoveredKeyManagementServiceMachineIpAddress="",
        DiscoveredKeyManagementServiceMachineName="",
        DiscoveredKeyManagementServiceMachinePort=0,
        IsKeyManagementServiceMachine=0,
        KeyManagementServiceActivationDisabled=False,
        KeyManagementServiceCurrentCount=0,
        KeyManagementServiceDnsPublishing=True,
        KeyManagementServiceFailedRequests=0,
        KeyManagementServiceHostCaching=True,
        KeyManagementServiceLicensedRequests=0,
        KeyManagementServiceListeningPort=0,
        KeyManagementServiceLookupDomain="",
        KeyManagementServiceLowPriority=False,
        KeyManagementServiceMachine="",
        KeyManagementServiceNonGenuineGraceRequests=0,
        KeyManagementServiceNotificationRequests=0,
        KeyManagementServiceOOBGraceRequests=0,
        KeyManagementServiceOOTGraceRequests=0,
        KeyManagementServicePort=1688,
        KeyManagementServiceProductKeyID="",
        KeyManagementServiceTotalRequests=0,
        KeyManagementServiceUnlicensedRequests=0,
        OA2xBiosMarkerMinorVersion=0,
        OA2xBiosMarkerStatus=0,
        OA3xOriginalProductKey="",
        OA3xOriginalProductKeyDescription="",
        OA3xOriginalProductKeyPkPn="",
        PolicyCacheRefreshRequired=0,
        RemainingWindowsReArmCount=1001,
        RequiredClientCount=0,
        TokenActivationAdditionalInfo="",
        TokenActivationCertificateThumbprint="",
        TokenActivationGrantNumber=0,
        TokenActivationILID="",
        TokenActivationILVID=0,
        Version="%s.1" % spec.os.version_string,
        VLActivationInterval=120,
        VLRenewalInterval=10080,
    )


def _row(machine, row_id, **values):
    """A product row with the values every row shares; ``values`` override."""
    base = dict(
        ADActivationCsvlkPid="", ADActivationCsvlkSkuId="", ADActivationObjectDN="", ADActivationObjectName="",
        ApplicationID=catalog.WINDOWS_APPLICATION_ID, AutomaticVMActivationHostDigitalPid2="",
        AutomaticVMActivationHostMachineName="", AutomaticVMActivationLastActivationTime=NEVER,
        DiscoveredKeyManagementServiceMachineIpAddress="", DiscoveredKeyManagementServiceMachineName="",
        DiscoveredKeyManagementServiceMachinePort=0, EvaluationEndDate=NEVER, ExtendedGrace=0, GenuineStatus=0,
        GracePeriodRemaining=0, IAID="", ID=stable_guid(machine, row_id), IsKeyManagementServiceMachine=0,
        KeyManagementServiceCurrentCount=0, KeyManagementServiceFailedRequests=0, KeyManagementServiceLicensedRequests=0,
        KeyManagementServiceLookupDomain="", KeyManagementServiceMachine="",
        KeyManagementServiceNonGenuineGraceRequests=0, KeyManagementServiceNotificationRequests=0,
        KeyManagementServiceOOBGraceRequests=0, KeyManagementServiceOOTGraceRequests=0, KeyManagementServicePort=0,
        KeyManagementServiceProductKeyID="", KeyManagementServiceTotalRequests=0,
        KeyManagementServiceUnlicensedRequests=0, LicenseDependsOn="", LicenseIsAddon=False, LicenseStatus=0,
        LicenseStatusReason=SL_E_PRODUCT_KEY_INSTALLATION_NOT_FOUND, MachineURL="", ProcessorURL="", ProductKeyURL="",
        RemainingAppReArmCount=1001, RemainingSkuReArmCount=1001, RequiredClientCount=0,
        TokenActivationAdditionalInfo="", TokenActivationCertificateThumbprint="", TokenActivationGrantNumber=0,
        TokenActivationILID="", TokenActivationILVID=0, UseLicenseURL="", ValidationURL="", VLActivationInterval=0,
        VLActivationType=0, VLActivationTypeEnabled=0, VLRenewalInterval=0,
    )
    base.update(values)
    return SOFTWARE_LICENSING_PRODUCT.new_instance(**base)


def keyed_values(machine, row_id, partial_key, channel_name):
    """Properties every row holding an installed key has: product key IDs, trusted time, KMS intervals."""
    values = dict(
        PartialProductKey=partial_key,
        ProductKeyID="00454-%05d-%05d-AA%03d" % (stable_number(machine, row_id, "a", modulo=100000),
                                                 stable_number(machine, row_id, "b", modulo=100000),
                                                 stable_number(machine, row_id, "c", modulo=1000)),
        ProductKeyID2="00454-%05d-%05d-AA%03d" % (stable_number(machine, row_id, "d", modulo=100000),
                                                  stable_number(machine, row_id, "e", modulo=100000),
                                                  stable_number(machine, row_id, "f", modulo=1000)),
        OfflineInstallationId="%063d" % stable_number(machine, row_id, "iid", modulo=10 ** 18),
        TrustedTime=KEYED_TIME,
    )
    if channel_name == "kms":
        values.update(KeyManagementServicePort=1688, VLActivationInterval=120, VLRenewalInterval=10080)
    return values


def _keyless_windows_rows(spec):
    os_spec, license_spec = spec.os, spec.license
    installed = os_spec.edition.edition_id
    rows = [(installed, name) for name in catalog.CHANNELS if name != license_spec.channel]
    others = [edition for edition in OTHER_EDITION_POOL if edition != installed]
    others.sort(key=lambda edition: edition not in os_spec.version.editions)
    rows.extend((edition, "retail") for edition in others[:KEYLESS_ROWS - len(rows)])
    return [
        _row(spec.name, "keyless|%s|%s" % (edition, channel_name),
             Name=catalog.product_name(edition), LicenseFamily=edition,
             Description=catalog.windows_description(catalog.CHANNELS[channel_name]))
        for edition, channel_name in rows
    ]


def _windows_row(spec):
    """The row carrying the installed Windows key, or None for channel ``none``."""
    license_spec, os_spec = spec.license, spec.os
    if license_spec.channel == catalog.NO_KEY_CHANNEL:
        return None
    channel = catalog.CHANNELS[license_spec.channel]
    edition = os_spec.edition.edition_id
    values = dict(
        Name=catalog.product_name(edition), LicenseFamily=edition, Description=catalog.windows_description(channel),
        ProductKeyChannel=license_spec.product_key_channel or channel.product_key_channel,
        LicenseStatus=license_spec.status, LicenseStatusReason=license_spec.status_reason,
        GracePeriodRemaining=license_spec.grace_minutes,
        EvaluationEndDate="2026-05-30T00:00:00Z" if os_spec.edition.evaluation else NEVER,
    )
    values.update(keyed_values(spec.name, "windows", license_spec.partial_product_key, channel.name))
    if channel.name == "avma":
        last = license_spec.last_avma_activation or NEVER
        host = license_spec.avma_host
        if host is None:
            host = spec.hyperv_host.upper() if spec.hyperv_host and last != NEVER else ""
        values.update(
            IAID=stable_guid(spec.name, "iaid"), AutomaticVMActivationHostMachineName=host,
            AutomaticVMActivationLastActivationTime=last,
            AutomaticVMActivationHostDigitalPid2="" if last == NEVER else "03612-%05d-000-000000-03-1033-%d.0000-%03d2026" % (
                stable_number(spec.name, "pid2", modulo=100000), os_spec.build, stable_number(spec.name, "day", modulo=366)))
    return _row(spec.name, "windows", **values)


def _extra_row(spec, index, extra):
    values = dict(
        ApplicationID=extra.application_id, Name=extra.name, Description=extra.description,
        LicenseFamily=extra.license_family, LicenseIsAddon=extra.addon, LicenseStatus=extra.status,
        LicenseStatusReason=0 if extra.partial_product_key else SL_E_PRODUCT_KEY_INSTALLATION_NOT_FOUND,
    )
    row_id = "extra|%d|%s" % (index, extra.name)
    if extra.partial_product_key:
        values.update(keyed_values(spec.name, row_id, extra.partial_product_key, extra.channel))
        values["ProductKeyChannel"] = catalog.CHANNELS[extra.channel].product_key_channel
    return _row(spec.name, row_id, **values)


def licensing_products(spec):
    """All SoftwareLicensingProduct rows of the machine, in the order the lab enumerates them."""
    keyless = _keyless_windows_rows(spec)
    extras = [_extra_row(spec, index, extra) for index, extra in enumerate(spec.extra_products)]
    windows = _windows_row(spec)
    rows = keyless[:2] + extras + keyless[2:3] + ([windows] if windows else []) + keyless[3:]
    return rows
