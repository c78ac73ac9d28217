# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host-side task functions (kvp_info, kvp_item, host_info, integration_service) against a fake CimClient that
models a Hyper-V host and a guest registry, and counts requests."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils import _hyperv
from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimReference, EmbeddedInstance, MethodResult, UndecodableValue
from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaValueError,
    CimJobFailedError,
    CimMethodError,
    WinrmTransportError,
    WsmanFaultError,
    WsmanProtocolError,
)
from ansible_collections.hyperv.avma.plugins.module_utils._guest_registry import KVP_KEYS, REG_DWORD, REG_SZ
from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import (
    node_endpoint,
    HOST_INFO_SPEC,
    HypervMissingError,
    INTEGRATION_SERVICE_SPEC,
    KVP_INFO_SPEC,
    KVP_ITEM_SPEC,
    host_info_task,
    integration_service_task,
    kvp_info_task,
    kvp_item_task,
    readiness_problems,
)

VM_WEB = "B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E"
VM_DB = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
VM_OFF = "11111111-2222-3333-4444-555555555555"
JOB_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob"
WINDOWS = "55c92734-d682-4d71-983e-d6ec3f16059f"
MACHINE = "hv01 (127.0.40.11:5985)"


def item(name, data, source):
    return EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Data": data, "Name": name, "Source": source},
                            {"Data": "string", "Name": "string", "Source": "uint16"})


def params_for(spec, **given):
    """Task parameters as the argument spec validator would give them: defaults filled in."""
    params = {name: copy.deepcopy(option.get("default")) for name, option in spec.items()}
    params.update(given)
    return params


