# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WinRM transport of the lab: one HTTP and one HTTPS listener per simulated machine, on the machine's own address.

What each listener does, like a WinRM service with its default configuration (AllowUnencrypted=false):

- HTTP (5985): Negotiate/NTLM authentication (pyspnego is the acceptor), then HTTP message encryption
  (``multipart/encrypted``, MS-WSMV 2.2.9.1.1). A plaintext SOAP body, or Basic authentication, is refused with an
  empty HTTP 500 (see README.md, "Refusal of unencrypted traffic").
- HTTPS (5986): TLS with a certificate of the lab CA; Basic or Negotiate/NTLM, with TLS channel binding.
- Kerberos (when the lab has a keytab: ``KRB5_KTNAME``) through Negotiate on both listeners, with message
  encryption on HTTP; CredSSP on HTTPS, and on HTTP with CredSSP message encryption; client certificates of the lab
  CA on HTTPS, mapped to an account by the machine's certificate mappings. Each method is on or off per machine
  (fleet file ``winrm_auth``).

NTLM authenticates a connection, not a request: the security context lives with the connection (one handler
instance serves every request of a keep-alive connection). Each machine accepts only its own credentials: the
acceptor reads them from a per-machine ``NTLM_USER_FILE``, selected under a process-wide lock (see
``_machine_user_file``).

The decrypted SOAP envelope goes to ``WsmanService.handle``; its ``Reply`` is sent back (encrypted when the
request was), after ``delay`` seconds, or not at all when ``drop`` is set.
"""

import base64
import binascii
import contextlib
import ipaddress
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import spnego
import spnego.exceptions
from spnego.channel_bindings import GssChannelBindings

from .certs import CertificateAuthority, ServerCertificate, certificate_upn, tls_server_end_point_hash
from .statedir import StateDir, qualified_user_name

WSMAN_PATH = "/wsman"
SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
# MS-WSMV 2.2.9.1.1: framing of a message encrypted with an SPNEGO (NTLM) security context.
ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = 'multipart/encrypted;protocol="%s";boundary="Encrypted Boundary"' % ENCRYPTED_PROTOCOL
# MS-WSMV 2.2.9.1.3: a message encrypted with a CredSSP context (TLS records), in parts of at most 16 KiB of plaintext;
# a message of several parts is multipart/x-multi-encrypted.
CREDSSP_ENCRYPTED_PROTOCOL = "application/HTTP-CredSSP-session-encrypted"
CREDSSP_PART_BYTES = 16 * 1024
MIME_BOUNDARY = b"--Encrypted Boundary"
OCTET_STREAM_HEADER = b"\tContent-Type: application/octet-stream\r\n"
# A journal smaller than this is never compacted into a new snapshot (nor one smaller than the snapshot itself).
DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024
# The Authorization "scheme" pywinrm sends for certificate authentication (MS-WSMV 2.2.9.1.4 / DSP0226 C.3.5).
CERTIFICATE_AUTH_SCHEME = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
AUTH_MECHANISMS = ("basic", "ntlm", "kerberos", "credssp", "certificate")
LOOPBACK_NETWORK = ipaddress.ip_network("127.0.0.0/8")
# HTTP.sys closes keep-alive connections idle for 2 minutes; so does the lab.
IDLE_CONNECTION_TIMEOUT = 120
TLS_HANDSHAKE_TIMEOUT = 30
MAX_BODY_BYTES = 64 * 1024 * 1024
# How often a listener checks whether it was asked to stop.
POLL_INTERVAL = 0.2

_NTLM_USER_FILE_LOCK = threading.Lock()


class EncryptionError(ValueError):
    """An encrypted message that cannot be parsed or decrypted."""


def check_loopback(address):
    """Raise ValueError unless ``address`` is an IPv4 address in 127.0.0.0/8: the lab never listens elsewhere."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError as error:
        raise ValueError("%r is not an IP address" % (address,)) from error
    if parsed.version != 4 or parsed not in LOOPBACK_NETWORK:
        raise ValueError("the lab listens only on 127.0.0.0/8, not on %s" % address)


@contextlib.contextmanager
def _machine_user_file(path):
    """Point ``NTLM_USER_FILE`` at one machine's credential file while pyspnego reads it.

    pyspnego's NTLM acceptor takes its credentials only from that environment variable, which it reads when the
    context is created and again when the AUTHENTICATE message arrives. The variable is process-wide, so every
    acceptor operation runs under one lock; the operations are short (a few hashes).
    """
    with _NTLM_USER_FILE_LOCK:
        previous = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = path
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = previous


