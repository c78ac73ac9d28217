# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# FOR INTERNAL COLLECTION USE ONLY: the contents of this file may change in any release.
#
# Capture: every WS-Man request and answer of one client (one task on one machine) recorded into a directory as one
# JSON file, with what identifies the environment replaced by stable placeholders, so that a user can publish the
# files and tests can replay them (tests/replay.py). Switched on by the winrm_capture_dir option or the
# HYPERV_AVMA_CAPTURE_DIR environment variable.
#
# Replaced: passwords; product keys (all but the last five characters); host, computer and VM names; user names;
# domain names; IPv4 and IPv6 addresses. Names are learned from the connection settings and from what the machine
# answered (properties and KVP items known to hold them); addresses and keys are found by their form. A placeholder
# is an HMAC of the value under a random key kept in the directory's .capture-key (never publish that file), so
# the same value gets the same placeholder in every file of the directory, and the value cannot be read back
# without the key. Placeholders keep the letter case of what they replace (upper, lower or mixed), because the code
# that reads them may change the case of names.

import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import threading
import time
from typing import Any

from ansible_collections.hyperv.avma.plugins.module_utils._xml import local_name, parse_xml

CAPTURE_ENV = "HYPERV_AVMA_CAPTURE_DIR"
CAPTURE_FORMAT = 1
KEY_FILE = ".capture-key"

# Properties (WMI and StdRegProv out parameters) whose values name a host, a computer, a VM or a domain.
_HOST_PROPERTIES = frozenset(name.lower() for name in (
    "CSName", "ComputerName", "DNSHostName", "SystemName", "AutomaticVMActivationHostMachineName",
    "ServerName", "MachineName", "KeyManagementServiceMachine", "DiscoveredKeyManagementServiceMachineName",
))
# Classes whose ElementName / Name / OwnerNode are host, VM or cluster node names.
_SYSTEM_CLASSES = frozenset(name.lower() for name in (
    "Msvm_ComputerSystem", "MSCluster_Node", "MSCluster_Cluster", "MSCluster_ResourceGroup",
))
# A VM's cluster resource: OwnerGroup is its role (named after the VM unless renamed), OwnerNode a node, and Name
# "Virtual Machine <role>" as Failover Cluster Manager names it.
_RESOURCE_CLASS = "mscluster_resource"
_VM_RESOURCE_PREFIX = "virtual machine "
_CLASS_IN_REQUEST = re.compile(r"(?:FROM\s+|/)(Msvm_\w+|MSCluster_\w+|Win32_\w+)", re.IGNORECASE)
_GUID = re.compile(r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$")
_DOMAIN_PROPERTIES = frozenset(name.lower() for name in ("Domain", "Workgroup", "DnsDomainName", "DomainName"))
_USER_PROPERTIES = frozenset(name.lower() for name in ("User", "UserName", "RegisteredUser", "PrimaryOwnerName", "Organization"))
# KVP items (and the guest's registry values of the same names) that hold names or addresses.
_HOST_ITEMS = frozenset(name.lower() for name in (
    "FullyQualifiedDomainName", "HostName", "PhysicalHostName", "PhysicalHostNameFullyQualified", "VirtualMachineName",
))
# Insertion strings of events that look like one name (no spaces): computer and VM names.
_NAME_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,62}$")
_CODE = re.compile(r"^(?:0x[0-9A-Fa-f]+|\d+)$")

_PRODUCT_KEY = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{5}-){4}([A-Za-z0-9]{5})(?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\d{1,3})?(?![\w:])")
# A learned name shorter than this is too likely to be part of ordinary text to be replaced as a word.
_MIN_NAME_CHARS = 2
# Parameters of a task never recorded: connection options (credentials among them).
_DROPPED_PARAM_PREFIX = "winrm_"

_lock = threading.Lock()
_counter = [0]


def capture_dir_from(value: str | None) -> str | None:
    """The capture directory: the option's value, else the environment variable's, else None (no capture)."""
    return value or os.environ.get(CAPTURE_ENV) or None