class FakeHost:
    """Duck type of CimClient: a Hyper-V host (VMs, KVP components and settings, the management service with jobs),
    its OS and licence, and a guest registry. ``calls`` records every request as (operation, class or method)."""

    display_name = "hv01 (127.0.0.1:5985)"

    def __init__(self, *, edition_sku=8, build="20348", license_status=1, hyperv=True):
        self.calls = []
        self.systems = [dict(Name="HV01", ElementName="HV01", Caption="Hosting Computer System", EnabledState=2)]
        self.components = []
        self.settings = []
        self.os = dict(Caption="Microsoft Windows Server 2022 Datacenter", Version="10.0." + build, BuildNumber=build,
                       OperatingSystemSKU=edition_sku, ProductType=3, CSName="HV01")
        self.products = [dict(ID="p1", ApplicationID=WINDOWS, Name="Windows(R), ServerDatacenter edition",
                              Description="Windows(R) Operating System, RETAIL channel",
                              PartialProductKey="ABCDE", ProductKeyChannel="Retail", LicenseFamily="ServerDatacenter", LicenseIsAddon=False,
                              LicenseStatus=license_status, LicenseStatusReason=0, GracePeriodRemaining=0, IAID=None,
                              AutomaticVMActivationHostMachineName=None,
                              AutomaticVMActivationLastActivationTime=datetime(1601, 1, 1, tzinfo=timezone.utc))]
        self.hyperv = hyperv
        self.namespace_answers = True
        self.missing_methods = set()
        self.failing_jobs = {}      # method or (method, VM ID) -> (error code, description)
        self.refused = {}           # method -> ReturnValue
        self.lost_answers = {}      # method -> whether the call is carried out before its answer is lost
        self.oversized = set()      # VM IDs whose KVP data does not fit in any answer (w:EncodingLimit)
        self.registry = {path: {} for path in KVP_KEYS.values()}
        self.unparsable = set()     # registry keys or value names whose answer is not XML
        self.jobs = {}
        self.cluster_nodes = None   # rows of MSCluster_Node; None: no root/MSCluster namespace
        self.cluster_refusal = None  # the error every read of root/MSCluster raises (access denied, ...)
        self.cluster_resources = []
        self.siblings = {}          # address -> FakeHost, what sibling() reaches (other cluster nodes)

    # -- model --------------------------------------------------------------------------------------------------------

    def add_vm(self, name, vm_id, *, state=2, data_exchange=True, status=(2,), intrinsic=None, guest=None, host_items=None,
               raw_guest=None):
        self.systems.append(dict(Name=vm_id, ElementName=name, Caption="Virtual Machine", EnabledState=state))
        if state == 2:
            guest_values = [item(key, value, 1) for key, value in (guest or {}).items()] + list(raw_guest or [])
            self.components.append(dict(SystemName=vm_id, OperationalStatus=list(status),
                                        GuestIntrinsicExchangeItems=[item(key, value, 2) for key, value in (intrinsic or {}).items()],
                                        GuestExchangeItems=guest_values))
        self.settings.append(dict(InstanceID="Microsoft:%s\\2A34B1C2-FD73-4043-9B6E-EA7E5D3D9E17\\0" % vm_id,
                                  EnabledState=2 if data_exchange else 3,
                                  HostExchangeItems=[item(key, value, 0) for key, value in (host_items or {}).items()], HostOnlyItems=[]))

    def setting_of(self, vm_id):
        return next(row for row in self.settings if vm_id in row["InstanceID"])

    def host_items(self, vm_id):
        return {entry.get("Name"): entry.get("Data") for entry in self.setting_of(vm_id)["HostExchangeItems"]}

    def count(self, operation, name=None):
        return sum(1 for call in self.calls if call[0] == operation and (name is None or call[1] == name))

    # -- CimClient ----------------------------------------------------------------------------------------------------

    def query(self, cim_class, where=None, *, properties=None, limit=None, max_elements=None, shape=None):
        rows = self._rows(cim_class, where, properties=properties, limit=limit, max_elements=max_elements)
        return rows if shape is None else [shape(row) for row in rows]

    def _rows(self, cim_class, where=None, *, properties=None, limit=None, max_elements=None):
        self.calls.append(("query", cim_class.name))
        if cim_class.namespace == "root/virtualization/v2" and not (self.hyperv and self.namespace_answers):
            raise WsmanFaultError(code=2150858752, wmi_code=0x8004100E, reason="The WMI namespace root/virtualization/v2 does not exist.")
        if cim_class.namespace == "root/MSCluster" and self.cluster_refusal is not None:
            raise self.cluster_refusal
        if cim_class.namespace == "root/MSCluster" and self.cluster_nodes is None:
            raise WsmanFaultError(code=2150858752, wmi_code=0x8004100E, reason="The WMI namespace root/MSCluster does not exist.")
        if cim_class.name in ("Msvm_KvpExchangeComponent", "Msvm_KvpExchangeComponentSettingData") and self.oversized:
            rows = self.components if cim_class.name == "Msvm_KvpExchangeComponent" else self.settings
            if where is not None:
                vm_id = where.split("'")[1].replace("Microsoft:", "").rstrip("%")
                rows = [row for row in rows if vm_id in (row.get("SystemName") or row.get("InstanceID"))]
            if any(vm_id in (row.get("SystemName") or row.get("InstanceID")) for row in rows for vm_id in self.oversized):
                raise WsmanFaultError(code=2150858824, wmi_code=None, fault_subcode="w:EncodingLimit",
                                      reason="The computed response packet size (1049000) exceeds the maximum envelope size that is allowed (512000).")
            return [{prop.name: copy.deepcopy(row.get(prop.name)) for prop in cim_class.properties} for row in rows]
        tables = {
            "MSCluster_Node": self.cluster_nodes, "MSCluster_Resource": self.cluster_resources,
            "Msvm_ComputerSystem": self.systems, "Msvm_KvpExchangeComponent": self.components,
            "Msvm_KvpExchangeComponentSettingData": self.settings,
            "Msvm_VirtualSystemManagementService": [dict(CreationClassName="Msvm_VirtualSystemManagementService", Name="vmms",
                                                         SystemCreationClassName="Msvm_ComputerSystem", SystemName="HV01")],
            "Win32_OperatingSystem": [self.os], "SoftwareLicensingProduct": self.products,
            "Win32_OptionalFeature": [dict(Name="Microsoft-Hyper-V", InstallState=1 if self.hyperv else 2)],
        }
        wanted = [prop.name for prop in cim_class.properties] if properties is None else list(properties)
        return [{prop.name: copy.deepcopy(row.get(prop.name)) if prop.name in wanted else None for prop in cim_class.properties}
                for row in tables[cim_class.name]]

    def sibling(self, host, label, port=None):
        self.calls.append(("sibling", host))
        if host not in self.siblings:
            raise WinrmTransportError("connection refused", kind="refused", machine=host, operation="Enumerate Win32_OperatingSystem")
        return self.siblings[host]

    def close(self):
        self.calls.append(("close", None))

    def invoke(self, cim_class, method, params=None, *, selectors=None, success_codes=(0,)):
        self.calls.append(("invoke", method))
        if method in self.missing_methods:
            raise WsmanFaultError(code=2150858753, wmi_code=0x8004102E, reason="The method %s does not exist." % method)
        if method in self.refused:
            raise CimMethodError(method=f"{cim_class.name}.{method}", return_value=self.refused[method], meaning="invalid state",
                                 machine=MACHINE, operation=f"Invoke {cim_class.name}.{method}")
        handler = getattr(self, "_" + method)
        if method in self.lost_answers:
            if self.lost_answers.pop(method):
                handler(**params)
            raise WinrmTransportError("connection to http://127.0.40.11:5985/wsman was reset before a complete answer", kind="reset",
                                      machine=MACHINE, operation=f"Invoke {cim_class.name}.{method}")
        outputs = handler(**params)
        if cim_class.name == "StdRegProv":
            return MethodResult(outputs.pop("ReturnValue", 0), outputs, None)
        job_id = "JOB-%d" % (len(self.jobs) + 1)
        target = params.get("TargetSystem")
        self.jobs[job_id] = (method, target.selector("Name") if target else None)
        return MethodResult(4096, {}, CimReference(JOB_URI, {"InstanceID": job_id}))

    def wait_for_job(self, job, *, timeout, poll_interval):
        self.calls.append(("job", job.selector("InstanceID")))
        method, vm_id = self.jobs[job.selector("InstanceID")]
        failure = self.failing_jobs.get(method) or self.failing_jobs.get((method, vm_id))
        if failure:
            code, description = failure
            raise CimJobFailedError(job_id=job.selector("InstanceID"), job_state=10, error_code=code, error_description=description,
                                    machine=MACHINE, operation="Wait for Msvm_ConcreteJob")
        return dict(JobState=7)

    # -- methods ------------------------------------------------------------------------------------------------------

    def _target(self, reference):
        assert reference.selector("CreationClassName") == "Msvm_ComputerSystem"
        return reference.selector("Name")

    def _AddKvpItems(self, TargetSystem, DataItems):
        setting = self.setting_of(self._target(TargetSystem))
        assert len(DataItems) <= 128
        for entry in DataItems:
            assert entry.get("Source") == 0
            setting["HostExchangeItems"].append(entry)
        return {}

    def _ModifyKvpItems(self, TargetSystem, DataItems):
        setting = self.setting_of(self._target(TargetSystem))
        for entry in DataItems:
            index = next(position for position, old in enumerate(setting["HostExchangeItems"]) if old.get("Name") == entry.get("Name"))
            setting["HostExchangeItems"][index] = entry
        return {}

    def _RemoveKvpItems(self, TargetSystem, DataItems):
        setting = self.setting_of(self._target(TargetSystem))
        names = {entry.get("Name") for entry in DataItems}
        setting["HostExchangeItems"] = [old for old in setting["HostExchangeItems"] if old.get("Name") not in names]
        return {}

    def _set_enabled(self, instances):
        for instance in instances:
            row = next(row for row in self.settings if row["InstanceID"] == instance.get("InstanceID"))
            row["EnabledState"] = instance.get("EnabledState")
        return {}

    def _ModifyGuestServiceSettings(self, GuestServiceSettings):
        return self._set_enabled(GuestServiceSettings)

    def _ModifyResourceSettings(self, ResourceSettings):
        return self._set_enabled(ResourceSettings)

    def _EnumValues(self, hDefKey, sSubKeyName):
        if sSubKeyName in self.unparsable:
            raise WsmanProtocolError("malformed XML: not well-formed (invalid token): line 1, column 80")
        values = self.registry.get(sSubKeyName)
        if values is None:
            return dict(ReturnValue=2)
        return dict(sNames=list(values), Types=[kind for kind, _value in values.values()])

    def _GetStringValue(self, hDefKey, sSubKeyName, sValueName):
        if sValueName in self.unparsable:
            raise WsmanProtocolError("malformed XML: not well-formed (invalid token): line 1, column 925")
        values = self.registry.get(sSubKeyName, {})
        folded = {name.lower(): name for name in values}
        if sValueName.lower() not in folded:
            return dict(ReturnValue=2)
        return dict(sValue=values[folded[sValueName.lower()]][1])

    def _SetStringValue(self, hDefKey, sSubKeyName, sValueName, sValue):
        values = self.registry[sSubKeyName]
        existing = next((name for name in values if name.lower() == sValueName.lower()), sValueName)
        values[existing] = (REG_SZ, sValue)
        return {}

    def _DeleteValue(self, hDefKey, sSubKeyName, sValueName):
        values = self.registry[sSubKeyName]
        existing = next((name for name in values if name.lower() == sValueName.lower()), None)
        if existing is None:
            return dict(ReturnValue=2)
        del values[existing]
        return {}


