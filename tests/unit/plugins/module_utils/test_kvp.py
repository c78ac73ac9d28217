# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The KVP domain: untrusted items bounded and reported, intrinsic items decoded, states, selection and planning."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._kvp import (
    HIDDEN_VALUE,
    MAX_ITEMS,
    MAX_ITEMS_PER_CALL,
    MAX_VALUE_CHARS,
    SOURCE_GUEST,
    SOURCE_INTRINSIC,
    ItemChange,
    RawItem,
    ambiguous_names,
    batches,
    bound_values,
    change_in_place,
    collect_items,
    diff_values,
    first_guid,
    integration_status,
    intrinsic_facts,
    is_guid,
    name_matcher,
    plan_absent,
    plan_present,
    select_vms,
    setting_enabled,
    shown_name,
    validate_wanted_items,
    vm_state_name,
)

VM_A = "B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E"
VM_B = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"


def codes(issues):
    return [issue["code"] for issue in issues]


# -- collect_items -----------------------------------------------------------------------------------------------------


def test_items_become_a_name_value_map():
    items, issues = collect_items([RawItem("FullyQualifiedDomainName", "web01.corp", 2), RawItem("CSDVersion", None, 2)], SOURCE_INTRINSIC)
    assert items == {"FullyQualifiedDomainName": "web01.corp", "CSDVersion": ""}
    assert issues == []


def test_none_gives_an_empty_map():
    assert collect_items(None, SOURCE_GUEST) == ({}, [])


@pytest.mark.parametrize("raw, code", [
    (RawItem(error="XML with a DOCTYPE is refused"), "undecodable"),
    (RawItem("x", "y", 1, class_name="Win32_Process"), "unexpected_class"),
    (RawItem(None, "y", 1), "missing_name"),
    (RawItem("", "y", 1), "missing_name"),
    (RawItem(7, "y", 1), "missing_name"),
    (RawItem("n" * 1025, "y", 1), "name_too_long"),
])
def test_unusable_items_are_left_out_and_reported(raw, code):
    items, issues = collect_items([raw, RawItem("ok", "1", 1)], SOURCE_GUEST)
    assert items == {"ok": "1"}
    assert codes(issues) == [code]
    assert issues[0]["source"] == "guest"


def test_an_undecodable_item_reports_why_and_where():
    _items, issues = collect_items([RawItem("a", "1", 1), RawItem(error="XML with a DOCTYPE is refused")], SOURCE_GUEST)
    assert "item 2" in issues[0]["message"] and "DOCTYPE" in issues[0]["message"]


def test_long_values_are_cut_and_reported():
    items, issues = collect_items([RawItem("big", "x" * 5000, 1)], SOURCE_GUEST)
    assert items["big"] == "x" * MAX_VALUE_CHARS
    assert codes(issues) == ["value_truncated"]
    assert "5000" in issues[0]["message"]


def test_duplicates_keep_the_first_value():
    items, issues = collect_items([RawItem("a", "1", 1), RawItem("a", "2", 1)], SOURCE_GUEST)
    assert items == {"a": "1"} and codes(issues) == ["duplicate_name"]


def test_a_wrong_source_is_reported_but_kept():
    items, issues = collect_items([RawItem("a", "1", 0)], SOURCE_GUEST)
    assert items == {"a": "1"} and codes(issues) == ["unexpected_source"]


def test_item_count_is_bounded():
    items, issues = collect_items([RawItem("n%d" % index, "v", 1) for index in range(MAX_ITEMS + 5)], SOURCE_GUEST)
    assert len(items) == MAX_ITEMS
    assert codes(issues) == ["too_many_items"] and "5 items" in issues[0]["message"]


@pytest.mark.parametrize("name, value", [
    ("bell", "ring\x07"), ("esc", "\x1b[31mred"), ("newline", "a\nb"), ("bidi", "abc\u202edef"), ("c1\x85", "v"),
])
def test_control_characters_are_reported_and_kept(name, value):
    items, issues = collect_items([RawItem(name, value, 1)], SOURCE_GUEST)
    assert items == {name: value}
    assert codes(issues) == ["control_characters"]
    assert "\x1b" not in issues[0]["name"] and "\x85" not in issues[0]["name"]


def test_tabs_are_not_control_characters():
    assert collect_items([RawItem("t", "a\tb", 1)], SOURCE_GUEST)[1] == []