def _directory_key(directory: str) -> bytes:
    """The directory's placeholder key, made on first use. Tasks of one run capture in parallel processes: the key
    is written whole to a file of its own and then linked into place, so every process reads the same full key."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, KEY_FILE)
    if not os.path.exists(path):
        candidate = "%s.%d.%s" % (path, os.getpid(), secrets.token_hex(4))
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as stream:
            stream.write(secrets.token_bytes(32).hex().encode("ascii"))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass  # another process linked its key first: that one is the directory's
        finally:
            os.unlink(candidate)
    with open(path, "rb") as stream:
        return bytes.fromhex(stream.read().decode("ascii").strip())


class Scrubber:
    """Replaces what identifies the environment by stable placeholders. ``learn_*`` adds values; ``scrub`` replaces
    every learned value (as a whole word, any letter case, also XML-escaped), then addresses and product keys."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._values: dict[str, str] = {}  # value lower-cased -> kind
        self._compiled: re.Pattern | None = None

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, (kind + "\0" + value.lower()).encode("utf-8"), hashlib.sha256).hexdigest()

    def placeholder(self, kind: str, value: str) -> str:
        """``host-1a2b3c`` (``HOST-1A2B3C`` for a value in upper case)."""
        text = "%s-%s" % (kind, self._digest(kind, value)[:6])
        return text.upper() if value.isupper() else text

    def learn(self, kind: str, value: Any) -> None:
        if not isinstance(value, str):
            return
        value = value.strip()
        self._compiled = None
        if kind == "password":
            if value:
                self._values[value.lower()] = kind
            return
        if len(value) < _MIN_NAME_CHARS or _CODE.match(value) or _GUID.match(value) or self._is_address(value):
            return
        if kind == "host" and "." in value.strip("."):
            # a fully qualified name: its first label names the machine, the rest is its domain
            machine, _dot, domain = value.strip(".").partition(".")
            self.learn("host", machine)
            self.learn("domain", domain)
            return
        self._values.setdefault(value.lower(), kind)

    def learn_user(self, user: str | None) -> None:
        """``DOMAIN\\user``, ``user@domain`` or ``user``."""
        if not user:
            return
        if "\\" in user:
            domain, _sep, name = user.partition("\\")
            self.learn("domain", domain)
            self.learn("user", name)
        elif "@" in user:
            name, _sep, domain = user.partition("@")
            self.learn("user", name)
            self.learn("domain", domain)
        else:
            self.learn("user", user)

    @staticmethod
    def _is_address(value: str) -> bool:
        try:
            ipaddress.ip_address(value.split("%")[0])
        except ValueError:
            return False
        return True

    def _address(self, match: re.Match) -> str:
        text = match.group(0)
        try:
            address = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            return text
        digest = int(self._digest("address", str(address)), 16)
        if address.version == 4:
            return str(ipaddress.ip_address(int(ipaddress.ip_address("198.18.0.0")) + digest % (2 ** 17)))
        return str(ipaddress.ip_address(int(ipaddress.ip_address("2001:db8::")) + digest % (2 ** 64)))

    @staticmethod
    def _masked_key(match: re.Match) -> str:
        return "XXXXX-XXXXX-XXXXX-XXXXX-" + match.group(2)

    def _pattern(self) -> re.Pattern | None:
        if not self._values:
            return None
        if self._compiled is not None:
            return self._compiled
        forms = set()
        for value in self._values:
            forms.add(value)
            forms.add(value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
        self._compiled = re.compile(r"(?<![A-Za-z0-9_])(?:%s)(?![A-Za-z0-9_])" % alternatives, re.IGNORECASE)
        return self._compiled

    def scrub(self, text: str) -> str:
        pattern = self._pattern()
        if pattern is not None:
            def replace(match: re.Match) -> str:
                plain = match.group(0).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                return self.placeholder(self._values[plain.lower()], plain)
            text = pattern.sub(replace, text)
        text = _PRODUCT_KEY.sub(self._masked_key, text)
        text = _IPV6.sub(self._address, text)
        return _IPV4.sub(self._address, text)

    def scrub_data(self, value: Any) -> Any:
        """A JSON-like value with every string scrubbed (keys of mappings too)."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {self.scrub(str(key)): self.scrub_data(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub_data(item) for item in value]
        return value

    # -- learning from answers ---------------------------------------------------------------------------------

    def learn_from_answer(self, request: str, answer: str) -> None:
        """Learn the names in one answer: the properties known to hold them (for Msvm_ComputerSystem and the
        cluster classes also ElementName and Name), the KVP items and registry values of host names, and
        insertion strings of events that look like one name."""
        try:
            root = parse_xml(answer)
        except Exception:  # an answer that is not XML is scrubbed by form only
            return
        about = _CLASS_IN_REQUEST.findall(request)
        named_systems = any(name.lower() in _SYSTEM_CLASSES for name in about)
        resources = any(name.lower() == _RESOURCE_CLASS for name in about)
        asked_value = re.search(r"<(?:\w+:)?sValueName>([^<]*)</", request)
        asked_item = asked_value.group(1).strip().lower() if asked_value else None
        for element in root.iter():
            name = local_name(element.tag).lower()
            text = (element.text or "").strip()
            if not text:
                continue
            if text.startswith("<INSTANCE"):
                self._learn_from_instance(text)
            elif name in _HOST_PROPERTIES or (named_systems and name in ("elementname", "name", "ownernode")):
                self.learn("host", text)
            elif resources and name in ("ownergroup", "ownernode"):
                self.learn("host", text)
            elif resources and name == "name" and text.lower().startswith(_VM_RESOURCE_PREFIX):
                self.learn("host", text[len(_VM_RESOURCE_PREFIX):])
            elif name in _DOMAIN_PROPERTIES:
                self.learn("domain", text)
            elif name in _USER_PROPERTIES:
                self.learn_user(text)
            elif name == "svalue" and asked_item in _HOST_ITEMS:
                self.learn("host", text)
            elif name == "insertionstrings" and _NAME_LIKE.match(text):
                self.learn("host", text)

    def _learn_from_instance(self, text: str) -> None:
        try:
            instance = parse_xml(text)
        except Exception:  # a guest's item may be anything; it is scrubbed by form only
            return
        values = {}
        for prop in instance:
            value = next((item for item in prop if local_name(item.tag) == "VALUE"), None)
            values[(prop.get("NAME") or "").lower()] = None if value is None else (value.text or "")
        if (values.get("name") or "").lower() in _HOST_ITEMS:
            self.learn("host", values.get("data"))


class CaptureSession:
    """The exchanges of one client, written as one JSON file when the client closes."""

    def __init__(self, directory: str, settings: Any) -> None:
        self.directory = directory
        self.scrubber = Scrubber(_directory_key(directory))
        self.scrubber.learn("password", settings.password)
        self.scrubber.learn_user(settings.user)
        self.scrubber.learn("host", settings.host)
        self.scrubber.learn("host", settings.label)
        self.endpoint = settings.endpoint
        self.session = secrets.token_hex(8)
        self.opened_by: str | None = None  # the session of the client that opened this one (another cluster node)
        self.started = time.time()
        self.exchanges: list[dict[str, Any]] = []
        self.task: dict[str, Any] | None = None
        self.result: Any = None
        self.written: str | None = None

    def wrap(self, transport: Any) -> Any:
        return _RecordingTransport(transport, self)

    def record(self, request: bytes, *, answer: bytes | str | None = None, status: int = 200, error: str | None = None) -> None:
        request_text = request.decode("utf-8", "replace") if isinstance(request, bytes) else str(request)
        answer_text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
        if answer_text:
            self.scrubber.learn_from_answer(request_text, answer_text)
        self.exchanges.append(dict(request=request_text, status=status, answer=answer_text, error=error))

    def describe_task(self, action: str, params: dict[str, Any], result: Any, check_mode: bool, diff: bool) -> None:
        """The task the exchanges served, its parameters (connection options left out), modes and result."""
        self.task = dict(action=action, check_mode=bool(check_mode), diff=bool(diff),
                         params={key: value for key, value in params.items() if not key.startswith(_DROPPED_PARAM_PREFIX)})
        self.result = result

    def close(self) -> None:
        if self.written is not None or not self.exchanges:
            return
        scrub = self.scrubber.scrub
        document = dict(
            format=CAPTURE_FORMAT,
            captured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            endpoint=scrub(self.endpoint),
            session=self.session,
            opened_by=self.opened_by,
            task=self.scrubber.scrub_data(self.task),
            result=self.scrubber.scrub_data(json.loads(json.dumps(self.result, default=str))),
            exchanges=[dict(request=scrub(exchange["request"]),
                            status=exchange["status"],
                            answer=None if exchange["answer"] is None else scrub(exchange["answer"]),
                            error=None if exchange["error"] is None else scrub(exchange["error"]))
                       for exchange in self.exchanges],
        )
        with _lock:
            _counter[0] += 1
            number = _counter[0]
        name = "%s-%d-%d.json" % (time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.started)), os.getpid(), number)
        path = os.path.join(self.directory, name)
        with open(path + ".part", "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=1, sort_keys=True)
        os.replace(path + ".part", path)
        self.written = path


class _RecordingTransport:
    """A transport that hands every message to the real one and records the exchange (failures included)."""

    def __init__(self, transport: Any, session: CaptureSession) -> None:
        self._transport = transport
        self._session = session

    def send_message(self, message: bytes) -> bytes:
        try:
            answer = self._transport.send_message(message)
        except Exception as exc:
            status = getattr(exc, "code", None)
            body = getattr(exc, "response_text", None)
            self._session.record(message, answer=body, status=status if isinstance(status, int) else 0,
                                 error="%s: %s" % (type(exc).__name__, exc))
            raise
        self._session.record(message, answer=answer)
        return answer

    def close_session(self) -> None:
        self._transport.close_session()