@pytest.fixture
def host():
    model = FakeHost()
    model.add_vm("web01", VM_WEB, intrinsic={"FullyQualifiedDomainName": "web01.corp", "OSVersion": "10.0.20348", "OSEditionId": "8",
                                             "NetworkAddressIPv4": "10.0.0.5;10.0.0.6"},
                 guest={"AppRole": "web"}, host_items={"HyperVAvma.Owner": "ops", "Keep": "1"})
    model.add_vm("db01", VM_DB, data_exchange=False, status=(32896,), host_items={"HyperVAvma.Owner": "dba"})
    model.add_vm("old01", VM_OFF, state=3)
    return model


# -- kvp_info ----------------------------------------------------------------------------------------------------------


def test_kvp_info_reads_every_vm_in_three_enumerations(host):
    result = kvp_info_task(host, params_for(KVP_INFO_SPEC), False, False)
    assert host.calls == [("query", "Msvm_ComputerSystem"), ("query", "Msvm_KvpExchangeComponent"), ("query", "Msvm_KvpExchangeComponentSettingData")]
    assert result["changed"] is False and result["host_name"] == "HV01" and result["missing_vms"] == []
    web, db, old = result["vms"]
    assert (web["name"], web["id"], web["state"], web["state_code"]) == ("web01", VM_WEB, "running", 2)
    assert web["data_exchange"] == dict(enabled=True, status="OK", status_code=2, operational_status=[2])
    assert web["intrinsic_items"]["FullyQualifiedDomainName"] == "web01.corp"
    assert web["intrinsic_facts"]["fqdn"] == "web01.corp" and web["intrinsic_facts"]["os_edition_id"] == "ServerDatacenter"
    assert web["intrinsic_facts"]["ipv4_addresses"] == ["10.0.0.5", "10.0.0.6"]
    assert web["guest_items"] == {"AppRole": "web"}
    assert web["host_items"] == {"HyperVAvma.Owner": "ops", "Keep": "1"}
    assert web["issues"] == []
    assert db["data_exchange"]["enabled"] is False and db["data_exchange"]["status"] == "Disabled"
    assert old["state"] == "off" and old["guest_items"] == {} and old["data_exchange"]["status"] is None


def test_one_vm_too_large_for_any_answer_is_flagged_and_the_others_are_read(host):
    host.oversized.add(VM_WEB)
    result = kvp_info_task(host, params_for(KVP_INFO_SPEC), False, False)
    by_name = {vm["name"]: vm for vm in result["vms"]}
    assert set(by_name) == {"web01", "db01", "old01"}
    assert by_name["db01"]["host_items"] == {"HyperVAvma.Owner": "dba"} and by_name["db01"]["issues"] == []
    assert [(issue["source"], issue["code"]) for issue in by_name["web01"]["issues"]] == [("guest", "too_large"), ("host", "too_large")]
    assert by_name["web01"]["guest_items"] == {} and "w:EncodingLimit" in by_name["web01"]["issues"][0]["message"]
    # Whole class, small pages, then one VM at a time (three VMs), for each of the two classes.
    assert host.count("query", "Msvm_KvpExchangeComponent") == 5 and host.count("query", "Msvm_KvpExchangeComponentSettingData") == 5
    assert "1 VMs" in result["warnings"][0]


def test_mask_values_hides_values_by_name_or_pattern_in_every_source(host):
    result = kvp_info_task(host, params_for(KVP_INFO_SPEC, mask_values=["hypervavma.*", "approle", "OSVersion"]), False, False)
    web = next(vm for vm in result["vms"] if vm["name"] == "web01")
    assert web["host_items"] == {"HyperVAvma.Owner": "********", "Keep": "1"}
    assert web["guest_items"] == {"AppRole": "********"}
    assert web["intrinsic_items"]["OSVersion"] == "********" and web["intrinsic_items"]["OSEditionId"] == "8"
    query = kvp_info_task(host, params_for(KVP_INFO_SPEC, mask_values=["HyperVAvma.Owner"], query="vms[].host_items"), False, False)
    assert {"HyperVAvma.Owner": "********"} in query["query_result"]


def test_mask_values_in_the_guest_registry():
    guest = FakeHost()
    guest.registry[KVP_KEYS["external"]] = {"EnrollmentToken": (REG_SZ, "Tok-1"), "Role": (REG_SZ, "web")}
    result = kvp_info_task(guest, params_for(KVP_INFO_SPEC, scope="guest", mask_values=["enrollmenttoken"]), False, False)
    assert result["guest_registry"]["external"] == {"EnrollmentToken": "********", "Role": "web"}


def test_request_count_does_not_grow_with_the_vms():
    small, large = FakeHost(), FakeHost()
    for index in range(10):
        small.add_vm("vm%d" % index, "00000000-0000-0000-0000-%012d" % index)
    for index in range(1000):
        large.add_vm("vm%d" % index, "00000000-0000-0000-0000-%012d" % index)
    assert len(kvp_info_task(large, params_for(KVP_INFO_SPEC), False, False)["vms"]) == 1000
    kvp_info_task(small, params_for(KVP_INFO_SPEC), False, False)
    assert small.calls == large.calls and len(large.calls) == 3


def test_kvp_info_selects_by_name_or_id(host):
    result = kvp_info_task(host, params_for(KVP_INFO_SPEC, vms=["DB01", VM_WEB.lower(), "ghost"]), False, False)
    assert [vm["name"] for vm in result["vms"]] == ["web01", "db01"]
    assert result["missing_vms"] == ["ghost"]
    assert any("ghost" in warning for warning in result["warnings"])
    assert len(host.calls) == 4  # the fourth: is a missing VM owned by another cluster node?


def test_kvp_info_query_shapes_the_result(host):
    result = kvp_info_task(host, params_for(KVP_INFO_SPEC, query="vms[?data_exchange.enabled==`false`].name"), False, False)
    assert result == dict(changed=False, query_result=["db01"])