class MachineCredentials:
    """The accounts one machine accepts, for Basic checks and as an NTLM user file."""

    def __init__(self, machine):
        self.machine_name = machine.name
        self.accounts = []
        for credential in machine.credentials:
            for text in (credential.user, credential.domain, credential.password):
                if ":" in text or "\n" in text or "\r" in text:
                    raise ValueError("machine %s: user names, domains and passwords may not contain ':' or line breaks"
                                     % machine.name)
            self.accounts.append(credential)

    def domains_for(self, credential):
        """Domains a client may name for ``credential``: its own, or for a local account none, ``.`` or the machine."""
        if credential.domain:
            return [credential.domain]
        return ["", ".", self.machine_name]

    def user_file_text(self):
        """Lines ``DOMAIN:USER:PASSWORD`` (``:USER:PASSWORD`` without a domain), the format pyspnego reads."""
        lines = []
        for credential in self.accounts:
            for domain in self.domains_for(credential):
                lines.append("%s:%s:%s" % (domain, credential.user, credential.password))
        return "\n".join(lines) + "\n"

    def find_kerberos(self, principal, realm_domains):
        """The credential for a Kerberos ``user@REALM`` principal: a domain account of that realm, whose domain is
        the realm or its NetBIOS name (first label), as a domain member maps a ticket to an account; or None."""
        user, _separator, realm = principal.rpartition("@")
        if not user or not realm:
            return None
        names = {realm.lower(), realm.split(".", 1)[0].lower()} | {name.lower() for name in realm_domains}
        for credential in self.accounts:
            if credential.domain and credential.domain.lower() in names and credential.user.lower() == user.lower():
                return credential
        return None

    def find_user(self, user):
        """The credential with this user name (a certificate mapping names one of the machine's accounts)."""
        return next((credential for credential in self.accounts if credential.user.lower() == user.lower()), None)

    def find(self, domain, user):
        """The credential for ``domain``/``user`` (case-insensitive, as Windows compares names), or None."""
        for credential in self.accounts:
            if credential.user.lower() == user.lower() and domain.lower() in [
                    name.lower() for name in self.domains_for(credential)]:
                return credential
        return None

    def check_password(self, user_name, password):
        """The principal for a Basic ``user_name``/``password`` pair, or None when they are not accepted."""
        domain, user = split_user_name(user_name)
        credential = self.find(domain, user)
        if credential is None or credential.password != password:
            return None
        return qualified_user_name(credential)


def split_user_name(user_name):
    """``DOMAIN\\user`` and ``user@domain`` to ``(domain, user)``; a bare name has the domain ``""``."""
    if "\\" in user_name:
        domain, user = user_name.split("\\", 1)
        return domain, user
    if "@" in user_name:
        user, domain = user_name.rsplit("@", 1)
        return domain, user
    return "", user_name


class TransportStats:
    """Per-machine counters of what the transport answered by itself (the service counts WS-Man requests)."""

    COUNTERS = ("auth_requests", "auth_failures", "unencrypted_refused", "bytes_received", "bytes_sent")

    def __init__(self, machine_names):
        self._lock = threading.Lock()
        self._names = list(machine_names)
        self._counts = {}
        self.reset()

    def count(self, machine_name, counter, amount=1):
        with self._lock:
            self._counts[machine_name][counter] += amount

    def count_mechanism(self, machine_name, mechanism):
        """One WS-Man request served to a client authenticated with ``mechanism`` (one of AUTH_MECHANISMS)."""
        with self._lock:
            self._counts[machine_name]["auth_mechanisms"][mechanism] += 1

    def snapshot(self):
        with self._lock:
            return {name: dict(counters, auth_mechanisms=dict(counters["auth_mechanisms"]))
                    for name, counters in self._counts.items()}

    def reset(self):
        with self._lock:
            self._counts = {name: dict(dict.fromkeys(self.COUNTERS, 0), auth_mechanisms=dict.fromkeys(AUTH_MECHANISMS, 0))
                            for name in self._names}


class _ConnectionSecurity:
    """The security context of one connection (Negotiate: NTLM or Kerberos; CredSSP) and who it authenticated."""

    def __init__(self, scheme, context):
        self.scheme = scheme
        self.context = context
        self.principal = None
        self.mechanism = None


