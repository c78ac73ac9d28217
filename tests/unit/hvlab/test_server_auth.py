# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's authentication methods besides NTLM and Basic: per-machine switches (fleet file ``winrm_auth``), client
certificates mapped by UPN, CredSSP on HTTPS, and the per-mechanism counters. Kerberos needs a KDC: it is exercised
end to end in tests/integration/test_transports.py."""

import pytest
from cryptography.hazmat.primitives import serialization
from winrm.exceptions import InvalidCredentialsError

from hvlab.certs import CertificateAuthority, certificate_upn
from hvlab.fleet import Fleet
from hvlab.fleetfile import FleetError
from hvlab.fleetspec import CertificateMapping, WinrmAuthSpec
from hvlab.server import Lab, auth_offers

from ansible_collections.hyperv.avma.tests.unit.hvlab.test_server import (
    FakeCredential, FakeFleet, FakeMachine, FakeService, _loopback_address, raw_post, transport)

ENVELOPE = b"<s:Envelope>hello</s:Envelope>"


def fleet_document(winrm_auth):
    return {"machines": {"g1": {"address": "127.0.99.1", "kind": "guest", "os": {"version": "2022", "edition": "ServerDatacenter"},
                                "credentials": [{"user": "Administrator", "password": "Pass-1"}], "winrm_auth": winrm_auth}}}


def test_fleet_file_switches_methods_and_maps_certificates():
    fleet = Fleet.from_document(fleet_document({"credssp": True, "kerberos": False, "certificate": True, "certificate_mappings": [
        {"subject": "ops@hvlab.test", "user": "administrator"}]}))
    assert fleet.machines["g1"].winrm_auth == WinrmAuthSpec(
        basic=True, negotiate=True, kerberos=False, credssp=True, certificate=True,
        certificate_mappings=(CertificateMapping("ops@hvlab.test", "administrator"),))
    assert Fleet.from_document(fleet_document(None)).machines["g1"].winrm_auth == WinrmAuthSpec()


@pytest.mark.parametrize("winrm_auth, message", [
    ({"kerberos": "yes"}, "winrm_auth.kerberos: must be true or false"),
    ({"digest": True}, "winrm_auth: must be a mapping of basic, negotiate, kerberos, credssp, certificate"),
    ({"certificate_mappings": [{"subject": "ops@hvlab.test", "user": "nobody"}]}, "user 'nobody' is not one of the machine's credentials"),
    ({"certificate_mappings": [{"subject": "ops@hvlab.test"}]}, "must be a mapping of subject (a UPN) and user"),
])
def test_fleet_file_refuses_bad_auth_settings(winrm_auth, message):
    with pytest.raises(FleetError) as caught:
        Fleet.from_document(fleet_document(winrm_auth))
    assert message in str(caught.value)


def test_a_client_certificate_carries_its_upn():
    authority = CertificateAuthority.generate()
    certificate, _key = authority.issue_client_certificate("ops@hvlab.test")
    assert certificate_upn(certificate.public_bytes(serialization.Encoding.DER)) == "ops@hvlab.test"
    long_upn = "a" * 200 + "@hvlab.test"
    certificate, _key = authority.issue_client_certificate(long_upn)
    assert certificate_upn(certificate.public_bytes(serialization.Encoding.DER)) == long_upn


@pytest.mark.parametrize("allowed, tls, offers", [
    (WinrmAuthSpec(), False, ["Negotiate"]),
    (WinrmAuthSpec(), True, ["Negotiate", 'Basic realm="WSMAN"']),
    (WinrmAuthSpec(credssp=True), True, ["Negotiate", "CredSSP", 'Basic realm="WSMAN"']),
    (WinrmAuthSpec(credssp=True), False, ["Negotiate", "CredSSP"]),
    (WinrmAuthSpec(negotiate=False, kerberos=False, basic=False), True, []),
])
def test_401_offers_list_the_enabled_methods(allowed, tls, offers):
    assert auth_offers(allowed, tls) == offers


@pytest.fixture(name="lab")
def lab_fixture(tmp_path):
    mapping = (CertificateMapping("ops@hvlab.test", "Administrator"),)
    fleet = FakeFleet([
        FakeMachine("open01", _loopback_address(), "guest", [FakeCredential("Administrator", "Open-Pass1")],
                    winrm_auth=WinrmAuthSpec(credssp=True, certificate=True, certificate_mappings=mapping)),
        FakeMachine("shut01", _loopback_address(), "guest", [FakeCredential("Administrator", "Shut-Pass1")],
                    winrm_auth=WinrmAuthSpec(negotiate=False, basic=False, certificate_mappings=mapping)),
    ])
    lab = Lab(fleet, FakeService(fleet), tmp_path / "state", "fleet-digest", http_port=0, https_port=0, log_requests=False)
    lab.start()
    yield lab
    lab.stop()


def client_certificate(lab, tmp_path, upn):
    cert, key = str(tmp_path / "client.pem"), str(tmp_path / "client-key.pem")
    CertificateAuthority.load_or_create(lab.state_dir.ca_file, lab.state_dir.ca_key_file).write_client_certificate(upn, cert, key)
    return cert, key


def test_mapped_client_certificate_logs_on_as_its_account(lab, tmp_path):
    cert, key = client_certificate(lab, tmp_path, "OPS@hvlab.test")
    client = transport(lab, "open01", None, None, scheme="https", auth_method="certificate", cert_pem=cert, cert_key_pem=key)
    assert client.send_message(ENVELOPE).startswith(b"<echo machine='open01'>")
    assert lab.service.requests[-1][2] == "Administrator"
    assert lab.stats()["machines"]["open01"]["auth_mechanisms"]["certificate"] == 1


def test_unmapped_certificate_and_switched_off_method_get_401(lab, tmp_path):
    cert, key = client_certificate(lab, tmp_path, "stranger@hvlab.test")
    with pytest.raises(InvalidCredentialsError):
        transport(lab, "open01", None, None, scheme="https", auth_method="certificate", cert_pem=cert, cert_key_pem=key).send_message(ENVELOPE)
    mapped = client_certificate(lab, tmp_path, "ops@hvlab.test")
    # shut01 maps the certificate but has Certificate authentication off (and asks for no client certificate).
    with pytest.raises(InvalidCredentialsError):
        transport(lab, "shut01", None, None, scheme="https", auth_method="certificate", cert_pem=mapped[0],
                  cert_key_pem=mapped[1]).send_message(ENVELOPE)
    with pytest.raises(InvalidCredentialsError):
        transport(lab, "shut01", "Administrator", "Shut-Pass1").send_message(ENVELOPE)
    assert lab.service.requests == []


@pytest.mark.needs_modules("requests_credssp")
def test_credssp_on_https_checks_the_delegated_password(lab):
    client = transport(lab, "open01", "Administrator", "Open-Pass1", scheme="https", auth_method="credssp")
    assert client.send_message(ENVELOPE).startswith(b"<echo machine='open01'>")
    assert lab.stats()["machines"]["open01"]["auth_mechanisms"] == {"basic": 0, "ntlm": 0, "kerberos": 0, "credssp": 1, "certificate": 0}
    with pytest.raises(Exception):  # requests-credssp raises on the refused NTLM leg, pywinrm on a 401
        transport(lab, "open01", "Administrator", "Wrong-Pass", scheme="https", auth_method="credssp").send_message(ENVELOPE)
    status, _content_type, offers, _body = raw_post(lab, "shut01", ENVELOPE, {"Authorization": "CredSSP AAAA"}, scheme="https")
    assert status == 401 and offers == ["Negotiate"]


@pytest.mark.needs_modules("requests_credssp")
def test_credssp_over_http_encrypts_in_parts_of_16_kib(lab):
    client = transport(lab, "open01", "Administrator", "Open-Pass1", auth_method="credssp", message_encryption="always")
    large = b"<s:Envelope>" + b"x" * 40000 + b"</s:Envelope>"
    # The echo of a 40 kB request is a reply of three parts (multipart/x-multi-encrypted) each way.
    assert client.send_message(large) == b"<echo machine='open01'>" + large + b"</echo>"
    assert client.send_message(ENVELOPE) == b"<echo machine='open01'>" + ENVELOPE + b"</echo>"
    stats = lab.stats()["machines"]["open01"]
    assert stats["auth_mechanisms"]["credssp"] == 2 and stats["unencrypted_refused"] == 0