def test_kvp_info_bad_query_fails_before_any_request(host):
    with pytest.raises(AvmaValueError, match="not a valid JMESPath"):
        kvp_info_task(host, params_for(KVP_INFO_SPEC, query="vms[?"), False, False)
    assert host.calls == []


def test_kvp_info_query_without_jmespath(host, monkeypatch):
    monkeypatch.setattr(_hyperv, "jmespath", None)
    with pytest.raises(AvmaValueError, match="needs the Python library jmespath"):
        kvp_info_task(host, params_for(KVP_INFO_SPEC, query="vms"), False, False)


def test_hostile_guest_items_are_reported_per_item_and_never_break_the_listing():
    model = FakeHost()
    model.add_vm("evil", VM_WEB, guest={"Tmpl": "{{ lookup('pipe', 'id') }}", "Big": "x" * 5000, "Esc": "\x1b[2J"},
                 raw_guest=[UndecodableValue(reason="XML with a DOCTYPE is refused (entity expansion and external entities are not allowed)", size=900)])
    model.add_vm("fine", VM_DB, guest={"a": "b"})
    result = kvp_info_task(model, params_for(KVP_INFO_SPEC), False, False)
    evil, fine = result["vms"]
    assert evil["guest_items"]["Tmpl"] == "{{ lookup('pipe', 'id') }}"
    assert len(evil["guest_items"]["Big"]) == 1024
    assert evil["guest_items"]["Esc"] == "\x1b[2J"
    assert sorted(issue["code"] for issue in evil["issues"]) == ["control_characters", "template_syntax", "undecodable", "value_truncated"]
    assert fine["guest_items"] == {"a": "b"} and fine["issues"] == []
    assert result["warnings"] == ["4 problems in KVP data written by guests (1 VMs); the items concerned are reported in 'issues' and "
                                  "returned as plain data, never expanded or templated"]


def test_settings_of_checkpoints_are_not_mistaken_for_the_vm(host):
    checkpoint = dict(host.setting_of(VM_WEB), InstanceID="Microsoft:9A8B7C6D-0000-4000-8000-000000000001\\2A34B1C2-FD73-4043-9B6E-EA7E5D3D9E17\\0",
                      HostExchangeItems=[item("Stale", "x", 0)])
    host.settings.insert(0, checkpoint)
    result = kvp_info_task(host, params_for(KVP_INFO_SPEC, vms=["web01"]), False, False)
    assert result["vms"][0]["host_items"] == {"HyperVAvma.Owner": "ops", "Keep": "1"}


def test_kvp_info_on_a_machine_without_hyperv_says_so():
    with pytest.raises(HypervMissingError, match="does not answer for Hyper-V"):
        kvp_info_task(FakeHost(hyperv=False), params_for(KVP_INFO_SPEC), False, False)


def test_kvp_info_guest_scope_reads_the_four_registry_keys():
    guest = FakeHost()
    guest.registry[KVP_KEYS["auto"]] = {"FullyQualifiedDomainName": (REG_SZ, "web01.corp"), "OSBuildNumber": (REG_SZ, "17763")}
    guest.registry[KVP_KEYS["guest"]] = {"HyperVAvma.LicenseStatus": (REG_SZ, "Licensed"), "Counter": (REG_DWORD, 5)}
    guest.registry[KVP_KEYS["external"]] = {"Pushed": (REG_SZ, "v")}
    del guest.registry[KVP_KEYS["guest_parameters"]]
    result = kvp_info_task(guest, params_for(KVP_INFO_SPEC, scope="guest"), False, False)
    assert result["guest_registry"] == dict(auto={"FullyQualifiedDomainName": "web01.corp", "OSBuildNumber": "17763"},
                                            guest={"HyperVAvma.LicenseStatus": "Licensed"}, external={"Pushed": "v"}, guest_parameters={})
    assert result["intrinsic_facts"]["os_release"] == "2019"
    assert [issue["code"] for issue in result["issues"]] == ["not_a_string"]


def test_guest_values_that_cannot_be_parsed_are_left_out_alone():
    guest = FakeHost()
    guest.registry[KVP_KEYS["guest"]] = {"Ctl": (REG_SZ, "bell\x07"), "Good": (REG_SZ, "g")}
    guest.unparsable.update({"Ctl", KVP_KEYS["external"]})
    result = kvp_info_task(guest, params_for(KVP_INFO_SPEC, scope="guest"), False, False)
    assert result["guest_registry"]["guest"] == {"Good": "g"} and result["guest_registry"]["external"] == {}
    assert [(issue["source"], issue["name"], issue["code"]) for issue in result["issues"]] == [
        ("guest", "Ctl", "unreadable"), ("external", None, "unreadable")]
    removal = kvp_item_task(guest, params_for(KVP_ITEM_SPEC, scope="guest", state="absent", names=["ctl"]), False, True)
    assert removal["changes"] == [dict(action="remove", name="Ctl")] and "Ctl" not in guest.registry[KVP_KEYS["guest"]]


def test_kvp_info_guest_scope_refuses_vms():
    with pytest.raises(AvmaValueError, match="does not apply to scope=guest"):
        kvp_info_task(FakeHost(), params_for(KVP_INFO_SPEC, scope="guest", vms=["x"]), False, False)


# -- kvp_item, host scope ----------------------------------------------------------------------------------------------


def test_remove_host_items_by_pattern_then_nothing_to_do(host):
    params = params_for(KVP_ITEM_SPEC, all_vms=True, state="absent", patterns=["HyperVAvma.*"])
    result = kvp_item_task(host, params, False, True)
    assert result["changed"] is True
    assert result["changes"] == [dict(action="remove", name="HyperVAvma.Owner", vm="web01", vm_id=VM_WEB),
                                 dict(action="remove", name="HyperVAvma.Owner", vm="db01", vm_id=VM_DB)]
    assert result["diff"] == dict(before={"web01": {"HyperVAvma.Owner": "ops"}, "db01": {"HyperVAvma.Owner": "dba"}},
                                  after={"web01": {}, "db01": {}})
    assert host.host_items(VM_WEB) == {"Keep": "1"} and host.host_items(VM_DB) == {}
    assert host.count("invoke", "RemoveKvpItems") == 2 and host.count("job") == 2

    host.calls.clear()
    again = kvp_item_task(host, params, False, True)
    assert again["changed"] is False and again["changes"] == []
    assert host.count("invoke") == 0


