# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AddKvpItems, ModifyKvpItems, RemoveKvpItems and the Data Exchange switch, as a client calls them."""

import pytest

from hvlab import hyperv

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    NS, data_item, fleet_document, get_instance, guest_values, invoke_service, item_map, job_id, kvp_call, return_value,
    service_for, settings_text, vm_components, vm_reference, wait_job)
from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import find

WEB = hyperv.guest_vm_id("kvpweb")
OFF = hyperv.guest_vm_id("kvpoff")


def host_items(service, host, vm_id):
    _reply, settings = get_instance(service, host, "Msvm_KvpExchangeComponentSettingData",
                                    {"InstanceID": hyperv.kvp_settings_id(vm_id)})
    return item_map(settings["HostExchangeItems"])


def run(service, host, method, vm_id, items):
    """Call, then poll the job to its end: ``(ReturnValue, job properties or None)``."""
    reply, _root, outs = kvp_call(service, host, method, vm_id, items)
    assert reply.status == 200
    code = return_value(outs)
    if code != 4096:
        return code, None
    job, _reads = wait_job(service, host, job_id(outs))
    return code, job


def test_add_modify_remove_reach_the_host_settings_and_the_guest_external_key():
    service = service_for("kvp_host")
    code, job = run(service, "hv1", "AddKvpItems", WEB, [("hyperv.avma.tier", "gold"), ("Note", "<b>&amp;</b>")])
    assert (code, job["JobState"], job["ErrorCode"]) == (4096, "7", "0")
    assert host_items(service, "hv1", WEB)["hyperv.avma.tier"] == ("gold", 0)
    assert guest_values(service, "kvpweb", "External")["Note"] == "<b>&amp;</b>"
    assert run(service, "hv1", "ModifyKvpItems", WEB, [("hyperv.avma.tier", "silver")])[1]["JobState"] == "7"
    assert guest_values(service, "kvpweb", "External")["hyperv.avma.tier"] == "silver"
    assert run(service, "hv1", "RemoveKvpItems", WEB, [("hyperv.avma.tier", ""), ("note", "")])[1]["JobState"] == "7"
    assert set(host_items(service, "hv1", WEB)) == {"hyperv.avma.owner", "LegacyActivationNote"}
    assert set(guest_values(service, "kvpweb", "External")) == {"hyperv.avma.owner", "LegacyActivationNote"}


def test_adding_an_existing_name_is_an_invalid_parameter_at_once():
    service = service_for("kvp_host")
    before = host_items(service, "hv1", WEB)
    assert run(service, "hv1", "AddKvpItems", WEB, [("HYPERV.avma.owner", "x")]) == (32773, None)
    assert host_items(service, "hv1", WEB) == before


@pytest.mark.parametrize("method, items, text", [
    ("ModifyKvpItems", [("Missing", "x")], "'Missing' does not exist on virtual machine 'web01'"),
    ("RemoveKvpItems", [("LegacyActivationNote", ""), ("Missing", "")], "'Missing' does not exist on virtual machine 'web01'"),
    ("AddKvpItems", [("hyperv.avma.owner", "x")], "'hyperv.avma.owner' already exists on virtual machine 'web01'"),
])
def test_a_conflicting_item_fails_the_job_and_changes_nothing(method, items, text):
    service = service_for(kvp_host_document(hyperv={"add_existing": "job_failure"}))
    before = host_items(service, "hv1", WEB)
    code, job = run(service, "hv1", method, WEB, items)
    assert (code, job["JobState"], job["ErrorCode"]) == (4096, "10", "32768")
    assert text in job["ErrorDescription"]
    assert host_items(service, "hv1", WEB) == before


def test_the_job_runs_for_the_configured_reads_then_completes():
    service = service_for("kvp_host")
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    job, reads = wait_job(service, "hv1", job_id(outs))
    assert (reads, job["JobState"], job["PercentComplete"]) == (2, "7", "100")


def test_the_job_reference_has_direct_children_by_default_and_can_be_wrapped():
    service = service_for("kvp_host")
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    job = outs["Job"][0]
    assert [child.tag for child in job] == ["{%s}Address" % NS["a"], "{%s}ReferenceParameters" % NS["a"]]
    uri = find(job, "a:ReferenceParameters/w:ResourceURI").text
    assert uri == "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob"
    document = kvp_host_document(wire={"job_reference": "wrapped"})
    service = service_for(document)
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    assert [child.tag for child in outs["Job"][0]] == ["{%s}EndpointReference" % NS["a"]]
    assert wait_job(service, "hv1", job_id(outs))[0]["JobState"] == "7"


def kvp_host_document(**host_fields):
    document = fleet_document("kvp_host")
    document["machines"]["hv1"].update(host_fields)
    return document


def test_a_wrapped_target_reference_is_accepted():
    service = service_for("kvp_host")
    params = "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (
        vm_reference(WEB, wrapped=True), data_item("wrapped", "yes"))
    _reply, _root, outs = invoke_service(service, "hv1", "AddKvpItems", params)
    assert return_value(outs) == 4096 and host_items(service, "hv1", WEB)["wrapped"] == ("yes", 0)