class _Answer:
    """What to send back for one request."""

    def __init__(self, status, body=b"", content_type=None, headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = list(headers or [])
        self.cut = False          # send the headers and half the body, then close (an injected reset)


class WinrmRequestHandler(BaseHTTPRequestHandler):
    """Serves the requests of one client connection to one machine's listener."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT
    security = None

    def version_string(self):
        return "Microsoft-HTTPAPI/2.0"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.endpoint.lab.log_requests:
            sys.stderr.write("%s %s %s\n" % (self.log_date_time_string(), self.server.endpoint.label, format % args))

    def do_POST(self):  # pylint: disable=invalid-name
        body = self._read_body()
        if body is None:
            return
        if self.path.split("?", 1)[0] != WSMAN_PATH:
            self._send(_Answer(404))
            return
        try:
            answer = self._serve(body)
        except Exception:  # pylint: disable=broad-exception-caught
            # A bug in the lab must not look like a network failure to the client: answer 500 and log it.
            traceback.print_exc()
            answer = _Answer(500)
        if answer is not None:
            self._send(answer)

    def do_GET(self):  # pylint: disable=invalid-name
        self._read_body()
        # WinRM answers anything but POST on its path with 405; other paths do not exist.
        self._send(_Answer(405 if self.path.split("?", 1)[0] == WSMAN_PATH else 404))

    @property
    def _endpoint(self):
        return self.server.endpoint

    def _read_body(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES or "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send(_Answer(400))
            return None
        body = self.rfile.read(length) if length else b""
        self._endpoint.lab.transport_stats.count(self._endpoint.machine.name, "bytes_received", len(body))
        return body

    def _serve(self, body):
        endpoint = self._endpoint
        authorization = self.headers.get("Authorization", "")
        scheme, _separator, token = authorization.strip().partition(" ")
        scheme = scheme.lower()
        final_token_header = None
        allowed = endpoint.machine.winrm_auth
        if scheme in ("negotiate", "ntlm") or (scheme == "credssp" and allowed.credssp):
            outcome = self._negotiate_step(scheme, token.strip())
            if isinstance(outcome, _Answer):
                return outcome
            final_token_header = outcome
            principal, mechanism = self.security.principal, self.security.mechanism
        elif scheme == "basic" and allowed.basic:
            principal, mechanism = self._check_basic(token.strip()), "basic"
            if principal is None:
                return self._reject()
            if not endpoint.tls:
                endpoint.lab.transport_stats.count(endpoint.machine.name, "unencrypted_refused")
                return _Answer(500)
        elif scheme == CERTIFICATE_AUTH_SCHEME and endpoint.tls and allowed.certificate:
            principal, mechanism = self._check_client_certificate(), "certificate"
            if principal is None:
                return self._reject()
        elif self.security is not None and self.security.principal is not None:
            principal, mechanism = self.security.principal, self.security.mechanism
        else:
            return self._reject()

        answer = self._serve_authenticated(body, principal, mechanism)
        if answer is not None and final_token_header:
            answer.headers.append(("WWW-Authenticate", final_token_header))
        return answer

    def _serve_authenticated(self, body, principal, mechanism):
        endpoint = self._endpoint
        content_type = self.headers.get("Content-Type", "")
        encrypted = is_encrypted_content_type(content_type)
        if encrypted:
            if self.security is None or self.security.principal is None:
                return _Answer(400)
            try:
                if self.security.scheme == "credssp":
                    body = decrypt_credssp_message(self.security.context, body)
                else:
                    body = decrypt_message(self.security.context, body)
            except EncryptionError as error:
                self.log_message("cannot decrypt the request: %s", error)
                self.close_connection = True
                return _Answer(400)
        elif not body:
            # pywinrm sends an empty request to finish authentication before it encrypts anything.
            endpoint.lab.transport_stats.count(endpoint.machine.name, "auth_requests")
            return _Answer(200)
        elif not endpoint.tls:
            endpoint.lab.transport_stats.count(endpoint.machine.name, "unencrypted_refused")
            return _Answer(500)

        endpoint.lab.transport_stats.count_mechanism(endpoint.machine.name, mechanism)
        reply = endpoint.lab.service.handle(endpoint.machine.name, body, user=principal)
        if reply.wrote:
            endpoint.lab.persist()
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self._drop_connection()
            return None
        if reply.plain:
            answer = _Answer(reply.status, reply.body, "text/html; charset=us-ascii" if reply.body else None)
        elif encrypted and self.security.scheme == "credssp":
            answer = _Answer(reply.status, *encrypt_credssp_message(self.security.context, reply.body))
        elif encrypted:
            answer = _Answer(reply.status, encrypt_message(self.security.context, reply.body), ENCRYPTED_CONTENT_TYPE)
        else:
            answer = _Answer(reply.status, reply.body, SOAP_CONTENT_TYPE)
        answer.cut = reply.cut
        return answer

    def _negotiate_step(self, scheme, token):
        """Run one leg of Negotiate (NTLM or Kerberos), NTLM or CredSSP: an ``_Answer`` (401) while unfinished or on
        failure, else the final header."""
        endpoint = self._endpoint
        try:
            in_token = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            return self._reject()
        if scheme == "credssp":
            starts = self.security is None or self.security.scheme != "credssp" or self.security.principal is not None
        else:
            starts = starts_security_context(in_token) or self.security is None or self.security.principal is not None
        if starts:
            self.security = None
            if scheme == "credssp":
                protocol = "credssp"
            else:
                protocol = "ntlm" if in_token.startswith(b"NTLMSSP\x00") else "negotiate"
            with _machine_user_file(endpoint.user_file):
                context = spnego.server(
                    hostname=endpoint.machine.name, service="http", protocol=protocol,
                    channel_bindings=None if protocol == "credssp" else endpoint.channel_bindings,
                )
            self.security = _ConnectionSecurity(scheme, context)
        security = self.security
        try:
            with _machine_user_file(endpoint.user_file):
                out_token = security.context.step(in_token)
        except spnego.exceptions.SpnegoError as error:
            self.log_message("authentication failed: %s", error)
            return self._reject()
        header_scheme = {"negotiate": "Negotiate", "ntlm": "NTLM", "credssp": "CredSSP"}[scheme]
        token_header = "%s %s" % (header_scheme, base64.b64encode(out_token).decode()) if out_token else None
        if not security.context.complete:
            endpoint.lab.transport_stats.count(endpoint.machine.name, "auth_requests")
            return _Answer(401, headers=[("WWW-Authenticate", token_header or header_scheme)])
        principal, mechanism = self._authenticated_principal(security.context, scheme)
        if principal is None:
            return self._reject()
        security.principal, security.mechanism = principal, mechanism
        return token_header

    def _authenticated_principal(self, context, scheme):
        """``(principal, mechanism)`` for a completed context when the machine accepts them, else ``(None, None)``.

        Kerberos: a ticket for this machine's service principal (the keytab holds every machine's; the acceptor
        name says which one was used), mapped to a domain account of the realm. CredSSP: the delegated password is
        checked against the machine's accounts, as Windows logs the user on with it.
        """
        endpoint = self._endpoint
        allowed = endpoint.machine.winrm_auth
        if scheme == "credssp":
            # pyspnego keeps the TSCredentials the client delegated on the acceptor context (no public accessor).
            delegated = getattr(getattr(context, "_ts_credential", None), "credentials", None)
            username = getattr(delegated, "username", None)
            if not username:
                return None, None
            credential = endpoint.credentials.find(getattr(delegated, "domain_name", "") or "", username)
            if credential is None or credential.password != getattr(delegated, "password", None):
                return None, None
            return qualified_user_name(credential), "credssp"
        mechanism = context.negotiated_protocol
        principal = context.client_principal or ""
        if mechanism == "kerberos":
            if not allowed.kerberos or not _ticket_is_for(context, endpoint.machine.name):
                return None, None
            credential = endpoint.credentials.find_kerberos(principal, ())
            return (qualified_user_name(credential), "kerberos") if credential else (None, None)
        if not allowed.negotiate or endpoint.credentials.find(*split_user_name(principal)) is None:
            return None, None
        return principal, "ntlm"

    def _check_client_certificate(self):
        """The account a verified client certificate maps to on this machine, or None (no certificate, no mapping).

        TLS already refused certificates of another issuer; the mapping matches the certificate's UPN."""
        der = self.connection.getpeercert(binary_form=True)
        upn = certificate_upn(der) if der else None
        if upn is None:
            return None
        endpoint = self._endpoint
        for mapping in endpoint.machine.winrm_auth.certificate_mappings:
            if mapping.subject.lower() == upn.lower():
                credential = endpoint.credentials.find_user(mapping.user)
                return qualified_user_name(credential) if credential else None
        return None

    def _check_basic(self, token):
        try:
            user_name, _separator, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            return None
        return self._endpoint.credentials.check_password(user_name, password)

    def _reject(self):
        endpoint = self._endpoint
        self.security = None
        endpoint.lab.transport_stats.count(endpoint.machine.name, "auth_requests")
        if self.headers.get("Authorization"):
            endpoint.lab.transport_stats.count(endpoint.machine.name, "auth_failures")
        return _Answer(401, headers=[("WWW-Authenticate", offer) for offer in auth_offers(endpoint.machine.winrm_auth, endpoint.tls)])

    def _drop_connection(self):
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.log_message("dropped the connection (injected fault)")

    def _send(self, answer):
        self._endpoint.lab.transport_stats.count(self._endpoint.machine.name, "bytes_sent", len(answer.body))
        headers = list(answer.headers)
        if answer.content_type:
            headers.append(("Content-Type", answer.content_type))
        if answer.cut:
            self.close_connection = True
            send_response(self, answer.status, headers, answer.body, cut_at=len(answer.body) // 2)
            self._drop_connection()
            return
        send_response(self, answer.status, headers, answer.body)


def auth_offers(allowed, tls):
    """The ``WWW-Authenticate`` offers of a 401, as WinRM lists its enabled methods (Basic on HTTPS only)."""
    offers = []
    if allowed.negotiate or allowed.kerberos:
        offers.append("Negotiate")
    if allowed.credssp:
        offers.append("CredSSP")
    if tls and allowed.basic:
        offers.append('Basic realm="WSMAN"')
    return offers


def _ticket_is_for(context, machine_name):
    """Whether a Kerberos context was accepted with ``HTTP/<machine>.<realm domain>`` (any realm), read from the
    acceptor name GSSAPI reports; True when GSSAPI does not say (the keytab then decides alone)."""
    gss_context = getattr(getattr(context, "_context", None), "_context", None) or getattr(context, "_context", None)
    target = getattr(gss_context, "target_name", None)
    if target is None:
        return True
    service, _separator, host = str(target).rstrip("\x00").partition("/")
    host = host.split("@", 1)[0]
    return service.lower() == "http" and host.split(".", 1)[0].lower() == machine_name.lower()


def send_response(handler, status, headers, body, cut_at=None):
    """Send a whole HTTP response in ONE write, as HTTP.sys does: status line, headers and body in one buffer.

    BaseHTTPRequestHandler would write the headers and the body separately; with the client's delayed ACK, the
    second small write then waits for the first to be acknowledged (about 40 ms on Linux) on every answer.
    With ``cut_at`` only that many bytes of the body follow the headers (which announce the whole length).
    """
    handler.log_request(status)
    reason = handler.responses.get(status, ("",))[0]
    lines = ["%s %d %s" % (handler.protocol_version, status, reason),
             "Server: %s" % handler.version_string(), "Date: %s" % handler.date_time_string()]
    lines.extend("%s: %s" % (name, value) for name, value in headers)
    lines.append("Content-Length: %d" % len(body))
    if handler.close_connection:
        lines.append("Connection: close")
    handler.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body if cut_at is None else body[:cut_at]))