def test_check_mode_sends_nothing_and_tells_what_would_change(host):
    result = kvp_item_task(host, params_for(KVP_ITEM_SPEC, vms=["web01"], state="absent", names=["Keep"]), True, True)
    assert result["changed"] is True and result["changes"] == [dict(action="remove", name="Keep", vm="web01", vm_id=VM_WEB)]
    assert host.count("invoke") == 0 and host.host_items(VM_WEB)["Keep"] == "1"


def test_present_adds_and_modifies_with_values_of_sensitive_items_hidden(host):
    params = params_for(KVP_ITEM_SPEC, vms=[VM_WEB], items={"Keep": "2", "Token": "s3cr3t", "Plain": 5}, sensitive=["Tok*"])
    result = kvp_item_task(host, params, False, True)
    assert [(change["action"], change["name"]) for change in result["changes"]] == [("modify", "Keep"), ("add", "Token"), ("add", "Plain")]
    assert result["diff"] == dict(before={"web01": {"Keep": "1"}}, after={"web01": {"Keep": "2", "Token": "(hidden: sensitive)", "Plain": "5"}})
    assert "s3cr3t" not in repr(result)
    assert host.host_items(VM_WEB) == {"HyperVAvma.Owner": "ops", "Keep": "2", "Token": "s3cr3t", "Plain": "5"}
    assert [call[1] for call in host.calls if call[0] == "invoke"] == ["ModifyKvpItems", "AddKvpItems"]
    assert kvp_item_task(host, params, False, True)["changed"] is False


def test_no_diff_unless_asked(host):
    result = kvp_item_task(host, params_for(KVP_ITEM_SPEC, vms=["web01"], items={"Keep": "9"}), False, False)
    assert result["changed"] is True and "diff" not in result
    result = integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, all_vms=True), True, False)
    assert result["changed"] is True and "diff" not in result


def test_more_than_128_items_are_sent_in_batches(host):
    items = {"n%03d" % index: "v" for index in range(300)}
    result = kvp_item_task(host, params_for(KVP_ITEM_SPEC, vms=["old01"], items=items), False, False)
    assert len(result["changes"]) == 300
    assert host.count("invoke", "AddKvpItems") == 3 and len(host.host_items(VM_OFF)) == 300


def test_a_failed_job_names_the_vm_and_reports_what_was_done(host):
    host.failing_jobs["RemoveKvpItems"] = (32768, "The operation failed")
    result = kvp_item_task(host, params_for(KVP_ITEM_SPEC, all_vms=True, state="absent", patterns=["HyperVAvma.*"]), False, True)
    assert result["failed"] is True
    assert result["msg"].startswith("hv01 (127.0.40.11:5985): RemoveKvpItems: VM 'web01' (%s): job JOB-1 ended in state 10 (exception)" % VM_WEB)
    assert "The operation failed" in result["msg"]
    assert result["changed"] is False and result["changes"] == []


def test_a_failure_after_one_vm_keeps_that_vm_reported(host):
    host.failing_jobs[("AddKvpItems", VM_DB)] = (32768, "The operation failed")
    result = kvp_item_task(host, params_for(KVP_ITEM_SPEC, vms=["web01", "db01"], items={"New": "1"}), False, True)
    assert result["failed"] is True and result["msg"].startswith("hv01 (127.0.40.11:5985): AddKvpItems: VM 'db01'")
    assert result["changed"] is True
    assert result["changes"] == [dict(action="add", name="New", vm="web01", vm_id=VM_WEB)]
    assert result["diff"] == dict(before={"web01": {}}, after={"web01": {"New": "1"}})


def test_a_refused_call_names_the_vm(host):
    host.refused["AddKvpItems"] = 32775
    result = kvp_item_task(host, params_for(KVP_ITEM_SPEC, vms=["web01"], items={"New": "1"}), False, False)
    assert result["failed"] is True and "VM 'web01'" in result["msg"] and "32775" in result["msg"]
    assert result["changed"] is False


@pytest.mark.parametrize("given, message", [
    (dict(items={"a": "1"}), "exactly one of vms"),
    (dict(items={"a": "1"}, vms=["web01"], all_vms=True), "exactly one of vms"),
    (dict(vms=["web01"]), "needs items"),
    (dict(vms=["web01"], items={"a": "1"}, names=["b"]), "state=absent only"),
    (dict(vms=["web01"], state="absent"), "needs names, patterns or items"),
    (dict(vms=["ghost"], items={"a": "1"}), "ghost"),
    (dict(vms=["web01"], items={"a": "\x00"}), "control characters"),
    (dict(scope="guest", vms=["web01"], items={"a": "1"}), "do not apply to scope=guest"),
])
def test_kvp_item_refuses_unclear_requests(host, given, message):
    with pytest.raises(AvmaValueError, match=message):
        kvp_item_task(host, params_for(KVP_ITEM_SPEC, **given), False, False)
    assert host.count("invoke") == 0


def test_kvp_item_refuses_a_name_shared_by_two_vms(host):
    host.add_vm("web01", VM_OFF.replace("1", "7"))
    with pytest.raises(AvmaValueError, match="more than one VM"):
        kvp_item_task(host, params_for(KVP_ITEM_SPEC, vms=["web01"], items={"a": "1"}), False, False)


# -- kvp_item, guest scope ---------------------------------------------------------------------------------------------


def test_guest_items_set_and_removed_in_the_registry():
    guest = FakeHost()
    guest.registry[KVP_KEYS["guest"]] = {"HyperVAvma.Old": (REG_SZ, "1"), "hypervavma.other": (REG_SZ, "2"), "Mine": (REG_SZ, "m")}
    result = kvp_item_task(guest, params_for(KVP_ITEM_SPEC, scope="guest", state="absent", patterns=["HyperVAvma.*"]), False, True)
    assert result["changes"] == [dict(action="remove", name="HyperVAvma.Old"), dict(action="remove", name="hypervavma.other")]
    assert result["diff"] == dict(before={"HyperVAvma.Old": "1", "hypervavma.other": "2"}, after={})
    assert guest.registry[KVP_KEYS["guest"]] == {"Mine": (REG_SZ, "m")}
    assert kvp_item_task(guest, params_for(KVP_ITEM_SPEC, scope="guest", state="absent", patterns=["HyperVAvma.*"]), False, True)["changed"] is False

    params = params_for(KVP_ITEM_SPEC, scope="guest", items={"MINE": "n", "Added": "a"})
    result = kvp_item_task(guest, params, False, True)
    assert result["changes"] == [dict(action="modify", name="Mine"), dict(action="add", name="Added")]
    assert guest.registry[KVP_KEYS["guest"]] == {"Mine": (REG_SZ, "n"), "Added": (REG_SZ, "a")}
    assert kvp_item_task(guest, params, False, True)["changed"] is False


