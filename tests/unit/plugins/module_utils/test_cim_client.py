# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CimClient over a fake transport: typed query/get, invoke with ReturnValue and Job handling, and job polling."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._cim import (
    MSVM_CONCRETE_JOB,
    CimClass,
    CimClient,
    CimProperty,
    CimReference,
    EmbeddedInstance,
    MethodResult,
    parse_embedded_instance,
    wql_string,
)
from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaValueError,
    CimJobFailedError,
    CimJobTimeoutError,
    CimMethodError,
    WsmanProtocolError,
)
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import NAMESPACES, Action

UTC = timezone.utc
V2 = "root/virtualization/v2"
MACHINE = "g2022dc (127.0.10.11:5985)"
JOB_ID = "5D8B2E7C-3F4A-4B6D-9E1F-2A3B4C5D6E7F"
JOB_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob"

OPERATING_SYSTEM = CimClass("root/cimv2", "Win32_OperatingSystem", (
    CimProperty("Caption", "string"),
    CimProperty("BuildNumber", "string"),
    CimProperty("OperatingSystemSKU", "uint32"),
    CimProperty("MUILanguages", "string", array=True),
))

PRODUCT = CimClass("root/cimv2", "SoftwareLicensingProduct", (
    CimProperty("ID", "string"),
    CimProperty("ApplicationID", "string"),
    CimProperty("Description", "string"),
    CimProperty("PartialProductKey", "string"),
    CimProperty("ProductKeyChannel", "string"),
    CimProperty("LicenseIsAddon", "boolean"),
    CimProperty("LicenseStatus", "uint32"),
    CimProperty("LicenseStatusReason", "uint32"),
    CimProperty("AutomaticVMActivationHostMachineName", "string"),
    CimProperty("AutomaticVMActivationLastActivationTime", "datetime"),
), keys=("ID",))

SERVICE = CimClass("root/cimv2", "SoftwareLicensingService", (CimProperty("Version", "string"),), keys=("Version",))
VSMS = CimClass(V2, "Msvm_VirtualSystemManagementService", (CimProperty("Name", "string"),),
                keys=("CreationClassName", "Name", "SystemCreationClassName", "SystemName"))
VSMS_SELECTORS = {"CreationClassName": "Msvm_VirtualSystemManagementService", "Name": "vmms",
                  "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": "HV01"}
VM = CimReference("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem",
                  {"CreationClassName": "Msvm_ComputerSystem", "Name": "B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E"})


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def cim_client(make_client, sleeps):
    """``cim_client(*answers) -> (CimClient, transport, clock)``; the injected sleep advances the fake clock."""

    def factory(*answers, **overrides):
        wsman, transport = make_client(*answers, **overrides)
        clock = FakeClock()

        def sleep(seconds):
            sleeps.append(seconds)
            clock.now += seconds

        return CimClient(wsman, clock=clock, sleep=sleep), transport, clock

    return factory


# -- query and get ----------------------------------------------------------------------------------------------------

def test_reading_os_and_licensing_costs_two_requests(cim_client, wire):
    client, transport, _clock = cim_client(wire("enumerate_win32_operatingsystem_response_synthetic.xml"),
                                           wire("enumerate_softwarelicensingproduct_response_synthetic.xml"))
    operating_systems = client.query(OPERATING_SYSTEM)
    products = client.query(PRODUCT, "ApplicationID = " + wql_string("55c92734-d682-4d71-983e-d6ec3f16059f"))
    assert client.request_count == 2 and len(transport.requests) == 2
    assert operating_systems[0]["OperatingSystemSKU"] == 8 and operating_systems[0]["MUILanguages"] == ["en-US"]
    assert len(products) == 2


def test_query_sends_the_schema_select_list_to_the_namespace_wildcard(cim_client, wire):
    client, transport, _clock = cim_client(wire("enumerate_softwarelicensingproduct_response_synthetic.xml"))
    client.query(PRODUCT, "PartialProductKey IS NOT NULL")
    request = transport.requests[0]
    assert request.action == Action.ENUMERATE
    assert request.resource_uri == "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*"
    assert request.body_text("n:Enumerate/w:Filter") == (
        "SELECT ID,ApplicationID,Description,PartialProductKey,ProductKeyChannel,LicenseIsAddon,LicenseStatus,LicenseStatusReason,"
        "AutomaticVMActivationHostMachineName,AutomaticVMActivationLastActivationTime FROM SoftwareLicensingProduct "
        "WHERE PartialProductKey IS NOT NULL")


