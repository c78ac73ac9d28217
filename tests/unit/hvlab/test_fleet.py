# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet files: the foundation fleet, validation errors naming machine and field, and the state round trip."""

import copy
import datetime
import json

import pytest

from hvlab.fleet import Credential, Fleet

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import FOUNDATION

BASE = {
    "defaults": {"credentials": [{"user": "Administrator", "password": "Lab-Passw0rd!"}]},
    "machines": {
        "hv1": {"address": "127.0.30.1", "kind": "host", "os": {"version": "2022", "edition": "ServerDatacenter"},
                "windows_license": {"channel": "kms"}},
        "g1": {"address": "127.0.30.2", "kind": "guest", "hyperv_host": "hv1",
               "os": {"version": "2019", "edition": "ServerStandard"}, "windows_license": {"channel": "avma"}},
    },
}


def with_change(path, value):
    """BASE with ``value`` set at ``path`` (a list of keys); None deletes the key."""
    document = copy.deepcopy(BASE)
    target = document
    for key in path[:-1]:
        target = target.setdefault(key, {})
    if value is None:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return document


def test_foundation_fleet():
    fleet = Fleet.load(FOUNDATION)
    assert list(fleet.machines) == ["hv2022", "g2022dc", "g2019std", "g2016dc", "g2012r2std", "g2025az", "g2022eval"]
    host = fleet.machines["hv2022"]
    assert host.kind == "host" and host.address == "127.0.10.10"
    assert host.credentials == [Credential("Administrator", "Lab-Passw0rd!", "")]
    assert fleet.machines["g2025az"].inventory == {"scheme": "https", "transport": "basic"}
    assert fleet.machines["g2022dc"].inventory == {"scheme": "http", "transport": "ntlm"}
    assert fleet.machines["g2016dc"].inventory == {}
    assert all(machine.address.startswith("127.0.10.") for machine in fleet.machines.values())
    assert fleet.machine_by_address("127.0.10.13") is fleet.machines["g2016dc"]
    assert fleet.machine_by_address("127.0.10.99") is None


def test_defaults_merge_and_machine_values_win():
    document = copy.deepcopy(BASE)
    document["defaults"]["os"] = {"version": "2016", "edition": "ServerStandard"}
    document["defaults"]["inventory"] = {"scheme": "https"}
    document["machines"]["g1"]["credentials"] = [{"user": "svc", "password": "pw", "domain": "LAB"}]
    document["machines"]["g1"]["inventory"] = {"transport": "basic"}
    document["machines"]["g1"]["os"] = {"edition": "ServerDatacenter"}
    fleet = Fleet.from_document(document)
    guest = fleet.machines["g1"]
    assert guest.credentials == [Credential("svc", "pw", "LAB")]
    assert guest.inventory == {"scheme": "https", "transport": "basic"}
    assert guest.spec.os.version.name == "2016" and guest.spec.os.edition.edition_id == "ServerDatacenter"
    assert fleet.machines["hv1"].spec.os.version.name == "2022"