def test_guest_items_check_mode_writes_nothing():
    guest = FakeHost()
    result = kvp_item_task(guest, params_for(KVP_ITEM_SPEC, scope="guest", key="external", items={"X": "1"}), True, True)
    assert result["changed"] is True and guest.registry[KVP_KEYS["external"]] == {}
    assert guest.count("invoke", "SetStringValue") == 0


# -- integration_service -----------------------------------------------------------------------------------------------


def test_enable_data_exchange_where_it_is_off_then_nothing(host):
    params = params_for(INTEGRATION_SERVICE_SPEC, all_vms=True)
    result = integration_service_task(host, params, False, True)
    assert result["changed"] is True
    assert [(vm["name"], vm["enabled_before"], vm["enabled"], vm["changed"]) for vm in result["vms"]] == [
        ("web01", True, True, False), ("db01", False, True, True), ("old01", True, True, False)]
    assert result["diff"] == dict(before={"db01": "disabled"}, after={"db01": "enabled"})
    assert host.setting_of(VM_DB)["EnabledState"] == 2
    assert host.count("invoke", "ModifyResourceSettings") == 1 and host.count("invoke", "ModifyGuestServiceSettings") == 0
    assert integration_service_task(host, params, False, True)["changed"] is False


def test_disable_in_check_mode_changes_nothing(host):
    result = integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, vms=["web01"], state="disabled"), True, True)
    assert result["changed"] is True and result["vms"][0]["enabled"] is False
    assert host.setting_of(VM_WEB)["EnabledState"] == 2 and host.count("invoke") == 0


def test_falls_back_to_modify_guest_service_settings_once_when_the_first_is_missing(host):
    host.missing_methods.add("ModifyResourceSettings")
    integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, all_vms=True, state="disabled"), False, False)
    assert [call[1] for call in host.calls if call[0] == "invoke"] == ["ModifyResourceSettings", "ModifyGuestServiceSettings", "ModifyGuestServiceSettings"]
    assert host.setting_of(VM_WEB)["EnabledState"] == 3 and host.setting_of(VM_OFF)["EnabledState"] == 3


@pytest.mark.parametrize("code", [32768, 32770, 32773, 32775, 4])
def test_falls_back_when_the_first_method_is_refused(host, code):
    host.refused["ModifyResourceSettings"] = code
    result = integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, all_vms=True, state="disabled"), False, False)
    assert result["changed"] is True and "failed" not in result
    assert [call[1] for call in host.calls if call[0] == "invoke"] == ["ModifyResourceSettings", "ModifyGuestServiceSettings", "ModifyGuestServiceSettings"]


def test_no_fallback_after_a_failed_job_the_first_method_started(host):
    host.failing_jobs["ModifyResourceSettings"] = (32768, "boom")
    result = integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, vms=["db01"]), False, False)
    assert result["failed"] is True and host.count("invoke", "ModifyGuestServiceSettings") == 0


def test_both_methods_refused_reports_the_last_refusal(host):
    host.refused["ModifyResourceSettings"] = 32773
    host.refused["ModifyGuestServiceSettings"] = 32775
    result = integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, vms=["db01"]), False, False)
    assert result["failed"] is True and "32775" in result["msg"] and result["changed"] is False


def test_a_failing_toggle_names_the_vm(host):
    host.failing_jobs["ModifyResourceSettings"] = (32768, "boom")
    result = integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, all_vms=True), False, False)
    assert result["failed"] is True and "VM 'db01'" in result["msg"] and "boom" in result["msg"]
    assert result["changed"] is False


@pytest.mark.parametrize("method, params", [
    ("AddKvpItems", dict(vms=["web01"], items={"New": "1"})),
    ("ModifyKvpItems", dict(vms=["web01"], items={"Keep": "2"})),
    ("RemoveKvpItems", dict(vms=["web01"], state="absent", names=["Keep"])),
])
def test_a_host_write_whose_answer_was_lost_but_that_was_applied_is_changed_with_a_warning(host, method, params):
    host.lost_answers[method] = True
    result = kvp_item_task(host, params_for(KVP_ITEM_SPEC, **params), False, True)
    assert "failed" not in result and result["changed"] is True and len(result["changes"]) == 1
    assert result["warnings"] == [f"VM 'web01' ({VM_WEB}): {method} of {result['changes'][0]['name']}: the answer was lost "
                                  "(connection to http://127.0.40.11:5985/wsman was reset before a complete answer); the state was "
                                  "read again and shows the change made, so it is reported as changed"]
    assert host.count("invoke", method) == 1, "never repeated"
    assert kvp_item_task(host, params_for(KVP_ITEM_SPEC, **params), False, True)["changed"] is False


def test_a_host_write_whose_answer_was_lost_and_that_is_not_visible_fails_saying_how_to_check(host):
    host.lost_answers["AddKvpItems"] = False
    result = kvp_item_task(host, params_for(KVP_ITEM_SPEC, vms=["web01", "db01"], items={"New": "1"}), False, True)
    assert result["failed"] is True and result["changed"] is False and result["changes"] == []
    assert result["msg"] == (f"{MACHINE}: Invoke Msvm_VirtualSystemManagementService.AddKvpItems: VM 'web01' ({VM_WEB}): AddKvpItems "
                             "of New: the answer was lost (connection to http://127.0.40.11:5985/wsman was reset before a complete "
                             "answer) and the state read again does not show the change; the write may have been applied all the "
                             f"same: check with hyperv.avma.kvp_info (vms: ['{VM_WEB}']), or run the task again (it reads the state "
                             "before it changes anything)")
    assert host.count("invoke", "AddKvpItems") == 1
    assert kvp_item_task(host, params_for(KVP_ITEM_SPEC, vms=["web01", "db01"], items={"New": "1"}), False, True)["changed"] is True


@pytest.mark.parametrize("applied", [True, False])
def test_a_guest_registry_write_whose_answer_was_lost_is_read_again(applied):
    guest = FakeHost()
    guest.lost_answers["SetStringValue"] = applied
    result = kvp_item_task(guest, params_for(KVP_ITEM_SPEC, scope="guest", items={"X": "1"}), False, True)
    assert result["changed"] is applied and result.get("failed", False) is not applied
    assert ("warnings" in result) is applied
    if not applied:
        assert "StdRegProv.SetStringValue of X: the answer was lost" in result["msg"] and "may have been applied" in result["msg"]
    assert guest.count("invoke", "SetStringValue") == 1


