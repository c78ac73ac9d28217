# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migration: the model, and the admin route in front of a real lab (state saved, restart keeps it)."""

import random

import pytest

from hvlab import hyperv, jobs
from hvlab.admin import AdminServer, admin_request
from hvlab.cli import open_lab
from hvlab.migration import MigrationError, migrate

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    HKLM, VM_KEY, fleet_path, guest_values, item_map, job_id, kvp_call, registry_call, service_for, vm_components,
    vm_systems, wait_job)

WEB = hyperv.guest_vm_id("kvpweb")


def test_a_migrated_vm_keeps_its_id_items_and_state_and_its_guest_learns_the_new_host():
    service = service_for("kvp_host")
    before = vm_components(service, "hv1")[WEB]
    moved = migrate(service.fleet, {"vm": "web01", "to": "hv2"})
    assert moved == {"vm": "web01", "vm_id": WEB, "from": "hv1", "to": "hv2"}
    assert "web01" not in vm_systems(service, "hv1") and vm_systems(service, "hv2")["web01"]["Name"] == WEB
    after = vm_components(service, "hv2")[WEB]
    for name in ("GuestIntrinsicExchangeItems", "GuestExchangeItems", "OperationalStatus", "EnabledState"):
        assert after[name] == before[name]
    assert guest_values(service, "kvpweb", "Guest\\Parameters")["PhysicalHostName"] == "HV2"
    assert guest_values(service, "kvpweb", "Guest\\Parameters")["HostName"] == "hv2.hvlab.test"
    status = hyperv.guest_vm_status(service.fleet, service.fleet.machines["kvpweb"])
    assert status.host.name == "hv2"


def test_after_migration_the_new_host_manages_its_items():
    service = service_for("kvp_host")
    migrate(service.fleet, {"vm": WEB, "to": "hv2"})
    _reply, _root, outs = kvp_call(service, "hv1", "RemoveKvpItems", WEB, [("hyperv.avma.owner", "")], host_name="HV1")
    assert int(outs["ReturnValue"][0].text) == 32773
    _reply, _root, outs = kvp_call(service, "hv2", "RemoveKvpItems", WEB, [("hyperv.avma.owner", "")], host_name="HV2")
    assert wait_job(service, "hv2", job_id(outs))[0]["JobState"] == "7"
    assert "hyperv.avma.owner" not in guest_values(service, "kvpweb", "External")
    registry_call(service, "kvpweb", "SetStringValue", hDefKey=HKLM, sSubKeyName=VM_KEY + "\\Guest", sValueName="moved",
                  sValue="yes")
    assert item_map(vm_components(service, "hv2")[WEB]["GuestExchangeItems"])["moved"] == ("yes", 1)


def test_a_stopped_vm_moves_too():
    service = service_for("kvp_host")
    migrate(service.fleet, {"vm": "stopped01", "to": "hv2"})
    assert vm_systems(service, "hv2")["stopped01"]["EnabledState"] == "3"


@pytest.mark.parametrize("request_, message", [
    ({"vm": "nope", "to": "hv2"}, "no VM 'nope'"),
    ({"vm": "web01", "to": "kvpoff"}, "is not a Hyper-V host"),
    ({"vm": "web01", "to": "hv1"}, "already runs on 'hv1'"),
    ({"vm": "web01", "to": "hv2", "from": "hv2"}, "no VM 'web01' on 'hv2'"),
    ({"vm": "web01"}, "must be strings"),
    ({"vm": "web01", "to": "hv2", "speed": "fast"}, "JSON object"),
])
def test_refused_migrations_say_why(request_, message):
    with pytest.raises(MigrationError, match=message):
        migrate(service_for("kvp_host").fleet, request_)


def test_two_vms_of_the_same_name_need_from():
    document = {"defaults": {"credentials": [{"user": "a", "password": "b"}]}, "machines": {
        name: {"address": "127.0.9.%d" % number, "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"},
               "synthetic_vms": {"count": count}}
        for number, name, count in ((1, "hva", 2), (2, "hvb", 2), (3, "hvc", 0))}}
    fleet = service_for(document).fleet
    with pytest.raises(MigrationError, match="2 VMs are called 'vm0001'"):
        migrate(fleet, {"vm": "vm0001", "to": "hvc"})
    assert migrate(fleet, {"vm": "vm0001", "to": "hvc", "from": "hvb"})["from"] == "hvb"


@pytest.fixture(name="lab")
def lab_fixture(tmp_path):
    third = random.randrange(20, 250)
    with open(fleet_path("kvp_host"), encoding="utf-8") as stream:
        text = stream.read().replace("127.0.40.", "127.0.%d." % third)
    path = tmp_path / "fleet.yml"
    path.write_text(text)
    lab = open_lab(str(path), str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    lab.start()
    admin = AdminServer(lab)
    admin.start()
    yield lab, admin, path, tmp_path
    admin.stop()
    lab.stop()


def test_the_admin_route_migrates_and_the_state_is_saved(lab):
    running, admin, path, tmp_path = lab
    assert admin_request(admin.url, "POST", "/migrate", {"vm": "web01", "to": "hv3"})[0] == 400
    status, document = admin_request(admin.url, "POST", "/migrate", {"vm": "web01", "to": "hv2"})
    assert (status, document["to"], document["vm_id"]) == (200, "hv2", WEB)
    restarted = open_lab(str(path), str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    assert restarted.load_saved_state()
    assert hyperv.guest_vm_status(restarted.fleet, restarted.fleet.machines["kvpweb"]).host.name == "hv2"
    assert running.service.stats()["total_requests"] == 0


def test_the_admin_routes_plan_and_clear_job_failures(lab):
    running, admin, _path, _tmp_path = lab
    status, rule = admin_request(admin.url, "POST", "/jobs/failures", {"machine": "hv1", "method": "AddKvpItems"})
    assert (status, rule["error_code"], rule["count"]) == (200, 32768, 1)
    assert admin_request(admin.url, "POST", "/jobs/failures", {"machine": "kvpweb"})[0] == 400
    assert admin_request(admin.url, "POST", "/jobs/failures", {"machine": "hv1", "count": -1})[0] == 400
    host = running.fleet.machines["hv1"]
    assert len(host.store.instances(jobs.JOB_FAILURE_RULE)) == 1
    assert admin_request(admin.url, "DELETE", "/jobs/failures")[0] == 200
    assert host.store.instances(jobs.JOB_FAILURE_RULE) == []