@pytest.mark.parametrize("path, value, message", [
    (["machines", "g1", "address"], "10.0.0.5", "machine 'g1': address: 10.0.0.5 is not in 127.0.0.0/8"),
    (["machines", "g1", "address"], "not-an-ip", "machine 'g1': address"),
    (["machines", "g1", "address"], "127.0.30.1", "machine 'g1': address: 127.0.30.1 is already used by 'hv1'"),
    (["machines", "g1", "kind"], "vm", "machine 'g1': kind"),
    (["machines", "g1", "hyperv_host"], "nohost", "machine 'g1': hyperv_host"),
    (["machines", "hv1", "hyperv_host"], "g1", "machine 'hv1': hyperv_host"),
    (["machines", "g1", "colour"], "blue", "machine 'g1': colour: unknown field"),
    (["machines", "g1", "os", "version"], "2020", "machine 'g1': os.version: unknown version '2020'"),
    (["machines", "g1", "os", "edition"], "Datacentre", "machine 'g1': os.edition: unknown edition 'Datacentre'"),
    (["machines", "g1", "os", "edition"], "ServerTurbine", "machine 'g1': os.edition: ServerTurbine does not exist"),
    (["machines", "g1", "os", "build"], "big", "machine 'g1': os.build"),
    (["machines", "g1", "os", "bogus"], 1, "machine 'g1': os.bogus: unknown field"),
    (["machines", "g1", "os"], None, "machine 'g1': os: must be a mapping"),
    (["machines", "g1", "windows_license", "channel"], "volume", "machine 'g1': windows_license.channel"),
    (["machines", "g1", "windows_license", "status"], "active", "machine 'g1': windows_license.status"),
    (["machines", "g1", "windows_license", "status"], 7, "machine 'g1': windows_license.status"),
    (["machines", "g1", "windows_license", "status_reason"], "0xZZ", "machine 'g1': windows_license.status_reason"),
    (["machines", "g1", "windows_license", "status_reason"], 2 ** 33, "machine 'g1': windows_license.status_reason"),
    (["machines", "g1", "windows_license", "grace_minutes"], -1, "machine 'g1': windows_license.grace_minutes"),
    (["machines", "g1", "windows_license", "partial_product_key"], "abc", "machine 'g1': windows_license.partial_product_key"),
    (["machines", "g1", "windows_license", "last_avma_activation"], "soon", "machine 'g1': windows_license.last_avma_activation"),
    (["machines", "g1", "windows_license", "last_avma_activation"], "2026-11-20T08:30:00",
     "machine 'g1': windows_license.last_avma_activation"),
    (["machines", "hv1", "windows_license", "avma_host"], "X", "machine 'hv1': windows_license.avma_host: applies to channel avma"),
    (["machines", "g1", "windows_license"], {"channel": "none", "status": "licensed"}, "machine 'g1': windows_license.status"),
    (["machines", "g1", "os"], {"version": "2022", "edition": "ServerSolution"},
     "machine 'g1': windows_license.channel: there is no AVMA key for Windows Server 2022 ServerSolution"),
    (["machines", "g1", "os"], {"version": "20H2", "edition": "ServerDatacenterCore"}, "machine 'g1': windows_license.channel"),
    (["machines", "g1", "credentials"], [], "machine 'g1': credentials"),
    (["machines", "g1", "credentials"], [{"user": "x"}], "machine 'g1': credentials[0]"),
    (["machines", "g1", "credentials"], [{"user": "x", "password": "y", "role": "z"}], "machine 'g1': credentials[0]"),
    (["machines", "g1", "inventory"], ["https"], "machine 'g1': inventory"),
    (["machines", "g1", "fault_style"], "fancy", "machine 'g1': fault_style"),
    (["machines", "g1", "extra_products"], [{"name": "X", "application": "excel"}], "machine 'g1': extra_products[0].application"),
    (["machines", "g1", "extra_products"], [{"name": ""}], "machine 'g1': extra_products[0].name"),
    (["machines", "g1", "extra_products"], [{"name": "X", "status": "great"}], "machine 'g1': extra_products[0].status"),
    (["machines", "g1", "extra_products"], [{"name": "X", "shape": 1}], "machine 'g1': extra_products[0].shape"),
    (["machines", "bad name"], {"address": "127.0.30.9"}, "machine 'bad name': name"),
    (["machines", "g1"], "guest", "machine 'g1'"),
    (["machines", "G1"], {"address": "127.0.30.9", "kind": "guest", "os": {"version": "2019", "edition": "ServerStandard"}},
     "machine 'G1': name clashes with 'g1'"),
    (["machines"], {}, "machines must be a non-empty mapping"),
    (["extra"], 1, "unknown top-level keys"),
])
def test_validation_errors_name_machine_and_field(path, value, message):
    with pytest.raises(ValueError) as raised:
        Fleet.from_document(with_change(path, value), "fleet.yml")
    assert message in str(raised.value)
    assert str(raised.value).startswith("fleet.yml: ")


def test_duplicate_yaml_keys_are_refused(tmp_path):
    path = tmp_path / "dup.yml"
    path.write_text("machines:\n  a: {address: 127.0.0.2}\n  a: {address: 127.0.0.3}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate key 'a'"):
        Fleet.load(str(path))


