# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab CA and the per-machine HTTPS certificates."""

import hashlib
import ipaddress
import os
import socket
import ssl
import stat
import threading

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from hvlab.certs import CertificateAuthority, ServerCertificate, tls_server_end_point_hash


@pytest.fixture(name="authority")
def authority_fixture(tmp_path):
    return CertificateAuthority.load_or_create(str(tmp_path / "ca.pem"), str(tmp_path / "ca-key.pem"))


def load(path):
    with open(path, "rb") as pem:
        return x509.load_pem_x509_certificate(pem.read())


def test_ca_is_created_once_and_reused(tmp_path, authority):
    again = CertificateAuthority.load_or_create(str(tmp_path / "ca.pem"), str(tmp_path / "ca-key.pem"))

    assert again.certificate == authority.certificate
    assert authority.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert stat.S_IMODE(os.stat(tmp_path / "ca-key.pem").st_mode) == 0o600


def test_server_certificate_names_the_machine_and_chains_to_the_ca(tmp_path, authority):
    issued = ServerCertificate.ensure(authority, str(tmp_path), "guest01", "127.0.10.5")
    certificate = load(issued.cert_path)

    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["guest01"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.10.5")]
    assert ExtendedKeyUsageOID.SERVER_AUTH in certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    certificate.verify_directly_issued_by(authority.certificate)
    assert stat.S_IMODE(os.stat(issued.key_path).st_mode) == 0o600


def test_server_certificate_is_reused_while_it_matches(tmp_path, authority):
    first = load(ServerCertificate.ensure(authority, str(tmp_path), "guest01", "127.0.10.5").cert_path)
    same = load(ServerCertificate.ensure(authority, str(tmp_path), "guest01", "127.0.10.5").cert_path)
    moved = load(ServerCertificate.ensure(authority, str(tmp_path), "guest01", "127.0.10.6").cert_path)
    other_ca = CertificateAuthority.generate()
    reissued = load(ServerCertificate.ensure(other_ca, str(tmp_path), "guest01", "127.0.10.6").cert_path)

    assert same == first
    assert moved != first
    reissued.verify_directly_issued_by(other_ca.certificate)


def test_tls_server_end_point_hash_is_sha256_of_the_der(tmp_path, authority):
    issued = ServerCertificate.ensure(authority, str(tmp_path), "guest01", "127.0.10.5")
    der = issued.der_bytes()

    assert tls_server_end_point_hash(der) == hashlib.sha256(der).digest()


@pytest.mark.parametrize("server_name, trusted", [
    ("127.0.0.1", True), ("guest01", True), ("other", False), ("127.0.0.2", False),
])
def test_clients_validate_the_certificate_with_the_lab_ca(tmp_path, authority, server_name, trusted):
    issued = ServerCertificate.ensure(authority, str(tmp_path), "guest01", "127.0.0.1")
    listener = socket.create_server(("127.0.0.1", 0))
    server_context = issued.ssl_context()

    def accept_one():
        connection, _address = listener.accept()
        try:
            with server_context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass

    acceptor = threading.Thread(target=accept_one)
    acceptor.start()
    client_context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    try:
        with socket.create_connection(listener.getsockname(), timeout=10) as raw:
            if trusted:
                with client_context.wrap_socket(raw, server_hostname=server_name):
                    pass
            else:
                with pytest.raises(ssl.SSLCertVerificationError):
                    client_context.wrap_socket(raw, server_hostname=server_name)
    finally:
        acceptor.join()
        listener.close()