def test_query_results_are_typed(cim_client, wire):
    client, _transport, _clock = cim_client(wire("enumerate_softwarelicensingproduct_response_synthetic.xml"))
    avma, kms = client.query(PRODUCT)
    assert avma == {
        "ID": "b99e5d5a-6a0d-4dd2-8e54-e3d1c4a3f2b1",
        "ApplicationID": "55c92734-d682-4d71-983e-d6ec3f16059f",
        "Description": "Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel",
        "PartialProductKey": "DV9BG",
        "ProductKeyChannel": "Volume:AVMA",
        "LicenseIsAddon": False,
        "LicenseStatus": 1,
        "LicenseStatusReason": 0,
        "AutomaticVMActivationHostMachineName": "hv01.corp.example",
        "AutomaticVMActivationLastActivationTime": datetime(2026, 1, 5, 8, 20, tzinfo=UTC),
        # not in the schema, kept raw
        "GracePeriodRemaining": "0",
        "Name": "Windows(R), ServerDatacenter edition",
        "UnknownFutureProperty": "kept raw",
    }
    assert kms["PartialProductKey"] is None and kms["AutomaticVMActivationHostMachineName"] is None
    assert kms["AutomaticVMActivationLastActivationTime"] == datetime(1601, 1, 1, tzinfo=UTC)  # "never", still a datetime
    assert kms["LicenseStatusReason"] == 0xC004F014


def test_query_accepts_xml_fragment_items(cim_client, wire):
    client, _transport, _clock = cim_client(wire("enumerate_softwarelicensingproduct_xmlfragment_response_synthetic.xml"))
    [product] = client.query(PRODUCT, properties=["ID", "LicenseIsAddon", "LicenseStatus", "AutomaticVMActivationLastActivationTime",
                                                  "PartialProductKey", "ProductKeyChannel"])
    assert product["ID"] == "b99e5d5a-6a0d-4dd2-8e54-e3d1c4a3f2b1" and product["LicenseIsAddon"] is False
    assert product["LicenseStatus"] == 1 and product["ProductKeyChannel"] is None
    assert product["AutomaticVMActivationLastActivationTime"] == datetime(1601, 1, 1, tzinfo=UTC)  # DMTF text form


def test_query_star_limit_and_property_checks(cim_client, wire):
    client, transport, _clock = cim_client(wire("enumerate_softwarelicensingproduct_response_synthetic.xml"))
    assert len(client.query(PRODUCT, properties="*", limit=1)) == 1
    assert transport.requests[0].body_text("n:Enumerate/w:Filter") == "SELECT * FROM SoftwareLicensingProduct"
    assert transport.requests[0].body_text("n:Enumerate/w:MaxElements") == "1"
    with pytest.raises(AvmaValueError, match="invalid property name") as caught:
        client.query(PRODUCT, properties=["ID; DROP"])
    assert str(caught.value).startswith(f"{MACHINE}: Enumerate SoftwareLicensingProduct: ")
    assert len(transport.requests) == 1


def test_query_of_a_class_without_schema_properties_selects_star(cim_client, wire):
    client, transport, _clock = cim_client(wire("enumerate_win32_operatingsystem_response_synthetic.xml"))
    [row] = client.query(CimClass("root/cimv2", "Win32_OperatingSystem"))
    assert transport.requests[0].body_text("n:Enumerate/w:Filter") == "SELECT * FROM Win32_OperatingSystem"
    assert row["OperatingSystemSKU"] == "8"


def test_decode_errors_name_machine_and_operation(cim_client, wire):
    broken = wire("enumerate_win32_operatingsystem_response_synthetic.xml").replace(
        b"<p:OperatingSystemSKU>8<", b"<p:OperatingSystemSKU>eight<")
    client, _transport, _clock = cim_client(broken)
    with pytest.raises(WsmanProtocolError) as caught:
        client.query(OPERATING_SYSTEM)
    assert str(caught.value).startswith(f"{MACHINE}: Enumerate Win32_OperatingSystem: property OperatingSystemSKU (uint32): ")


