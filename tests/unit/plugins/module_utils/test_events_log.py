# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AVMA events from Win32_NTLogEvent: the WQL bounds, since parsing, decoding, ordering and bounds on event text."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.hyperv.avma.tests.unit.plugins.module_utils.fake_guest_cim import FakeGuest, event_row

from ansible_collections.hyperv.avma.plugins.module_utils import _events as events
from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def enumerate_response(*rows):
    """A synthetic EnumerateResponse that fits in one envelope (shape of the foundation's Win32_OperatingSystem sample)."""
    uri = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_NTLogEvent"
    items = "".join(
        '<p:Win32_NTLogEvent xmlns:p="%s" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common">'
        "<p:EventCode>%d</p:EventCode><p:InsertionStrings>%s</p:InsertionStrings><p:Logfile>Application</p:Logfile>"
        "<p:Message>%s</p:Message><p:RecordNumber>%d</p:RecordNumber><p:SourceName>SPP</p:SourceName>"
        "<p:TimeGenerated><cim:Datetime>%s</cim:Datetime></p:TimeGenerated></p:Win32_NTLogEvent>" % (uri, code, strings, message, record, when)
        for code, record, when, message, strings in rows)
    return ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
            "<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse</a:Action>"
            "<a:MessageID>uuid:1</a:MessageID><a:RelatesTo>uuid:0</a:RelatesTo></s:Header>"
            "<s:Body><n:EnumerateResponse><w:Items>%s</w:Items><w:EndOfSequence/></n:EnumerateResponse></s:Body></s:Envelope>" % items).encode()


def test_the_wql_carries_log_ids_and_time(make_client):
    wsman, transport = make_client(enumerate_response(
        (12309, 7, "2026-11-20T08:30:00Z", "AVMA Success", "HV2022"),
        (12309, 9, "2026-11-20T09:30:00+01:00", "x", "Invalid Host"),
    ))
    found = events.read_events(CimClient(wsman), since=datetime.datetime(2026, 11, 13, 12, 0, tzinfo=UTC), max_events=5)
    wql = transport.requests[0].body_text("n:Enumerate/w:Filter")
    assert wql.startswith("SELECT ")
    assert wql.endswith(" FROM Win32_NTLogEvent WHERE Logfile = 'Application' AND (EventCode = 12309 OR EventCode = 12310)"
                        " AND TimeGenerated >= '20261113120000.000000+000'")
    # max_events does not bound the enumeration: the newest events could come last
    assert transport.requests[0].body_text("n:Enumerate/w:MaxElements") != "5"
    # Both were generated at 08:30 UTC (in two spellings): the same instant, so the higher record number comes first.
    assert [event["record_number"] for event in found] == [9, 7]
    assert found[0]["insertion_strings"] == ["Invalid Host"]  # a one-element array stays a list
    assert found[0]["outcome"]["name"] == "invalid_host"
    assert found[1]["outcome"]["name"] == "success"


def test_events_query_bounds():
    assert events.events_query((12310,)) == "Logfile = 'Application' AND (EventCode = 12310)"
    since = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert events.events_query((12309,), since).endswith("TimeGenerated >= '20261120080000.000000+000'")


@pytest.mark.parametrize("event_ids", [(), ("12309",), (True,), (70000,), (-1,)])
def test_bad_event_ids(event_ids):
    with pytest.raises(AvmaValueError):
        events.events_query(event_ids)


@pytest.mark.parametrize("since, expected", [
    ("7d", NOW - datetime.timedelta(days=7)),
    ("12h", NOW - datetime.timedelta(hours=12)),
    (" 30M ", NOW - datetime.timedelta(minutes=30)),
    ("90s", NOW - datetime.timedelta(seconds=90)),
    ("2w", NOW - datetime.timedelta(weeks=2)),
    ("2026-11-01T00:00:00Z", datetime.datetime(2026, 11, 1, tzinfo=UTC)),
    ("2026-11-01T02:00:00+02:00", datetime.datetime(2026, 11, 1, tzinfo=UTC)),
    ("2026-11-01", datetime.datetime(2026, 11, 1, tzinfo=UTC)),
    (None, None),
])
def test_parse_since(since, expected):
    assert events.parse_since(since, now=NOW) == expected


