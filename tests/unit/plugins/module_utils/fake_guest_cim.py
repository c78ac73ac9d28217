# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake CimClient for the guest operations: a Windows guest as canned rows (OS, licensing products, the licensing
service, a registry and an Application log), answering query and invoke the way CimClient does, and recording every
call so that tests can count requests and writes."""

from __future__ import annotations

import datetime
import re

from ansible_collections.hyperv.avma.plugins.module_utils._cim import MethodResult, return_value_meaning
from ansible_collections.hyperv.avma.plugins.module_utils._errors import CimMethodError, WsmanFaultError

WINDOWS = "55c92734-d682-4d71-983e-d6ec3f16059f"
NEVER = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
ACTIVATED_AT = datetime.datetime(2026, 11, 20, 8, 30, tzinfo=datetime.timezone.utc)
WRITE_METHODS = frozenset({"InstallProductKey", "RefreshLicenseStatus", "ClearProductKeyFromRegistry", "Activate",
                           "UninstallProductKey", "SetStringValue", "DeleteValue"})
GUEST_KEY = r"SOFTWARE\Microsoft\Virtual Machine\Guest"
PARAMETERS_KEY = GUEST_KEY + r"\Parameters"
KVP_KEYS = (r"SOFTWARE\Microsoft\Virtual Machine", r"SOFTWARE\Microsoft\Virtual Machine\Auto",
            r"SOFTWARE\Microsoft\Virtual Machine\External", GUEST_KEY, PARAMETERS_KEY)


def windows_row(partial=None, channel="VIRTUAL_MACHINE_ACTIVATION", status=0, reason=0, edition="ServerDatacenter", **extra):
    row = dict(ID="win-%s" % (partial or "none"), ApplicationID=WINDOWS, Name="Windows(R), %s edition" % edition,
               Description="Windows(R) Operating System, %s channel" % channel, PartialProductKey=partial,
               ProductKeyChannel="Volume:MAK" if channel == "VOLUME_MAK" else "Retail", LicenseFamily=edition, LicenseIsAddon=False,
               LicenseStatus=status, LicenseStatusReason=reason, GracePeriodRemaining=0, IAID=None,
               AutomaticVMActivationHostMachineName="HV2022" if status == 1 and channel == "VIRTUAL_MACHINE_ACTIVATION" else "",
               AutomaticVMActivationLastActivationTime=ACTIVATED_AT if status == 1 and channel == "VIRTUAL_MACHINE_ACTIVATION" else NEVER)
    row.update(extra)
    return row


class FakeGuest:
    """``activation`` says what Activate() does: ("licensed",), ("refuse", hresult), ("pending", reads before licensed),
    ("unlicensed", reason). ``install_refusal``: the HRESULT InstallProductKey returns. ``channels``: key -> the
    channel its product row shows once installed (default VOLUME_MAK). With ``licensing_faults``, the licensing
    methods fail as Windows makes them fail: the WMI call itself fails, which WS-Man answers with a fault carrying the
    HRESULT; otherwise as a ReturnValue. With ``activates_on_install``, an installed key is licensed at once (as an
    AVMA key asks its host when it goes in). ``hyperv_vm`` gives it the Guest\\Parameters values a Hyper-V host
    publishes into its VMs and Hyper-V's virtual hardware (else ``hardware``, Win32_ComputerSystem's Manufacturer
    and Model, default a physical server)."""

    def __init__(self, *, name="g2022dc", build=20348, sku=8, product=None, channels=None, activation=("licensed",),
                 install_refusal=None, registry=None, denied_keys=(), events=(), event_log_error=None, licensing_faults=False,
                 activates_on_install=False, hyperv_vm=True, hardware=None):
        self.display_name = name
        self.progress_lines = []
        self.os = dict(Caption="Microsoft Windows Server", Version="10.0.%d" % build, BuildNumber=str(build), OperatingSystemSKU=sku,
                       ProductType=3, CSName=name.upper())
        self.edition = {7: "ServerStandard", 8: "ServerDatacenter", 79: "ServerStandardEval", 50: "ServerSolution"}.get(sku, "ServerDatacenter")
        self.product = product
        self.channels = dict(channels or {})
        self.activation = activation
        self.install_refusal = install_refusal
        self.registry = {key.lower(): {} for key in KVP_KEYS}
        self.key_names = {key.lower(): key for key in KVP_KEYS}
        self.hardware = hardware or (dict(Manufacturer="Microsoft Corporation", Model="Virtual Machine") if hyperv_vm
                                     else dict(Manufacturer="Dell Inc.", Model="PowerEdge R750"))
        if hyperv_vm:
            # What a Hyper-V host publishes into every VM it runs (hyperv_vm=False: a physical machine).
            self.registry[PARAMETERS_KEY.lower()] = {"HostName": (1, "hv2022.corp.example"), "PhysicalHostName": (1, "HV2022"),
                                                     "VirtualMachineName": (1, name)}
        for key, values in (registry or {}).items():
            self.registry[key.lower()] = dict(values)
            self.key_names[key.lower()] = key
        self.denied_keys = {key.lower() for key in denied_keys}
        self.events = list(events)
        self.event_log_error = event_log_error
        self.licensing_faults = licensing_faults
        self.activates_on_install = activates_on_install
        self.calls = []
        self.queries = []
        self.pending_reads = None

    # -- what tests look at ------------------------------------------------------------------------------------

    def progress(self, message):
        self.progress_lines.append(message)

    @property
    def writes(self):
        return [call for call in self.calls if call[0] == "invoke" and call[2] in WRITE_METHODS]

    @property
    def write_methods(self):
        return [call[2] for call in self.writes]

    def values(self, key=GUEST_KEY):
        return {name: value for name, (_kind, value) in self.registry[key.lower()].items()}

    # -- CimClient -----------------------------------------------------------------------------------------------

    def query(self, cim_class, where=None, *, properties=None, limit=None, max_elements=None, shape=None):
        rows = self._rows(cim_class, where, properties=properties, limit=limit, max_elements=max_elements)
        return rows if shape is None else [shape(row) for row in rows]

    def _rows(self, cim_class, where=None, *, properties=None, limit=None, max_elements=None):
        self.calls.append(("query", cim_class.name, where))
        self.queries.append(dict(cls=cim_class.name, where=where, limit=limit))
        if cim_class.name == "Win32_OperatingSystem":
            return [dict(self.os)]
        if cim_class.name == "SoftwareLicensingService":
            return [dict(Version="10.0.20348.1", ClientMachineID="cmid")]
        if cim_class.name == "Win32_ComputerSystem":
            return [dict(Name=self.os["CSName"], **self.hardware)]
        if cim_class.name == "SoftwareLicensingProduct":
            self._advance_pending()
            return [dict(self.product)] if self.product and self.product.get("PartialProductKey") else []
        if cim_class.name == "Win32_NTLogEvent":
            if self.event_log_error is not None:
                raise self.event_log_error
            codes = {int(code) for code in re.findall(r"EventCode = (\d+)", where or "")}
            rows = [dict(row) for row in self.events if row["EventCode"] in codes]
            return rows[:limit] if limit else rows
        raise AssertionError("unexpected query of %s" % cim_class.name)

    def invoke(self, cim_class, method, params=None, *, selectors=None, success_codes=(0,)):
        params = dict(params or {})
        self.calls.append(("invoke", cim_class.name, method, params, selectors))
        handler = getattr(self, "_%s_%s" % (cim_class.name, method))
        return_value, outputs = handler(params, selectors)
        if return_value and self.licensing_faults and cim_class.name.startswith("SoftwareLicensing"):
            raise WsmanFaultError(code=return_value, wmi_code=return_value, reason="The Software Licensing Service reported an error.",
                                  machine=self.display_name, operation="Invoke %s.%s" % (cim_class.name, method))
        if return_value not in success_codes:
            raise CimMethodError(method="%s.%s" % (cim_class.name, method), return_value=return_value, meaning=return_value_meaning(return_value),
                                 machine=self.display_name, operation="Invoke %s.%s" % (cim_class.name, method))
        return MethodResult(return_value, outputs, None)

    # -- licensing -----------------------------------------------------------------------------------------------

    def _check_service(self, selectors):
        assert selectors == {"Version": "10.0.20348.1"}, selectors

    def _check_product(self, selectors):
        assert self.product is not None and selectors == {"ID": self.product["ID"]}, selectors

    def _SoftwareLicensingService_InstallProductKey(self, params, selectors):
        self._check_service(selectors)
        if self.install_refusal is not None:
            return self.install_refusal, {}
        key = params["ProductKey"]
        self.product = windows_row(key[-5:], channel=self.channels.get(key, "VOLUME_MAK"), status=0, reason=0xC004F056, edition=self.edition)
        if self.activates_on_install:
            self._license()
        return 0, {}

    def _SoftwareLicensingService_RefreshLicenseStatus(self, _params, selectors):
        self._check_service(selectors)
        return 0, {}

    def _SoftwareLicensingService_ClearProductKeyFromRegistry(self, _params, selectors):
        self._check_service(selectors)
        return 0, {}

    def _SoftwareLicensingProduct_UninstallProductKey(self, _params, selectors):
        self._check_product(selectors)
        self.product = dict(self.product, PartialProductKey=None)
        return 0, {}

    def _SoftwareLicensingProduct_Activate(self, _params, selectors):
        self._check_product(selectors)
        kind = self.activation[0]
        if kind == "licensed":
            self._license()
        elif kind == "refuse":
            self.product.update(LicenseStatusReason=self.activation[1])
            return self.activation[1], {}
        elif kind == "pending":
            self.pending_reads = self.activation[1]
        else:
            self.product.update(LicenseStatus=0, LicenseStatusReason=self.activation[1])
        return 0, {}

    def _license(self):
        avma = "VIRTUAL_MACHINE_ACTIVATION" in self.product["Description"]
        self.product.update(LicenseStatus=1, LicenseStatusReason=0, AutomaticVMActivationHostMachineName="HV2022" if avma else "",
                            AutomaticVMActivationLastActivationTime=ACTIVATED_AT if avma else NEVER)

    def _advance_pending(self):
        if self.pending_reads is None:
            return
        if self.pending_reads == 0:
            self._license()
            self.pending_reads = None
        else:
            self.pending_reads -= 1

    # -- StdRegProv ----------------------------------------------------------------------------------------------

    def _key(self, params):
        assert params["hDefKey"] == 2147483650
        key = params["sSubKeyName"].lower()
        if key in self.denied_keys:
            return None, 5
        if key not in self.registry:
            return None, 2
        return self.registry[key], 0

    @staticmethod
    def _array(items):
        # WS-Man renders a one-element array like a scalar and an empty one as nil.
        if not items:
            return None
        return items[0] if len(items) == 1 else list(items)

    def _StdRegProv_EnumKey(self, params, _selectors):
        values, code = self._key(params)
        if code:
            return code, {}
        prefix = params["sSubKeyName"].lower() + "\\"
        names = sorted({self.key_names[key][len(prefix):].split("\\")[0] for key in self.registry if key.startswith(prefix)})
        return 0, dict(sNames=self._array(names))

    def _StdRegProv_EnumValues(self, params, _selectors):
        values, code = self._key(params)
        if code:
            return code, {}
        return 0, dict(sNames=self._array(list(values)), Types=self._array([str(kind) for kind, _value in values.values()]))

    def _StdRegProv_GetStringValue(self, params, _selectors):
        values, code = self._key(params)
        if code:
            return code, {}
        if params["sValueName"] not in values:
            return 2, {}
        kind, value = values[params["sValueName"]]
        if kind != 1:
            return 2147749893, {}  # WBEM_E_TYPE_MISMATCH, as StdRegProv answers for a value of another type
        return 0, dict(sValue=value)

    def _StdRegProv_SetStringValue(self, params, _selectors):
        values, code = self._key(params)
        if code:
            return code, {}
        values[params["sValueName"]] = (1, params["sValue"])
        return 0, {}

    def _StdRegProv_DeleteValue(self, params, _selectors):
        values, code = self._key(params)
        if code:
            return code, {}
        if params["sValueName"] not in values:
            return 2, {}
        del values[params["sValueName"]]
        return 0, {}


def event_row(record, code, when, message=None, strings=None, source="Microsoft-Windows-Security-SPP"):
    return dict(Logfile="Application", RecordNumber=record, SourceName=source, EventCode=code, EventIdentifier=1073754133,
                EventType=3, Type="Information", Category=0, CategoryString=None, ComputerName="G2022DC", User=None,
                TimeGenerated=when, TimeWritten=when, Message=message, InsertionStrings=strings)
