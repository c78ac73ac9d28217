# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network fault kinds of the lab: lost answers after the write was applied, cut bodies, 503, expired contexts,
per-method targeting and the seeded random mode."""

import pytest

from hvlab.faultinjection import FaultInjector, parse_rule

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import HKLM, VM_KEY, guest_values, service_for
from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import call, fault_summary, find, parse, pull_request, request, wql_enumerate

REGISTRY_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/default/StdRegProv"


def set_value(name, value):
    body = ('<p:SetStringValue_INPUT xmlns:p="%s"><p:hDefKey>%d</p:hDefKey><p:sSubKeyName>%s\\Guest</p:sSubKeyName>'
            '<p:sValueName>%s</p:sValueName><p:sValue>%s</p:sValue></p:SetStringValue_INPUT>'
            % (REGISTRY_URI, HKLM, VM_KEY, name, value))
    return request(REGISTRY_URI + "/SetStringValue", REGISTRY_URI, body)


@pytest.mark.parametrize("kind, expected", [
    ("lost_answer", dict(drop=True, cut=False, delay=0.0)),
    ("reset_mid_body", dict(drop=False, cut=True, delay=0.0)),
    ("stall", dict(drop=False, cut=False, delay=7.0)),
])
def test_a_lost_answer_kind_applies_the_write_and_counts_it(kind, expected):
    service = service_for("kvp_host")
    rule = {"machine": "kvpweb", "method": "StdRegProv.SetStringValue", "kind": kind}
    if kind == "stall":
        rule["seconds"] = 7
    service.inject_fault(rule)
    reply = service.handle("kvpweb", set_value("written", "yes"), user="Administrator")
    assert {name: getattr(reply, name) for name in expected} == expected
    assert reply.wrote and reply.status == 200
    assert guest_values(service, "kvpweb", "Guest")["written"] == "yes"
    machine = service.stats()["machines"]["kvpweb"]
    assert machine["writes"]["Invoke:StdRegProv.SetStringValue"] == 1 and machine["faults"] == {kind: 1}


def test_drop_and_503_answer_without_running_the_operation():
    service = service_for("kvp_host")
    service.inject_fault({"machine": "kvpweb", "method": "StdRegProv.SetStringValue", "kind": "drop", "count": 1})
    service.inject_fault({"machine": "kvpweb", "method": "StdRegProv.SetStringValue", "kind": "http503", "count": 1})
    dropped = service.handle("kvpweb", set_value("a", "1"), user="Administrator")
    busy = service.handle("kvpweb", set_value("b", "2"), user="Administrator")
    assert dropped.drop and not dropped.wrote
    assert (busy.status, busy.body, busy.plain, busy.wrote) == (503, b"", True, False)
    assert not {"a", "b"} & set(guest_values(service, "kvpweb", "Guest"))
    assert service.stats()["machines"]["kvpweb"]["faults"] == {"drop": 1, "http503": 1}


def test_method_targeting_leaves_other_methods_alone():
    service = service_for("kvp_host")
    service.inject_fault({"machine": "kvpweb", "method": "StdRegProv.SetStringValue", "kind": "drop"})
    assert guest_values(service, "kvpweb", "Guest") is not None   # EnumValues and GetStringValue are answered
    assert service.handle("kvpweb", set_value("c", "3"), user="Administrator").drop


def test_expired_context_forgets_the_context_and_answers_the_windows_fault():
    service = service_for("kvp_host")
    _reply, root = call(service, "hv1", wql_enumerate("SELECT * FROM Msvm_ComputerSystem", max_elements=1,
                                                      resource_uri="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/*"))
    context = find(root, "s:Body/*/{http://schemas.xmlsoap.org/ws/2004/09/enumeration}EnumerationContext").text
    service.inject_fault({"machine": "hv1", "operation": "Pull", "kind": "expired_context", "count": 1})
    reply, root = call(service, "hv1", pull_request(context))
    assert fault_summary(root)[1:3] == ("n:InvalidEnumerationContext", [2150858779]) and reply.status == 500
    _reply, root = call(service, "hv1", pull_request(context))   # the rule is used up: the context is gone all the same
    assert fault_summary(root)[2] == [2150858779]


def test_random_mode_is_repeatable_for_a_seed_and_close_to_its_rate():
    def firings(seed):
        injector = FaultInjector(["m"])
        injector.add({"kind": "drop", "rate": 0.05, "seed": seed})
        return [injector.fire("m", "Get")[1] is not None for _request in range(4000)]

    first = firings(7)
    assert first == firings(7) and first != firings(8)
    assert 0.04 < sum(first) / len(first) < 0.06


@pytest.mark.parametrize("rule, message", [
    ({"kind": "drop", "method": "StdRegProv"}, r"method must be \* or Class\.Method"),
    ({"kind": "drop", "method": "StdRegProv.EnumKey", "operation": "Get"}, "method applies to operation Invoke only"),
    ({"kind": "drop", "rate": 1.5}, "rate must be a number from 0 to 1"),
    ({"kind": "drop", "seed": 3}, "seed applies with rate only"),
    ({"kind": "stall"}, "seconds must be a number"),
])
def test_invalid_network_rules_are_refused(rule, message):
    with pytest.raises(ValueError, match=message):
        parse_rule(rule, {"m"})


def test_parse_body_is_unchanged_by_a_cut_flag():
    # The service renders the whole answer; only the server cuts it on the wire.
    service = service_for("kvp_host")
    service.inject_fault({"machine": "kvpweb", "operation": "Enumerate", "kind": "reset_mid_body"})
    reply = service.handle("kvpweb", wql_enumerate("SELECT * FROM Win32_OperatingSystem"), user="Administrator")
    assert reply.cut and parse(reply.body) is not None