def test_unreadable_or_invalid_yaml(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        Fleet.load(str(tmp_path / "missing.yml"))
    path = tmp_path / "bad.yml"
    path.write_text("machines: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        Fleet.load(str(path))


def test_unquoted_yaml_timestamp_is_accepted(tmp_path):
    path = tmp_path / "ts.yml"
    path.write_text(
        "machines:\n  g1:\n    address: 127.0.30.2\n    kind: guest\n    credentials: [{user: a, password: b}]\n"
        "    os: {version: '2022', edition: ServerDatacenter}\n"
        "    windows_license: {channel: avma, last_avma_activation: 2026-11-20T08:30:00Z}\n", encoding="utf-8")
    fleet = Fleet.load(str(path))
    assert fleet.machines["g1"].spec.license.last_avma_activation == "2026-11-20T08:30:00Z"


def test_last_avma_activation_before_the_lab_starts(monkeypatch):
    monkeypatch.setattr("hvlab.eventlog.now", lambda: datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.timezone.utc))
    fleet = Fleet.from_document(with_change(["machines", "g1", "windows_license", "last_avma_activation"], "-36h"))
    assert fleet.machines["g1"].spec.license.last_avma_activation == "2026-12-05T00:00:00Z"


def product_rows(fleet, machine):
    fleet_machine = fleet.machines[machine]
    return fleet_machine.store.instances(fleet_machine.registry.lookup("root/cimv2", "SoftwareLicensingProduct"))


def test_state_round_trip_through_json():
    fleet = Fleet.load(FOUNDATION)
    product_rows(fleet, "g2022dc")[3]["LicenseStatus"] = 5
    state = json.loads(json.dumps(fleet.to_state()))
    assert state["format"] == 1 and set(state["machines"]) == set(fleet.machines)
    fresh = Fleet.load(FOUNDATION)
    assert product_rows(fresh, "g2022dc")[3]["LicenseStatus"] != 5
    fresh.restore_state(state)
    assert product_rows(fresh, "g2022dc")[3]["LicenseStatus"] == 5
    assert fresh.to_state() == fleet.to_state()


def test_reset_returns_to_the_fleet_file():
    fleet = Fleet.load(FOUNDATION)
    initial = fleet.to_state()
    product_rows(fleet, "g2016dc").pop()
    assert fleet.to_state() != initial
    fleet.reset()
    assert fleet.to_state() == initial


def test_restore_ignores_unknown_machines_and_keeps_missing_ones():
    fleet = Fleet.load(FOUNDATION)
    state = fleet.to_state()
    product_rows(fleet, "g2022dc")[0]["LicenseStatus"] = 6
    partial = {"format": 1, "machines": {"gone": state["machines"]["g2016dc"], "g2016dc": state["machines"]["g2016dc"]}}
    fleet.restore_state(partial)
    assert product_rows(fleet, "g2022dc")[0]["LicenseStatus"] == 6
    assert "gone" not in fleet.machines


@pytest.mark.parametrize("mutate", [
    lambda state: state.update(format=2),
    lambda state: state.pop("machines"),
    lambda state: state["machines"]["g2025az"].pop("instances"),
    lambda state: state["machines"]["g2025az"]["instances"].update({"root/cimv2/NoSuchClass": []}),
    lambda state: state["machines"]["g2025az"]["instances"]["root/cimv2/SoftwareLicensingProduct"][0].update(LicenseStatus="x"),
    lambda state: state["machines"]["g2025az"]["instances"]["root/cimv2/SoftwareLicensingProduct"][0].pop("Name"),
])
def test_malformed_state_is_refused_without_changing_anything(mutate):
    fleet = Fleet.load(FOUNDATION)
    state = fleet.to_state()
    product_rows(fleet, "g2016dc")[0]["LicenseStatus"] = 6
    before = fleet.to_state()
    broken = copy.deepcopy(state)
    # g2016dc comes before the machine each case breaks: nothing of it may be applied either.
    broken["machines"]["g2016dc"]["instances"]["root/cimv2/SoftwareLicensingProduct"][0]["LicenseStatus"] = 0
    mutate(broken)
    with pytest.raises(ValueError):
        fleet.restore_state(broken)
    assert fleet.to_state() == before
