# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's persistence: a snapshot of the fleet and a journal of what changed since (``statedir``, ``store``'s
change log, ``Lab``). A write costs what it changed; a restart, also after SIGKILL, restores exactly what was
answered; a torn journal tail is dropped; compaction, a changed fleet file and ``POST /reset``."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest
import winrm
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hvlab import hyperv
from hvlab.admin import admin_request
from hvlab.cli import open_lab
from hvlab.fleet import Fleet
from hvlab.migration import migrate
from hvlab.schema import ClassRegistry, cim_class
from hvlab.service import WsmanService
from hvlab.store import ChangeLog, CimStore

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    HKLM, SERVICE_URI, VM_KEY, data_item, fleet_path, invoke_service, item_map, kvp_call, registry_call, return_value, service_selectors,
    settings_text, vm_reference)
from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import FakeClock, request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
WEB = hyperv.guest_vm_id("kvpweb")
OFF = hyperv.guest_vm_id("kvpoff")
PASSWORD = "Lab-Passw0rd!"


# ---- the change log of a store: what it drains, replayed, gives the store again ------------------------------------

THING = cim_class("root/test", "Thing", keys=("Name",), properties="Name:string Size:uint32 Shared:boolean Tags:string[]")
NAMES = ("alpha", "Beta", "GAMMA")
OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NAMES), st.integers(0, 3)),
    st.tuples(st.just("remove"), st.sampled_from(NAMES)),
    st.tuples(st.just("readd"), st.sampled_from(NAMES)),
    st.tuples(st.just("size"), st.sampled_from(NAMES), st.integers(0, 3)),
    st.tuples(st.just("shared"), st.sampled_from(NAMES), st.booleans()),
    st.tuples(st.just("tags"), st.sampled_from(NAMES), st.lists(st.sampled_from("xyz"), max_size=3)),
    st.tuples(st.just("append"), st.sampled_from(NAMES), st.sampled_from("xyz")),
    st.tuples(st.just("pop"), st.sampled_from(NAMES)),
    st.tuples(st.just("sort"), st.sampled_from(NAMES)),
    st.tuples(st.just("update"), st.sampled_from(NAMES), st.integers(0, 3)),
    st.tuples(st.just("drain")),
), max_size=40)


def _apply(store, operation):
    kind, name = operation[0], operation[1] if len(operation) > 1 else None
    instance = store.find(THING, {"Name": name}) if name else None
    if kind == "add" and instance is None:
        store.add(THING, THING.new_instance(Name=name, Size=operation[2], Shared=False, Tags=["x"]))
    elif instance is None:
        return
    elif kind == "remove":
        store.remove(THING, instance)
    elif kind == "readd":
        store.remove(THING, instance)
        store.add(THING, dict(instance, Size=instance["Size"] + 1))
    elif kind == "size":
        instance["Size"] = operation[2]
    elif kind == "shared":
        instance["Shared"] = operation[2]
    elif kind == "tags":
        instance["Tags"] = operation[2] or None
    elif kind == "append" and instance["Tags"] is not None:
        instance["Tags"].append(operation[2])
    elif kind == "pop" and instance["Tags"]:
        instance["Tags"].pop()
    elif kind == "sort" and instance["Tags"]:
        instance["Tags"].sort(reverse=True)
    elif kind == "update":
        instance.update(Size=operation[2], Shared=True)


def _replay(store, records):
    for kind, _label, slot, value in records:
        if kind == "put":
            store.put(store.class_at(slot), value)
        else:
            store.delete(store.class_at(slot), value)


@settings(max_examples=300, deadline=None)
@given(before=OPERATIONS, after=OPERATIONS)
# Changed in place first, then added again after another was added: it is last now.
@example(before=[("add", "alpha", 1)], after=[("size", "alpha", 2), ("add", "Beta", 0), ("readd", "alpha")])
def test_replaying_what_the_log_drains_gives_the_same_instances_in_the_same_order(before, after):
    registry = ClassRegistry([THING])
    store, replica, changes = CimStore(registry), CimStore(registry), ChangeLog()
    for operation in before:
        _apply(store, operation)
    replica.restore_state(store.to_state())
    store.track("machine", changes)
    for operation in after + [("drain",)]:
        if operation[0] == "drain":
            _replay(replica, changes.drain())
            assert replica.to_state() == store.to_state()
        else:
            _apply(store, operation)