@pytest.mark.parametrize("applied", [True, False])
def test_a_data_exchange_switch_whose_answer_was_lost_is_read_again(host, applied):
    host.lost_answers["ModifyResourceSettings"] = applied
    result = integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, vms=["db01"]), False, True)
    assert result["changed"] is applied and result.get("failed", False) is not applied
    assert host.setting_of(VM_DB)["EnabledState"] == (2 if applied else 3)
    if applied:
        assert result["warnings"][0].startswith(f"VM 'db01' ({VM_DB}): switching Data Exchange enabled: the answer was lost")
    else:
        assert "may have been applied" in result["msg"] and "hyperv.avma.kvp_info" in result["msg"]
    assert host.count("invoke", "ModifyResourceSettings") == 1
    assert integration_service_task(host, params_for(INTEGRATION_SERVICE_SPEC, vms=["db01"]), False, True)["changed"] is not applied


# -- host_info ---------------------------------------------------------------------------------------------------------


def test_a_ready_host():
    model = FakeHost()
    model.add_vm("web01", VM_WEB)
    result = host_info_task(model, params_for(HOST_INFO_SPEC), False, False)
    assert result["ready"] is True and result["problems"] == []
    assert result["host"] == dict(name="HV01", os=dict(caption="Microsoft Windows Server 2022 Datacenter", version="10.0.20348", build=20348,
                                                       release="2022", sku=8, edition_id="ServerDatacenter"),
                                  is_datacenter=True, activated=True, license_status_name="Licensed", hyperv_installed=True)
    assert result["can_activate_releases"] == ["2022", "1909", "1903", "2019", "1803", "1709", "2016", "2012 R2"]
    assert result["vms"] == [dict(name="web01", id=VM_WEB, state="running", state_code=2, data_exchange_enabled=True,
                                  data_exchange_status="OK", data_exchange_status_code=2)]
    assert result["vms_with_data_exchange_off"] == []
    assert result["cluster"] is None
    assert len(model.calls) == 7


def test_problems_of_a_standard_unactivated_host_with_data_exchange_off():
    model = FakeHost(edition_sku=7, license_status=0)
    model.add_vm("web01", VM_WEB)
    model.add_vm("db01", VM_DB, data_exchange=False, status=(32896,))
    model.add_vm("lost", VM_OFF, status=(12,))
    model.add_vm("older", "D4E5F6A7-B8C9-4D0E-9F1A-2B3C4D5E6F70", status=(3,))
    result = host_info_task(model, params_for(HOST_INFO_SPEC), False, False)
    assert [(problem["code"], problem["vm"]) for problem in result["problems"]] == [
        ("host_not_datacenter", None), ("host_not_activated", None), ("data_exchange_off", "db01"), ("data_exchange_not_ok", "lost")]
    assert all(problem["message"] and problem["remedy"] for problem in result["problems"])
    assert result["ready"] is False and result["can_activate_releases"] == []
    assert result["vms_with_data_exchange_off"] == ["db01"]


def test_host_without_hyperv_is_not_asked_about_vms():
    model = FakeHost(hyperv=False)
    result = host_info_task(model, params_for(HOST_INFO_SPEC), False, False)
    assert [problem["code"] for problem in result["problems"]] == ["hyperv_missing"]
    assert result["vms"] == [] and len(model.calls) == 3


def test_hyperv_installed_but_not_answering():
    model = FakeHost()
    model.namespace_answers = False
    result = host_info_task(model, params_for(HOST_INFO_SPEC), False, False)
    assert [problem["code"] for problem in result["problems"]] == ["hyperv_unavailable"]


def test_readiness_of_an_off_vm_with_data_exchange_on_is_fine():
    host = dict(os=dict(release="2019", edition_id="ServerDatacenterCore"), activated=True, hyperv_installed=True)
    vms = [dict(name="off", state_code=3, data_exchange_enabled=True, data_exchange_status=None, data_exchange_status_code=None)]
    assert readiness_problems(host, vms, True) == []


def test_a_refused_registry_write_reports_what_was_written_before():
    guest = FakeHost()
    guest.refused["SetStringValue"] = 5
    result = kvp_item_task(guest, params_for(KVP_ITEM_SPEC, scope="guest", items={"A": "1"}), False, True)
    assert result["failed"] is True and result["changed"] is False and "SetStringValue" in result["msg"]


# -- failover clusters -------------------------------------------------------------------------------------------------


def clustered_host():
    model = FakeHost()
    model.add_vm("web01", VM_WEB)
    model.cluster_nodes = [dict(Name="HV01", State=0), dict(Name="HV02", State=0), dict(Name="HV03", State=1)]
    other = FakeHost(license_status=5)
    other.os["CSName"] = "HV02"
    model.siblings["10.0.0.2"] = other
    return model


def test_host_info_checks_every_cluster_node():
    model = clustered_host()
    result = host_info_task(model, params_for(HOST_INFO_SPEC, cluster_node_addresses={"hv02": "10.0.0.2"}), False, False)
    nodes = {node["name"]: node for node in result["cluster"]["nodes"]}
    assert (nodes["HV01"]["checked"], nodes["HV01"]["activated"]) == (True, True)
    assert (nodes["HV02"]["checked"], nodes["HV02"]["activated"], nodes["HV02"]["release"]) == (True, False, "2022")
    assert (nodes["HV03"]["checked"], nodes["HV03"]["state"]) == (False, "down") and "connection refused" in nodes["HV03"]["error"]
    assert [(problem["code"], problem["vm"]) for problem in result["problems"]] == [
        ("cluster_node_not_activated", None), ("cluster_node_unchecked", None)]
    assert "HV02" in result["problems"][0]["message"] and result["ready"] is False
    assert ("sibling", "HV03") in model.calls  # no address given: the node's name


def test_host_info_can_leave_the_cluster_alone():
    model = clustered_host()
    result = host_info_task(model, params_for(HOST_INFO_SPEC, check_cluster_nodes=False), False, False)
    assert result["cluster"] is None and result["ready"] is True
    assert not any(call[0] == "sibling" for call in model.calls)