@pytest.mark.parametrize("since", ["yesterday", "7y", "-7d", "7 days"])
def test_bad_since(since):
    with pytest.raises(AvmaValueError, match="neither a duration"):
        events.parse_since(since, now=NOW)


def test_event_texts_are_bounded_and_kept_raw():
    row = event_row(1, 12309, NOW, message="AVMA Success " + "x" * 10000, strings=["s" * 5000] * 100)
    row["SourceName"] = "p" * 1000
    record = events.event_record(row)
    assert len(record["message"]) == events.MAX_MESSAGE_CHARS
    assert len(record["insertion_strings"]) == events.MAX_INSERTION_STRINGS
    assert all(len(text) == events.MAX_INSERTION_STRING_CHARS for text in record["insertion_strings"])
    assert len(record["provider"]) == events.MAX_TEXT_CHARS
    assert record["truncated"] is True
    assert record["outcome"]["name"] == "success"
    assert record["raw"]["EventIdentifier"] == 1073754133
    assert record["raw"]["TimeGenerated"] == "2026-11-20T12:00:00+00:00"


def test_event_without_message_or_strings():
    record = events.event_record(event_row(3, 12310, NOW))
    assert record["message"] is None and record["insertion_strings"] == []
    assert record["outcome"] is None and record["truncated"] is False
    assert record["event_id"] == 12310 and record["provider"] == "Microsoft-Windows-Security-SPP"


def test_task_returns_events_newest_first_and_says_when_limited(monkeypatch):
    monkeypatch.setattr(events, "utc_now", lambda: NOW)
    guest = FakeGuest(events=[event_row(index, 12309 if index % 2 else 12310, NOW - datetime.timedelta(hours=index), message="AVMA Success")
                              for index in range(1, 8)])
    result = events.activation_events_task(guest, dict(event_ids=[12309, 12310], since="1d", max_events=3), False, False)
    assert result["changed"] is False
    assert result["count"] == 3 and result["limited"] is True
    assert result["since"] == "2026-11-19T12:00:00+00:00"
    assert guest.queries[0]["limit"] == events.MAX_SCANNED_EVENTS
    assert "TimeGenerated >= '20261119120000.000000+000'" in guest.queries[0]["where"]
    times = [event["time_generated"] for event in result["events"]]
    assert times == sorted(times, reverse=True)
    assert guest.writes == []


def test_task_with_room_to_spare_is_not_limited():
    guest = FakeGuest(events=[event_row(1, 12310, NOW)])
    result = events.activation_events_task(guest, dict(event_ids=[12310], since=None, max_events=100), True, True)
    assert result["count"] == 1 and result["limited"] is False and result["since"] is None
    assert "TimeGenerated" not in guest.queries[0]["where"]


@pytest.mark.parametrize("max_events", [0, 10001, True])
def test_max_events_bounds(max_events):
    guest = FakeGuest()
    with pytest.raises(AvmaValueError, match="max_events"):
        events.read_events(guest, max_events=max_events)
    assert guest.calls == []


def test_latest_guest_outcome_skips_unrecognised_events():
    guest = FakeGuest(events=[
        event_row(10, 12309, NOW, message="something new"),
        event_row(9, 12309, NOW - datetime.timedelta(minutes=1), strings=["Activation Denied"]),
        event_row(8, 12309, NOW - datetime.timedelta(minutes=2), message="AVMA Success"),
    ])
    assert events.latest_guest_outcome(guest)["record_number"] == 9
    assert events.latest_guest_outcome(FakeGuest()) is None
