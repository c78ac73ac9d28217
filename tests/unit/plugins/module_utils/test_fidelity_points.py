# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Issue 9 points 1, 2, 5, 7 and 8 in the collection's own layers: what the independent evidence says Windows does,
and every plausible form of what it leaves open."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils import _events as events
from ansible_collections.hyperv.avma.plugins.module_utils._avma import decode_avma_event
from ansible_collections.hyperv.avma.plugins.module_utils._cim import (
    CimClient,
    CimReference,
    EmbeddedInstance,
    escape_cim_xml,
    parse_embedded_instance,
    render_embedded_instance,
    return_value_meaning,
)
from ansible_collections.hyperv.avma.plugins.module_utils._errors import job_state_text
from ansible_collections.hyperv.avma.plugins.module_utils._kvp import (
    MAX_HOST_ONLY_VALUE_CHARS,
    MAX_VALUE_CHARS,
    SOURCE_HOST,
    SOURCE_HOST_ONLY,
    RawItem,
    collect_items,
    utf16_key_bytes,
    validate_wanted_items,
)
from ansible_collections.hyperv.avma.plugins.module_utils._licensing import product_facts

from ansible_collections.hyperv.avma.tests.unit.plugins.module_utils.fake_guest_cim import FakeGuest, event_row

JOB_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob"
UTC = datetime.timezone.utc


# -- 1 -----------------------------------------------------------------------------------------------------------------


def test_a_job_completed_with_warnings_ends_the_wait_as_a_success(make_client, wire):
    running = wire("get_msvm_concretejob_running_synthetic.xml")
    warned = wire("get_msvm_concretejob_completed_synthetic.xml").replace(b"<p:JobState>7</p:JobState>", b"<p:JobState>32768</p:JobState>")
    assert warned != wire("get_msvm_concretejob_completed_synthetic.xml")
    wsman, transport = make_client(running, warned)
    cim = CimClient(wsman, clock=lambda: 0.0, sleep=lambda _seconds: None)
    final = cim.wait_for_job(CimReference(JOB_URI, {"InstanceID": "J"}), timeout=5, poll_interval=0.01)
    assert final["JobState"] == 32768 and len(transport.requests) == 2
    assert job_state_text(32768) == "32768 (completed with warnings)"


# -- 2 -----------------------------------------------------------------------------------------------------------------


def test_embedded_instances_carry_numeric_character_references_only():
    value = "R&D <x> \"q\" 'a' https://h.test/?a=1&b=2"
    text = render_embedded_instance(EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Data": value, "Name": "n&m", "Source": 0},
                                                     {"Source": "uint16"}))
    assert "&amp;" not in text and "&lt;" not in text and "&gt;" not in text and "&quot;" not in text and "&apos;" not in text
    assert "R&#38;D &#60;x&#62; &#34;q&#34; &#39;a&#39;" in text and "<VALUE>n&#38;m</VALUE>" in text
    assert parse_embedded_instance(text).properties == {"Data": value, "Name": "n&m", "Source": 0}
    assert escape_cim_xml("plain") == "plain"


def test_an_invoked_item_travels_with_numeric_references_under_the_envelope_escaping(make_client, wire):
    from ansible_collections.hyperv.avma.plugins.module_utils._cim import build_method_input
    from ansible_collections.hyperv.avma.plugins.module_utils._xml import serialize

    item = EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Data": "a&b", "Name": "x", "Source": 0}, {"Source": "uint16"})
    body = serialize(build_method_input("urn:x", "AddKvpItems", {"DataItems": [item]})).decode()
    # the envelope escapes the instance text once: the host's XML parser gives back "&#38;" inside the instance
    assert "a&amp;#38;b" in body and "&amp;amp;" not in body


# -- 5 -----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_id, message, strings, expected", [
    (12309, "Ergebnis: AVMA erfolgreich. Ergebniscode: 0x00000000.", ["AVMA erfolgreich", "HV1", "0x00000000"], ("success", "result_code")),
    (12309, None, ["Aktivierung verweigert", "HV1", "0xC004FD02"], ("activation_denied", "result_code")),
    (12309, None, ["Hôte non valide", "", "0xC004FD01"], ("invalid_host", "result_code")),
    (12309, None, ["Invalid Host", "HV1", "0xC004FD03"], ("invalid_host", "words")),
    (12309, None, ["Activation Denied", "HV1", "0xC004FD03"], ("activation_denied", "words")),
    (12309, None, ["Aktivierung verweigert", "HV1", "0xC004FD03"], ("failed", "result_code")),
    (12309, None, ["AVMA Success", "HV1", "0xC004FD00"], ("failed", "result_code")),  # a code beats contradicting words
    (12310, "request from web01: Invalid Data. Result code: 0xC004FD04.", None, ("invalid_data", "words")),
    (12310, "Anforderung von web01: Ungültige Daten. Ergebniscode: 0xC004FD04.", None, ("failed", "result_code")),
    (12309, "AVMA Success", None, ("success", "words")),
])
def test_outcomes_come_from_the_codes_first(event_id, message, strings, expected):
    outcome = decode_avma_event(event_id, message, strings or [])
    assert (outcome["name"], outcome["decoded_from"]) == expected
    assert outcome["success"] is (expected[0] == "success")


