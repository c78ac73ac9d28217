# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's certificate authority and the TLS server certificate of each simulated machine.

The CA is created once per state directory (``ca.pem`` + ``ca-key.pem``) and kept across restarts, so that a client
configured with ``ca_trust_path: DIR/ca.pem`` keeps working. Server certificates carry the machine name as DNS name
and its loopback address as IP address, like a WinRM HTTPS listener certificate issued for both.
"""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

CA_COMMON_NAME = "hvlab test CA"
CA_VALIDITY = datetime.timedelta(days=3650)
SERVER_VALIDITY = datetime.timedelta(days=397)
# Clocks of a client and the lab may differ slightly; certificates start being valid a day early.
CLOCK_SKEW = datetime.timedelta(days=1)
CLIENT_VALIDITY = datetime.timedelta(days=30)
# Microsoft's User Principal Name in a subjectAltName otherName: what a WinRM certificate mapping matches.
UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


class CertificateAuthority:
    """A CA certificate with its private key, able to issue server certificates."""

    def __init__(self, certificate, private_key):
        self.certificate = certificate
        self.private_key = private_key

    @classmethod
    def load_or_create(cls, cert_path, key_path):
        """Load the CA from ``cert_path``/``key_path``, creating both files when either is missing."""
        if os.path.isfile(cert_path) and os.path.isfile(key_path):
            with open(cert_path, "rb") as cert_file:
                certificate = x509.load_pem_x509_certificate(cert_file.read())
            with open(key_path, "rb") as key_file:
                private_key = serialization.load_pem_private_key(key_file.read(), password=None)
            return cls(certificate, private_key)
        authority = cls.generate()
        _write_private_file(key_path, _private_key_pem(authority.private_key))
        _write_file(cert_path, authority.certificate.public_bytes(serialization.Encoding.PEM))
        return authority

    @classmethod
    def generate(cls):
        """Create a new self-signed CA."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
        now = _now()
        public_key = private_key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(private_key, hashes.SHA256())
        )
        return cls(certificate, private_key)

    def issue_server_certificate(self, machine_name, address):
        """Return ``(certificate, private_key)`` for a TLS server known as ``machine_name`` and ``address``."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        public_key = private_key.public_key()
        now = _now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, machine_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + SERVER_VALIDITY)
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(machine_name), x509.IPAddress(ipaddress.ip_address(address))]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.certificate.public_key()), critical=False
            )
            .sign(self.private_key, hashes.SHA256())
        )
        return certificate, private_key

    def issue_client_certificate(self, upn):
        """Return ``(certificate, private_key)`` for WinRM client certificate authentication as ``upn``: the UPN as an
        otherName and the Client Authentication EKU, which a Windows certificate mapping requires."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        public_key = private_key.public_key()
        now = _now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, upn.split("@", 1)[0][:64])]))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + CLIENT_VALIDITY)
            .add_extension(x509.SubjectAlternativeName([x509.OtherName(UPN_OID, _der_utf8_string(upn))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.certificate.public_key()), critical=False
            )
            .sign(self.private_key, hashes.SHA256())
        )
        return certificate, private_key

    def write_client_certificate(self, upn, cert_path, key_path):
        """Issue a client certificate for ``upn`` and write it and its key (0600) as PEM files."""
        certificate, private_key = self.issue_client_certificate(upn)
        _write_private_file(key_path, _private_key_pem(private_key))
        _write_file(cert_path, certificate.public_bytes(serialization.Encoding.PEM))


def certificate_upn(certificate_der):
    """The UPN a client certificate names in its subjectAltName, or None."""
    try:
        names = x509.load_der_x509_certificate(certificate_der).extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    for other_name in names.get_values_for_type(x509.OtherName):
        if other_name.type_id == UPN_OID:
            return _parse_der_utf8_string(other_name.value)
    return None


def _der_utf8_string(text):
    """DER UTF8String (short or long form length), the value type of a UPN otherName."""
    data = text.encode("utf-8")
    if len(data) < 128:
        return b"\x0c" + bytes([len(data)]) + data
    length = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes([0x80 | len(length)]) + length + data


def _parse_der_utf8_string(value):
    if len(value) < 2 or value[0] != 0x0C:
        return None
    length, start = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(value[2:2 + count], "big"), 2 + count
    if start + length != len(value):
        return None
    return value[start:].decode("utf-8", errors="replace")


class ServerCertificate:
    """The certificate and key files of one machine's HTTPS listener."""

    def __init__(self, cert_path, key_path):
        self.cert_path = cert_path
        self.key_path = key_path

    @classmethod
    def ensure(cls, authority, directory, machine_name, address):
        """Reuse the machine's certificate in ``directory`` when it still matches, otherwise issue a new one.

        A certificate matches when the current CA signed it and its names are the machine's name and address.
        """
        cert_path = os.path.join(directory, machine_name + ".pem")
        key_path = os.path.join(directory, machine_name + "-key.pem")
        if not _certificate_matches(cert_path, key_path, authority, machine_name, address):
            certificate, private_key = authority.issue_server_certificate(machine_name, address)
            _write_private_file(key_path, _private_key_pem(private_key))
            _write_file(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
        return cls(cert_path, key_path)

    def der_bytes(self):
        """The DER encoding of the certificate, which TLS channel bindings hash."""
        with open(self.cert_path, "rb") as cert_file:
            return x509.load_pem_x509_certificate(cert_file.read()).public_bytes(serialization.Encoding.DER)

    def ssl_context(self, client_ca_path=None):
        """A server-side TLS context presenting this certificate. With ``client_ca_path`` it asks for a client
        certificate (optional) and accepts only those that CA issued, as HTTP.sys does for WinRM certificate auth."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        if client_ca_path:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(client_ca_path)
        return context


def tls_server_end_point_hash(certificate_der):
    """The RFC 5929 ``tls-server-end-point`` hash of a certificate (SHA-256 unless its signature uses a stronger one)."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    algorithm = certificate.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return digest.finalize()


def _certificate_matches(cert_path, key_path, authority, machine_name, address):
    if not (os.path.isfile(cert_path) and os.path.isfile(key_path)):
        return False
    with open(cert_path, "rb") as cert_file:
        certificate = x509.load_pem_x509_certificate(cert_file.read())
    try:
        certificate.verify_directly_issued_by(authority.certificate)
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return (
        names.get_values_for_type(x509.DNSName) == [machine_name]
        and names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address(address)]
        and certificate.not_valid_after_utc > _now() + datetime.timedelta(days=1)
    )


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _private_key_pem(private_key):
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_file(path, data):
    temporary = path + ".tmp"
    with open(temporary, "wb") as output:
        output.write(data)
    os.replace(temporary, path)


def _write_private_file(path, data):
    temporary = path + ".tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as output:
        output.write(data)
    os.replace(temporary, path)