@pytest.mark.parametrize("params", [
    "<p:TargetSystem>%s</p:TargetSystem>" % vm_reference(WEB),                                            # no items
    "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>not xml</p:DataItems>" % vm_reference(WEB),
    "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (
        vm_reference("00000000-0000-0000-0000-000000000000"), data_item("a", "b")),
    "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (
        vm_reference(WEB), data_item("a", "b", source=1)),             # not Source 0
    "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (
        vm_reference(WEB), data_item("a", "x" * 1025)),                # too long
    "<p:TargetSystem>%s</p:TargetSystem>" % vm_reference(WEB) + "".join(
        "<p:DataItems>%s</p:DataItems>" % data_item("n%d" % n, "v") for n in range(129)),
    "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (
        vm_reference(WEB), "&lt;INSTANCE CLASSNAME=\"Msvm_Other\"&gt;&lt;PROPERTY NAME=\"Name\" TYPE=\"string\"&gt;"
        "&lt;VALUE&gt;a&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;/INSTANCE&gt;"),
])
def test_invalid_parameters_return_32773_and_start_nothing(params):
    service = service_for("kvp_host")
    reply, _root, outs = invoke_service(service, "hv1", "AddKvpItems", params)
    assert reply.status == 200 and return_value(outs) == 32773
    assert outs["Job"][0].get("{%s}nil" % NS["xsi"]) == "true"
    assert not reply.wrote


def test_nested_data_items_are_not_read_as_instances():
    """An embedded instance must come as text (escaped or CDATA); element content is refused."""
    service = service_for("kvp_host")
    nested = ('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string"><VALUE>n</VALUE>'
              '</PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>0</VALUE></PROPERTY></INSTANCE>')
    params = "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (vm_reference(WEB), nested)
    assert return_value(invoke_service(service, "hv1", "AddKvpItems", params)[2]) == 32773
    cdata = "<p:TargetSystem>%s</p:TargetSystem><p:DataItems><![CDATA[%s]]></p:DataItems>" % (vm_reference(WEB), nested)
    assert return_value(invoke_service(service, "hv1", "AddKvpItems", cdata)[2]) == 4096
    assert host_items(service, "hv1", WEB)["n"] == ("", 0)


def test_a_stopped_vm_keeps_host_items_for_later():
    service = service_for("kvp_host")
    code, job = run(service, "hv1", "AddKvpItems", OFF, [("later", "yes")])
    assert (code, job["JobState"]) == (4096, "7")
    assert host_items(service, "hv1", OFF)["later"] == ("yes", 0)
    assert "later" not in guest_values(service, "kvpoff", "External")


def test_sync_hosts_return_zero_and_no_job():
    service = service_for(kvp_host_document(hyperv={"jobs": "sync"}))
    reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("sync", "1")])
    assert return_value(outs) == 0 and outs["Job"][0].get("{%s}nil" % NS["xsi"]) == "true" and reply.wrote
    _reply, _root, outs = kvp_call(service, "hv1", "ModifyKvpItems", WEB, [("missing", "1")])
    assert return_value(outs) == 32768


@pytest.mark.parametrize("method, parameter, result", [
    ("ModifyResourceSettings", "ResourceSettings", "ResultingResourceSettings"),
    ("ModifyGuestServiceSettings", "GuestServiceSettings", "ResultingGuestServiceSettings"),
])
def test_data_exchange_is_switched_by_either_settings_method(method, parameter, result):
    document = fleet_document("host_setup")
    document["machines"]["hvready"].setdefault("hyperv", {})["data_exchange_switch"] = "both"
    service = service_for(document)
    vm_id = hyperv.guest_vm_id("dxoff")
    params = "<p:%s>%s</p:%s>" % (parameter, settings_text(vm_id, 2), parameter)
    reply, _root, outs = invoke_service(service, "hvready", method, params)
    assert return_value(outs) == 4096 and reply.wrote
    assert wait_job(service, "hvready", job_id(outs))[0]["JobState"] == "7"
    reference = outs[result][0].find(".//{%s}Selector[@Name='InstanceID']" % NS["w"])
    assert reference.text == hyperv.kvp_settings_id(vm_id)
    component = vm_components(service, "hvready")[vm_id]
    assert (component["EnabledState"], component["OperationalStatus"]) == ("2", "2")
    assert component["GuestIntrinsicExchangeItems"] is not None
    status = hyperv.guest_vm_status(service.fleet, service.fleet.machines["dxoff"])
    assert status.data_exchange_enabled
    params = "<p:%s>%s</p:%s>" % (parameter, settings_text(vm_id, 3), parameter)
    assert return_value(invoke_service(service, "hvready", method, params)[2]) == 4096
    assert vm_components(service, "hvready")[vm_id]["GuestIntrinsicExchangeItems"] is None


@pytest.mark.parametrize("text", [
    settings_text(hyperv.guest_vm_id("dxoff"), 5),
    settings_text(hyperv.guest_vm_id("dxoff"), 2, class_name="Msvm_HeartbeatComponentSettingData"),
    settings_text("00000000-0000-0000-0000-000000000000", 2),
    "garbage",
])
def test_bad_settings_are_invalid_parameters(text):
    service = service_for("host_setup")
    params = "<p:ResourceSettings>%s</p:ResourceSettings>" % text
    assert return_value(invoke_service(service, "hvready", "ModifyResourceSettings", params)[2]) == 32773
