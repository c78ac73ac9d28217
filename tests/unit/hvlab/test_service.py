# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WsmanService: counters, injected faults, reset, and concurrent use."""

import threading
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import (
    call, class_enumerate, fault_summary, find, fixture, get_request, invoke_request, local, make_service, parse,
    pull_request, structure, text, wql_enumerate)


def identify():
    return fixture("wsman_identify_request_real.xml")


def os_query():
    return wql_enumerate("SELECT * FROM Win32_OperatingSystem", max_elements=5)


def test_stats_shape_covers_every_machine():
    service = make_service()
    stats = service.stats()
    assert set(stats) == {"machines", "total_requests", "total_writes", "total_faults"}
    assert set(stats["machines"]) == set(service.fleet.machines)
    assert stats["machines"]["hv2022"] == {"requests": {}, "writes": {}, "faults": {}, "total_requests": 0, "total_writes": 0}
    assert stats["total_requests"] == stats["total_writes"] == 0


def test_stats_count_operations_faults_included_and_reset():
    service = make_service()
    call(service, "g2022dc", identify())
    call(service, "g2022dc", os_query())
    call(service, "g2022dc", get_request("SoftwareLicensingService"))  # a fault, still a Get request
    call(service, "g2016dc", invoke_request("SoftwareLicensingService", "RefreshLicenseStatus",
                                            selectors={"Version": "10.0.14393.1"}))
    call(service, "g2016dc", b"garbage")
    stats = service.stats()
    assert stats["machines"]["g2022dc"]["requests"] == {"Identify": 1, "Enumerate": 1, "Get": 1}
    assert stats["machines"]["g2016dc"]["requests"] == {
        "Invoke": 1, "Invoke:SoftwareLicensingService.RefreshLicenseStatus": 1, "Other": 1}
    assert stats["machines"]["g2016dc"]["total_requests"] == 2
    assert stats["total_requests"] == 5 and stats["total_writes"] == 0
    service.reset_stats()
    assert service.stats()["total_requests"] == 0


def test_latency_delays_the_normal_answer_and_adds_up():
    service = make_service()
    service.inject_fault({"machine": "g2022dc", "operation": "Enumerate", "kind": "latency", "seconds": 1.5})
    service.inject_fault({"machine": "*", "operation": "*", "kind": "latency", "seconds": 0.25, "count": 1})
    reply, root = call(service, "g2022dc", os_query())
    assert reply.status == 200 and reply.delay == 1.75 and not reply.drop
    assert find(root, "s:Body/{http://schemas.xmlsoap.org/ws/2004/09/enumeration}EnumerateResponse") is not None
    assert call(service, "g2022dc", os_query())[0].delay == 1.5
    assert call(service, "g2016dc", os_query())[0].delay == 0.0
    assert call(service, "g2022dc", identify())[0].delay == 0.0


def test_drop_fires_count_times_then_stops():
    service = make_service()
    service.inject_fault({"machine": "g2022dc", "operation": "*", "kind": "drop", "count": 2})
    first = service.handle("g2022dc", os_query(), user="u")
    second = service.handle("g2022dc", identify(), user="u")
    third = service.handle("g2022dc", os_query(), user="u")
    assert first.drop and second.drop and first.body == b"" and first.status == 0
    assert not third.drop and third.status == 200
    assert service.fault_rules() == []
    assert service.stats()["machines"]["g2022dc"]["total_requests"] == 3


def test_injected_operation_timeout_is_the_windows_fault():
    service = make_service()
    service.inject_fault({"machine": "g2022dc", "operation": "Enumerate", "kind": "operation_timeout", "seconds": 2})
    request_body = os_query()
    reply, root = call(service, "g2022dc", request_body)
    real = parse(fixture("fault_operation_timeout_2150858793_pywinrm_test.xml"))
    assert reply.status == 500 and reply.delay == 2
    assert structure(root) == structure(real)
    for path in ("s:Header/a:Action", "s:Body/s:Fault/s:Code/s:Value", "s:Body/s:Fault/s:Code/s:Subcode/s:Value",
                 "s:Body/s:Fault/s:Reason/s:Text", "s:Body/s:Fault/s:Detail/f:WSManFault/f:Message"):
        assert text(root, path) == text(real, path), path
    sent_id = ET.fromstring(request_body).find(
        "{http://www.w3.org/2003/05/soap-envelope}Header/{http://schemas.xmlsoap.org/ws/2004/08/addressing}MessageID").text
    assert text(root, "s:Header/a:RelatesTo") == sent_id
    # Only the Enumerate was targeted.
    assert call(service, "g2022dc", identify())[0].status == 200


def test_injected_http500_is_a_windows_internal_error():
    service = make_service()
    service.inject_fault({"kind": "http500", "count": 1})
    reply, root = call(service, "g2019std", os_query())
    real = parse(fixture("fault_internalerror_msft_wmierror_0x803381A6_pywinrm_test.xml"))
    assert reply.status == 500
    assert fault_summary(root)[:2] == fault_summary(real)[:2] == ("s:Receiver", "w:InternalError")
    assert fault_summary(root)[3] == 0x80041001
    ours = find(root, "s:Body/s:Fault/s:Detail/wmie:MSFT_WmiError")
    theirs = find(real, "s:Body/s:Fault/s:Detail/wmie:MSFT_WmiError")
    assert [local(child.tag) for child in ours] == [local(child.tag) for child in theirs]
    assert call(service, "g2019std", os_query())[0].status == 200


