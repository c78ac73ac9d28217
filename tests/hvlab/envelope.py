# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a WS-Management request envelope into a ``WsmanRequest``; raise ``WsmanFault`` where Windows would.

Only the headers the WMI plugin acts on are interpreted (MS-WSMV 3.1.4.1): Action, To, MessageID, ResourceURI,
SelectorSet, OptionSet, MaxEnvelopeSize, OperationTimeout and the Microsoft OperationID. Everything is read by
namespace, never by prefix: clients choose their own prefixes (``wsa``/``wsman`` in pypsrp, ``a``/``w`` in Windows).
"""

import re
from dataclasses import dataclass, field

from . import faults
from .namespaces import qname
from .xmlsafe import XmlRejected, parse_xml

# Windows' default MaxEnvelopeSizekb is 500; requests asking for more get at most this.
SERVICE_MAX_ENVELOPE_SIZE = 512000
MIN_ENVELOPE_SIZE = 8192

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")


@dataclass
class WsmanRequest:
    """What the lab needs of one request. ``body`` is the first child of s:Body, or None for an empty body."""

    action: str = None
    to: str = None
    message_id: str = None
    resource_uri: str = None
    operation_id: str = None
    selectors: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    max_envelope_size: int = SERVICE_MAX_ENVELOPE_SIZE
    operation_timeout: float = None
    body: object = None

    def selector(self, name):
        """Value of the selector ``name`` (case-insensitive), or None."""
        for key, value in self.selectors.items():
            if key.lower() == name.lower():
                return value
        return None


def parse_duration(text):
    """Seconds in an xs:duration such as ``PT60.000S`` or ``P0DT0H0M20S``; None when it is not a valid duration."""
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        return None
    parts = {key: float(value) for key, value in match.groupdict().items() if value is not None}
    return parts.get("days", 0) * 86400 + parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60 + parts.get(
        "seconds", 0)


def read_addressing(data):
    """Best effort ``(MessageID, To)`` of a request that is otherwise rejected, for the fault's RelatesTo and Machine."""
    try:
        root = parse_xml(data)
    except XmlRejected:
        return None, None
    values = []
    for name in ("MessageID", "To"):
        found = root.find("%s/%s" % (qname("s", "Header"), qname("a", name)))
        values.append(found.text.strip() if found is not None and found.text else None)
    return tuple(values)


def parse_request(data):
    """Parse the decrypted request bytes; return a ``WsmanRequest`` or raise ``WsmanFault``."""
    try:
        root = parse_xml(data)
    except XmlRejected as error:
        raise faults.invalid_xml(error.reason) from error
    if root.tag != qname("s", "Envelope"):
        raise faults.schema_violation("the root element is %s, not a SOAP 1.2 Envelope" % root.tag)
    header = root.find(qname("s", "Header"))
    body = root.find(qname("s", "Body"))
    if body is None:
        raise faults.schema_violation("the envelope has no s:Body")
    request = WsmanRequest(body=body[0] if len(body) else None)
    if header is not None:
        _read_header(header, request)
    return request


def _text(element):
    return (element.text or "").strip()


def _read_header(header, request):
    simple = {
        qname("a", "Action"): "action",
        qname("a", "To"): "to",
        qname("a", "MessageID"): "message_id",
        qname("w", "ResourceURI"): "resource_uri",
        qname("p", "OperationID"): "operation_id",
    }
    for child in header:
        if child.tag in simple:
            setattr(request, simple[child.tag], _text(child))
        elif child.tag == qname("w", "SelectorSet"):
            request.selectors = read_selector_set(child)
        elif child.tag == qname("w", "OptionSet"):
            request.options = {option.get("Name", ""): _text(option) for option in child if option.tag == qname("w", "Option")}
        elif child.tag == qname("w", "MaxEnvelopeSize"):
            request.max_envelope_size = _read_max_envelope_size(_text(child))
        elif child.tag == qname("w", "OperationTimeout"):
            seconds = parse_duration(_text(child))
            if seconds is None:
                raise faults.invalid_timeout_header(_text(child))
            request.operation_timeout = seconds


def read_selector_set(selector_set):
    """``{name: value}`` of a w:SelectorSet; a repeated name is a fault."""
    selectors = {}
    for selector in selector_set:
        if selector.tag != qname("w", "Selector"):
            continue
        name = selector.get("Name", "")
        if any(existing.lower() == name.lower() for existing in selectors):
            raise faults.duplicate_selectors(name)
        selectors[name] = selector.text or ""
    return selectors


def _read_max_envelope_size(text):
    if not text.isdigit():
        raise faults.invalid_header("MaxEnvelopeSize", text)
    size = int(text)
    if size < MIN_ENVELOPE_SIZE:
        raise faults.envelope_limit_too_small(size, MIN_ENVELOPE_SIZE)
    return min(size, SERVICE_MAX_ENVELOPE_SIZE)
