# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport in front of the real WS-Man service: pywinrm's Protocol against a two-machine fleet."""

import json
import random
import time
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WSManFaultError

from hvlab.classes import REGISTRY
from hvlab.cli import open_lab

WIN32_OS = REGISTRY.lookup("root/cimv2", "Win32_OperatingSystem")

FLEET = """\
defaults:
  credentials: [{user: Administrator, password: "Guest-Pass1"}]
machines:
  hv01:
    address: %(host)s
    kind: host
    credentials: [{user: labadmin, password: "Host-Pass2", domain: CONTOSO}]
    os: {version: "2022", edition: ServerDatacenter}
  g01:
    address: %(guest)s
    kind: guest
    hyperv_host: hv01
    inventory: {scheme: https, transport: basic}
    os: {version: "2022", edition: ServerStandard}
    windows_license: {channel: avma, status: licensed}
"""

IDENTIFY = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
            b'<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>')

ENUMERATE_OS = """<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
 xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration">
<s:Header>
<a:To>%(to)s</a:To>
<w:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*</w:ResourceURI>
<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
<a:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate</a:Action>
<w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize>
<a:MessageID>uuid:%(message_id)s</a:MessageID>
<w:OperationTimeout>PT60S</w:OperationTimeout>
</s:Header>
<s:Body><n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>
<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">SELECT * FROM Win32_OperatingSystem</w:Filter>
</n:Enumerate></s:Body></s:Envelope>"""


def write_fleet(directory):
    third = random.randrange(20, 250)
    path = directory / "fleet.yml"
    path.write_text(FLEET % {"host": "127.0.%d.1" % third, "guest": "127.0.%d.2" % third})
    return str(path)


@pytest.fixture(name="lab")
def lab_fixture(tmp_path):
    lab = open_lab(write_fleet(tmp_path), str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    lab.start()
    yield lab
    lab.stop()


def endpoint(lab, name, scheme):
    return "%s://%s:%d/wsman" % (scheme, lab.fleet.machines[name].address, lab.ports()[name][scheme])


def protocol(lab, name, user, password, scheme="http", transport="ntlm", **options):
    return winrm.Protocol(
        endpoint(lab, name, scheme), transport=transport, username=user, password=password, proxy=None,
        ca_trust_path=lab.state_dir.ca_file if scheme == "https" else None, **options,
    )


def enumerate_os(client, to):
    return client.send_message(ENUMERATE_OS % {"to": to, "message_id": str(uuid.uuid4()).upper()})


def test_identify_over_ntlm_with_encryption(lab):
    client = protocol(lab, "hv01", "CONTOSO\\labadmin", "Host-Pass2", message_encryption="always")

    response = ET.fromstring(client.send_message(IDENTIFY))

    vendor = response.find(".//{http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd}ProductVendor")
    assert vendor.text == "Microsoft Corporation"
    stats = lab.stats()["machines"]["hv01"]
    assert stats["requests"] == {"Identify": 1}
    assert stats["auth_requests"] == 3


def test_wql_enumeration_over_https_basic(lab):
    client = protocol(lab, "g01", "Administrator", "Guest-Pass1", scheme="https", transport="basic")

    response = enumerate_os(client, endpoint(lab, "g01", "https"))

    assert b"Win32_OperatingSystem" in response
    assert b"G01" in response
    assert lab.stats()["machines"]["g01"]["auth_requests"] == 0


def test_machine_rejects_the_other_machines_credentials(lab):
    with pytest.raises(InvalidCredentialsError):
        protocol(lab, "g01", "CONTOSO\\labadmin", "Host-Pass2").send_message(IDENTIFY)
    with pytest.raises(InvalidCredentialsError):
        protocol(lab, "hv01", "Administrator", "Guest-Pass1").send_message(IDENTIFY)


def test_injected_latency(lab):
    client = protocol(lab, "g01", "Administrator", "Guest-Pass1")
    client.send_message(IDENTIFY)
    lab.service.inject_fault({"machine": "g01", "kind": "latency", "seconds": 0.5, "count": 1})

    started = time.monotonic()
    client.send_message(IDENTIFY)
    assert time.monotonic() - started >= 0.5


def test_injected_drop_then_recovery(lab):
    client = protocol(lab, "g01", "Administrator", "Guest-Pass1", scheme="https", transport="basic")
    lab.service.inject_fault({"machine": "g01", "kind": "drop", "count": 1})

    with pytest.raises(requests.exceptions.ConnectionError):
        client.send_message(IDENTIFY)
    assert b"ProductVendor" in client.send_message(IDENTIFY)


def test_injected_fault_reaches_pywinrm_decrypted(lab):
    client = protocol(lab, "g01", "Administrator", "Guest-Pass1")
    lab.service.inject_fault({"machine": "g01", "operation": "Enumerate", "kind": "http500", "count": 1})

    with pytest.raises(WSManFaultError) as caught:
        enumerate_os(client, endpoint(lab, "g01", "http"))
    assert caught.value.code == 500


def test_state_is_saved_and_restored_across_a_restart(tmp_path):
    fleet_path = write_fleet(tmp_path)
    first = open_lab(fleet_path, str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    first.start()
    first.stop()
    saved = first.fleet.to_state()

    second = open_lab(fleet_path, str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    second.start()
    second.stop()

    assert second.restored
    assert second.fleet.to_state() == saved


def test_unreadable_saved_state_stops_the_start_with_its_path(tmp_path):
    fleet_path = write_fleet(tmp_path)
    first = open_lab(fleet_path, str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    first.state_dir.ensure()
    with open(first.state_dir.snapshot_file, "w", encoding="utf-8") as snapshot:
        snapshot.write(json.dumps({"format": 3, "fleet_sha256": first.fleet_digest, "journal": 1}) + "\n{not json\n")

    with pytest.raises(ValueError, match="snapshot.jsonl"):
        first.start()
    assert not first.endpoints


def test_a_write_journals_only_the_instances_it_changed(lab):
    lab.service.apply(lambda fleet: fleet.machines["hv01"].store.instances(WIN32_OS)[0]
                      .update(Description="changed by the test"))

    lab.persist()
    lab.persist()

    with open(lab.state_dir.journal_file(1), encoding="utf-8") as journal:
        lines = [json.loads(line) for line in journal]
    # One line for the write, with the one instance it changed; the second call had nothing to save.
    assert [[(kind, machine, slot) for kind, machine, slot, _value in line] for line in lines] == [
        [("put", "hv01", "root/cimv2/Win32_OperatingSystem")]]
    assert lines[0][0][3]["Description"] == "changed by the test"


def test_a_write_survives_a_restart(tmp_path):
    fleet_path = write_fleet(tmp_path)
    first = open_lab(fleet_path, str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    first.start()
    first.service.apply(lambda fleet: fleet.machines["g01"].store.instances(WIN32_OS)[0]
                        .update(Description="written before the restart"))
    first.persist()
    first.stop()

    second = open_lab(fleet_path, str(tmp_path / "state"), http_port=0, https_port=0, log_requests=False)
    second.start()
    second.stop()
    assert second.fleet.machines["g01"].store.instances(WIN32_OS)[0]["Description"] == (
        "written before the restart")