def test_get(cim_client, wire):
    client, transport, _clock = cim_client(wire("get_msvm_concretejob_running_synthetic.xml"))
    job = client.get(MSVM_CONCRETE_JOB, {"InstanceID": JOB_ID})
    assert job["JobState"] == 4 and job["PercentComplete"] == 40 and job["ErrorDescription"] is None
    assert job["TimeSubmitted"] == "2026-01-05T08:30:00.123456Z"  # outside the schema: raw text
    assert transport.requests[0].resource_uri == JOB_URI and transport.requests[0].selectors == {"InstanceID": JOB_ID}


# -- invoke -----------------------------------------------------------------------------------------------------------

def test_invoke_success(cim_client, wire):
    client, transport, _clock = cim_client(wire("invoke_installproductkey_ok_synthetic.xml"))
    result = client.invoke(SERVICE, "InstallProductKey", {"ProductKey": "W3GNR-8DDXR-2TFRP-H8P33-DV9BG"}, selectors={"Version": "10.0.20348.1"})
    assert result == MethodResult(0, {}, None)
    request = transport.requests[0]
    assert request.action == "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/SoftwareLicensingService/InstallProductKey"
    assert request.selectors == {"Version": "10.0.20348.1"}
    uri = SERVICE.resource_uri
    assert request.body_text(f"{{{uri}}}InstallProductKey_INPUT/{{{uri}}}ProductKey") == "W3GNR-8DDXR-2TFRP-H8P33-DV9BG"


@pytest.mark.parametrize("sample", ["invoke_removekvpitems_job_direct_synthetic.xml", "invoke_removekvpitems_job_wrapped_synthetic.xml"])
def test_invoke_job_started_in_both_reference_shapes(cim_client, wire, sample):
    client, transport, _clock = cim_client(wire(sample))
    item = EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Data": "", "Name": "hyperv.avma.owner", "Source": 0}, {"Source": "uint16"})
    result = client.invoke(VSMS, "RemoveKvpItems", {"TargetSystem": VM, "DataItems": [item]}, selectors=VSMS_SELECTORS)
    assert result.return_value == 4096
    assert result.job == CimReference(JOB_URI, {"InstanceID": JOB_ID, "__cimnamespace": V2})
    assert result.outputs["Job"] is result.job
    request = transport.requests[0]
    assert request.selectors == VSMS_SELECTORS
    data_items = request.body.findall(f"{{{VSMS.resource_uri}}}RemoveKvpItems_INPUT/{{{VSMS.resource_uri}}}DataItems")
    assert len(data_items) == 1 and parse_embedded_instance(data_items[0].text).get("Name") == "hyperv.avma.owner"
    target = request.body.find(f"{{{VSMS.resource_uri}}}RemoveKvpItems_INPUT/{{{VSMS.resource_uri}}}TargetSystem")
    assert target.find("a:ReferenceParameters/w:ResourceURI", NAMESPACES).text == VM.resource_uri


def test_invoke_job_reference_of_another_wsman_server(cim_client, wire):
    """The Dell iDRAC sample: Job wrapped in wsa:EndpointReference, ReturnValue after it."""
    dell = CimClass("root/dcim", "DCIM_BIOSService")
    client, _transport, _clock = cim_client(wire("invoke_response_job_ref_4096_dell_idrac_dracclient.xml"))
    result = client.invoke(dell, "CreateTargetedConfigJob", {"Target": "BIOS.Setup.1-1"})
    assert result.job.selector("InstanceID") == "JID_442507917525"
    assert result.job.resource_uri == "http://schemas.dell.com/wbem/wscim/1/cim-schema/2/DCIM_LifecycleJob"


def test_invoke_failure_codes(cim_client, wire):
    client, _transport, _clock = cim_client(wire("invoke_removekvpitems_invalid_state_synthetic.xml"))
    with pytest.raises(CimMethodError) as caught:
        client.invoke(VSMS, "RemoveKvpItems", {"TargetSystem": VM, "DataItems": []}, selectors=VSMS_SELECTORS)
    error = caught.value
    assert (error.method, error.return_value, error.meaning) == ("Msvm_VirtualSystemManagementService.RemoveKvpItems", 32775,
                                                                 "invalid state for this operation")
    assert str(error) == (f"{MACHINE}: Invoke Msvm_VirtualSystemManagementService.RemoveKvpItems: "
                          "Msvm_VirtualSystemManagementService.RemoveKvpItems returned 32775 (invalid state for this operation)")