def set_no_delay(sock):
    """TCP_NODELAY on an accepted socket: every answer leaves at once instead of waiting for the peer's ACK."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def starts_security_context(token):
    """True for the first token of a handshake: an NTLM NEGOTIATE message or a SPNEGO NegTokenInit."""
    if token.startswith(b"NTLMSSP\x00"):
        return token[8:12] == b"\x01\x00\x00\x00"
    return token[:1] == b"\x60"


def is_encrypted_content_type(content_type):
    media_type = content_type.split(";", 1)[0].strip().lower()
    lowered = content_type.lower()
    return media_type in ("multipart/encrypted", "multipart/x-multi-encrypted") and any(
        protocol.lower() in lowered for protocol in (ENCRYPTED_PROTOCOL, CREDSSP_ENCRYPTED_PROTOCOL))


def encrypt_message(context, message):
    """Seal ``message`` and frame it as MS-WSMV 2.2.9.1.1 (the reply to an encrypted request)."""
    sealed = context.wrap_winrm(message)
    stream = struct.pack("<I", len(sealed.header)) + sealed.header + sealed.data
    return (
        MIME_BOUNDARY + b"\r\n"
        + b"\tContent-Type: " + ENCRYPTED_PROTOCOL.encode() + b"\r\n"
        + b"\tOriginalContent: type=" + SOAP_CONTENT_TYPE.encode() + b";Length=" + str(len(message)).encode() + b"\r\n"
        + MIME_BOUNDARY + b"\r\n"
        + OCTET_STREAM_HEADER + stream
        + MIME_BOUNDARY + b"--\r\n"
    )


def encrypt_credssp_message(context, message):
    """Seal ``message`` with a CredSSP context as MS-WSMV 2.2.9.1.3: ``(body, content type)``.

    Each part holds ``uint32 trailer length | TLS records``; the trailer length is what the records add to the
    plaintext (pywinrm reads past it; Windows' value comes from SSPI's stream sizes, not reproduced exactly).
    """
    chunks = [message[start:start + CREDSSP_PART_BYTES] for start in range(0, len(message), CREDSSP_PART_BYTES)] or [b""]
    body = b""
    for chunk in chunks:
        sealed = context.wrap(chunk).data
        body += (
            MIME_BOUNDARY + b"\r\n"
            + b"\tContent-Type: " + CREDSSP_ENCRYPTED_PROTOCOL.encode() + b"\r\n"
            + b"\tOriginalContent: type=" + SOAP_CONTENT_TYPE.encode() + b";Length=" + str(len(chunk)).encode() + b"\r\n"
            + MIME_BOUNDARY + b"\r\n"
            + OCTET_STREAM_HEADER + struct.pack("<I", max(len(sealed) - len(chunk), 0)) + sealed
        )
    media_type = "multipart/x-multi-encrypted" if len(chunks) > 1 else "multipart/encrypted"
    return body + MIME_BOUNDARY + b"--\r\n", '%s;protocol="%s";boundary="Encrypted Boundary"' % (media_type, CREDSSP_ENCRYPTED_PROTOCOL)


def decrypt_credssp_message(context, body):
    """Parse an MS-WSMV 2.2.9.1.3 body (one or more parts) and return the plaintext; raise EncryptionError.

    Each octet-stream part is ``uint32 trailer length | TLS records``. TLS records do not keep the plaintext's
    length, so each sealed part ends at the next MIME boundary."""

    def unwrap(body, stream_start, _expected_length):
        data_start = stream_start + 4
        data_end = body.find(MIME_BOUNDARY, data_start)
        if data_end < 0:
            raise EncryptionError("truncated encrypted stream")
        try:
            return context.unwrap(body[data_start:data_end]).data, data_end
        except (spnego.exceptions.SpnegoError, ssl.SSLError) as error:
            raise EncryptionError("cannot unwrap the message: %s" % error) from error

    return _decrypt_parts(body, CREDSSP_ENCRYPTED_PROTOCOL, unwrap)


def decrypt_message(context, body):
    """Parse an MS-WSMV 2.2.9.1.1 encrypted body and return the plaintext; raise EncryptionError when it is not one.

    Each octet-stream part holds ``uint32 signature length | signature | sealed data``. NTLM sealing is RC4, so the
    sealed data is exactly Length bytes: its end is found by length, not by searching for the boundary inside binary
    data.
    """

    def unwrap(body, stream_start, expected_length):
        if len(body) < stream_start + 4:
            raise EncryptionError("truncated encrypted stream")
        signature_length = struct.unpack("<I", body[stream_start:stream_start + 4])[0]
        signature_start = stream_start + 4
        data_start = signature_start + signature_length
        data_end = data_start + expected_length
        if data_end > len(body):
            raise EncryptionError("truncated encrypted stream")
        try:
            return context.unwrap_winrm(body[signature_start:data_start], body[data_start:data_end]), data_end
        except spnego.exceptions.SpnegoError as error:
            raise EncryptionError("cannot unwrap the message: %s" % error) from error

    return _decrypt_parts(body, ENCRYPTED_PROTOCOL, unwrap)


def _decrypt_parts(body, protocol, unwrap):
    """The plaintext of an encrypted body: its part pairs in order, each a header part (``OriginalContent:
    ...;Length=N``) and an octet-stream part that ``unwrap(body, stream_start, N)`` opens, returning the plaintext and
    where the part ends. Raise EncryptionError for anything else."""
    parts = []
    position = 0
    end_marker = MIME_BOUNDARY + b"--"
    while not body.startswith(end_marker, position):
        if not body.startswith(MIME_BOUNDARY + b"\r\n", position):
            raise EncryptionError("missing MIME boundary at offset %d" % position)
        header_start = position + len(MIME_BOUNDARY) + 2
        header_end = body.find(MIME_BOUNDARY, header_start)
        if header_end < 0:
            raise EncryptionError("missing the octet-stream part")
        expected_length = _original_length(body[header_start:header_end], protocol)
        stream_start = header_end + len(MIME_BOUNDARY) + 2
        if body[header_end + len(MIME_BOUNDARY):stream_start] != b"\r\n" or not body.startswith(OCTET_STREAM_HEADER, stream_start):
            raise EncryptionError("the second part is not application/octet-stream")
        part, position = unwrap(body, stream_start + len(OCTET_STREAM_HEADER), expected_length)
        if len(part) != expected_length:
            raise EncryptionError("decrypted length %d differs from Length=%d" % (len(part), expected_length))
        parts.append(part)
    return b"".join(parts)


def _original_length(header_part, protocol=ENCRYPTED_PROTOCOL):
    for line in header_part.split(b"\r\n"):
        line = line.strip()
        if line.lower().startswith(b"content-type:") and protocol.encode().lower() not in line.lower():
            raise EncryptionError("unsupported encrypted content type %r" % line)
        if line.lower().startswith(b"originalcontent:"):
            for parameter in line.split(b";"):
                name, _separator, value = parameter.strip().partition(b"=")
                if name.lower() == b"length":
                    try:
                        return int(value)
                    except ValueError as error:
                        raise EncryptionError("bad Length %r" % value) from error
    raise EncryptionError("no OriginalContent Length in the encrypted part header")


class _ListenerServer(ThreadingHTTPServer):
    """A threaded HTTP(S) server for one listener; TLS handshakes run in the connection's own thread."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 overflows when 50 clients connect at once; HTTP.sys queues far more.
    request_queue_size = 128

    def __init__(self, server_address, endpoint, ssl_context=None):
        self.endpoint = endpoint
        self.ssl_context = ssl_context
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(server_address, WinrmRequestHandler)

    def server_bind(self):
        # HTTPServer.server_bind would resolve the address with getfqdn(), a DNS query off the loopback network.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        set_no_delay(request)
        connection = request
        if self.ssl_context is not None:
            request.settimeout(TLS_HANDSHAKE_TIMEOUT)
            try:
                connection = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as error:
                if self.endpoint.lab.log_requests:
                    sys.stderr.write("%s TLS handshake with %s failed: %s\n" % (self.endpoint.label, client_address[0], error))
                request.close()
                return
        with self._connections_lock:
            self._connections.add(connection)
        try:
            super().finish_request(connection, client_address)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            if connection is not request:
                connection.close()

    def close_connections(self):
        """Cut every open client connection (used when the lab stops, so clients do not hang)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class MachineEndpoint:
    """One listener (HTTP or HTTPS) of one machine."""

    def __init__(self, lab, machine, tls, port, credentials, user_file, certificate=None):
        self.lab = lab
        self.machine = machine
        self.tls = tls
        self.credentials = credentials
        self.user_file = user_file
        self.channel_bindings = None
        ssl_context = None
        if tls:
            ssl_context = certificate.ssl_context(lab.state_dir.ca_file if machine.winrm_auth.certificate else None)
            end_point = tls_server_end_point_hash(certificate.der_bytes())
            self.channel_bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + end_point)
        try:
            self.server = _ListenerServer((machine.address, port), self, ssl_context)
        except OSError as error:
            raise OSError(error.errno, "cannot listen on %s:%d for machine %s: %s"
                          % (machine.address, port, machine.name, error.strerror)) from error
        self.port = self.server.server_address[1]
        self.label = "%s %s:%d" % (machine.name, "https" if tls else "http", self.port)
        self._thread = None

    @property
    def url(self):
        return "%s://%s:%d%s" % ("https" if self.tls else "http", self.machine.address, self.port, WSMAN_PATH)

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, args=(POLL_INTERVAL,), name="hvlab " + self.label,
                                        daemon=True)
        self._thread.start()

    def stop(self):
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.close_connections()
        self.server.server_close()


class Lab:
    """The running lab: a fleet, the WS-Man service over it, and the listeners of every machine.

    ``fleet`` and ``service`` follow the interfaces of ``hvlab.fleet.Fleet`` and ``hvlab.service.WsmanService``;
    ``fleet_digest`` identifies the fleet file, so saved state is restored only for the same fleet. Port 0 gives
    every listener its own free port (tests); the ports in use are in ``machine_summaries()``.

    Persistence (``statedir``): a snapshot of the fleet and a journal of what changed since. A request that changed
    something appends the changes, before it is answered, to the journal; concurrent writers share one append (group
    commit). When the journal has grown past ``compact_bytes`` and past the snapshot's size, a new snapshot is written
    beside the requests and the old journal dropped, so its cost is spread over the writes that made it necessary.
    """

    def __init__(self, fleet, service, state_dir, fleet_digest, *, http_port=5985, https_port=5986, log_requests=True,
                 compact_bytes=DEFAULT_COMPACT_BYTES):
        self.fleet = fleet
        self.service = service
        self.state_dir = state_dir if isinstance(state_dir, StateDir) else StateDir(state_dir)
        self.fleet_digest = fleet_digest
        self.http_port = http_port
        self.https_port = https_port
        self.log_requests = log_requests
        self.compact_bytes = compact_bytes
        self.transport_stats = TransportStats(fleet.machines)
        self.endpoints = {}
        self.restored = False
        self._saved = None
        self._commit = threading.Condition()
        self._requested = 0       # persist() calls registered so far
        self._committed = 0       # the calls up to this one are durable
        self._flushing = False    # someone holds the right to append to the journal
        self._unwritten = []      # records drained whose append failed, written before the next ones
        self._snapshot_lock = threading.Lock()
        self._journal = None
        self._journal_number = 0
        self._older_journal_bytes = 0   # journals since the snapshot other than the one appended to
        self._snapshot_bytes = 0
        self._compaction = None
        self._closing = False

    def load_saved_state(self):
        """Load ``DIR/state`` into the fleet when it was saved from the same fleet file: True when it was, False when
        there is no state or it belongs to another fleet file. Reads only; ValueError when the state is unreadable."""
        try:
            saved = self.state_dir.load_state(self.fleet_digest)
            if saved is None:
                return False
            self.fleet.restore_state(saved.state)
            for batch in saved.batches:
                self.fleet.replay_changes(batch)
        except ValueError as error:
            raise ValueError("%s: %s (delete it to start from the fleet file)" % (self.state_dir.state_dir, error)) from error
        self._saved = saved
        return True

    def start(self):
        """Restore saved state, then open every listener; on failure nothing stays open."""
        for machine in self.fleet.machines.values():
            check_loopback(machine.address)
        self.state_dir.ensure()
        self.restored = self.load_saved_state()
        self.fleet.track_changes()
        if self.restored:
            saved = self._saved
            self.state_dir.remove_leftovers(saved.first_journal, saved.journal)
            self._journal = self.state_dir.open_journal(saved.journal, saved.journal_size)
            self._journal_number = saved.journal
            self._older_journal_bytes = saved.journal_bytes - saved.journal_size
            self._snapshot_bytes = saved.snapshot_bytes
        else:
            self.state_dir.clear_state()
            self._write_snapshot(self.fleet.to_state(), self._rotate())
        authority = CertificateAuthority.load_or_create(self.state_dir.ca_file, self.state_dir.ca_key_file)
        try:
            for machine in self.fleet.machines.values():
                self.endpoints[machine.name] = self._open_endpoints(machine, authority)
        except BaseException:
            self.stop()
            raise
        for endpoints in self.endpoints.values():
            for endpoint in endpoints.values():
                endpoint.start()
        self._compact_when_due()

    def _open_endpoints(self, machine, authority):
        credentials = MachineCredentials(machine)
        user_file = os.path.join(self.state_dir.users_dir, machine.name + ".txt")
        descriptor = os.open(user_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as output:
            output.write(credentials.user_file_text())
        certificate = ServerCertificate.ensure(authority, self.state_dir.certs_dir, machine.name, machine.address)
        endpoints = {}
        try:
            endpoints["http"] = MachineEndpoint(self, machine, False, self.http_port, credentials, user_file)
            endpoints["https"] = MachineEndpoint(self, machine, True, self.https_port, credentials, user_file, certificate)
        except BaseException:
            for endpoint in endpoints.values():
                endpoint.stop()
            raise
        return endpoints

    def stop(self):
        """Close every listener and cut open connections, then save what is not saved yet and close the journal."""
        # Listeners stop in parallel: each one takes up to a poll interval to notice.
        stoppers = [threading.Thread(target=endpoint.stop) for endpoints in self.endpoints.values()
                    for endpoint in endpoints.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self.endpoints = {}
        with self._commit:
            self._closing = True
            compaction = self._compaction
        if compaction is not None:
            compaction.join()
        if self._journal is not None:
            self.persist()
            self._journal.close()
            self._journal = None

    def persist(self):
        """Make every change so far durable (in the journal) before returning: after a request that wrote, after an
        admin change, at stop. Calls that arrive while an append runs are served together by the next one."""
        with self._commit:
            self._requested += 1
            ticket = self._requested
        while True:
            with self._commit:
                while self._flushing and self._committed < ticket:
                    self._commit.wait()
                if self._committed >= ticket:
                    break
            with self._flush_role():
                self._append(self.service.apply(lambda fleet: fleet.drain_changes()))
        self._compact_when_due()

    @contextlib.contextmanager
    def _flush_role(self):
        """Be the only one appending to the journal; on a clean exit every ``persist`` call registered before entry
        is durable."""
        with self._commit:
            while self._flushing:
                self._commit.wait()
            self._flushing = True
            covered = self._requested
        done = False
        try:
            yield
            done = True
        finally:
            with self._commit:
                self._flushing = False
                if done:
                    self._committed = max(self._committed, covered)
                self._commit.notify_all()

    def _append(self, records):
        """In the flush role: append ``records`` (after any whose append failed before) to the journal."""
        records = self._unwritten + records
        self._unwritten = []
        if not records:
            return
        if self._journal is None:
            self._unwritten = records
            raise RuntimeError("the lab is stopped: changes after its stop are not saved")
        try:
            self._journal.append(records)
        except BaseException:
            self._unwritten = records
            raise

    def _compact_when_due(self):
        """Start a background compaction when the journal outgrew both ``compact_bytes`` and the snapshot."""
        journal = self._journal
        if journal is None or self._older_journal_bytes + journal.size <= max(self.compact_bytes, self._snapshot_bytes):
            return
        with self._commit:
            if self._closing or (self._compaction is not None and self._compaction.is_alive()):
                return
            self._compaction = threading.Thread(target=self._compact_in_background, name="hvlab-compaction", daemon=True)
            self._compaction.start()

    def _compact_in_background(self):
        try:
            self.compact()
        except Exception as error:  # pylint: disable=broad-exception-caught
            print("hvlab: compaction failed, the journal goes on: %s" % error, file=sys.stderr, flush=True)

    def compact(self):
        """Write a snapshot of the fleet and start a new journal; the old journal goes once the snapshot is in place.
        Requests wait only while the state is copied (under the service lock), not while it is written."""
        with self._snapshot_lock:
            with self._flush_role():
                if self._journal is None:
                    return
                records, state = self.service.apply(lambda fleet: (fleet.drain_changes(), fleet.to_state()))
                self._append(records)
                number = self._rotate()
            self._write_snapshot(state, number)

    def reset(self):
        """Back to the fleet file's initial state (service counters and faults included), saved at once. No write
        is answered until the new snapshot is in place, so a restart never mixes states from before and after."""
        with self._snapshot_lock:
            with self._flush_role():
                self._append(self.service.apply(lambda fleet: fleet.drain_changes()))
                self.service.reset()
                self.transport_stats.reset()
                # What changed after the reset is in the copy; its records would apply to the state before it.
                _records, state = self.service.apply(lambda fleet: (fleet.drain_changes(), fleet.to_state()))
                self._write_snapshot(state, self._rotate())

    def _rotate(self):
        """Go on in a new, empty journal, created at once so that the journals stay numbered without gaps; returns
        its number."""
        new = self.state_dir.open_journal(self._journal_number + 1)
        if self._journal is not None:
            self._older_journal_bytes += self._journal.size
            self._journal.close()
        self._journal = new
        self._journal_number += 1
        return self._journal_number

    def _write_snapshot(self, state, journal_number):
        """Write ``state`` as the snapshot that journal ``journal_number`` continues (older journals go)."""
        self._snapshot_bytes = self.state_dir.write_snapshot(self.fleet_digest, journal_number, state)
        self._older_journal_bytes = 0

    def ports(self):
        """``{machine name: {"http": port, "https": port}}`` of the open listeners."""
        return {name: {scheme: endpoint.port for scheme, endpoint in endpoints.items()}
                for name, endpoints in self.endpoints.items()}

    def machine_summaries(self):
        """Name, address, kind and ports of every machine, for the admin endpoint."""
        ports = self.ports()
        return [
            {"name": machine.name, "address": machine.address, "kind": machine.kind, "ports": ports.get(machine.name, {})}
            for machine in self.fleet.machines.values()
        ]

    def stats(self):
        """The service's counters with the transport's merged into each machine's entry.

        ``{"machines": {name: {<service counters>, "auth_requests": n, "auth_failures": n,
        "unencrypted_refused": n, "bytes_received": n, "bytes_sent": n}}, <service totals>, "total_auth_requests": n}``.
        ``auth_requests`` counts HTTP round trips spent on authentication (401 legs, and the empty request that
        completes NTLM before encryption); they never reach the service, so they are not in its ``requests``.
        ``bytes_received`` / ``bytes_sent`` count the HTTP bodies of every request and answer (headers not counted).
        """
        stats = self.service.stats()
        machines = stats.setdefault("machines", {})
        transport = self.transport_stats.snapshot()
        for name, counters in transport.items():
            machines.setdefault(name, {}).update(counters)
        stats["total_auth_requests"] = sum(counters["auth_requests"] for counters in transport.values())
        return stats

    def reset_stats(self):
        self.service.reset_stats()
        self.transport_stats.reset()