@pytest.mark.parametrize("value", ["{{ lookup('pipe', 'id') }}", "{% for x in y %}", "{# c #}"])
def test_template_markers_are_reported_and_kept_as_text(value):
    items, issues = collect_items([RawItem("t", value, 1)], SOURCE_GUEST)
    assert items == {"t": value} and codes(issues) == ["template_syntax"]


def test_registry_values_are_bounded_with_their_key_as_source():
    items, issues = bound_values({"a": "1", "b": "y" * 2000}, "guest_parameters")
    assert items == {"a": "1", "b": "y" * MAX_VALUE_CHARS}
    assert issues[0]["source"] == "guest_parameters" and issues[0]["code"] == "value_truncated"


def test_shown_name_is_bounded_and_escaped():
    assert shown_name("a\x1bb") == "a\\x1bb"
    assert shown_name("a\u202eb") == "a\\u202eb"
    assert len(shown_name("x" * 5000)) == 131


# -- intrinsic items ---------------------------------------------------------------------------------------------------


def test_intrinsic_items_decoded():
    facts, issues = intrinsic_facts({
        "FullyQualifiedDomainName": "web01.corp.example",
        "OSName": "Windows Server 2022 Datacenter",
        "OSVersion": "10.0.20348",
        "OSBuildNumber": "20348",
        "OSEditionId": "8",
        "NetworkAddressIPv4": "10.0.0.5;192.168.1.7",
        "NetworkAddressIPv6": "fe80::1%12;2001:db8::5",
        "RDPAddressIPv4": "10.0.0.5",
        "IntegrationServicesVersion": "10.0.20348.1",
        "OSVendor": "Microsoft",
        "OSSignature": "10",
    })
    assert facts == dict(
        fqdn="web01.corp.example", os_name="Windows Server 2022 Datacenter", os_version="10.0.20348", os_build=20348,
        os_release="2022", os_edition_sku=8, os_edition_id="ServerDatacenter",
        ipv4_addresses=["10.0.0.5", "192.168.1.7"], ipv6_addresses=["fe80::1%12", "2001:db8::5"],
        rdp_ipv4_addresses=["10.0.0.5"], rdp_ipv6_addresses=[], integration_services_version="10.0.20348.1",
        os_vendor="Microsoft", os_signature="10",
    )
    assert issues == []


def test_intrinsic_items_missing_give_none():
    facts, issues = intrinsic_facts({})
    assert facts["fqdn"] is None and facts["os_build"] is None and facts["os_release"] is None and facts["ipv4_addresses"] == []
    assert issues == []


def test_build_from_the_version_when_the_build_item_is_missing():
    facts, _issues = intrinsic_facts({"OSVersion": "10.0.17763"})
    assert facts["os_build"] == 17763 and facts["os_release"] == "2019"


def test_addresses_that_are_not_addresses_are_left_out_and_reported():
    facts, issues = intrinsic_facts({"NetworkAddressIPv4": "10.0.0.1;;not-an-ip;2001:db8::1;{{ x }}", "OSEditionId": "eight"})
    assert facts["ipv4_addresses"] == ["10.0.0.1"]
    assert facts["os_edition_sku"] is None
    assert codes(issues) == ["invalid_address"] * 3


# -- states ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status, expected", [
    ([2], dict(code=2, name="OK", codes=[2])),
    ([12], dict(code=12, name="No Contact", codes=[12])),
    ([13, 32775], dict(code=13, name="Lost Communication", codes=[13, 32775])),
    ([32896], dict(code=32896, name="Disabled", codes=[32896])),
    ([4242], dict(code=4242, name="Unknown (4242)", codes=[4242])),
    (None, dict(code=None, name=None, codes=[])),
    ([], dict(code=None, name=None, codes=[])),
])
def test_integration_status(status, expected):
    assert integration_status(status) == expected


@pytest.mark.parametrize("state, word", [(2, "running"), (3, "off"), (32768, "paused"), (32769, "saved"), (6, "saved"), (None, "unknown"),
                                         (4711, "unknown (4711)")])
def test_vm_state_name(state, word):
    assert vm_state_name(state) == word


@pytest.mark.parametrize("state, enabled", [(2, True), (3, False), (None, None), (5, None)])
def test_setting_enabled(state, enabled):
    assert setting_enabled(state) is enabled


def test_guids():
    assert first_guid("Microsoft:%s\\2A34B1C2-FD73-4043-9B6E-EA7E5D3D9E17\\0" % VM_A.lower()) == VM_A
    assert first_guid("no guid") is None and first_guid(None) is None
    assert is_guid(VM_A) and is_guid("{%s}" % VM_A) and not is_guid("HV01") and not is_guid(None)