def test_invoke_failure_with_out_parameters_and_success_codes(cim_client, wire):
    dell = CimClass("root/dcim", "DCIM_BIOSService")
    client, _transport, _clock = cim_client(wire("invoke_response_error_returnvalue2_dell_idrac_dracclient.xml"),
                                            wire("invoke_response_error_returnvalue2_dell_idrac_dracclient.xml"))
    with pytest.raises(CimMethodError, match=r"returned 2 \(not found\)"):
        client.invoke(dell, "CreateTargetedConfigJob")
    result = client.invoke(dell, "CreateTargetedConfigJob", success_codes=(0, 2))
    assert result.return_value == 2 and result.job is None and result.outputs["MessageID"] == "BIOS007"


@pytest.mark.parametrize("return_value_element, message", [
    (b"", "has no integer ReturnValue"),
    (b"<p:ReturnValue>4096</p:ReturnValue>", "returned 4096 .job started. without a Job reference"),
])
def test_invoke_protocol_problems(cim_client, wire, return_value_element, message):
    body = wire("invoke_installproductkey_ok_synthetic.xml").replace(b"<p:ReturnValue>0</p:ReturnValue>", return_value_element)
    client, _transport, _clock = cim_client(body)
    with pytest.raises(WsmanProtocolError, match=message) as caught:
        client.invoke(SERVICE, "InstallProductKey", {"ProductKey": "x"})
    assert caught.value.operation == "Invoke SoftwareLicensingService.InstallProductKey"


def test_hresult_return_values_are_shown_in_hex(cim_client, wire):
    body = wire("invoke_installproductkey_ok_synthetic.xml").replace(b">0</p:ReturnValue>", b">3221549136</p:ReturnValue>")
    client, _transport, _clock = cim_client(body)
    with pytest.raises(CimMethodError, match=r"returned 3221549136 \(HRESULT 0xC004F050\)"):
        client.invoke(SERVICE, "InstallProductKey", {"ProductKey": "x"})


def test_invoke_input_errors_come_before_any_request(cim_client):
    client, transport, _clock = cim_client()
    with pytest.raises(AvmaValueError, match="cannot send a set") as caught:
        client.invoke(SERVICE, "InstallProductKey", {"ProductKey": {"x"}})
    assert str(caught.value).startswith(f"{MACHINE}: Invoke SoftwareLicensingService.InstallProductKey: ")
    with pytest.raises(AvmaValueError, match="XML cannot carry"):
        client.invoke(SERVICE, "InstallProductKey", {"ProductKey": "bad\x00key"})
    assert not transport.requests


# -- job polling ------------------------------------------------------------------------------------------------------

JOB = CimReference(JOB_URI, {"InstanceID": JOB_ID, "__cimnamespace": V2})


def test_wait_for_job_until_completed(cim_client, wire, sleeps):
    running = wire("get_msvm_concretejob_running_synthetic.xml")
    client, transport, _clock = cim_client(running, running, running, wire("get_msvm_concretejob_completed_synthetic.xml"))
    final = client.wait_for_job(JOB, timeout=60, poll_interval=1.0)
    assert final["JobState"] == 7 and final["PercentComplete"] == 100
    assert [request.selectors for request in transport.requests] == [{"InstanceID": JOB_ID}] * 4
    assert {request.resource_uri for request in transport.requests} == {JOB_URI}
    # capped exponential backoff with up to 25 % jitter
    assert len(sleeps) == 3
    for delay, base in zip(sleeps, [1.0, 2.0, 4.0]):
        assert base <= delay <= base * 1.25


def test_wait_for_job_says_what_it_waits_for_before_each_wait(cim_client, wire, sleeps):
    running = wire("get_msvm_concretejob_running_synthetic.xml")
    client, _transport, _clock = cim_client(running, running, wire("get_msvm_concretejob_completed_synthetic.xml"))
    shown = []
    client._wsman.progress = shown.append
    client.wait_for_job(JOB, timeout=300, poll_interval=1.0)
    assert len(shown) == 2 == len(sleeps)
    assert shown[0] == f"waiting for the job {JOB_ID} (Removing KVP Items): 4 (running), 40 % done; 0 s of at most 300 s"
    assert shown[1].endswith(f"; {sleeps[0]:.0f} s of at most 300 s")


