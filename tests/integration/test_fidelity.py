# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 9, points 1-8: the collection's tasks against a lab fleet that behaves as the independent evidence says
real Windows does (fleets/fidelity.yml), each unconfirmed point served in more than one form. The tasks run through
the real CimClient and WsmanClient over NTLM with message encryption, as the action plugins run them."""

from __future__ import annotations

import copy
import dataclasses
import json
import pathlib

# Imported for its effect: it makes ansible_collections.hyperv.avma importable.
import collection_import  # noqa: F401 pylint: disable=unused-import
import capture_scan
import pytest
import replay

from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient, EmbeddedInstance
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError, CimMethodError
from ansible_collections.hyperv.avma.plugins.module_utils._events import ACTIVATION_EVENTS_SPEC, activation_events_task
from ansible_collections.hyperv.avma.plugins.module_utils._guest_licensing import SOFTWARE_LICENSING_PRODUCT, activation_facts_task
from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import (
    HOST_INFO_SPEC,
    INTEGRATION_SERVICE_SPEC,
    KVP_INFO_SPEC,
    KVP_ITEM_SPEC,
    KVP_SETTING,
    MANAGEMENT_SERVICE,
    host_info_task,
    integration_service_task,
    kvp_info_task,
    kvp_item_task,
    management_service,
    read_vms,
    vm_reference,
)
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings, WsmanClient

FLEET = "fidelity.yml"
FLEET_FILE = pathlib.Path(__file__).resolve().parent / "fleets" / FLEET


def params_for(spec, **given):
    params = {name: copy.deepcopy(option.get("default")) for name, option in spec.items()}
    params.update(given)
    return params


@pytest.fixture()
def connect(lab):
    clients = []

    def factory(machine):
        variables = lab.host_vars[machine]
        settings = WinrmSettings(host=variables["ansible_host"], port=lab.port(machine), scheme="http", user=variables["ansible_user"],
                                 password=variables["ansible_password"], transport="ntlm", label=machine)
        client = CimClient(WsmanClient(settings))
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


# -- 1: JobState 32768 "Completed with Warnings" is success ----------------------------------------------------------


def test_a_job_completed_with_warnings_is_a_success(lab, connect):
    params = params_for(KVP_ITEM_SPEC, vms=["web-warn"], items={"hyperv.avma.tier": "gold"}, job_poll_interval=0.05, job_timeout=10)
    result = kvp_item_task(connect("fhwarn"), params, False, False)
    assert "failed" not in result and result["changed"] is True
    assert kvp_item_task(connect("fhwarn"), params, False, False)["changed"] is False


# -- 2: numeric character references inside embedded instances ------------------------------------------------------


@pytest.mark.parametrize("host, vm", [("fhwarn", "web-warn"), ("fhgss", "web-gss")])
def test_markup_in_host_items_reaches_a_host_that_refuses_named_entities(lab, connect, host, vm):
    value = "R&D <lab> \"quoted\" 'single' https://example.test/?a=1&b=2"
    params = params_for(KVP_ITEM_SPEC, vms=[vm], items={"hyperv.avma.note": value}, job_poll_interval=0.05, job_timeout=10)
    result = kvp_item_task(connect(host), params, False, False)
    assert "failed" not in result, result.get("msg")
    read = kvp_info_task(connect(host), params_for(KVP_INFO_SPEC, vms=[vm]), False, False)
    assert read["vms"][0]["host_items"]["hyperv.avma.note"] == value


@pytest.mark.parametrize("host, code", [("fhwarn", 32773), ("fhgss", 32768)])
def test_the_lab_refuses_named_entities_with_the_code_a_host_gave(lab, connect, host, code):
    cim = connect(host)
    _name, vms = read_vms(cim)
    service = management_service(cim)
    named = '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>R&amp;D</VALUE></PROPERTY>' \
            '<PROPERTY NAME="Name" TYPE="string"><VALUE>named</VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>0</VALUE></PROPERTY></INSTANCE>'
    with pytest.raises(CimMethodError) as caught:
        cim.invoke(MANAGEMENT_SERVICE, "AddKvpItems", {"TargetSystem": vm_reference(vms[0]["id"]), "DataItems": [named]}, selectors=service)
    assert caught.value.return_value == code


# -- 3: Data Exchange through ModifyResourceSettings first, the other method on a refusal ---------------------------


@pytest.mark.parametrize("host, vm, method", [("fhwarn", "web-warn", "ModifyResourceSettings"), ("fhgss", "web-gss", "ModifyGuestServiceSettings")])
def test_data_exchange_switches_on_either_kind_of_host(lab, connect, host, vm, method):
    for state in ("disabled", "enabled", "disabled") if host == "fhwarn" else ("enabled", "disabled"):
        params = params_for(INTEGRATION_SERVICE_SPEC, vms=[vm], state=state, job_poll_interval=0.05, job_timeout=10)
        result = integration_service_task(connect(host), params, False, False)
        assert "failed" not in result, result.get("msg")
        assert result["vms"][0]["enabled"] is (state == "enabled") and result["changed"] is True
    # the second state back: leave the fleet as it started
    restore = "enabled" if host == "fhwarn" else "disabled"
    integration_service_task(connect(host), params_for(INTEGRATION_SERVICE_SPEC, vms=[vm], state=restore, job_poll_interval=0.05), False, False)
    cim = connect(host)
    setting = cim.query(KVP_SETTING, properties=["InstanceID", "EnabledState"])[0]
    refused_method = "ModifyGuestServiceSettings" if method == "ModifyResourceSettings" else "ModifyResourceSettings"
    instance = EmbeddedInstance(KVP_SETTING.name, {"InstanceID": setting["InstanceID"], "EnabledState": setting["EnabledState"]},
                                {"InstanceID": "string", "EnabledState": "uint16"})
    parameter = "GuestServiceSettings" if refused_method == "ModifyGuestServiceSettings" else "ResourceSettings"
    with pytest.raises(CimMethodError) as caught:
        cim.invoke(MANAGEMENT_SERVICE, refused_method, {parameter: [instance]}, selectors=management_service(cim))
    assert caught.value.return_value == 32773 and caught.value.meaning == "invalid parameter"


# -- 4: Degraded Data Exchange is working --------------------------------------------------------------------------


def test_a_degraded_component_exchanges_data_and_the_host_is_ready(lab, connect):
    result = host_info_task(connect("fhwarn"), params_for(HOST_INFO_SPEC), False, False)
    vm = next(vm for vm in result["vms"] if vm["name"] == "web-warn")
    assert (vm["data_exchange_status"], vm["data_exchange_status_code"]) == ("Degraded", 3)
    assert result["ready"] is True, result["problems"]
    kvp = kvp_info_task(connect("fhwarn"), params_for(KVP_INFO_SPEC, vms=["web-warn"]), False, False)
    assert kvp["vms"][0]["intrinsic_facts"]["os_release"] == "2022"


# -- 5 and 7: events decoded from their codes in any language, newest first whatever the log's order ---------------


@pytest.mark.parametrize("guest", ["fgwarn", "fggss"])
def test_the_newest_events_come_back_decoded_from_their_codes(lab, connect, guest):
    result = activation_events_task(connect(guest), params_for(ACTIVATION_EVENTS_SPEC, event_ids=[12309], max_events=3), False, False)
    times = [event["time_generated"][:10] for event in result["events"]]
    assert times == ["2026-11-08", "2026-11-07", "2026-11-06"]
    assert result["limited"] is True
    outcomes = [(event["outcome"]["name"], event["outcome"]["result_code"], event["outcome"]["decoded_from"]) for event in result["events"]]
    assert outcomes == [("success", "0x00000000", "result_code"), ("activation_denied", "0xC004FD02", "result_code"),
                        ("success", "0x00000000", "result_code")]


def test_an_activation_on_a_german_guest_writes_events_the_collection_decodes(lab, connect):
    guest = connect("fgwarn")
    product = next(row for row in guest.query(SOFTWARE_LICENSING_PRODUCT, "PartialProductKey IS NOT NULL")
                   if "VIRTUAL_MACHINE_ACTIVATION" in (row["Description"] or ""))
    guest.invoke(SOFTWARE_LICENSING_PRODUCT, "Activate", selectors={"ID": product["ID"]})
    newest = activation_events_task(guest, params_for(ACTIVATION_EVENTS_SPEC, event_ids=[12309], max_events=1), False, False)["events"][0]
    assert "Ergebnis" in newest["message"] and newest["insertion_strings"][0] == "AVMA erfolgreich"
    assert newest["outcome"]["name"] == "success" and newest["outcome"]["decoded_from"] == "result_code"
    host_event = activation_events_task(connect("fhwarn"), params_for(ACTIVATION_EVENTS_SPEC, event_ids=[12310], max_events=1), False, False)["events"][0]
    assert host_event["outcome"]["name"] == "success" and "Anforderung" in host_event["message"]


# -- 6: failover clusters ----------------------------------------------------------------------------------------------


def test_host_info_checks_the_activation_of_every_cluster_node(lab, connect):
    params = params_for(HOST_INFO_SPEC, cluster_node_addresses={"FHC2": "127.0.70.21:%d" % lab.port("fhc2")})
    result = host_info_task(connect("fhc1"), params, False, False)
    nodes = {node["name"]: node for node in result["cluster"]["nodes"]}
    assert (nodes["FHC1"]["activated"], nodes["FHC2"]["checked"], nodes["FHC2"]["activated"]) == (True, True, False)
    assert [problem["code"] for problem in result["problems"]] == ["cluster_node_not_activated"] and result["ready"] is False
    alone = host_info_task(connect("fhwarn"), params_for(HOST_INFO_SPEC), False, False)
    assert alone["cluster"] is None


def test_a_vm_on_another_node_is_owned_elsewhere_and_follows_a_migration(lab, connect):
    vm_id = vm_id_of(connect("fhc2"), "db-cl")
    result = kvp_info_task(connect("fhc1"), params_for(KVP_INFO_SPEC, vms=["db-cl"]), False, False)
    assert result["vms"] == [] and result["missing_vms"] == []
    assert result["owned_elsewhere"] == [dict(vm="db-cl", owner_node="FHC2", vm_id=vm_id)]
    lab.admin("POST", "/migrate", {"vm": "db-cl", "to": "fhc1"})
    try:
        moved = kvp_info_task(connect("fhc1"), params_for(KVP_INFO_SPEC, vms=["db-cl"]), False, False)
        assert [vm["name"] for vm in moved["vms"]] == ["db-cl"]
        left = kvp_info_task(connect("fhc2"), params_for(KVP_INFO_SPEC, vms=["db-cl"]), False, False)
        assert left["owned_elsewhere"] == [dict(vm="db-cl", owner_node="FHC1", vm_id=vm_id)]
    finally:
        lab.admin("POST", "/migrate", {"vm": "db-cl", "to": "fhc2"})


def vm_id_of(cim, name):
    _host, vms = read_vms(cim)
    return next(vm["id"] for vm in vms if vm["name"] == name)


@pytest.mark.parametrize("asked, owner, vm", [("fhr1", "fhr2", "app-r2"), ("fhr2", "fhr1", "app-r1")])
def test_a_vm_whose_cluster_role_was_renamed_is_found_by_its_vm_id(lab, connect, asked, owner, vm):
    vm_id = vm_id_of(connect(owner), vm)
    result = kvp_info_task(connect(asked), params_for(KVP_INFO_SPEC, vms=[vm_id.lower(), vm]), False, False)
    assert result["owned_elsewhere"] == [dict(vm=vm_id.lower(), owner_node=owner.upper(), vm_id=vm_id)]
    # the VM's name is on neither the resource nor its role: it is not guessed, and the warning says so
    assert result["missing_vms"] == [vm]
    role = "Role " + vm_id[:8]
    by_role = kvp_info_task(connect(asked), params_for(KVP_INFO_SPEC, vms=[role]), False, False)
    assert by_role["owned_elsewhere"] == [dict(vm=role, owner_node=owner.upper(), vm_id=vm_id)]
    with pytest.raises(AvmaValueError, match=r"run on another node of the failover cluster.*\(%s\)" % owner.upper()):
        kvp_item_task(connect(asked), params_for(KVP_ITEM_SPEC, vms=[vm_id], items={"hyperv.avma.x": "1"}), False, False)


@pytest.mark.parametrize("host, cause", [("fhd1", "WMI error 0x80041003"), ("fhd2", "WS-Man fault 5 (w:AccessDenied")])
def test_a_node_that_refuses_the_cluster_is_not_checked_and_the_task_succeeds(lab, connect, host, cause):
    lab.reset_stats()
    result = host_info_task(connect(host), params_for(HOST_INFO_SPEC), False, False)
    assert "failed" not in result and result["cluster"]["checked"] is False and result["cluster"]["nodes"] == []
    assert cause in result["cluster"]["error"]
    assert [problem["code"] for problem in result["problems"]] == ["cluster_not_checked"] and result["ready"] is False
    assert "Grant-ClusterAccess" in result["problems"][0]["remedy"]
    assert len(result["warnings"]) == 1 and cause in result["warnings"][0]
    other = "fhd2" if host == "fhd1" else "fhd1"
    assert lab.stats()["machines"][other]["requests"] == {}, "no other node is asked about"
    kvp = kvp_info_task(connect(host), params_for(KVP_INFO_SPEC, vms=["somewhere"]), False, False)
    assert kvp["missing_vms"] == ["somewhere"] and kvp["owned_elsewhere"] == []
    assert any("could not be checked" in warning and cause in warning for warning in kvp["warnings"])
    with pytest.raises(AvmaValueError, match=r"no VM of this host is named or has the ID: somewhere \(whether another node"):
        kvp_item_task(connect(host), params_for(KVP_ITEM_SPEC, vms=["somewhere"], items={"hyperv.avma.x": "1"}), False, False)


@pytest.fixture()
def cluster_capture(lab, connect, tmp_path):
    """A capture of host_info and kvp_info on cluster node fhc1: host_info also opens a connection to fhc2."""
    directory = tmp_path / "capture"
    for action, task, params in (
            ("hyperv.avma.host_info", host_info_task,
             params_for(HOST_INFO_SPEC, cluster_node_addresses={"FHC2": "127.0.70.21:%d" % lab.port("fhc2")})),
            ("hyperv.avma.kvp_info", kvp_info_task, params_for(KVP_INFO_SPEC, vms=["db-cl"]))):
        client = connect("fhc1")
        client = CimClient(type(client._wsman)(dataclasses.replace(client._wsman.settings, capture_dir=str(directory))))
        result = task(client, params, False, False)
        client.describe_task(action, params, result, check_mode=False, diff=False)
        client.close()
    return [json.loads(text) for text in capture_scan.capture_texts(directory).values()]


def test_a_cluster_capture_holds_each_connection_and_nothing_identifying(cluster_capture):
    tasks = [document for document in cluster_capture if document["task"]]
    opened = [document for document in cluster_capture if document["opened_by"]]
    assert sorted(document["task"]["action"] for document in tasks) == ["hyperv.avma.host_info", "hyperv.avma.kvp_info"]
    host_info = next(document for document in tasks if document["task"]["action"] == "hyperv.avma.host_info")
    assert len(opened) == 1 and opened[0]["opened_by"] == host_info["session"] and opened[0]["task"] is None
    texts = {str(index): json.dumps(document) for index, document in enumerate(cluster_capture)}
    assert capture_scan.leftovers(texts, capture_scan.identifying_values(FLEET_FILE)) == []


def test_a_cluster_capture_replays_each_node_from_its_own_file_with_no_network(cluster_capture, monkeypatch):
    for document in (document for document in cluster_capture if document["task"]):
        result, transport = replay.replay_task(document, monkeypatch, cluster_capture)
        assert json.loads(json.dumps(result, default=str)) == document["result"]
        assert transport.exhausted and all(opened.exhausted for opened in transport.opened)
        assert len(transport.opened) == (1 if document["task"]["action"] == "hyperv.avma.host_info" else 0)
    assert replay.network_attempts == []
    host_info = next(document for document in cluster_capture if document["task"] and document["task"]["action"] == "hyperv.avma.host_info")
    with pytest.raises(replay.ReplayMismatch, match="opened a connection .* that the capture did not record"):
        replay.replay_task(host_info, monkeypatch, [host_info])
    # Without the routing the second connection would go to the network: the replay stops it and says so.
    monkeypatch.setattr(replay.ReplayClient, "sibling", CimClient.sibling)
    with pytest.raises(replay.ReplayNetworkError):
        replay.replay_task(host_info, monkeypatch, cluster_capture)
    assert replay.network_attempts


# -- 8: smaller points -----------------------------------------------------------------------------------------------


def test_the_host_digital_pid2_and_the_intrinsic_os_vendor_and_signature_are_read(lab, connect):
    facts = activation_facts_task(connect("fgwarn"), {}, False, False)
    assert facts["ansible_facts"]["avma"]["windows_product"]["avma_host_digital_pid2"].startswith("03612-")
    intrinsic = kvp_info_task(connect("fhwarn"), params_for(KVP_INFO_SPEC, vms=["web-warn"]), False, False)["vms"][0]["intrinsic_facts"]
    assert intrinsic["os_vendor"] == "Microsoft Corporation" and intrinsic["os_signature"] == "10.0.20348"


@pytest.mark.parametrize("host, vm", [("fhwarn", "web-warn"), ("fhgss", "web-gss")])
def test_a_key_name_the_vmbus_cannot_carry_is_refused_before_any_write(lab, connect, host, vm):
    lab.reset_stats()
    name = "hyperv.avma." + "k" * 250
    params = params_for(KVP_ITEM_SPEC, vms=[vm], items={name: "x"})
    with pytest.raises(AvmaValueError, match="VMBus key"):
        kvp_item_task(connect(host), params, False, False)
    assert lab.stats()["machines"][host]["total_writes"] == 0


def test_the_lab_serves_both_plausible_answers_to_a_key_name_longer_than_the_vmbus_carries(lab, connect):
    name = "hyperv.avma." + "k" * 250   # 262 UTF-16 code units and the NUL: 526 bytes
    item = EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Data": "x", "Name": name, "Source": 0}, {"Data": "string", "Name": "string", "Source": "uint16"})
    refusing = connect("fhgss")
    with pytest.raises(CimMethodError) as caught:
        refusing.invoke(MANAGEMENT_SERVICE, "AddKvpItems", {"TargetSystem": vm_reference(vm_id_of(refusing, "web-gss")), "DataItems": [item]},
                        selectors=management_service(refusing))
    assert caught.value.return_value == 32773
    taking = connect("fhwarn")
    vm_id = vm_id_of(taking, "web-warn")
    started = taking.invoke(MANAGEMENT_SERVICE, "AddKvpItems", {"TargetSystem": vm_reference(vm_id), "DataItems": [item]},
                            selectors=management_service(taking))
    taking.wait_for_job(started.job, timeout=10, poll_interval=0.05)
    try:
        guest = kvp_info_task(connect("fgwarn"), params_for(KVP_INFO_SPEC, scope="guest"), False, False)["guest_registry"]["external"]
        assert name[:255] in guest and name not in guest, "the guest receives the name cut to 255 UTF-16 code units"
        assert name in kvp_info_task(taking, params_for(KVP_INFO_SPEC, vms=["web-warn"]), False, False)["vms"][0]["host_items"]
    finally:
        removed = taking.invoke(MANAGEMENT_SERVICE, "RemoveKvpItems", {"TargetSystem": vm_reference(vm_id), "DataItems": [item]},
                                selectors=management_service(taking))
        taking.wait_for_job(removed.job, timeout=10, poll_interval=0.05)


def test_host_only_items_of_16_kb_are_read_whole_and_longer_ones_cut_with_an_issue(lab, connect):
    vm = kvp_info_task(connect("fhwarn"), params_for(KVP_INFO_SPEC, vms=["web-warn"]), False, False)["vms"][0]
    assert vm["host_only_items"]["hyperv.avma.inventory"] == "0123456789abcdef" * 1000
    assert vm["host_only_items"]["hyperv.avma.oversized"] == "x" * 16384
    assert [(issue["source"], issue["name"], issue["code"]) for issue in vm["issues"]] == [("host_only", "hyperv.avma.oversized", "value_truncated")]
    guest = kvp_info_task(connect("fgwarn"), params_for(KVP_INFO_SPEC, scope="guest"), False, False)["guest_registry"]
    assert not any(name.startswith("hyperv.avma.inventory") for values in guest.values() for name in values), "host-only items stay on the host"


def one_line_naming(message, machine, *parts):
    assert "\n" not in message and message.startswith(machine + " ("), message
    for part in parts:
        assert part in message, message


def test_the_kvp_methods_return_codes_read_with_their_hyperv_meanings_in_one_line(lab, connect):
    lab.reset_stats()
    params = params_for(KVP_ITEM_SPEC, vms=["web-warn"], items={"hyperv.avma.coded": "1"}, job_poll_interval=0.05, job_timeout=10)
    lab.admin("POST", "/jobs/failures", {"machine": "fhwarn", "method": "AddKvpItems", "return_value": 32769})
    refused = kvp_item_task(connect("fhwarn"), params, False, False)
    assert refused["failed"] is True and refused["changed"] is False
    one_line_naming(refused["msg"], "fhwarn", "AddKvpItems", "VM 'web-warn'", "returned 32769 (access denied)")
    assert lab.stats()["machines"]["fhwarn"]["total_writes"] == 0
    assert "failed" not in kvp_item_task(connect("fhwarn"), params, False, False)
    lab.admin("POST", "/jobs/failures", {"machine": "fhwarn", "method": "RemoveKvpItems", "vm": "web-warn", "return_value": 32775})
    absent = dict(params, state="absent", items=None, names=["hyperv.avma.coded"])
    refused = kvp_item_task(connect("fhwarn"), absent, False, False)
    one_line_naming(refused["msg"], "fhwarn", "RemoveKvpItems", "returned 32775 (invalid state for this operation)")
    assert kvp_info_task(connect("fhwarn"), params_for(KVP_INFO_SPEC, vms=["web-warn"]), False, False)["vms"][0]["host_items"]["hyperv.avma.coded"] == "1"
    assert kvp_item_task(connect("fhwarn"), absent, False, False)["changed"] is True


def test_the_data_exchange_switch_reports_not_supported_from_both_methods(lab, connect):
    lab.reset_stats()
    lab.admin("POST", "/jobs/failures", {"machine": "fhgss", "method": "*", "count": 2, "return_value": 32770})
    result = integration_service_task(connect("fhgss"), params_for(INTEGRATION_SERVICE_SPEC, vms=["web-gss"], state="enabled"), False, False)
    assert result["failed"] is True and result["changed"] is False and result["vms"][0]["enabled"] is False
    one_line_naming(result["msg"], "fhgss", "ModifyGuestServiceSettings", "VM 'web-gss'", "returned 32770 (not supported)")
    requests = lab.stats()["machines"]["fhgss"]
    assert requests["total_writes"] == 0 and requests["requests"]["Invoke"] == 2, "each method tried once, nothing written"


def test_an_add_of_an_existing_name_is_refused_at_once_with_the_hyperv_meaning(lab, connect):
    cim = connect("fhwarn")
    _name, vms = read_vms(cim)
    vm = next(vm for vm in vms if vm["name"] == "web-warn")
    item = EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Data": "x", "Name": "hyperv.avma.dup", "Source": 0},
                            {"Data": "string", "Name": "string", "Source": "uint16"})
    service = management_service(cim)
    first = cim.invoke(MANAGEMENT_SERVICE, "AddKvpItems", {"TargetSystem": vm_reference(vm["id"]), "DataItems": [item]}, selectors=service)
    cim.wait_for_job(first.job, timeout=10, poll_interval=0.05)
    with pytest.raises(CimMethodError) as caught:
        cim.invoke(MANAGEMENT_SERVICE, "AddKvpItems", {"TargetSystem": vm_reference(vm["id"]), "DataItems": [item]}, selectors=service)
    assert caught.value.return_value == 32773 and "returned 32773 (invalid parameter)" in str(caught.value)
