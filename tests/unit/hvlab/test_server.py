# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's WinRM transport, driven by the real pywinrm client over real loopback sockets.

The WS-Man layer is replaced by a recording fake whose replies each test chooses, so these tests pin down what the
transport itself does: authentication, message encryption, TLS, refusals, delays, drops and persistence.
"""

import base64
import dataclasses
import http.client
import itertools
import json
import os
import random
import socket
import ssl
import threading
import time

import pytest
import requests
import spnego
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError

from hvlab.fleetspec import WinrmAuthSpec
from hvlab import server
from hvlab.server import Lab, MachineCredentials, check_loopback, decrypt_message, encrypt_message

SOAP = "application/soap+xml;charset=UTF-8"


@dataclasses.dataclass
class FakeCredential:
    user: str
    password: str
    domain: str = ""


@dataclasses.dataclass
class FakeMachine:
    name: str
    address: str
    kind: str
    credentials: list
    inventory: dict = dataclasses.field(default_factory=dict)
    winrm_auth: WinrmAuthSpec = dataclasses.field(default_factory=WinrmAuthSpec)


@dataclasses.dataclass
class FakeReply:
    status: int
    body: bytes
    delay: float = 0.0
    drop: bool = False
    cut: bool = False
    plain: bool = False
    wrote: bool = False


class FakeFleet:
    """Its state is a count of writes; each drain of changes is one record, the count."""

    def __init__(self, machines):
        self.machines = {machine.name: machine for machine in machines}
        self.writes = 0
        self._drained = None

    def track_changes(self):
        self._drained = self.writes

    def drain_changes(self):
        if self._drained is None or self._drained == self.writes:
            return []
        self._drained = self.writes
        return [["writes", self.writes]]

    def replay_changes(self, records):
        for _name, writes in records:
            self.writes = writes

    def to_state(self):
        return {"format": 1, "machines": {name: {"instances": {"writes": self.writes}} for name in self.machines}}

    def restore_state(self, state):
        self.writes = max(saved["instances"]["writes"] for saved in state["machines"].values())


class FakeService:
    """Echoes each request; ``next_replies`` overrides the reply of the next requests."""

    def __init__(self, fleet):
        self.fleet = fleet
        self.requests = []
        self.next_replies = []
        self.lock = threading.Lock()

    def handle(self, machine_name, body, *, user):
        with self.lock:
            self.requests.append((machine_name, body, user))
            if self.next_replies:
                reply = self.next_replies.pop(0)
            else:
                reply = FakeReply(200, b"<echo machine='%s'>%s</echo>" % (machine_name.encode(), body), wrote=True)
            if reply.wrote:
                self.fleet.writes += 1
            return reply

    def stats(self):
        return {"machines": {name: {"total_requests": sum(1 for request in self.requests if request[0] == name)}
                             for name in self.fleet.machines}}

    def reset_stats(self):
        self.requests = []

    def apply(self, change):
        with self.lock:
            return change(self.fleet)


_OCTETS = itertools.count(random.randrange(10, 200) * 256)


def _loopback_address():
    value = next(_OCTETS)
    return "127.0.%d.%d" % (value // 256 % 256, value % 256 or 1)


def make_fleet():
    return FakeFleet([
        FakeMachine("guest01", _loopback_address(), "guest", [FakeCredential("Administrator", "Guest-Pass1")]),
        FakeMachine("host01", _loopback_address(), "host", [FakeCredential("labadmin", "Host-Pass2", "CONTOSO")]),
    ])


@pytest.fixture(name="lab")
def lab_fixture(tmp_path):
    fleet = make_fleet()
    lab = Lab(fleet, FakeService(fleet), tmp_path / "state", "fleet-digest", http_port=0, https_port=0, log_requests=False)
    lab.start()
    yield lab
    lab.stop()


def url(lab, machine_name, scheme="http"):
    machine = lab.fleet.machines[machine_name]
    return "%s://%s:%d/wsman" % (scheme, machine.address, lab.ports()[machine_name][scheme])


def transport(lab, machine_name, user, password, scheme="http", **options):
    options.setdefault("auth_method", "ntlm")
    options.setdefault("proxy", None)
    options.setdefault("ca_trust_path", lab.state_dir.ca_file if scheme == "https" else None)
    return winrm.transport.Transport(url(lab, machine_name, scheme), username=user, password=password, **options)


def raw_post(lab, machine_name, body=b"", headers=None, scheme="http", path="/wsman", method="POST"):
    machine = lab.fleet.machines[machine_name]
    port = lab.ports()[machine_name][scheme]
    if scheme == "https":
        context = ssl.create_default_context(cafile=lab.state_dir.ca_file)
        connection = http.client.HTTPSConnection(machine.address, port, timeout=10, context=context)
    else:
        connection = http.client.HTTPConnection(machine.address, port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=dict({"Content-Type": SOAP}, **(headers or {})))
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.msg.get_all("WWW-Authenticate") or [], response.read()
    finally:
        connection.close()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


def test_ntlm_with_message_encryption_round_trip(lab):
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1", message_encryption="always")

    first = client.send_message(b"<s:Envelope>one</s:Envelope>")
    second = client.send_message("<s:Envelope>two \u00e9</s:Envelope>")

    assert first == b"<echo machine='guest01'><s:Envelope>one</s:Envelope></echo>"
    assert second == "<echo machine='guest01'><s:Envelope>two \u00e9</s:Envelope></echo>".encode()
    assert lab.service.requests == [
        ("guest01", b"<s:Envelope>one</s:Envelope>", "Administrator"),
        ("guest01", "<s:Envelope>two \u00e9</s:Envelope>".encode(), "Administrator"),
    ]
    # Two 401 legs and pywinrm's empty authenticating request, then two WS-Man requests on the same connection.
    stats = lab.stats()
    counters = stats["machines"]["guest01"]
    # Each encrypted body is larger than the envelope it carries (MIME parts, the NTLM signature, the lengths).
    assert counters.pop("bytes_received") > len(b"<s:Envelope>one</s:Envelope><s:Envelope>two \xc3\xa9</s:Envelope>")
    assert counters.pop("bytes_sent") > len(first) + len(second)
    assert counters == {"total_requests": 2, "auth_requests": 3, "auth_failures": 0, "unencrypted_refused": 0,
                        "auth_mechanisms": {"basic": 0, "ntlm": 2, "kerberos": 0, "credssp": 0, "certificate": 0}}
    assert stats["total_auth_requests"] == 3


def test_auto_encryption_with_domain_account(lab):
    client = transport(lab, "host01", "CONTOSO\\labadmin", "Host-Pass2", message_encryption="auto")

    assert client.send_message(b"<x/>") == b"<echo machine='host01'><x/></echo>"
    assert lab.service.requests == [("host01", b"<x/>", "CONTOSO\\labadmin")]


@pytest.mark.parametrize("user", ["administrator", ".\\Administrator", "GUEST01\\Administrator"])
def test_local_account_accepted_in_windows_name_forms(lab, user):
    client = transport(lab, "guest01", user, "Guest-Pass1")

    assert client.send_message(b"<x/>") == b"<echo machine='guest01'><x/></echo>"


def test_wrong_password_is_rejected_like_windows(lab):
    client = transport(lab, "guest01", "Administrator", "wrong")

    with pytest.raises(InvalidCredentialsError):
        client.send_message(b"<x/>")
    assert lab.service.requests == []
    assert lab.stats()["machines"]["guest01"]["auth_failures"] == 1


@pytest.mark.parametrize("machine, user, password", [
    ("guest01", "CONTOSO\\labadmin", "Host-Pass2"),
    ("host01", "Administrator", "Guest-Pass1"),
    ("host01", "labadmin", "Host-Pass2"),
])
def test_a_machine_rejects_credentials_of_another_machine(lab, machine, user, password):
    with pytest.raises(InvalidCredentialsError):
        transport(lab, machine, user, password).send_message(b"<x/>")
    assert lab.service.requests == []


def test_same_user_with_different_passwords_on_two_machines(tmp_path):
    fleet = FakeFleet([
        FakeMachine("a", _loopback_address(), "guest", [FakeCredential("Administrator", "Pass-A")]),
        FakeMachine("b", _loopback_address(), "guest", [FakeCredential("Administrator", "Pass-B")]),
    ])
    lab = Lab(fleet, FakeService(fleet), tmp_path, "digest", http_port=0, https_port=0, log_requests=False)
    lab.start()
    try:
        outcomes = {}

        def attempt(machine, password):
            try:
                transport(lab, machine, "Administrator", password).send_message(b"<x/>")
                outcomes[(machine, password)] = "ok"
            except InvalidCredentialsError:
                outcomes[(machine, password)] = "rejected"

        threads = [threading.Thread(target=attempt, args=case)
                   for case in [("a", "Pass-A"), ("b", "Pass-B"), ("a", "Pass-B"), ("b", "Pass-A")] * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        lab.stop()
    assert outcomes == {("a", "Pass-A"): "ok", ("b", "Pass-B"): "ok", ("a", "Pass-B"): "rejected", ("b", "Pass-A"): "rejected"}


def test_unencrypted_soap_over_http_is_refused_with_500(lab):
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1", message_encryption="never")

    with pytest.raises(WinRMTransportError) as caught:
        client.send_message(b"<s:Envelope/>")
    assert caught.value.code == 500
    assert lab.service.requests == []
    assert lab.stats()["machines"]["guest01"]["unencrypted_refused"] == 1


def test_basic_over_http_is_refused(lab):
    with pytest.raises(WinRMTransportError) as caught:
        transport(lab, "guest01", "Administrator", "Guest-Pass1", auth_method="basic").send_message(b"<x/>")
    assert caught.value.code == 500
    with pytest.raises(InvalidCredentialsError):
        transport(lab, "guest01", "Administrator", "wrong", auth_method="basic").send_message(b"<x/>")
    assert lab.service.requests == []


def test_http_challenge_offers_negotiate_only(lab):
    status, _content_type, offers, body = raw_post(lab, "guest01", b"<x/>")

    assert (status, offers, body) == (401, ["Negotiate"], b"")


def test_https_challenge_offers_negotiate_and_basic(lab):
    status, _content_type, offers, _body = raw_post(lab, "guest01", b"<x/>", basic("Administrator", "wrong"), scheme="https")

    assert (status, offers) == (401, ["Negotiate", 'Basic realm="WSMAN"'])


def test_https_basic_with_lab_ca(lab):
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1", scheme="https", auth_method="basic")

    assert client.send_message(b"<tls/>") == b"<echo machine='guest01'><tls/></echo>"
    assert lab.service.requests == [("guest01", b"<tls/>", "Administrator")]


def test_https_plain_soap_reply_content_type(lab):
    status, content_type, _offers, body = raw_post(lab, "guest01", b"<tls/>", basic("Administrator", "Guest-Pass1"), scheme="https")

    assert (status, content_type, body) == (200, SOAP, b"<echo machine='guest01'><tls/></echo>")


def test_https_ntlm_with_channel_binding(lab):
    client = transport(lab, "host01", "CONTOSO\\labadmin", "Host-Pass2", scheme="https")

    assert client.send_message(b"<a/>") == b"<echo machine='host01'><a/></echo>"
    assert client.send_message(b"<b/>") == b"<echo machine='host01'><b/></echo>"


def test_https_ntlm_without_channel_binding_is_rejected(lab):
    client = transport(lab, "host01", "CONTOSO\\labadmin", "Host-Pass2", scheme="https", send_cbt=False)

    with pytest.raises(InvalidCredentialsError):
        client.send_message(b"<a/>")


def test_https_certificate_is_rejected_without_the_lab_ca(lab):
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1", scheme="https", auth_method="basic", ca_trust_path=None)

    with pytest.raises(requests.exceptions.SSLError):
        client.send_message(b"<x/>")
    assert lab.service.requests == []


def test_https_certificate_names_the_machine(lab):
    machine = lab.fleet.machines["host01"]
    context = ssl.create_default_context(cafile=lab.state_dir.ca_file)
    for server_name in (machine.address, "host01"):
        with socket.create_connection((machine.address, lab.ports()["host01"]["https"]), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_negotiate_with_spnego_wrapped_ntlm(lab):
    """A Negotiate client that wraps NTLM in SPNEGO (as pypsrp does), driven by hand on one connection."""
    machine = lab.fleet.machines["guest01"]
    context = spnego.client("Administrator", "Guest-Pass1", hostname="guest01", service="http", protocol="negotiate")
    connection = http.client.HTTPConnection(machine.address, lab.ports()["guest01"]["http"], timeout=10)
    try:
        token = context.step()
        status = 401
        response_headers = None
        while status == 401:
            connection.request("POST", "/wsman", body=b"", headers={"Authorization": "Negotiate " + base64.b64encode(token).decode()})
            response = connection.getresponse()
            response.read()
            status = response.status
            response_headers = response.msg
            offered = response_headers.get("WWW-Authenticate", "")
            if status == 401:
                token = context.step(base64.b64decode(offered.split(" ", 1)[1]))
        assert status == 200
        final = response_headers.get("WWW-Authenticate")
        if final:
            context.step(base64.b64decode(final.split(" ", 1)[1]))
        assert context.complete

        connection.request("POST", "/wsman", body=encrypt_message(context, b"<spnego/>"), headers={"Content-Type": server.ENCRYPTED_CONTENT_TYPE})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200
        assert response.getheader("Content-Type") == server.ENCRYPTED_CONTENT_TYPE
        assert decrypt_message(context, body) == b"<echo machine='guest01'><spnego/></echo>"
    finally:
        connection.close()


def test_encrypted_reply_of_a_fault_keeps_its_status(lab):
    lab.service.next_replies.append(FakeReply(500, b"<s:Fault/>"))
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1")

    with pytest.raises(WinRMTransportError) as caught:
        client.send_message(b"<x/>")
    assert caught.value.code == 500
    assert caught.value.response_text == "<s:Fault/>"


def test_tampered_encrypted_message_is_rejected(tmp_path):
    user_file = tmp_path / "users.txt"
    user_file.write_text(":user:pass\n")
    client_context = spnego.client("user", "pass", protocol="ntlm")
    with server._machine_user_file(str(user_file)):  # pylint: disable=protected-access
        server_context = spnego.server(protocol="ntlm")
        token = client_context.step()
        while not client_context.complete:
            token = client_context.step(server_context.step(token))
        server_context.step(token)
    framed = encrypt_message(client_context, b"<secret/>")
    tampered = bytearray(framed)
    tampered[framed.index(b"--Encrypted Boundary--") - 3] ^= 0x01

    with pytest.raises(server.EncryptionError):
        decrypt_message(server_context, bytes(tampered))
    with pytest.raises(server.EncryptionError):
        decrypt_message(server_context, b"not multipart at all")


def test_injected_delay_is_honoured(lab):
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1")
    client.send_message(b"<warm-up/>")
    lab.service.next_replies.append(FakeReply(200, b"<slow/>", delay=0.6))

    started = time.monotonic()
    assert client.send_message(b"<x/>") == b"<slow/>"
    assert time.monotonic() - started >= 0.6


def test_injected_delay_beyond_the_read_timeout(lab):
    lab.service.next_replies.append(FakeReply(200, b"<slow/>", delay=2.0))
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1", read_timeout_sec=1)

    with pytest.raises(requests.exceptions.ReadTimeout):
        client.send_message(b"<x/>")


def test_injected_drop_closes_the_connection_without_an_answer(lab):
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1", scheme="https", auth_method="basic")
    lab.service.next_replies.append(FakeReply(200, b"<never/>", drop=True))

    with pytest.raises(requests.exceptions.ConnectionError):
        client.send_message(b"<x/>")
    # The listener keeps serving: the next request gets through on a new connection.
    assert client.send_message(b"<y/>") == b"<echo machine='guest01'><y/></echo>"


def test_after_a_drop_a_new_encrypting_client_gets_through(lab):
    client = transport(lab, "guest01", "Administrator", "Guest-Pass1")
    client.send_message(b"<a/>")
    lab.service.next_replies.append(FakeReply(0, b"", drop=True))

    with pytest.raises(requests.exceptions.ConnectionError):
        client.send_message(b"<b/>")
    # pywinrm seals the next message with the context of the lost connection, which the new connection cannot open.
    with pytest.raises(WinRMTransportError) as caught:
        client.send_message(b"<c/>")
    assert caught.value.code == 400
    fresh = transport(lab, "guest01", "Administrator", "Guest-Pass1")
    assert fresh.send_message(b"<d/>") == b"<echo machine='guest01'><d/></echo>"


def test_other_paths_and_methods(lab):
    assert raw_post(lab, "guest01", b"<x/>", path="/other")[0] == 404
    assert raw_post(lab, "guest01", method="GET")[0] == 405


def saved_writes(lab):
    """The count of writes a lab restarted from ``lab``'s state directory would have."""
    saved = lab.state_dir.load_state(lab.fleet_digest)
    restored = make_fleet()
    restored.restore_state(saved.state)
    for batch in saved.batches:
        restored.replay_changes(batch)
    return restored.writes