def test_a_vm_owned_by_another_node_is_not_missing():
    model = clustered_host()
    model.cluster_resources = [dict(Name="Virtual Machine web01", Type="Virtual Machine", OwnerGroup="web01", OwnerNode="HV01"),
                               dict(Name="Virtual Machine db02", Type="Virtual Machine", OwnerGroup="db02", OwnerNode="HV02")]
    result = kvp_info_task(model, params_for(KVP_INFO_SPEC, vms=["web01", "DB02", "nowhere"]), False, False)
    assert [vm["name"] for vm in result["vms"]] == ["web01"]
    assert result["owned_elsewhere"] == [dict(vm="DB02", owner_node="HV02", vm_id=None)]
    assert result["missing_vms"] == ["nowhere"]
    assert any("DB02 (HV02)" in warning for warning in result["warnings"])


def test_outside_a_cluster_missing_vms_stay_missing():
    model = FakeHost()
    model.add_vm("web01", VM_WEB)
    result = kvp_info_task(model, params_for(KVP_INFO_SPEC, vms=["db02"]), False, False)
    assert result["missing_vms"] == ["db02"] and result["owned_elsewhere"] == []


@pytest.mark.parametrize("value, expected", [
    (None, ("HV02", None)), ("10.0.0.2", ("10.0.0.2", None)), ("hv02.corp:5986", ("hv02.corp", 5986)),
    ("[fd00::2]:5985", ("fd00::2", 5985)), ("fd00::2", ("fd00::2", None)),
])
def test_node_endpoints(value, expected):
    assert node_endpoint({"hv02": value} if value else {}, "HV02") == expected


def test_a_change_of_a_vm_another_node_runs_names_that_node():
    model = clustered_host()
    model.cluster_resources = [dict(Name="Virtual Machine db02", Type="Virtual Machine", OwnerGroup="db02", OwnerNode="HV02")]
    with pytest.raises(AvmaValueError, match=r"another node of the failover cluster.*db02 \(HV02\)"):
        kvp_item_task(model, params_for(KVP_ITEM_SPEC, vms=["db02"], items={"a": "1"}), False, False)
    with pytest.raises(AvmaValueError, match="no VM of this host is named or has the ID: ghost"):
        integration_service_task(model, params_for(INTEGRATION_SERVICE_SPEC, vms=["ghost"]), False, False)


VM_DB = "5B1D0A6E-33C4-4D8F-9A2B-7E6F5D4C3B2A"
ACCESS_DENIED = {
    "wmi": WsmanFaultError(code=0x80041003, wmi_code=0x80041003, fault_subcode="w:AccessDenied", reason="Access denied"),
    "wsman": WsmanFaultError(code=5, wmi_code=None, fault_subcode="w:AccessDenied", reason="Access is denied."),
}


@pytest.mark.parametrize("form", sorted(ACCESS_DENIED))
def test_a_cluster_that_refuses_access_is_not_checked_and_claims_nothing(form):
    model = clustered_host()
    model.cluster_refusal = ACCESS_DENIED[form]
    result = host_info_task(model, params_for(HOST_INFO_SPEC, cluster_node_addresses={"hv02": "10.0.0.2"}), False, False)
    assert result["cluster"]["checked"] is False and result["cluster"]["nodes"] == []
    assert "MSCluster_Node could not be read" in result["cluster"]["error"] and "Access" in result["cluster"]["error"]
    assert [problem["code"] for problem in result["problems"]] == ["cluster_not_checked"] and result["ready"] is False
    assert "Grant-ClusterAccess" in result["problems"][0]["remedy"]
    assert len(result["warnings"]) == 1 and "not checked" in result["warnings"][0]
    assert not any(call[0] == "sibling" for call in model.calls)


def test_a_cluster_that_refuses_access_leaves_missing_vms_missing_with_a_warning():
    model = clustered_host()
    model.cluster_refusal = ACCESS_DENIED["wmi"]
    result = kvp_info_task(model, params_for(KVP_INFO_SPEC, vms=["web01", "db02"]), False, False)
    assert [vm["name"] for vm in result["vms"]] == ["web01"] and result["missing_vms"] == ["db02"]
    assert result["owned_elsewhere"] == [] and isinstance(result["owned_elsewhere"], list)
    assert any("whether another node of the failover cluster runs db02 could not be checked" in warning for warning in result["warnings"])
    with pytest.raises(AvmaValueError, match=r"no VM of this host is named or has the ID: db02 \(whether another node .* could not be checked"):
        kvp_item_task(model, params_for(KVP_ITEM_SPEC, vms=["db02"], items={"a": "1"}), False, False)


def test_a_cluster_that_does_not_answer_at_all_still_fails_the_task():
    model = clustered_host()
    model.cluster_refusal = WinrmTransportError("connection reset", kind="reset", machine="hv01", operation="Enumerate MSCluster_Node")
    with pytest.raises(WinrmTransportError):
        host_info_task(model, params_for(HOST_INFO_SPEC), False, False)


@pytest.mark.parametrize("private", [
    EmbeddedInstance("MSCluster_Property", {"VmID": VM_DB.lower()}),
    EmbeddedInstance("MSCluster_Property", {"VmId": "{%s}" % VM_DB}),
])
def test_a_renamed_vm_resource_is_found_by_the_vm_id_in_its_private_properties(private):
    model = clustered_host()
    model.cluster_resources = [dict(Name="Virtual Machine SQL role", Type="Virtual Machine", OwnerGroup="SQL role", OwnerNode="HV02",
                                    PrivateProperties=private)]
    result = kvp_info_task(model, params_for(KVP_INFO_SPEC, vms=[VM_DB.lower(), "db02"]), False, False)
    assert result["owned_elsewhere"] == [dict(vm=VM_DB.lower(), owner_node="HV02", vm_id=VM_DB)]
    assert result["missing_vms"] == ["db02"], "a name the resource and its role do not carry is not guessed"
    by_role = kvp_info_task(model, params_for(KVP_INFO_SPEC, vms=["sql ROLE"]), False, False)
    assert by_role["owned_elsewhere"] == [dict(vm="sql ROLE", owner_node="HV02", vm_id=VM_DB)]


def test_an_undecodable_private_properties_only_loses_that_vm_id():
    model = clustered_host()
    model.cluster_resources = [dict(Name="Virtual Machine db02", Type="Virtual Machine", OwnerGroup="db02", OwnerNode="HV02",
                                    PrivateProperties=UndecodableValue(reason="not XML", size=9))]
    result = kvp_info_task(model, params_for(KVP_INFO_SPEC, vms=["db02", VM_DB]), False, False)
    assert result["owned_elsewhere"] == [dict(vm="db02", owner_node="HV02", vm_id=None)] and result["missing_vms"] == [VM_DB]