def test_injected_badxml_is_http_200_with_an_unparsable_body():
    service = make_service()
    service.inject_fault({"machine": "g2016dc", "kind": "badxml", "count": 1})
    reply = service.handle("g2016dc", os_query(), user="u")
    assert reply.status == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(reply.body)


@pytest.mark.parametrize("rule, codes", [
    ({"kind": "wsman_fault", "code": 2150858770}, ("s:Sender", "a:DestinationUnreachable", [2150858770], None)),
    ({"kind": "wsman_fault", "code": 2150858793}, ("s:Receiver", "w:TimedOut", [2150858793], None)),
    ({"kind": "wsman_fault", "code": 5, "wmi_code": 0x80070005}, ("s:Receiver", "w:InternalError", [5], 0x80070005)),
])
def test_injected_wsman_fault_carries_the_given_codes(rule, codes):
    service = make_service()
    service.inject_fault(dict(rule, machine="g2022dc", operation="Get"))
    reply, root = call(service, "g2022dc", get_request("SoftwareLicensingService", {"Version": "10.0.20348.1"}))
    assert reply.status == 500
    assert fault_summary(root) == codes


def test_the_first_matching_decisive_rule_wins_and_only_it_is_used_up():
    service = make_service()
    service.inject_fault({"machine": "g2022dc", "kind": "http500", "count": 1})
    service.inject_fault({"machine": "g2022dc", "kind": "drop", "count": 1})
    first = service.handle("g2022dc", os_query(), user="u")
    second = service.handle("g2022dc", os_query(), user="u")
    third = service.handle("g2022dc", os_query(), user="u")
    assert (first.status, first.drop) == (500, False)
    assert second.drop and third.status == 200


def test_injected_faults_change_no_state_and_clear_faults_stops_them():
    service = make_service()
    service.inject_fault({"machine": "*", "operation": "Invoke", "kind": "http500"})
    before = service.fleet.to_state()
    body = invoke_request("SoftwareLicensingService", "RefreshLicenseStatus", selectors={"Version": "10.0.20348.1"})
    for _attempt in range(3):
        reply = service.handle("g2022dc", body, user="u")
        assert reply.status == 500 and not reply.wrote
    assert len(service.fault_rules()) == 1 and service.fault_rules()[0]["count"] is None
    service.clear_faults()
    assert service.handle("g2022dc", body, user="u").status == 200
    assert service.fleet.to_state() == before


@pytest.mark.parametrize("rule, message", [
    ({"kind": "explode"}, "kind must be one of"),
    ({}, "kind must be one of"),
    ({"kind": "latency"}, "seconds"),
    ({"kind": "latency", "seconds": -1}, "seconds"),
    ({"kind": "latency", "seconds": "1"}, "seconds"),
    ({"kind": "drop", "seconds": 1}, "seconds applies to latency, stall and operation_timeout only"),
    ({"kind": "wsman_fault"}, "code"),
    ({"kind": "wsman_fault", "code": 0}, "code"),
    ({"kind": "http500", "code": 5}, "code and wmi_code apply to wsman_fault only"),
    ({"kind": "drop", "count": 0}, "count"),
    ({"kind": "drop", "count": 1.5}, "count"),
    ({"kind": "drop", "machine": "nobody"}, "machine 'nobody' is not in the fleet"),
    ({"kind": "drop", "operation": "Delete"}, "operation must be"),
    ({"kind": "drop", "colour": "red"}, "unknown fields"),
    ("drop", "must be a mapping"),
])
def test_invalid_rules_are_refused(rule, message):
    service = make_service()
    with pytest.raises(ValueError, match=message):
        service.inject_fault(rule)
    assert service.fault_rules() == []


def test_reset_restores_state_and_clears_counters_faults_and_contexts():
    service = make_service()
    initial = service.fleet.to_state()
    _reply, root = call(service, "g2022dc", class_enumerate("SoftwareLicensingProduct", max_elements=1))
    context = text(root, "s:Body/{http://schemas.xmlsoap.org/ws/2004/09/enumeration}EnumerateResponse/"
                         "{http://schemas.xmlsoap.org/ws/2004/09/enumeration}EnumerationContext")
    machine = service.fleet.machines["g2022dc"]
    machine.store.instances(machine.registry.lookup("root/cimv2", "SoftwareLicensingProduct")).clear()
    service.inject_fault({"kind": "latency", "seconds": 3})
    service.reset()
    assert service.fleet.to_state() == initial
    assert service.stats()["total_requests"] == 0 and service.fault_rules() == []
    reply, root = call(service, "g2022dc", pull_request(context, 1))
    assert reply.status == 500 and fault_summary(root)[2] == [2150858779] and reply.delay == 0


def test_unknown_machine_is_a_key_error():
    with pytest.raises(KeyError):
        make_service().handle("nobody", identify(), user="u")


def test_concurrent_requests_are_all_answered_and_counted():
    service = make_service()
    errors = []

    def worker(machine):
        for _round in range(15):
            reply = service.handle(machine, class_enumerate("SoftwareLicensingProduct", max_elements=3), user="u")
            if reply.status != 200:
                errors.append(reply.status)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("g2022dc", "g2016dc", "g2019std", "hv2022")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert service.stats()["total_requests"] == 60