def test_a_value_set_to_what_it_already_is_is_no_change():
    registry = ClassRegistry([THING])
    store, changes = CimStore(registry), ChangeLog()
    store.track("machine", changes)
    instance = store.add(THING, THING.new_instance(Name="alpha", Size=1, Shared=False, Tags=["x"]))
    changes.drain()

    instance.update(Size=1, Shared=False, Tags=["x"])
    instance["Size"] = 1
    assert changes.drain() == []
    instance.update(Size=2, Shared=False)
    assert [record[3]["Size"] for record in changes.drain()] == [2]


# ---- the fleet: real requests, drained and replayed --------------------------------------------------------------

def test_the_fleets_drained_changes_replay_to_the_same_state():
    fleet = Fleet.load(fleet_path("kvp_host"))
    service = WsmanService(fleet, clock=FakeClock())
    before = fleet.to_state()
    fleet.track_changes()
    records = []

    assert return_value(kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1"), ("b", "2")])[2]) == 4096
    assert return_value(kvp_call(service, "hv1", "ModifyKvpItems", WEB, [("a", "3")])[2]) == 4096
    records += fleet.drain_changes()
    assert return_value(kvp_call(service, "hv1", "RemoveKvpItems", WEB, [("b", "")])[2]) == 4096
    assert registry_call(service, "kvpweb", "SetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest",
                         sValueName="Role", sValue="db")[0] == 0
    params = "<p:ResourceSettings>%s</p:ResourceSettings>" % settings_text(OFF, 2)
    assert return_value(invoke_service(service, "hv1", "ModifyResourceSettings", params)[2]) == 4096
    service.apply(lambda fleet: migrate(fleet, {"vm": "web01", "to": "hv2"}))
    records += fleet.drain_changes()

    replica = Fleet.load(fleet_path("kvp_host"))
    replica.restore_state(json.loads(json.dumps(before)))
    replica.replay_changes(json.loads(json.dumps(records)))
    assert replica.to_state() == fleet.to_state()
    assert hyperv.guest_vm_status(replica, replica.machines["kvpweb"]).host.name == "hv2"


def test_a_malformed_change_record_is_refused_with_the_machine():
    fleet = Fleet.load(fleet_path("kvp_host"))
    with pytest.raises(ValueError, match="hv1"):
        fleet.replay_changes([["put", "hv1", "root/nowhere/Nothing", {}]])
    with pytest.raises(ValueError, match="not a change record"):
        fleet.replay_changes([["rename", "hv1", "x", {}]])


# ---- the lab: journal, restart, compaction -------------------------------------------------------------------------

def synthetic_fleet(directory, vms):
    path = os.path.join(directory, "fleet-%d.yml" % vms)
    with open(path, "w", encoding="utf-8") as output:
        output.write('defaults:\n  credentials: [{user: Administrator, password: "%s"}]\n'
                     '  os: {version: "2022", edition: ServerDatacenter}\nmachines:\n'
                     '  hv01:\n    address: 127.0.61.1\n    kind: host\n    hyperv: {jobs: sync}\n'
                     '    synthetic_vms: {count: %d, name_prefix: vm, guest_items: {Role: tenant}}\n' % (PASSWORD, vms))
    return path


def test_a_write_journals_the_same_bytes_on_a_host_of_5_or_1000_vms(tmp_path):
    growth = {}
    for vms in (5, 1000):
        lab = open_lab(synthetic_fleet(str(tmp_path), vms), str(tmp_path / ("lab%d" % vms)), http_port=0, https_port=0,
                       log_requests=False)
        lab.start()
        try:
            vm_id = lab.service.apply(lambda fleet: hyperv.vms_named(fleet, "vm0002")[0][1].vm_id)
            journal = lab.state_dir.journal_file(1)
            before = os.path.getsize(journal)
            assert return_value(kvp_call(lab.service, "hv01", "AddKvpItems", vm_id, [("owner", "team-a")], "HV01")[2]) == 0
            lab.persist()
            growth[vms] = os.path.getsize(journal) - before
        finally:
            lab.stop()
    assert growth[5] == growth[1000] > 0


@pytest.fixture(name="kvp_lab")
def kvp_lab_fixture(tmp_path):
    shutil.copy(fleet_path("kvp_host"), tmp_path / "fleet.yml")
    lab = start_lab(tmp_path)
    yield lab
    lab.stop()


def start_lab(tmp_path):
    lab = open_lab(str(tmp_path / "fleet.yml"), str(tmp_path / "lab"), http_port=0, https_port=0, log_requests=False)
    lab.start()
    return lab


def saved_fleet(tmp_path):
    """The fleet a lab started now from ``tmp_path``'s state directory would serve (None: it would start fresh)."""
    lab = open_lab(str(tmp_path / "fleet.yml"), str(tmp_path / "lab"), http_port=0, https_port=0, log_requests=False)
    return lab.fleet if lab.load_saved_state() else None


def host_items(fleet, vm_id=WEB):
    host, record = hyperv.locate_vm(fleet, vm_id)
    return host.name, dict(hyperv.item_pairs(record.kvp_settings["HostExchangeItems"]))


def add_items(lab, items, vm_id=WEB):
    assert return_value(kvp_call(lab.service, "hv1", "AddKvpItems", vm_id, items)[2]) == 4096
    lab.persist()


def test_a_restart_restores_exactly_what_was_written(kvp_lab, tmp_path):
    add_items(kvp_lab, [("first", "1")])
    add_items(kvp_lab, [("second", "2")])

    restored = saved_fleet(tmp_path)
    assert restored.to_state() == kvp_lab.fleet.to_state()
    assert host_items(restored)[1]["second"] == "2"


def test_a_torn_last_journal_line_is_dropped_and_the_journal_goes_on_after_it(kvp_lab, tmp_path):
    add_items(kvp_lab, [("first", "1")])
    kvp_lab.stop()
    answered = kvp_lab.fleet.to_state()
    journal = kvp_lab.state_dir.journal_file(1)
    with open(journal, "ab") as output:
        output.write(b'[["put","hv1","root/virtualization/v2/Msvm_KvpExchangeComponentSettingData",{"Caption"')

    again = start_lab(tmp_path)
    assert again.restored and again.fleet.to_state() == answered
    add_items(again, [("after", "2")])
    again.stop()

    restored = saved_fleet(tmp_path)
    assert restored.to_state() == again.fleet.to_state()
    assert sorted(host_items(restored)[1]) == ["LegacyActivationNote", "after", "first", "hyperv.avma.owner"]
    with open(journal, "rb") as lines:
        assert all(isinstance(json.loads(line), list) for line in lines)


def test_an_unreadable_last_line_is_dropped_but_one_in_the_middle_stops_the_start(kvp_lab, tmp_path):
    add_items(kvp_lab, [("first", "1")])
    kvp_lab.stop()
    journal = kvp_lab.state_dir.journal_file(1)
    with open(journal, "ab") as output:
        output.write(b"\x00\x00\x00\n")
    assert saved_fleet(tmp_path).to_state() == kvp_lab.fleet.to_state()

    with open(journal, "ab") as output:
        output.write(b"[]\n")
    with pytest.raises(ValueError, match="journal-1.jsonl"):
        saved_fleet(tmp_path)


def test_compaction_writes_a_snapshot_and_drops_the_journal_it_replaces(kvp_lab, tmp_path):
    add_items(kvp_lab, [("first", "1")])
    kvp_lab.compact()
    add_items(kvp_lab, [("second", "2")])

    state_files = sorted(os.listdir(kvp_lab.state_dir.state_dir))
    assert state_files == ["journal-2.jsonl", "snapshot.jsonl"]
    with open(kvp_lab.state_dir.snapshot_file, encoding="utf-8") as snapshot:
        assert json.loads(snapshot.readline())["journal"] == 2
    with open(kvp_lab.state_dir.journal_file(2), encoding="utf-8") as journal:
        assert len(journal.readlines()) == 1
    assert saved_fleet(tmp_path).to_state() == kvp_lab.fleet.to_state()


def test_a_journal_larger_than_the_snapshot_is_compacted_in_the_background(kvp_lab):
    kvp_lab.compact_bytes = 0
    snapshot_bytes = os.path.getsize(kvp_lab.state_dir.snapshot_file)
    for batch in range(4):
        add_items(kvp_lab, [("bulk-%d-%d" % (batch, index), "x" * 1000) for index in range(100)])
    deadline = time.monotonic() + 60
    while os.path.exists(kvp_lab.state_dir.journal_file(1)) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert not os.path.exists(kvp_lab.state_dir.journal_file(1))
    assert os.path.getsize(kvp_lab.state_dir.snapshot_file) > snapshot_bytes


def test_a_compaction_cut_short_before_its_snapshot_loses_nothing(kvp_lab, tmp_path, monkeypatch):
    add_items(kvp_lab, [("first", "1")])

    def no_space(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kvp_lab.state_dir, "write_snapshot", no_space)
    with pytest.raises(OSError):
        kvp_lab.compact()
    add_items(kvp_lab, [("second", "2")])

    assert sorted(os.listdir(kvp_lab.state_dir.state_dir)) == ["journal-1.jsonl", "journal-2.jsonl", "snapshot.jsonl"]
    assert saved_fleet(tmp_path).to_state() == kvp_lab.fleet.to_state()


def test_writers_and_compactions_at_once_lose_nothing(kvp_lab, tmp_path):
    errors = []

    def writer(number):
        try:
            for index in range(15):
                add_items(kvp_lab, [("w%d-%d" % (number, index), str(index))], vm_id=(WEB, OFF)[number % 2])
        except Exception as error:  # pylint: disable=broad-exception-caught
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        kvp_lab.compact()
    for thread in threads:
        thread.join()

    assert errors == []
    restored = saved_fleet(tmp_path)
    assert restored.to_state() == kvp_lab.fleet.to_state()
    assert len(host_items(restored, WEB)[1]) + len(host_items(restored, OFF)[1]) == 60 + 3


def test_a_changed_fleet_file_starts_fresh(kvp_lab, tmp_path):
    add_items(kvp_lab, [("first", "1")])
    kvp_lab.compact()
    kvp_lab.stop()
    with open(tmp_path / "fleet.yml", "a", encoding="utf-8") as fleet_file:
        fleet_file.write("# changed\n")

    assert saved_fleet(tmp_path) is None
    fresh = start_lab(tmp_path)
    fresh.stop()
    assert not fresh.restored and "first" not in host_items(fresh.fleet)[1]
    assert sorted(os.listdir(fresh.state_dir.state_dir)) == ["journal-1.jsonl", "snapshot.jsonl"]


def test_a_reset_is_saved_and_writes_after_it_follow_it(kvp_lab, tmp_path):
    initial_items = host_items(kvp_lab.fleet)[1]
    add_items(kvp_lab, [("before-reset", "1")])
    kvp_lab.reset()
    add_items(kvp_lab, [("after-reset", "2")])

    restored = saved_fleet(tmp_path)
    assert restored.to_state() == kvp_lab.fleet.to_state()
    assert host_items(restored)[1] == dict(initial_items, **{"after-reset": "2"})


def test_the_state_of_an_older_lab_is_refused_with_what_to_do(tmp_path):
    shutil.copy(fleet_path("kvp_host"), tmp_path / "fleet.yml")
    os.makedirs(tmp_path / "lab" / "state" / "machines")
    (tmp_path / "lab" / "state" / "fleet.json").write_text('{"format": 2, "fleet_sha256": "x"}\n')
    with pytest.raises(ValueError, match="older hvlab.*delete it"):
        saved_fleet(tmp_path)


# ---- SIGKILL: every answered write survives --------------------------------------------------------------------------

def hvlab(*arguments):
    return subprocess.run([sys.executable, "-m", "hvlab", *arguments], env=dict(os.environ, PYTHONPATH=TESTS), cwd=TESTS,
                          capture_output=True, text=True, timeout=120, check=False)


def add_item_envelope(name):
    params = "<p:TargetSystem>%s</p:TargetSystem><p:DataItems>%s</p:DataItems>" % (vm_reference(WEB), data_item(name, "1"))
    body = '<p:AddKvpItems_INPUT xmlns:p="%s">%s</p:AddKvpItems_INPUT>' % (SERVICE_URI, params)
    return request(SERVICE_URI + "/AddKvpItems", SERVICE_URI, body, selectors=service_selectors("HV1"))


def test_every_answered_write_survives_a_sigkill(tmp_path):
    shutil.copy(fleet_path("kvp_host"), tmp_path / "fleet.yml")
    lab_dir = str(tmp_path / "lab")
    started = hvlab("up", str(tmp_path / "fleet.yml"), "--dir", lab_dir, "--http-port", "0", "--https-port", "0")
    assert started.returncode == 0, started.stderr
    with open(os.path.join(lab_dir, "admin.json"), encoding="utf-8") as admin_file:
        admin = json.load(admin_file)
    try:
        port = {machine["name"]: machine for machine in admin_request(admin["url"], "GET", "/machines")[1]["machines"]}["hv1"]
        endpoint = "http://%s:%d/wsman" % (port["address"], port["ports"]["http"])
        answered, stop = [], threading.Event()

        def writer(number):
            client = winrm.Protocol(endpoint, transport="ntlm", username="Administrator", password=PASSWORD, proxy=None)
            index = 0
            while not stop.is_set():
                name = "w%d-%d" % (number, index)
                try:
                    client.send_message(add_item_envelope(name))
                except Exception:  # pylint: disable=broad-exception-caught
                    return  # the lab was killed
                answered.append(name)
                index += 1

        threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(answered) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(admin["pid"], signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join()
        killed_with = list(answered)
    finally:
        if hvlab("down", "--dir", lab_dir).returncode != 0:
            os.kill(admin["pid"], signal.SIGKILL)

    assert len(killed_with) >= 40
    restarted = hvlab("up", str(tmp_path / "fleet.yml"), "--dir", lab_dir, "--http-port", "0", "--https-port", "0")
    assert restarted.returncode == 0, restarted.stderr
    try:
        with open(os.path.join(lab_dir, "admin.json"), encoding="utf-8") as admin_file:
            admin = json.load(admin_file)
        assert admin_request(admin["url"], "GET", "/health")[1]["restored"] is True
        port = {machine["name"]: machine for machine in admin_request(admin["url"], "GET", "/machines")[1]["machines"]}["hv1"]
        client = winrm.Protocol("http://%s:%d/wsman" % (port["address"], port["ports"]["http"]), transport="ntlm",
                                username="Administrator", password=PASSWORD, proxy=None)
        settings_uri = SERVICE_URI.rsplit("/", 1)[0] + "/Msvm_KvpExchangeComponentSettingData"
        answer = client.send_message(request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", settings_uri,
                                             selectors={"InstanceID": hyperv.kvp_settings_id(WEB)}))
    finally:
        hvlab("down", "--dir", lab_dir)
    items = item_map(_host_exchange_items(answer))
    assert set(killed_with) <= set(items)


def _host_exchange_items(answer):
    root = ET.fromstring(answer)
    return [element.text for element in root.iter() if element.tag.endswith("}HostExchangeItems")]


# ---- lookups: a request to a guest does not look at every host ------------------------------------------------------

def test_a_guest_write_looks_for_its_vm_on_one_host_once_it_was_found(monkeypatch):
    machines = {"hv%02d" % number: {"address": "127.0.62.%d" % number, "kind": "host"} for number in range(1, 21)}
    machines["guest"] = {"address": "127.0.62.100", "kind": "guest", "hyperv_host": "hv20", "vm": {"name": "guest"}}
    fleet = Fleet.from_document({"defaults": {"credentials": [{"user": "Administrator", "password": PASSWORD}],
                                              "os": {"version": "2022", "edition": "ServerDatacenter"}},
                                 "machines": machines})
    service = WsmanService(fleet, clock=FakeClock())
    looked_at = []
    real_vm_record = hyperv.vm_record
    monkeypatch.setattr(hyperv, "vm_record", lambda host, vm_id: looked_at.append(host.name) or real_vm_record(host, vm_id))

    for value in ("db", "web"):
        looked_at.clear()
        assert registry_call(service, "guest", "SetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest",
                             sValueName="Role", sValue=value)[0] == 0
    assert looked_at == ["hv20"]
    assert host_items(fleet, hyperv.guest_vm_id("guest"))[0] == "hv20"
    service.apply(lambda fleet: migrate(fleet, {"vm": "guest", "to": "hv01"}))
    assert host_items(fleet, hyperv.guest_vm_id("guest"))[0] == "hv01"