def test_wait_for_job_progress_bounds_the_hosts_text(cim_client, wire):
    running = wire("get_msvm_concretejob_running_synthetic.xml").replace(
        b"<p:ElementName>Removing KVP Items</p:ElementName>", b"<p:ElementName>" + b"x" * 500 + b"\ny</p:ElementName>")
    running = running.replace(b"<p:PercentComplete>40</p:PercentComplete>", b"<p:PercentComplete>4000</p:PercentComplete>")
    client, _transport, _clock = cim_client(running, wire("get_msvm_concretejob_completed_synthetic.xml"))
    shown = []
    client._wsman.progress = shown.append
    client.wait_for_job(JOB, timeout=60, poll_interval=1.0)
    assert shown == [f"waiting for the job {JOB_ID} ({'x' * 80}): 4 (running); 0 s of at most 60 s"]


def test_wait_for_job_backoff_is_capped(cim_client, wire, sleeps):
    running = wire("get_msvm_concretejob_running_synthetic.xml")
    client, _transport, _clock = cim_client(*[running] * 7, wire("get_msvm_concretejob_completed_synthetic.xml"))
    client.wait_for_job(JOB, timeout=600, poll_interval=1.0)
    assert max(sleeps) <= 12.5 and min(sleeps[4:]) >= 10.0


def test_wait_for_job_failure(cim_client, wire):
    client, _transport, _clock = cim_client(wire("get_msvm_concretejob_running_synthetic.xml"),
                                            wire("get_msvm_concretejob_exception_synthetic.xml"))
    with pytest.raises(CimJobFailedError) as caught:
        client.wait_for_job(JOB, timeout=60)
    error = caught.value
    assert (error.job_id, error.job_state, error.error_code) == (JOB_ID, 10, 32768)
    assert error.error_description == 'The operation failed: the KVP item "AvmaTest" does not exist.'
    assert str(error) == (f"{MACHINE}: Wait for Msvm_ConcreteJob: job {JOB_ID} ended in state 10 (exception); "
                          'error 32768: The operation failed: the KVP item "AvmaTest" does not exist.')


def test_wait_for_job_timeout(cim_client, wire, sleeps):
    running = wire("get_msvm_concretejob_running_synthetic.xml")
    client, transport, clock = cim_client(*[running] * 10)
    start = clock.now
    with pytest.raises(CimJobTimeoutError) as caught:
        client.wait_for_job(JOB, timeout=5, poll_interval=1.0)
    assert (caught.value.job_id, caught.value.last_state, caught.value.timeout_sec) == (JOB_ID, 4, 5)
    assert "did not finish within 5s; last state 4 (running)" in str(caught.value)
    assert clock.now - start == pytest.approx(5.0)  # the last sleep is cut to the deadline
    assert len(transport.requests) == len(sleeps) + 1


def test_wait_for_job_with_zero_timeout_checks_once(cim_client, wire, sleeps):
    client, transport, _clock = cim_client(wire("get_msvm_concretejob_running_synthetic.xml"))
    with pytest.raises(CimJobTimeoutError):
        client.wait_for_job(JOB, timeout=0)
    assert len(transport.requests) == 1 and not sleeps


@pytest.mark.parametrize("job, kwargs, message", [
    (CimReference(JOB_URI, {"Name": "x"}), {"timeout": 5}, "no InstanceID selector"),
    (JOB, {"timeout": -1}, "must not be negative"),
    (JOB, {"timeout": 5, "poll_interval": 0}, "must be positive"),
])
def test_wait_for_job_argument_checks(cim_client, job, kwargs, message):
    client, transport, _clock = cim_client()
    with pytest.raises(AvmaValueError, match=message):
        client.wait_for_job(job, **kwargs)
    assert not transport.requests


def test_job_without_state_is_a_protocol_error(cim_client, wire):
    body = wire("get_msvm_concretejob_running_synthetic.xml").replace(b"<p:JobState>4</p:JobState>", b"")
    client, _transport, _clock = cim_client(body)
    with pytest.raises(WsmanProtocolError, match="has no JobState"):
        client.wait_for_job(JOB, timeout=5)


def test_close_closes_the_wsman_client(make_client, monkeypatch):
    wsman, _transport = make_client()
    closed = []
    monkeypatch.setattr(wsman, "close", lambda: closed.append(True))
    CimClient(wsman).close()
    assert closed == [True]
