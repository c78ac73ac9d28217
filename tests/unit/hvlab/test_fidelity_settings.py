# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab settings that serve each plausible form of what Windows leaves open (issue 9): jobs that end in 32768,
a strict embedded-instance parser, which settings method switches Data Exchange, Add of an existing name, and the
order and language of event logs."""

import pytest

from hvlab import eventlog, hyperv
from hvlab.kvp_items import InstanceError, NamedEntityRefused, parse_item

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    data_item, enumerate_all, fleet_document, invoke_service, job_id, kvp_call, properties, return_value, service_for,
    settings_text, vm_reference, wait_job)

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