# -- selection ---------------------------------------------------------------------------------------------------------

VMS = [dict(name="web01", id=VM_A), dict(name="Web02", id=VM_B), dict(name="web02", id="11111111-2222-3333-4444-555555555555")]


def test_select_all_vms_by_default():
    assert select_vms(VMS, None) == (VMS, [])


def test_select_by_name_or_id_in_host_order():
    selected, missing = select_vms(VMS, [VM_B.lower(), "WEB01", "{%s}" % VM_A, "nope"])
    assert [vm["name"] for vm in selected] == ["web01", "Web02"]
    assert missing == ["nope"]


def test_names_shared_by_two_vms():
    assert ambiguous_names(VMS, ["web02", "web01", VM_B]) == ["web02"]
    selected, _missing = select_vms(VMS, ["web02"])
    assert len(selected) == 2


def test_name_matcher_ignores_case_as_the_registry_does():
    matches = name_matcher(["Exact"], ["HyperVAvma.*", "Old?"])
    assert matches("Exact") and matches("EXACT") and matches("hypervavma.LicenseStatus") and matches("Old1")
    assert not matches("Exact2") and not matches("Old12") and not matches("xHyperVAvma.A")
    assert not name_matcher()("anything")


# -- planning ----------------------------------------------------------------------------------------------------------


def test_plan_present_adds_and_modifies_only_what_differs():
    current = {"a": "1", "b": "2"}
    changes = plan_present(current, {"a": "1", "b": "3", "c": "4"})
    assert changes == [ItemChange("modify", "b", "2", "3"), ItemChange("add", "c", None, "4")]
    assert plan_present(current, {"a": "1"}) == []


def test_plan_present_matches_names_in_any_case():
    assert plan_present({"Name": "1"}, {"NAME": "2"}) == [ItemChange("modify", "Name", "1", "2")]
    assert plan_present({"Name": "1"}, {"NAME": "1"}) == []


def test_plan_absent():
    current = {"HyperVAvma.A": "1", "keep": "2", "HyperVAvma.B": "3"}
    changes = plan_absent(current, name_matcher(patterns=["HyperVAvma.*"]))
    assert changes == [ItemChange("remove", "HyperVAvma.A", "1", None), ItemChange("remove", "HyperVAvma.B", "3", None)]
    assert plan_absent({"keep": "2"}, name_matcher(patterns=["HyperVAvma.*"])) == []


def test_batches_respect_the_per_call_limit():
    changes = [ItemChange("add", "n%d" % index, None, "v") for index in range(300)]
    runs = batches(changes)
    assert [len(run) for run in runs] == [MAX_ITEMS_PER_CALL, MAX_ITEMS_PER_CALL, 300 - 2 * MAX_ITEMS_PER_CALL]
    assert batches([]) == []


def test_diff_hides_sensitive_values():
    changes = [ItemChange("modify", "Secret", "old", "new"), ItemChange("add", "plain", None, "v"), ItemChange("remove", "gone", "x", None)]
    before, after = diff_values(changes, name_matcher(["Secret"]))
    assert before == {"Secret": HIDDEN_VALUE, "gone": "x"}
    assert after == {"Secret": HIDDEN_VALUE, "plain": "v"}


def test_wanted_items_are_validated():
    assert validate_wanted_items({"a": 1, "b": None, "c": "x\ty"}) == {"a": "1", "b": "", "c": "x\ty"}


@pytest.mark.parametrize("bad, message", [
    ({"": "v"}, "empty"),
    ({"n" * 1025: "v"}, "1025 characters"),
    ({"a": "v" * 1025}, "the limit is 1024"),
    ({"a": "\x01"}, "control characters"),
])
def test_wanted_items_that_cannot_be_sent(bad, message):
    with pytest.raises(ValueError, match=message):
        validate_wanted_items(bad)


@pytest.mark.parametrize("change, current, done", [
    (ItemChange("add", "New", None, "1"), {"new": "1"}, True),
    (ItemChange("add", "New", None, "1"), {}, False),
    (ItemChange("modify", "Keep", "1", "2"), {"Keep": "1"}, False),
    (ItemChange("modify", "Keep", "1", "2"), {"KEEP": "2"}, True),
    (ItemChange("remove", "Gone", "x", None), {"Other": "x"}, True),
    (ItemChange("remove", "Gone", "x", None), {"gone": "x"}, False),
])
def test_change_in_place_after_reading_again(change, current, done):
    assert change_in_place(change, current) is done
