# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab settings that serve each plausible form of what Windows leaves open (issue 9): jobs that end in 32768,
a strict embedded-instance parser, which settings method switches Data Exchange, Add of an existing name, the order
and language of event logs, clusters that refuse access or whose VM resources were renamed, long key names,
host-only items and planned Hyper-V return codes."""

import pytest

from hvlab import eventlog, hyperv, jobs
from hvlab.fleet import Fleet
from hvlab.kvp_items import InstanceError, NamedEntityRefused, parse_item

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    WMI_ROOT, data_item, enumerate_all, fleet_document, guest_values, invoke_service, item_map, job_id, kvp_call, properties,
    return_value, service_for, settings_text, vm_reference, wait_job)
from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import call, fault_summary, find, findall, wql_enumerate

WEB = hyperv.guest_vm_id("kvpweb")


def kvp_host(hyperv_fields=None, wire=None):
    document = fleet_document("kvp_host")
    if hyperv_fields:
        document["machines"]["hv1"]["hyperv"] = dict(document["machines"]["hv1"].get("hyperv") or {}, **hyperv_fields)
    if wire:
        document["defaults"]["wire"] = wire
    return service_for(document)


@pytest.mark.parametrize("setting, state", [("completed", "7"), ("completed_with_warnings", "32768")])
def test_a_successful_job_ends_in_the_configured_state(setting, state):
    service = kvp_host({"job_success_state": setting})
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    job, _reads = wait_job(service, "hv1", job_id(outs))
    assert (job["JobState"], job["ErrorCode"]) == (state, "0")


def test_the_strict_parser_refuses_named_entities_and_takes_numeric_references():
    named = '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string"><VALUE>a&amp;b</VALUE></PROPERTY></INSTANCE>'
    numeric = named.replace("&amp;", "&#38;")
    with pytest.raises(NamedEntityRefused):
        parse_item(named)
    assert parse_item(numeric)[0] == "a&b" and parse_item(named, strict=False)[0] == "a&b"
    assert issubclass(NamedEntityRefused, InstanceError)


@pytest.mark.parametrize("answer, code", [("invalid_parameter", 32773), ("failed", 32768), ("accepted", 4096)])
def test_named_entities_are_answered_as_configured(answer, code):
    service = kvp_host(wire={"named_entities": answer})
    params = "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (
        vm_reference(WEB), data_item("R&D", "a<b", named_entities=True))
    assert return_value(invoke_service(service, "hv1", "AddKvpItems", params)[2]) == code
    params = "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (vm_reference(WEB), data_item("R&D2", "a<b"))
    assert return_value(invoke_service(service, "hv1", "AddKvpItems", params)[2]) == 4096


@pytest.mark.parametrize("switch, accepted", [
    ("resource_settings", {"ModifyResourceSettings"}),
    ("guest_service_settings", {"ModifyGuestServiceSettings"}),
    ("both", {"ModifyResourceSettings", "ModifyGuestServiceSettings"}),
])
def test_the_configured_settings_method_switches_data_exchange_the_other_answers_32773(switch, accepted):
    document = fleet_document("host_setup")
    document["machines"]["hvready"]["hyperv"] = dict(document["machines"]["hvready"].get("hyperv") or {}, data_exchange_switch=switch)
    service = service_for(document)
    vm_id = hyperv.guest_vm_id("dxoff")
    for method, parameter in (("ModifyResourceSettings", "ResourceSettings"), ("ModifyGuestServiceSettings", "GuestServiceSettings")):
        params = "<p:%s>%s</p:%s>" % (parameter, settings_text(vm_id, 2), parameter)
        code = return_value(invoke_service(service, "hvready", method, params)[2])
        assert code == (4096 if method in accepted else 32773)


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_event_logs_enumerate_in_the_configured_order(order):
    document = fleet_document("kvp_host")
    document["machines"]["kvpweb"]["wire"] = {"event_order": order}
    document["machines"]["kvpweb"]["events"] = [
        {"id": 12309, "time": "2026-11-0%dT06:00:00Z" % day, "insertion_strings": ["AVMA Success", "HV1", "0x00000000"]} for day in (1, 2, 3)]
    service = service_for(document)
    items, _requests = enumerate_all(service, "kvpweb", "SELECT * FROM Win32_NTLogEvent WHERE EventCode = 12309", namespace="root/cimv2")
    numbers = [int(properties(item)["RecordNumber"]) for item in items]
    assert numbers == ([1, 2, 3] if order == "oldest_first" else [3, 2, 1])


def test_german_event_texts_keep_the_result_code():
    store_events = []

    class Store:
        def add(self, _cls, instance):
            store_events.append(instance)
            return instance

        def instances(self, _cls):
            return list(store_events)

    event = eventlog.write_guest_avma_event(Store(), computer_name="G", outcome="Activation Denied", host_name="HV",
                                            hresult=0xC004FD02, time="2026-11-20T06:00:00Z", language="de")
    assert event["InsertionStrings"] == ["Aktivierung verweigert", "HV", "0xC004FD02"]
    assert event["Message"] == "Ergebnis der automatischen Aktivierung virtueller Computer: Aktivierung verweigert. Host: HV. Ergebniscode: 0xC004FD02."


def test_unknown_settings_are_refused_by_the_fleet_reader():
    document = fleet_document("kvp_host")
    document["machines"]["hv1"]["hyperv"] = {"job_success_state": "done"}
    with pytest.raises(ValueError, match="job_success_state"):
        service_for(document)
    document = fleet_document("kvp_host")
    document["defaults"]["wire"] = {"event_language": "tlh"}
    with pytest.raises(ValueError, match="event_language"):
        service_for(document)


def clustered(**hyperv_fields):
    """kvp_host with hv1 and hv2 as the nodes of one cluster, hv2 answering with ``hyperv_fields``."""
    document = fleet_document("kvp_host")
    document["machines"]["hv1"]["hyperv"] = {"cluster": "C1"}
    document["machines"]["hv2"]["hyperv"] = dict({"cluster": "C1"}, **hyperv_fields)
    return document


def cluster_query(service, machine, query):
    return call(service, machine, wql_enumerate(query, max_elements=100, resource_uri=WMI_ROOT + "root/MSCluster/*"))[1]


@pytest.mark.parametrize("access, expected", [
    ("wmi_access_denied", ("s:Sender", "w:AccessDenied", [0x80041003], 0x80041003)),
    ("wsman_access_denied", ("s:Sender", "w:AccessDenied", [5], None)),
])
def test_a_node_without_cluster_access_refuses_root_mscluster(access, expected):
    service = service_for(clustered(cluster_access=access))
    for query in ("SELECT * FROM MSCluster_Node", "SELECT * FROM MSCluster_Resource WHERE Type = 'Virtual Machine'"):
        assert fault_summary(cluster_query(service, "hv2", query)) == expected
    assert find(cluster_query(service, "hv1", "SELECT * FROM MSCluster_Node"), "s:Body/s:Fault") is None


@pytest.mark.parametrize("naming, form", [("vm_name", "wscim"), ("role_name", "cim_xml")])
def test_vm_resources_name_their_vm_by_the_vm_id_in_private_properties(naming, form):
    document = clustered(cluster_resource_names=naming)
    document["machines"]["hv2"]["wire"] = {"embedded_object_form": form}
    service = service_for(document)
    root = cluster_query(service, "hv2", "SELECT * FROM MSCluster_Resource WHERE Type = 'Virtual Machine'")
    resources = {properties(item)["OwnerGroup"]: item for item in findall(root, "s:Body/n:EnumerateResponse/w:Items/*")}
    web = hyperv.guest_vm_id("kvpweb")
    group = "web01" if naming == "vm_name" else "Role " + web[:8]
    resource = resources[group]
    assert properties(resource)["Name"] == "Virtual Machine " + group and properties(resource)["OwnerNode"] == "HV1"
    private = next(child for child in resource if child.tag.endswith("}PrivateProperties"))
    if form == "wscim":
        (instance,) = list(private)
        assert instance.tag.endswith("}MSCluster_Property") and {child.tag.rpartition("}")[2]: child.text for child in instance}["VmID"] == web.lower()
    else:
        assert list(private) == [] and '<PROPERTY NAME="VmID" TYPE="string"><VALUE>%s</VALUE>' % web.lower() in private.text


def test_cluster_settings_apply_to_cluster_nodes_only():
    document = fleet_document("kvp_host")
    document["machines"]["hv2"]["hyperv"] = {"cluster_access": "wmi_access_denied"}
    with pytest.raises(ValueError, match="cluster_access.*applies to a node of a failover cluster"):
        Fleet.from_document(document)


@pytest.mark.parametrize("setting, code", [("refuse", 32773), ("truncate", 4096)])
def test_a_key_name_longer_than_a_vmbus_key_is_refused_or_cut_for_the_guest(setting, code):
    service = kvp_host({"long_key_names": setting})
    name = "k" * 256   # 256 UTF-16 code units and the NUL: 514 bytes
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [(name, "v")])
    assert return_value(outs) == code
    if setting == "refuse":
        _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [(name[:255], "v")])
        assert return_value(outs) == 4096, "255 code units and the NUL fit exactly"
    external = guest_values(service, "kvpweb", "External")
    assert external.get(name[:255]) == "v" and name not in external


def test_host_only_items_stay_on_the_host():
    document = fleet_document("kvp_host")
    document["machines"]["kvpweb"]["vm"]["host_only_items"] = {"inventory": {"repeat": "ab", "count": 8192}}
    service = service_for(document)
    items, _requests = enumerate_all(service, "hv1", "SELECT InstanceID, HostOnlyItems FROM Msvm_KvpExchangeComponentSettingData")
    web = next(properties(item) for item in items if hyperv.guest_vm_id("kvpweb") in properties(item)["InstanceID"])
    assert item_map(web["HostOnlyItems"]) == {"inventory": ("ab" * 8192, 4)}
    assert "inventory" not in guest_values(service, "kvpweb", "External")


@pytest.mark.parametrize("code", [32769, 32770, 32775])
def test_a_planned_return_value_is_answered_at_once_and_changes_nothing(code):
    service = kvp_host()
    host = service.fleet.machines["hv1"]
    jobs.add_failure_rule(host, {"method": "AddKvpItems", "vm": "web01", "return_value": code})
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("planned", "1")])
    assert return_value(outs) == code and [element.get("{http://www.w3.org/2001/XMLSchema-instance}nil") for element in outs["Job"]] == ["true"]
    assert "planned" not in guest_values(service, "kvpweb", "External")
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("planned", "1")])
    assert return_value(outs) == 4096, "the rule is used up"


def test_a_refusal_rule_applies_to_the_data_exchange_switch_and_is_checked():
    service = kvp_host()
    host = service.fleet.machines["hv1"]
    jobs.add_failure_rule(host, {"method": "ModifyResourceSettings", "return_value": 32770})
    params = "<p:ResourceSettings>%s</p:ResourceSettings>" % settings_text(WEB, 3)
    assert return_value(invoke_service(service, "hv1", "ModifyResourceSettings", params)[2]) == 32770
    assert return_value(invoke_service(service, "hv1", "ModifyResourceSettings", params)[2]) == 4096
    for wrong in (4096, 1, True, "32769", 32780):
        with pytest.raises(ValueError, match="return_value"):
            jobs.add_failure_rule(host, {"return_value": wrong})


def test_an_event_entry_with_a_count_fills_a_log_in_time_order():
    document = fleet_document("kvp_host")
    document["machines"]["kvpweb"]["events"] = [
        {"id": 1000, "source": "Application Error", "time": "2026-11-01T00:00:00Z", "count": 5, "every_seconds": 3600},
        {"id": 12309, "time": "2026-11-01T02:30:00Z", "insertion_strings": ["AVMA Success", "HV1", "0x00000000"]}]
    service = service_for(document)
    items, _requests = enumerate_all(service, "kvpweb", "SELECT * FROM Win32_NTLogEvent", namespace="root/cimv2")
    rows = [properties(item) for item in items]
    assert [(int(row["RecordNumber"]), row["EventCode"]) for row in rows] == [
        (1, "1000"), (2, "1000"), (3, "1000"), (4, "12309"), (5, "1000"), (6, "1000")]
    document["machines"]["kvpweb"]["events"][0]["every_seconds"] = 0
    with pytest.raises(ValueError, match="every_seconds"):
        service_for(document)