def test_no_outcome_without_code_or_words_or_for_another_event():
    assert decode_avma_event(12309, "Ergebnis unbekannt", ["x"]) is None
    assert decode_avma_event(1000, "AVMA Success 0x00000000", []) is None
    assert decode_avma_event(12309, None, ["0xC004FD02"])["result_meaning"] == "the Hyper-V host is not activated"


# -- 7 -----------------------------------------------------------------------------------------------------------------


NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_the_newest_events_are_kept_whatever_order_the_log_gives(order):
    rows = [event_row(index, 12309, NOW - datetime.timedelta(hours=24 - index), strings=["AVMA Success", "HV", "0x00000000"])
            for index in range(1, 21)]
    guest = FakeGuest(events=rows if order == "oldest_first" else list(reversed(rows)))
    result = events.activation_events_task(guest, dict(event_ids=[12309], since=None, max_events=5), False, False)
    assert [event["record_number"] for event in result["events"]] == [20, 19, 18, 17, 16]
    assert result["limited"] is True and result["count"] == 5


def test_not_limited_when_everything_fits():
    guest = FakeGuest(events=[event_row(index, 12309, NOW) for index in range(1, 4)])
    result = events.activation_events_task(guest, dict(event_ids=[12309], since=None, max_events=3), False, False)
    assert result["count"] == 3 and result["limited"] is False


# -- 8 -----------------------------------------------------------------------------------------------------------------


def test_key_names_are_bounded_by_the_vmbus_key_size():
    assert utf16_key_bytes("a" * 255) == 512
    validate_wanted_items({"a" * 255: "x"})
    with pytest.raises(ValueError, match="512"):
        validate_wanted_items({"a" * 256: "x"})
    with pytest.raises(ValueError, match="VMBus key"):
        validate_wanted_items({"\U0001F600" * 128: "x"})  # 128 characters, but 512 bytes of UTF-16 plus the NUL


def test_host_only_items_keep_16_kb_other_items_1024_characters():
    long_value = "v" * (MAX_HOST_ONLY_VALUE_CHARS + 5)
    host_only, issues = collect_items([RawItem(name="big", data=long_value, source=4, class_name="Msvm_KvpExchangeDataItem")], SOURCE_HOST_ONLY)
    assert len(host_only["big"]) == MAX_HOST_ONLY_VALUE_CHARS and [issue["code"] for issue in issues] == ["value_truncated"]
    host, _issues = collect_items([RawItem(name="big", data=long_value, source=0, class_name="Msvm_KvpExchangeDataItem")], SOURCE_HOST)
    assert len(host["big"]) == MAX_VALUE_CHARS


@pytest.mark.parametrize("code, hyperv, meaning", [
    (4096, True, "job started"), (32768, True, "failed"), (32769, True, "access denied"), (32770, True, "not supported"),
    (32773, True, "invalid parameter"), (32775, True, "invalid state for this operation"),
    (2, True, "unknown return value"), (5, True, "unknown return value"),  # Win32 meanings never apply to Msvm_* methods
    (2, False, "not found"), (5, False, "access denied"), (32773, False, "invalid parameter"),
])
def test_return_values_mean_what_the_class_says(code, hyperv, meaning):
    assert return_value_meaning(code, hyperv=hyperv) == meaning


def test_the_host_digital_pid2_is_a_fact():
    facts = product_facts(dict(Name="Windows(R), ServerDatacenter edition", LicenseStatus=1,
                               AutomaticVMActivationHostDigitalPid2="03612-03917-000-000000-03-1033-20348.0000-3292026"))
    assert facts["avma_host_digital_pid2"] == "03612-03917-000-000000-03-1033-20348.0000-3292026"
    assert product_facts(dict(Name="x"))["avma_host_digital_pid2"] is None