def test_a_write_is_saved_before_it_is_answered(lab):
    transport(lab, "guest01", "Administrator", "Guest-Pass1").send_message(b"<write/>")

    assert saved_writes(lab) == 1
    with open(lab.state_dir.snapshot_file, encoding="utf-8") as snapshot:
        assert json.loads(snapshot.readline())["fleet_sha256"] == "fleet-digest"
    assert sorted(os.listdir(lab.state_dir.state_dir)) == ["journal-1.jsonl", "snapshot.jsonl"]


def test_concurrent_writes_share_appends_and_each_returns_once_its_write_is_saved(lab, monkeypatch):
    appends = []
    real_append = lab._journal.append  # pylint: disable=protected-access

    def slow_append(records):
        appends.append(records)
        time.sleep(0.05)
        return real_append(records)

    monkeypatch.setattr(lab._journal, "append", slow_append)  # pylint: disable=protected-access
    seen = []

    def writer():
        with lab.service.lock:
            lab.fleet.writes += 1
            mine = lab.fleet.writes
        lab.persist()
        seen.append((mine, saved_writes(lab)))

    threads = [threading.Thread(target=writer) for _index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 20 and all(on_disk >= mine for mine, on_disk in seen), "no writer returns before its write is saved"
    assert len(appends) < 20, "writers waiting behind an append were saved together"
    assert saved_writes(lab) == 20


def test_reply_without_write_does_not_persist(lab):
    lab.service.next_replies.append(FakeReply(200, b"<read/>"))
    transport(lab, "guest01", "Administrator", "Guest-Pass1").send_message(b"<read/>")

    assert saved_writes(lab) == 0
    assert os.path.getsize(lab.state_dir.journal_file(1)) == 0


def test_restart_restores_state_of_the_same_fleet_only(tmp_path):
    fleet = make_fleet()
    first = Lab(fleet, FakeService(fleet), tmp_path, "digest-1", http_port=0, https_port=0, log_requests=False)
    first.start()
    try:
        for _index in range(2):
            transport(first, "guest01", "Administrator", "Guest-Pass1").send_message(b"<write/>")
    finally:
        first.stop()

    same = FakeFleet(list(fleet.machines.values()))
    restarted = Lab(same, FakeService(same), tmp_path, "digest-1", http_port=0, https_port=0, log_requests=False)
    restarted.start()
    restarted.stop()
    assert (restarted.restored, same.writes) == (True, 2)

    other = FakeFleet(list(fleet.machines.values()))
    changed = Lab(other, FakeService(other), tmp_path, "digest-2", http_port=0, https_port=0, log_requests=False)
    changed.start()
    changed.stop()
    assert (changed.restored, other.writes) == (False, 0)


def test_stop_cuts_open_connections(lab):
    machine = lab.fleet.machines["guest01"]
    connection = http.client.HTTPConnection(machine.address, lab.ports()["guest01"]["http"], timeout=10)
    connection.request("POST", "/wsman", body=b"", headers={"Content-Type": SOAP})
    connection.getresponse().read()

    lab.stop()

    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("POST", "/wsman", body=b"", headers={"Content-Type": SOAP})
        connection.getresponse()
    connection.close()


@pytest.mark.parametrize("address", ["10.0.0.5", "0.0.0.0", "::1", "guest01.example.com"])
def test_lab_listens_only_on_loopback(tmp_path, address):
    fleet = FakeFleet([FakeMachine("outside", address, "guest", [FakeCredential("u", "p")])])
    lab = Lab(fleet, FakeService(fleet), tmp_path, "digest", http_port=0, https_port=0, log_requests=False)

    with pytest.raises(ValueError):
        lab.start()
    assert not lab.endpoints


def test_check_loopback_accepts_the_whole_127_network():
    for address in ("127.0.0.1", "127.0.10.7", "127.255.255.254"):
        check_loopback(address)


def test_credentials_become_a_per_machine_ntlm_user_file():
    machine = FakeMachine("guest01", "127.0.0.1", "guest", [FakeCredential("Administrator", "P1"), FakeCredential("ops", "P2", "CORP")])

    assert MachineCredentials(machine).user_file_text().splitlines() == [
        ":Administrator:P1", ".:Administrator:P1", "guest01:Administrator:P1", "CORP:ops:P2",
    ]


def test_credentials_with_a_colon_are_refused():
    machine = FakeMachine("guest01", "127.0.0.1", "guest", [FakeCredential("Administrator", "pa:ss")])

    with pytest.raises(ValueError, match="guest01"):
        MachineCredentials(machine)


@pytest.mark.parametrize("user_name, expected", [
    ("Administrator", "Administrator"),
    ("GUEST01\\administrator", "Administrator"),
    ("ops@corp", "CORP\\ops"),
    ("CORP\\ops", "CORP\\ops"),
    ("ops", None),
    ("OTHER\\Administrator", None),
])
def test_basic_credential_check(user_name, expected):
    machine = FakeMachine("guest01", "127.0.0.1", "guest", [FakeCredential("Administrator", "P1"), FakeCredential("ops", "P2", "CORP")])
    password = "P2" if "ops" in user_name else "P1"

    assert MachineCredentials(machine).check_password(user_name, password) == expected


class _RecordingWriter:
    def __init__(self):
        self.writes = []

    def write(self, data):
        self.writes.append(bytes(data))


class _HandlerStub:
    """What send_response needs of a BaseHTTPRequestHandler."""

    protocol_version = "HTTP/1.1"
    responses = server.WinrmRequestHandler.responses
    close_connection = False

    def __init__(self):
        self.wfile = _RecordingWriter()
        self.logged = []

    def log_request(self, code):
        self.logged.append(code)

    def version_string(self):
        return "Microsoft-HTTPAPI/2.0"

    def date_time_string(self):
        return "Wed, 02 Dec 2026 08:00:00 GMT"


def test_a_response_leaves_in_one_write_that_http_clients_parse():
    handler = _HandlerStub()
    server.send_response(handler, 401, [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", 'Basic realm="WSMAN"')], b"")
    server.send_response(handler, 200, [("Content-Type", SOAP)], b"<answer/>")

    assert len(handler.wfile.writes) == 2 and handler.logged == [401, 200]
    head, _separator, body = handler.wfile.writes[1].partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK" and body == b"<answer/>"
    assert {"Content-Type: " + SOAP, "Content-Length: 9", "Server: Microsoft-HTTPAPI/2.0"} <= set(lines)
    assert "Connection: close" not in lines


def test_a_closing_response_says_so():
    handler = _HandlerStub()
    handler.close_connection = True
    server.send_response(handler, 400, [], b"")
    assert b"\r\nConnection: close\r\n" in handler.wfile.writes[0]


def test_accepted_connections_have_tcp_nodelay(lab):
    machine = lab.fleet.machines["guest01"]
    endpoint = lab.endpoints["guest01"]["http"]
    with socket.create_connection((machine.address, lab.ports()["guest01"]["http"]), timeout=10) as client:
        client.sendall(b"GET /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 405 ")
        with endpoint.server._connections_lock:  # pylint: disable=protected-access
            accepted = list(endpoint.server._connections)  # pylint: disable=protected-access
        assert accepted and all(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in accepted)
