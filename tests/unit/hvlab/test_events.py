# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Win32_NTLogEvent: the event logs a machine starts with (fleet file ``events``), WQL on them (datetimes in DMTF and
ISO form), the instance on the wire, record numbering, and the events in the saved state."""

import json
import os
from datetime import datetime, timezone

import pytest

from hvlab import eventlog
from hvlab.fleet import Fleet
from hvlab.service import WsmanService

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import (
    FOUNDATION, NS, WMI, FakeClock, call, fault_summary, find, findall, get_request, invoke_request, local, make_service,
    wql_enumerate)

MATRIX = os.path.join(os.path.dirname(FOUNDATION), "avma_matrix.yml")
EVENT_URI = WMI + "Win32_NTLogEvent"
CREDENTIALS = [{"user": "Administrator", "password": "Lab-Passw0rd!"}]


def fleet_document(events=None, accepted_keys=None):
    machine = {"address": "127.0.42.1", "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"}}
    if events is not None:
        machine["events"] = events
    if accepted_keys is not None:
        machine["accepted_keys"] = accepted_keys
    return {"defaults": {"credentials": CREDENTIALS}, "machines": {"hv": machine}}


def record_numbers(service, machine, where):
    _reply, root = call(service, machine, wql_enumerate("SELECT RecordNumber FROM Win32_NTLogEvent WHERE " + where,
                                                        max_elements=1000))
    return [int(node.text) for node in findall(root, "s:Body/n:EnumerateResponse/w:Items/w:XmlFragment/RecordNumber")]


@pytest.mark.parametrize("where, expected", [
    ("Logfile = 'Application' AND EventCode = 12310", [1, 2]),
    ("logfile = 'application' AND EventCode = 12309", []),
    ("Logfile = 'Application' AND EventCode = 12310 AND TimeGenerated >= '20261115000000.000000+000'", [2]),
    ("Logfile = 'Application' AND EventCode = 12310 AND TimeGenerated >= '20261120060004.000000+000'", [2]),
    ("Logfile = 'Application' AND EventCode = 12310 AND TimeGenerated > '20261120060004.000000+000'", []),
    # 07:00:04 at UTC+60 minutes is 06:00:04 UTC.
    ("Logfile = 'Application' AND TimeGenerated >= '20261120070004.000000+060'", [2]),
    ("Logfile = 'Application' AND TimeGenerated < '2026-11-20T00:00:00Z'", [1]),
    ("RecordNumber > 1", [2]),
    ("Logfile = 'System'", []),
])
def test_wql_on_the_seeded_host_events(where, expected):
    assert record_numbers(make_service(MATRIX), "hv2025", where) == expected


def test_an_event_on_the_wire_has_the_windows_shape():
    service = make_service(MATRIX)
    _reply, root = call(service, "hv2025", wql_enumerate(
        "SELECT * FROM Win32_NTLogEvent WHERE RecordNumber = 2", max_elements=10))
    event = find(root, "s:Body/n:EnumerateResponse/w:Items/{%s}Win32_NTLogEvent" % EVENT_URI)
    names = [local(child.tag) for child in event]
    collapsed = [name for index, name in enumerate(names) if index == 0 or names[index - 1] != name]
    assert collapsed == sorted(collapsed, key=str.lower) and names.count("InsertionStrings") == 5
    assert set(names) == {"Category", "CategoryString", "ComputerName", "Data", "EventCode", "EventIdentifier",
                          "EventType", "InsertionStrings", "Logfile", "Message", "RecordNumber", "SourceName",
                          "TimeGenerated", "TimeWritten", "Type", "User"}

    def value(name):
        return event.find("{%s}%s" % (EVENT_URI, name))

    assert [node.text for node in event.findall("{%s}InsertionStrings" % EVENT_URI)] == [
        "g22mak", "G22MAK", "Microsoft Windows Server 2022 Datacenter", "AVMA Success", "0x00000000"]
    assert value("Data").get("{%s}nil" % NS["xsi"]) == "true"
    assert value("TimeGenerated").find("{%s}Datetime" % NS["cim"]).text == "2026-11-20T06:00:04Z"
    assert (value("EventCode").text, value("EventIdentifier").text) == ("12310", str(0x40000000 | 12310))
    assert (value("EventType").text, value("Type").text, value("Logfile").text) == ("3", "Information", "Application")
    assert value("SourceName").text == eventlog.AVMA_SOURCE and value("ComputerName").text == "HV2025"
    assert value("Message").text == ("Automatic Virtual Machine Activation request from virtual machine g22mak (guest "
                                     "computer G22MAK, Microsoft Windows Server 2022 Datacenter): AVMA Success. "
                                     "Result code: 0x00000000.")


def test_get_an_event_by_its_keys():
    reply, root = call(make_service(MATRIX), "g22mak", get_request(
        "Win32_NTLogEvent", {"Logfile": "Application", "RecordNumber": "1"}))
    assert reply.status == 200
    assert find(root, "s:Body/{%s}Win32_NTLogEvent/{%s}TimeGenerated" % (EVENT_URI, EVENT_URI))[0].text == \
        "2026-11-13T06:00:02Z"
    reply, root = call(make_service(MATRIX), "g22mak", get_request(
        "Win32_NTLogEvent", {"Logfile": "Application", "RecordNumber": "99"}))
    assert reply.status == 500 and fault_summary(root)[2] == [2150858752]


def test_seeded_events_are_numbered_in_time_order_with_defaults_filled_in():
    fleet = Fleet.from_document(fleet_document(events=[
        {"id": 12310, "time": "2026-11-20T06:00:00Z", "insertion_strings": ["vm2", "G2"], "type": "warning"},
        {"log": "system", "id": 7036, "time": "2026-11-01T00:00:00Z", "source": "Service Control Manager",
         "message": "The Hyper-V service entered the running state.", "type": "error"},
        {"id": 12310, "time": "2026-11-19T06:00:00+01:00", "insertion_strings": ["vm1"]},
    ]), "fleet.yml")
    machine = fleet.machines["hv"]
    records = machine.store.instances(machine.registry.lookup("root/cimv2", "Win32_NTLogEvent"))
    summary = [(event["Logfile"], event["RecordNumber"], event["InsertionStrings"][:1], event["Type"]) for event in records]
    assert summary == [("System", 1, [], "Error"), ("Application", 1, ["vm1"], "Information"),
                       ("Application", 2, ["vm2"], "Warning")]
    assert records[0]["Message"] == "The Hyper-V service entered the running state."
    assert records[1]["Message"] == ("Automatic Virtual Machine Activation request from virtual machine vm1 (guest "
                                     "computer , ): . Result code: .")
    assert records[2]["SourceName"] == "Microsoft-Windows-Security-SPP"
    assert records[2]["EventIdentifier"] == (0x8000 << 16) | 12310
    assert records[0]["EventIdentifier"] == (0xC000 << 16) | 7036


def test_events_written_at_runtime_follow_the_seeded_ones_and_survive_a_restart(monkeypatch):
    monkeypatch.setattr(eventlog, "now", lambda: datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc))
    service = make_service(MATRIX)
    version = service.fleet.machines["g22dc"].store.instances(
        service.fleet.machines["g22dc"].registry.lookup("root/cimv2", "SoftwareLicensingService"))[0]["Version"]
    reply = service.handle("g22dc", invoke_request(
        "SoftwareLicensingService", "InstallProductKey", params="<p:ProductKey>W3GNR-8DDXR-2TFRP-H8P33-DV9BG</p:ProductKey>",
        selectors={"Version": version}), user="Administrator")
    assert reply.status == 200 and reply.wrote
    assert record_numbers(service, "hv2025", "EventCode = 12310") == [1, 2, 3]
    assert record_numbers(service, "hv2025", "TimeGenerated >= '20261127100000.000000+000'") == [3]
    state = json.loads(json.dumps(service.fleet.to_state()))
    assert len(state["machines"]["hv2025"]["instances"]["root/cimv2/Win32_NTLogEvent"]) == 3
    restarted = WsmanService(Fleet.load(MATRIX), clock=FakeClock())
    restarted.fleet.restore_state(state)
    assert record_numbers(restarted, "hv2025", "EventCode = 12310") == [1, 2, 3]
    assert record_numbers(restarted, "g22dc", "EventCode = 12309") == [1]
    restarted.reset()
    assert record_numbers(restarted, "hv2025", "EventCode = 12310") == [1, 2]


def test_events_cannot_be_written_through_wmi():
    reply, root = call(make_service(MATRIX), "hv2025", invoke_request(
        "Win32_NTLogEvent", "ClearEventLog", selectors={"Logfile": "Application", "RecordNumber": "1"}))
    assert reply.status == 500 and fault_summary(root)[3] == 0x8004102E


@pytest.mark.parametrize("template, strings, expected", [
    ("%1 on %2", ["a", "b"], "a on b"),
    ("%1 on %2", ["a"], "a on "),
    ("%2%1", ["x", "y"], "yx"),
    ("%1 and %10", ["a"], "a and "),
    ("%1 then %2", ["100%2", "b"], "100%2 then b"),
])
def test_messages_are_filled_like_the_event_viewer(template, strings, expected):
    assert eventlog.render_message(template, strings) == expected


@pytest.mark.parametrize("events, accepted_keys, message", [
    ([{"id": 12310}], None, "events[0].time: is required"),
    ([{"id": 12310, "time": "yesterday"}], None, "events[0].time"),
    ([{"id": 70000, "time": "2026-11-20T06:00:00Z"}], None, "events[0].id"),
    ([{"id": 1, "time": "2026-11-20T06:00:00Z", "log": "Security"}], None, "events[0].log"),
    ([{"id": 1, "time": "2026-11-20T06:00:00Z", "type": "fatal"}], None, "events[0].type"),
    ([{"id": 1, "time": "2026-11-20T06:00:00Z", "insertion_strings": "x"}], None, "events[0].insertion_strings"),
    ([{"id": 1, "time": "2026-11-20T06:00:00Z", "source": ""}], None, "events[0].source"),
    ([{"id": 1, "time": "2026-11-20T06:00:00Z", "message": 5}], None, "events[0].message"),
    ([{"id": 1, "time": "2026-11-20T06:00:00Z", "level": 5}], None, "events[0].level: unknown field"),
    ("x", None, "events: must be a list"),
    (None, [{"key": "12345", "channel": "mak"}], "accepted_keys[0].key: must be a product key"),
    (None, [{"key": "W3GNR-8DDXR-2TFRP-H8P33-DV9BG", "channel": "mak"}], "accepted_keys[0].key: is a public AVMA key"),
    (None, [{"key": "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "channel": "avma"}], "accepted_keys[0].channel"),
    (None, [{"key": "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "channel": "mak", "edition": "Home"}], "accepted_keys[0].edition"),
    (None, [{"key": "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "channel": "mak", "activates": "yes"}], "accepted_keys[0].activates"),
    (None, [{"key": "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "channel": "mak"},
            {"key": "bbbbb-ccccc-ddddd-fffff-ggggg", "channel": "kms"}], "accepted_keys[1].key: is declared twice"),
    (None, [{"key": "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "channel": "mak", "secret": 1}], "accepted_keys[0].secret"),
])
def test_fleet_file_errors_name_the_field(events, accepted_keys, message):
    with pytest.raises(ValueError) as raised:
        Fleet.from_document(fleet_document(events, accepted_keys), "fleet.yml")
    assert "fleet.yml: machine 'hv': " + message in str(raised.value)


def test_accepted_keys_are_read_with_their_defaults():
    fleet = Fleet.from_document(fleet_document(accepted_keys=[
        {"key": "bbbbb-ccccc-ddddd-fffff-ggggg", "channel": "kms"},
        {"key": "CCCCC-DDDDD-FFFFF-GGGGG-HHHHH", "channel": "retail", "edition": "serverstandard",
         "product_key_channel": "Retail:TB"}]))
    first, second = fleet.machines["hv"].spec.accepted_keys
    assert (first.key, first.channel, first.edition_id, first.activates) == (
        "BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "kms", "ServerDatacenter", False)
    assert (second.edition_id, second.activates, second.product_key_channel) == ("ServerStandard", True, "Retail:TB")


def test_every_machine_has_the_event_class_and_foundation_logs_start_empty():
    service = make_service()
    for machine in ("hv2022", "g2022dc"):
        assert record_numbers(service, machine, "Logfile = 'Application'") == []
