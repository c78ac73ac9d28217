# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin endpoint over HTTP, in front of a real two-machine lab."""

import http.client
import json
import random

import pytest
import winrm

from hvlab import admin as admin_module
from hvlab.admin import AdminServer, admin_request
from hvlab.cli import open_lab
from hvlab.classes_cimv2 import WIN32_OPERATING_SYSTEM as WIN32_OS

FLEET = """\
defaults:
  credentials: [{user: Administrator, password: "Guest-Pass1"}]
machines:
  hv01: {address: "%(host)s", kind: host, os: {version: "2022", edition: ServerDatacenter}}
  g01: {address: "%(guest)s", kind: guest, hyperv_host: hv01, os: {version: "2022", edition: ServerStandard}}
"""

IDENTIFY = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
            b'<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>')


@pytest.fixture(name="lab")
def lab_fixture(tmp_path):
    third = random.randrange(20, 250)
    fleet_path = tmp_path / "fleet.yml"
    fleet_path.write_text(FLEET % {"host": "127.0.%d.1" % third, "guest": "127.0.%d.2" % third})
    lab = open_lab(str(fleet_path), str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    lab.start()
    yield lab
    lab.stop()


@pytest.fixture(name="admin")
def admin_fixture(lab):
    admin = AdminServer(lab)
    admin.start()
    yield admin
    admin.stop()


def call(admin, method, path, payload=None):
    return admin_request(admin.url, method, path, payload)


def identify(lab, name):
    machine = lab.fleet.machines[name]
    endpoint = "http://%s:%d/wsman" % (machine.address, lab.ports()[name]["http"])
    winrm.Protocol(endpoint, transport="ntlm", username="Administrator", password="Guest-Pass1", proxy=None,
                   ca_trust_path=None).send_message(IDENTIFY)


def test_admin_listens_on_127_0_0_1(admin):
    assert admin.url.startswith("http://127.0.0.1:")


def test_health(admin):
    assert call(admin, "GET", "/health") == (200, {"status": "ok", "machines": 2, "restored": False})


def test_machines_lists_names_addresses_kinds_and_ports(admin, lab):
    status, document = call(admin, "GET", "/machines")

    assert status == 200
    assert [(entry["name"], entry["kind"]) for entry in document["machines"]] == [("hv01", "host"), ("g01", "guest")]
    for entry in document["machines"]:
        assert entry["address"] == lab.fleet.machines[entry["name"]].address
        assert entry["ports"] == lab.ports()[entry["name"]]


def test_stats_count_auth_legs_apart_from_wsman_requests(admin, lab):
    identify(lab, "g01")

    status, stats = call(admin, "GET", "/stats")
    assert status == 200
    assert stats["machines"]["g01"]["requests"] == {"Identify": 1}
    assert stats["machines"]["g01"]["auth_requests"] == 3
    assert stats["machines"]["hv01"]["auth_requests"] == 0
    assert stats["total_auth_requests"] == 3

    assert call(admin, "POST", "/stats/reset") == (200, {"status": "ok"})
    _status, stats = call(admin, "GET", "/stats")
    assert stats["machines"]["g01"]["requests"] == {}
    assert stats["machines"]["g01"]["auth_requests"] == 0


def test_stats_count_the_bytes_of_request_and_answer_bodies(admin, lab):
    machine = lab.fleet.machines["hv01"]
    connection = http.client.HTTPConnection(machine.address, lab.ports()["hv01"]["http"], timeout=10)
    connection.request("POST", "/wsman", body=b"x" * 123, headers={"Content-Type": "application/soap+xml;charset=UTF-8"})
    answer = connection.getresponse()
    assert answer.status == 401 and answer.read() == b""
    connection.close()
    identify(lab, "g01")

    _status, stats = call(admin, "GET", "/stats")
    assert (stats["machines"]["hv01"]["bytes_received"], stats["machines"]["hv01"]["bytes_sent"]) == (123, 0)
    # An encrypted Identify and its encrypted answer, after the NTLM legs.
    assert stats["machines"]["g01"]["bytes_received"] > 0 and stats["machines"]["g01"]["bytes_sent"] > 500


def test_faults_are_added_listed_and_cleared(admin):
    rule = {"machine": "g01", "operation": "Get", "kind": "drop", "count": 2}

    assert call(admin, "POST", "/faults", rule) == (200, {"status": "ok"})
    _status, listing = call(admin, "GET", "/faults")
    assert [(entry["machine"], entry["kind"], entry["count"]) for entry in listing["rules"]] == [("g01", "drop", 2)]

    assert call(admin, "DELETE", "/faults") == (200, {"status": "ok"})
    assert call(admin, "GET", "/faults") == (200, {"rules": []})


@pytest.mark.parametrize("rule, message", [
    ({"machine": "g01", "kind": "explode"}, "kind"),
    ({"machine": "nosuch", "kind": "drop"}, "nosuch"),
    (["not", "an", "object"], "JSON object"),
])
def test_bad_fault_rule_is_a_400_with_the_reason(admin, rule, message):
    status, document = call(admin, "POST", "/faults", rule)

    assert status == 400
    assert message in document["error"]


def test_reset_restores_the_fleet_and_persists(admin, lab, tmp_path):
    initial = lab.fleet.to_state()
    lab.service.apply(lambda fleet: fleet.machines["g01"].store.instances(WIN32_OS)[0].update(Description="changed"))
    lab.persist()
    call(admin, "POST", "/faults", {"kind": "latency", "seconds": 1})
    identify(lab, "g01")

    assert call(admin, "POST", "/reset") == (200, {"status": "ok"})

    assert call(admin, "GET", "/faults") == (200, {"rules": []})
    _status, stats = call(admin, "GET", "/stats")
    assert stats["total_requests"] == 0 and stats["total_auth_requests"] == 0
    assert lab.fleet.to_state() == initial
    restarted = open_lab(str(tmp_path / "fleet.yml"), str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    assert restarted.load_saved_state()
    assert restarted.fleet.to_state() == initial


def test_unknown_route_wrong_method_and_bad_json(admin):
    assert call(admin, "GET", "/nothing")[0] == 404
    assert call(admin, "GET", "/reset")[0] == 405
    connection = http.client.HTTPConnection("127.0.0.1", admin.port, timeout=10)
    try:
        connection.request("POST", "/faults", body=b"{not json", headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 400
        assert "not JSON" in json.loads(response.read())["error"]
    finally:
        connection.close()


def test_routes_are_a_table_later_issues_extend(admin, monkeypatch):
    def migrate(_admin, payload):
        return 202, {"migrating": payload["vm"]}

    monkeypatch.setitem(admin_module.ROUTES, ("POST", "/migrate"), migrate)

    assert call(admin, "POST", "/migrate", {"vm": "g01"}) == (202, {"migrating": "g01"})


def test_shutdown_answers_then_signals(admin):
    assert call(admin, "POST", "/shutdown") == (200, {"status": "stopping"})
    assert admin.shutdown_requested.wait(5)


def test_admin_client_talks_to_loopback_only():
    with pytest.raises(ValueError):
        admin_request("http://192.0.2.1:8080", "GET", "/health")
