# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# FOR INTERNAL COLLECTION USE ONLY: the contents of this file may change in any release.
#
# The CIM layer over WsmanClient: WMI resource URIs, WQL escaping, class schemas as data, the value codec (WS-Man
# instance XML and embedded DMTF CIM-XML in both directions) and CimClient (typed query/get/invoke, and the one job
# poller). Nothing here imports winrm.

import random
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from collections.abc import Sequence
from typing import Any, Callable

from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaError,
    AvmaValueError,
    CimJobFailedError,
    CimJobTimeoutError,
    CimMethodError,
    WsmanProtocolError,
    job_state_text,
    one_line,
)
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import (
    ANONYMOUS_ADDRESS,
    NAMESPACES,
    WsmanClient,
)
from ansible_collections.hyperv.avma.plugins.module_utils._xml import (
    Element,
    child,
    children,
    local_name,
    namespace_of,
    parse_xml,
    qname,
)

WMI_RESOURCE_URI_BASE = "http://schemas.microsoft.com/wbem/wsman/1/wmi"

CIM_TYPES = frozenset({
    "string", "boolean",
    "uint8", "uint16", "uint32", "uint64", "sint8", "sint16", "sint32", "sint64",
    "real32", "real64", "datetime", "reference", "instance",
})
_INTEGER_TYPES = frozenset({"uint8", "uint16", "uint32", "uint64", "sint8", "sint16", "sint32", "sint64"})
_REAL_TYPES = frozenset({"real32", "real64"})

# ReturnValue of a method that started an asynchronous job (CIM "Method Parameters Checked - Job Started").
JOB_STARTED = 4096
JOB_COMPLETED = 7
JOB_COMPLETED_WITH_WARNINGS = 32768  # Hyper-V's own JobState: the job succeeded
JOB_SUCCEEDED_STATES = frozenset({JOB_COMPLETED, JOB_COMPLETED_WITH_WARNINGS})
JOB_FAILED_STATES = frozenset({8, 9, 10})  # terminated, killed, exception

# What a non-zero ReturnValue means: the Win32 error codes that Win32 providers such as StdRegProv return, and the
# codes of the Msvm_* (Hyper-V WMI v2) methods, whose own pages list 4096 and 32768-32779.
WIN32_RETURN_VALUE_MEANINGS = {
    1: "incorrect function",
    2: "not found",
    5: "access denied",
    87: "invalid parameter",
}
HYPERV_RETURN_VALUE_MEANINGS = {
    4096: "job started",
    32768: "failed",
    32769: "access denied",
    32770: "not supported",
    32771: "status is unknown",
    32772: "timeout",
    32773: "invalid parameter",
    32774: "system is in use",
    32775: "invalid state for this operation",
    32776: "incorrect data type",
    32777: "system is not available",
    32778: "out of memory",
    32779: "file not found",
}

# Embedded CIM-XML instances come from guests (KVP): each is bounded on its own, well above any real KVP item.
MAX_EMBEDDED_INSTANCE_CHARS = 64 * 1024
_MAX_POLL_INTERVAL_SEC = 10.0

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*$")
_DMTF_DATETIME = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$")
_DMTF_INTERVAL = re.compile(r"^(\d{8})(\d{2})(\d{2})(\d{2})\.(\d{6}):000$")
_XS_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$")
_XS_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")

_A = NAMESPACES["a"]
_W = NAMESPACES["w"]
_XSI_NIL = qname(NAMESPACES["xsi"], "nil")


# ------------------------------------------------------------------------------------------------------------------
# Names


def resource_uri(namespace: str, class_name: str) -> str:
    """``http://schemas.microsoft.com/wbem/wsman/1/wmi/<namespace>/<Class>``; ``class_name="*"`` gives the
    namespace's WQL enumeration URI."""
    cleaned = namespace.replace("\\", "/").strip("/")
    if not _NAMESPACE.match(cleaned):
        raise AvmaValueError(f"invalid WMI namespace {namespace!r}")
    if class_name != "*" and not _IDENTIFIER.match(class_name):
        raise AvmaValueError(f"invalid WMI class name {class_name!r}")
    return f"{WMI_RESOURCE_URI_BASE}/{cleaned}/{class_name}"


def wql_string(value: str) -> str:
    """A WQL string literal: single-quoted, with backslashes and single quotes escaped by a backslash."""
    if not isinstance(value, str):
        raise AvmaValueError(f"WQL string literal needs a str, got {type(value).__name__}")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _identifier(name: str, what: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise AvmaValueError(f"invalid {what} {name!r}")
    return name


# ------------------------------------------------------------------------------------------------------------------
# Schema descriptors


@dataclass(frozen=True)
class CimProperty:
    """``isolate_errors``: the values come from an untrusted party (KVP items written by guests), so a value that
    does not decode becomes an UndecodableValue in its place instead of failing the whole instance, and with it the
    whole enumeration."""

    name: str
    type: str
    array: bool = False
    isolate_errors: bool = False

    def __post_init__(self) -> None:
        _identifier(self.name, "CIM property name")
        if self.type not in CIM_TYPES:
            raise AvmaValueError(f"property {self.name}: unknown CIM type {self.type!r}")


@dataclass(frozen=True)
class CimClass:
    """A WMI class as the collection uses it: which properties to read and how to type them."""

    namespace: str
    name: str
    properties: tuple[CimProperty, ...] = ()
    keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", tuple(self.properties))
        object.__setattr__(self, "keys", tuple(self.keys))
        resource_uri(self.namespace, self.name)  # validates both

    @property
    def resource_uri(self) -> str:
        return resource_uri(self.namespace, self.name)

    def property(self, name: str) -> CimProperty | None:
        """The property called ``name``, compared case-insensitively as WMI does."""
        wanted = name.lower()
        return next((prop for prop in self.properties if prop.name.lower() == wanted), None)


MSVM_CONCRETE_JOB = CimClass(
    "root/virtualization/v2", "Msvm_ConcreteJob",
    (
        CimProperty("InstanceID", "string"),
        CimProperty("JobState", "uint16"),
        CimProperty("JobStatus", "string"),
        CimProperty("JobType", "uint16"),
        CimProperty("PercentComplete", "uint16"),
        CimProperty("ErrorCode", "uint16"),
        CimProperty("ErrorDescription", "string"),
        CimProperty("ErrorSummaryDescription", "string"),
        CimProperty("ElementName", "string"),
    ),
    keys=("InstanceID",),
)


# ------------------------------------------------------------------------------------------------------------------
# Values


@dataclass
class CimReference:
    """A WS-Addressing endpoint reference to a CIM instance (a REF value, e.g. a method's Job output)."""

    resource_uri: str
    selectors: dict[str, str]
    address: str = ANONYMOUS_ADDRESS

    def selector(self, name: str) -> str | None:
        """The selector called ``name``, compared case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.selectors.items() if key.lower() == wanted), None)


@dataclass
class EmbeddedInstance:
    """An embedded CIM instance (DMTF CIM-XML ``<INSTANCE>``): class name, properties by name, and their CIM types
    (read from the ``TYPE`` attributes, or given for rendering)."""

    class_name: str
    properties: dict[str, Any]
    types: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of the property called ``name``, compared case-insensitively."""
        if name in self.properties:
            return self.properties[name]
        wanted = name.lower()
        return next((value for key, value in self.properties.items() if key.lower() == wanted), default)


@dataclass
class UndecodableValue:
    """A value of an ``isolate_errors`` property that could not be decoded (malformed, refused or oversized XML, a
    value that does not fit its type): why, and how many characters it had. The text itself is not kept."""

    reason: str
    size: int


def parse_cim_datetime(text: str) -> datetime | timedelta:
    """A CIM datetime value: DMTF ``yyyymmddHHMMSS.mmmmmm+UUU`` (UUU = UTC offset in minutes) or xs:dateTime give an
    aware datetime (naive when an xs:dateTime has no offset); DMTF ``ddddddddHHMMSS.mmmmmm:000`` intervals and
    xs:duration give a timedelta. 1601-01-01 (the Windows FILETIME epoch, "never") stays a real datetime."""
    value = text.strip()
    match = _DMTF_DATETIME.match(value)
    if match:
        year, month, day, hour, minute, second, micro, sign, offset = match.groups()
        zone = timezone(timedelta(minutes=int(offset) * (-1 if sign == "-" else 1)))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), int(micro), tzinfo=zone)
    match = _DMTF_INTERVAL.match(value)
    if match:
        days, hours, minutes, seconds, micro = (int(group) for group in match.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, microseconds=micro)
    match = _XS_DATETIME.match(value)
    if match:
        year, month, day, hour, minute, second, fraction, zone_text = match.groups()
        zone = None
        if zone_text == "Z":
            zone = timezone.utc
        elif zone_text:
            sign = -1 if zone_text[0] == "-" else 1
            zone = timezone(sign * timedelta(hours=int(zone_text[1:3]), minutes=int(zone_text[4:6])))
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=zone)
    match = _XS_DURATION.match(value)
    if match and value not in ("P", "-P", "PT", "-PT"):
        negative, days, hours, minutes, seconds = match.groups()
        span = timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0))
        return -span if negative else span
    raise ValueError(f"not a CIM datetime or interval: {value!r}")


def format_dmtf_datetime(value: datetime) -> str:
    """An aware datetime as DMTF ``yyyymmddHHMMSS.mmmmmm+UUU`` (the CIM-XML form)."""
    offset = value.utcoffset()
    if offset is None:
        raise AvmaValueError(f"datetime {value.isoformat()} has no time zone; CIM datetimes need one")
    minutes = int(offset.total_seconds() // 60)
    return value.strftime("%Y%m%d%H%M%S.%f") + ("-" if minutes < 0 else "+") + f"{abs(minutes):03d}"


def _decode_text(cim_type: str, text: str) -> Any:
    """A scalar from its text form (``ValueError`` when the text does not fit the type)."""
    if cim_type in _INTEGER_TYPES:
        return int(text.strip())
    if cim_type in _REAL_TYPES:
        return float(text.strip())
    if cim_type == "boolean":
        flag = text.strip().lower()
        if flag not in ("true", "false", "1", "0"):
            raise ValueError(f"not a boolean: {text!r}")
        return flag in ("true", "1")
    if cim_type == "datetime":
        return parse_cim_datetime(text)
    return text


def _is_nil(element: Element) -> bool:
    return element.get(_XSI_NIL, "").strip().lower() in ("true", "1")


def _is_reference(element: Element) -> bool:
    return any(child(element, local, [_A]) is not None for local in ("EndpointReference", "ReferenceParameters"))


def decode_reference(element: Element) -> CimReference:
    """A REF value: ``a:Address`` + ``a:ReferenceParameters`` as direct children, or wrapped in ``a:EndpointReference``."""
    epr = child(element, "EndpointReference", [_A])
    epr = element if epr is None else epr
    parameters = child(epr, "ReferenceParameters", [_A])
    if parameters is None:
        raise WsmanProtocolError(f"{local_name(element.tag)} is not an endpoint reference (no a:ReferenceParameters)")
    address = child(epr, "Address", [_A])
    uri = child(parameters, "ResourceURI", [_W])
    selector_set = child(parameters, "SelectorSet", [_W])
    selectors = {
        selector.get("Name", ""): (selector.text or "").strip()
        for selector in (children(selector_set, "Selector", [_W]) if selector_set is not None else [])
    }
    return CimReference(
        resource_uri=(uri.text or "").strip() if uri is not None else "",
        selectors=selectors,
        address=(address.text or "").strip() if address is not None else ANONYMOUS_ADDRESS,
    )


def parse_embedded_instance(text: str) -> EmbeddedInstance:
    """An embedded instance from its CIM-XML text (escaped or CDATA on the wire, plain text once parsed).

    Parsed by property NAME, never by position; a PROPERTY without VALUE is None; PROPERTY.ARRAY gives a list.
    Bounded to MAX_EMBEDDED_INSTANCE_CHARS; DOCTYPE and entity declarations are refused (WsmanProtocolError).
    """
    if len(text) > MAX_EMBEDDED_INSTANCE_CHARS:
        raise WsmanProtocolError(f"embedded instance of {len(text)} characters exceeds the limit of {MAX_EMBEDDED_INSTANCE_CHARS}")
    return _instance_in(parse_xml(text.strip(), max_size=MAX_EMBEDDED_INSTANCE_CHARS))


def _instance_in(root: Element) -> EmbeddedInstance:
    instance = root if local_name(root.tag) == "INSTANCE" else next(
        (element for element in root.iter() if local_name(element.tag) == "INSTANCE"), None)
    if instance is None:
        raise WsmanProtocolError(f"embedded CIM-XML has no INSTANCE element (root {local_name(root.tag)})")
    return _instance_from_cim_xml(instance)


def _parse_embedded_together(texts: list[str]) -> list[EmbeddedInstance] | None:
    """The embedded instances of one array in one parse, or None when any of them does not decode on its own (the
    caller then decodes them one by one, to isolate that one).

    Each text goes inside a wrapper element whose name is drawn at random for this call: no sender can close its
    wrapper early or reach into another's, so each wrapper holds exactly what parsing its text alone would give.
    """
    if any(len(text) > MAX_EMBEDDED_INSTANCE_CHARS for text in texts):
        return None
    wrapper = f"w{secrets.token_hex(8)}"
    document = f"<{wrapper}s>" + "".join(f"<{wrapper}>{text}</{wrapper}>" for text in texts) + f"</{wrapper}s>"
    try:
        wrapped = list(parse_xml(document, max_size=len(document)))
        if len(wrapped) != len(texts) or any(len(item) != 1 or (item.text or "").strip() or (item[0].tail or "").strip()
                                             for item in wrapped):
            return None
        return [_instance_in(item[0]) for item in wrapped]
    except WsmanProtocolError:
        return None


def _instance_from_cim_xml(instance: Element) -> EmbeddedInstance:
    class_name = instance.get("CLASSNAME")
    if not class_name:
        raise WsmanProtocolError("embedded INSTANCE has no CLASSNAME")
    properties: dict[str, Any] = {}
    types: dict[str, str] = {}
    # The hot loop of a host's KVP read (tens of thousands of items): plain string tests before any function call.
    for prop in instance:
        kind = prop.tag
        if kind != "PROPERTY" and kind != "PROPERTY.ARRAY":
            kind = local_name(kind)
            if kind not in ("PROPERTY", "PROPERTY.ARRAY"):
                continue  # QUALIFIER, PROPERTY.REFERENCE: not used by the classes read this way
        name = prop.get("NAME")
        if not name:
            raise WsmanProtocolError(f"embedded {class_name} has a {kind} without NAME")
        cim_type = prop.get("TYPE", "string")
        try:
            if kind == "PROPERTY":
                value_element = child(prop, "VALUE")
                if value_element is None:
                    value = None
                elif cim_type == "string":
                    value = value_element.text or ""
                else:
                    value = _decode_text(cim_type, value_element.text or "")
            else:
                array = child(prop, "VALUE.ARRAY")
                value = None if array is None else [_decode_text(cim_type, item.text or "") for item in children(array, "VALUE")]
        except ValueError as exc:
            raise WsmanProtocolError(f"embedded {class_name}.{name}: {exc}") from exc
        properties[name] = value
        types[name] = cim_type
    return EmbeddedInstance(class_name, properties, types)


def _instance_from_wscim(element: Element) -> EmbeddedInstance:
    """An embedded object rendered the WS-CIM way, as a nested ``<p:Class><p:Prop>..`` element (untyped values)."""
    return EmbeddedInstance(local_name(element.tag), _decode_untyped_group(element))


def _decode_embedded(element: Element) -> list[EmbeddedInstance]:
    """The instances one element carries: CIM-XML text, or nested ``INSTANCE`` / WS-CIM elements (one or more)."""
    nested = list(element)
    if nested:
        return [_instance_from_cim_xml(item) if local_name(item.tag) == "INSTANCE" else _instance_from_wscim(item) for item in nested]
    text = (element.text or "").strip()
    return [parse_embedded_instance(text)] if text else []


def _decode_typed(prop: CimProperty, element: Element) -> list[Any]:
    """The values one wire element of a schema property carries (a list, as embedded arrays may nest several)."""
    if _is_nil(element):
        return [None]
    if prop.type == "reference":
        return [decode_reference(element)]
    if prop.type == "instance":
        return _decode_embedded(element)
    text = element.text or ""
    if prop.type == "datetime":
        # WS-CIM wraps datetimes in <cim:Datetime>/<cim:Interval>; WQL property lists may give the DMTF text itself.
        wrapped = next(iter(element), None)
        text = (wrapped.text or "") if wrapped is not None else text
    try:
        return [_decode_text(prop.type, text)]
    except ValueError as exc:
        raise WsmanProtocolError(f"property {prop.name} ({prop.type}): {exc}") from exc


def _decode_values(prop: CimProperty, element: Element) -> list[Any]:
    if not prop.isolate_errors:
        return _decode_typed(prop, element)
    try:
        return _decode_typed(prop, element)
    except WsmanProtocolError as error:
        return [UndecodableValue(reason=error.message, size=len("".join(element.itertext())))]


def _decode_property(prop: CimProperty, elements: list[Element]) -> Any:
    if prop.array:
        if len(elements) == 1 and _is_nil(elements[0]):
            return None
        if prop.type == "instance" and len(elements) > 1:
            texts = [(element.text or "").strip() for element in elements]
            if all(texts) and not any(len(element) or _is_nil(element) for element in elements):
                together = _parse_embedded_together(texts)
                if together is not None:
                    return together
        return [value for element in elements for value in _decode_values(prop, element)]
    if len(elements) > 1:
        raise WsmanProtocolError(f"property {prop.name} is declared scalar but came {len(elements)} times")
    values = _decode_values(prop, elements[0])
    if len(values) > 1:
        raise WsmanProtocolError(f"property {prop.name} is declared scalar but holds {len(values)} instances")
    return values[0] if values else None


def _decode_untyped(element: Element) -> Any:
    """A value without schema: None, a CimReference, or the raw text (of the ``cim:*`` wrapper when there is one)."""
    if _is_nil(element):
        return None
    if _is_reference(element):
        return decode_reference(element)
    wrapped = next(iter(element), None)
    if wrapped is not None and namespace_of(wrapped.tag) == NAMESPACES["cim"]:
        return wrapped.text or ""
    return element.text or ""


def _grouped(element: Element) -> dict[str, list[Element]]:
    groups: dict[str, list[Element]] = {}
    for item in element:
        groups.setdefault(local_name(item.tag), []).append(item)
    return groups


def _decode_untyped_group(element: Element) -> dict[str, Any]:
    return {
        name: _decode_untyped(items[0]) if len(items) == 1 else [_decode_untyped(item) for item in items]
        for name, items in _grouped(element).items()
    }


def decode_instance(element: Element, cim_class: CimClass | None = None) -> dict[str, Any]:
    """An instance element (``<p:Class>``, ``<w:XmlFragment>`` from a WQL property list, or a ``<w:Item>`` wrapper) as a
    dict. Schema properties are typed and always present (None when absent); one-element arrays stay lists because
    the schema says they are arrays; properties the schema does not know are kept raw (text, list of texts, None)."""
    if local_name(element.tag) == "Item" and namespace_of(element.tag) == _W:
        element = next((item for item in element if local_name(item.tag) != "EndpointReference"), element)
    result: dict[str, Any] = {prop.name: None for prop in cim_class.properties} if cim_class else {}
    for name, items in _grouped(element).items():
        prop = cim_class.property(name) if cim_class else None
        if prop is None:
            result[name] = _decode_untyped(items[0]) if len(items) == 1 else [_decode_untyped(item) for item in items]
        else:
            result[prop.name] = _decode_property(prop, items)
    return result


def _append(parent: Element, tag: str, text: str | None = None, attrib: dict[str, str] | None = None) -> Element:
    element = Element(tag, attrib or {})
    element.text = text
    parent.append(element)
    return element


def _cim_xml_text(value: Any, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_dmtf_datetime(value)
    if isinstance(value, (str, int, float)):
        return str(value)
    raise AvmaValueError(f"embedded property {name}: cannot render a {type(value).__name__}")


def _infer_cim_type(value: Any, name: str) -> str:
    sample = value[0] if isinstance(value, (list, tuple)) and value else value
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, str):
        return "string"
    if isinstance(sample, datetime):
        return "datetime"
    raise AvmaValueError(f"embedded property {name}: give its CIM type in EmbeddedInstance.types "
                         f"(a {type(sample).__name__} does not say which CIM type it is)")


# Inside an embedded instance a real Hyper-V host refuses the named entities (&amp; &lt;: ReturnValue 32768 or
# 32773) and takes numeric character references (r4sd/go-wsman, tested against a real host), so the markup
# characters and both quotes are written as &#NN;. Characters XML 1.0 cannot carry are refused before this.
_CIM_XML_REFERENCES = {"&": "&#38;", "<": "&#60;", ">": "&#62;", '"': "&#34;", "'": "&#39;"}
_CIM_XML_SPECIAL = re.compile("[&<>\"']")


def escape_cim_xml(text: str) -> str:
    """``text`` as CIM-XML character data with numeric character references only (``R&D`` -> ``R&#38;D``)."""
    return _CIM_XML_SPECIAL.sub(lambda match: _CIM_XML_REFERENCES[match.group()], text)


def _value_element(value: Any, name: str) -> str:
    return "<VALUE>%s</VALUE>" % escape_cim_xml(_cim_xml_text(value, name))


def render_embedded_instance(instance: EmbeddedInstance) -> str:
    """The DMTF CIM-XML text of an embedded instance (``<INSTANCE CLASSNAME=..><PROPERTY NAME= TYPE=><VALUE>``).
    Types come from ``instance.types``, else from the value (str, bool, datetime); None renders a PROPERTY without
    VALUE, a list a PROPERTY.ARRAY. Values use numeric character references, never named entities."""
    parts = ['<INSTANCE CLASSNAME="%s">' % _identifier(instance.class_name, "embedded class name")]
    for name, value in instance.properties.items():
        cim_type = instance.types.get(name) or _infer_cim_type(value, name)
        if cim_type not in CIM_TYPES:
            raise AvmaValueError(f"embedded property {name}: unknown CIM type {cim_type!r}")
        attributes = 'NAME="%s" TYPE="%s"' % (_identifier(name, "embedded property name"), cim_type)
        if isinstance(value, (list, tuple)):
            items = "".join(_value_element(item, name) for item in value)
            parts.append("<PROPERTY.ARRAY %s><VALUE.ARRAY>%s</VALUE.ARRAY></PROPERTY.ARRAY>" % (attributes, items))
        else:
            parts.append("<PROPERTY %s>%s</PROPERTY>" % (attributes, "" if value is None else _value_element(value, name)))
    parts.append("</INSTANCE>")
    return "".join(parts)


def _encode_reference(element: Element, reference: CimReference) -> None:
    # a:Address and a:ReferenceParameters go directly under the parameter element, as Windows expects for REF
    # parameters (libvirt's Hyper-V driver sends them the same way).
    _append(element, qname(_A, "Address"), reference.address)
    parameters = _append(element, qname(_A, "ReferenceParameters"))
    _append(parameters, qname(_W, "ResourceURI"), reference.resource_uri)
    if reference.selectors:
        selector_set = _append(parameters, qname(_W, "SelectorSet"))
        for name, value in reference.selectors.items():
            _append(selector_set, qname(_W, "Selector"), str(value), {"Name": name})


def _encode_parameter(namespace: str, name: str, value: Any) -> Element:
    element = Element(qname(namespace, name))
    if value is None:
        element.set(_XSI_NIL, "true")
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, (int, float, str)):
        element.text = str(value)
    elif isinstance(value, datetime):
        if value.utcoffset() is None:
            raise AvmaValueError(f"parameter {name}: datetime {value.isoformat()} has no time zone")
        _append(element, qname(NAMESPACES["cim"], "Datetime"), value.isoformat())
    elif isinstance(value, CimReference):
        _encode_reference(element, value)
    elif isinstance(value, EmbeddedInstance):
        # The CIM-XML travels as text; the serializer escapes it.
        element.text = render_embedded_instance(value)
    else:
        raise AvmaValueError(f"parameter {name}: cannot send a {type(value).__name__}")
    return element


def build_method_input(resource: str, method: str, params: dict[str, Any]) -> Element:
    """``<p:{method}_INPUT xmlns:p="{resource URI}">`` with one child per parameter, in order; a list or tuple repeats
    the element (an empty one sends nothing), None sends ``xsi:nil="true"``."""
    root = Element(qname(resource, f"{_identifier(method, 'method name')}_INPUT"))
    for name, value in params.items():
        _identifier(name, "parameter name")
        for item in value if isinstance(value, (list, tuple)) else [value]:
            root.append(_encode_parameter(resource, name, item))
    return root


# ------------------------------------------------------------------------------------------------------------------
# Client


@dataclass
class MethodResult:
    """A method's ReturnValue, its other output parameters (decoded without schema), and the job it started
    (``return_value == 4096``) or None."""

    return_value: int
    outputs: dict[str, Any]
    job: CimReference | None


def return_value_meaning(code: int, *, hyperv: bool = False) -> str:
    """What a ReturnValue means: for a Hyper-V (``Msvm_*``) method the Hyper-V codes, never the Win32 ones (2 is not
    "not found" there); for other classes the Win32 codes, then the Hyper-V ones."""
    if hyperv:
        if code in HYPERV_RETURN_VALUE_MEANINGS:
            return HYPERV_RETURN_VALUE_MEANINGS[code]
    elif code in WIN32_RETURN_VALUE_MEANINGS:
        return WIN32_RETURN_VALUE_MEANINGS[code]
    elif code in HYPERV_RETURN_VALUE_MEANINGS:
        return HYPERV_RETURN_VALUE_MEANINGS[code]
    if code >= 0x80000000:
        return f"HRESULT 0x{code:08X}"
    return "unknown return value"


_PROGRESS_NAME_CHARS = 80


def _job_progress(job: dict[str, Any], job_id: str, waited: float, timeout: float) -> str:
    """``waiting for the job <id> (<its name>): 4 (running), 40 % done; 3 s of at most 300 s``. The name is the
    host's text: flattened and cut short."""
    name = one_line(job.get("ElementName") or "")[:_PROGRESS_NAME_CHARS]
    percent = job.get("PercentComplete")
    done = f", {percent} % done" if isinstance(percent, int) and 0 <= percent <= 100 else ""
    return (f"waiting for the job {one_line(job_id)[:_PROGRESS_NAME_CHARS]}{f' ({name})' if name else ''}: "
            f"{job_state_text(job['JobState'])}{done}; {waited:.0f} s of at most {timeout:g} s")


class CimClient:
    """Typed WMI access over a WsmanClient. ``clock`` and ``sleep`` (default: the WsmanClient's) drive job polling."""

    def __init__(self, wsman: WsmanClient, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        self._wsman = wsman
        self._clock = clock
        self._sleep = sleep or wsman.sleep

    @property
    def request_count(self) -> int:
        return self._wsman.request_count

    @property
    def answered(self) -> bool:
        """Whether the machine answered any request of this client (a refused login aside)."""
        return self._wsman.answered

    @property
    def display_name(self) -> str:
        """The machine as errors name it: ``label (host:port)``."""
        return self._wsman.display_name

    def progress(self, message: str) -> None:
        """Say in one line what a long wait is waiting for (shown at -v when the task runs on the controller)."""
        self._wsman.progress(message)

    def close(self) -> None:
        self._wsman.close()

    def sibling(self, host: str, label: str, port: int | None = None) -> CimClient:
        """A client of another machine reached with this one's settings (transport, credentials, TLS, and the port
        unless given) but ``host``: e.g. another node of the same failover cluster. The caller closes it."""
        settings = replace(self._wsman.settings, host=host, label=label, port=port or self._wsman.settings.port)
        wsman = WsmanClient(settings, sleep=self._wsman.sleep, progress=self._wsman.progress)
        if wsman.capture is not None and self._wsman.capture is not None:
            wsman.capture.opened_by = self._wsman.capture.session  # its capture file says which task's client opened it
        return CimClient(wsman, clock=self._clock, sleep=self._sleep)

    def describe_task(self, action: str, params: dict[str, Any], result: dict[str, Any], *, check_mode: bool, diff: bool) -> None:
        """Tell the capture, when one records this client's exchanges, which task they served and what it returned."""
        if self._wsman.capture is not None:
            self._wsman.capture.describe_task(action, params, result, check_mode, diff)

    def _in_context(self, label: str, function: Callable[..., Any], *args: Any) -> Any:
        """Run a codec step; its errors get this machine and ``label`` as operation."""
        try:
            return function(*args)
        except AvmaError as error:
            error.add_context(machine=self.display_name, operation=label)
            raise

    def query(self, cim_class: CimClass, where: str | None = None, *, properties: str | Sequence[str] | None = None,
              limit: int | None = None, max_elements: int | None = None,
              shape: Callable[[dict[str, Any]], Any] | None = None) -> list[Any]:
        """``SELECT <properties> FROM <class> [WHERE <where>]`` in the class's namespace, typed by the schema.

        ``properties``: None = the schema's properties (``*`` when it has none), ``"*"``, or a list of names.
        ``where`` is WQL as given: build its literals with wql_string(). ``max_elements`` asks for pages of at most
        that many instances. ``shape``, when given, turns each decoded instance into what the caller keeps, page by
        page as the enumeration goes, so that a large answer is never held whole. Raises the errors of
        WsmanClient.enumerate.
        """
        label = f"Enumerate {cim_class.name}"
        if properties is None:
            properties = [prop.name for prop in cim_class.properties] or "*"
        if properties == "*":
            select = "*"
        else:
            select = ",".join(self._in_context(label, _identifier, name, "property name") for name in properties)
        wql = f"SELECT {select} FROM {cim_class.name}" + (f" WHERE {where}" if where else "")
        page = {} if max_elements is None else {"max_elements": max_elements}

        def decoded(item: Element) -> Any:
            row = self._in_context(label, decode_instance, item, cim_class)
            return row if shape is None else shape(row)

        return self._wsman.enumerate(resource_uri(cim_class.namespace, "*"), wql=wql, limit=limit, transform=decoded, **page)

    def get(self, cim_class: CimClass, selectors: dict[str, Any]) -> dict[str, Any]:
        """One instance by its key selectors, typed by the schema."""
        element = self._wsman.get(cim_class.resource_uri, selectors)
        return self._in_context(f"Get {cim_class.name}", decode_instance, element, cim_class)

    def invoke(self, cim_class: CimClass, method: str, params: dict[str, Any] | None = None, *,
               selectors: dict[str, Any] | None = None, success_codes: tuple[int, ...] = (0,)) -> MethodResult:
        """Invoke a method (static when ``selectors`` is None). ReturnValue 4096 gives a MethodResult whose ``job`` is
        the Job reference (poll it with wait_for_job); a ReturnValue outside ``success_codes`` raises CimMethodError."""
        label = f"Invoke {cim_class.name}.{method}"
        input_element = self._in_context(label, build_method_input, cim_class.resource_uri, method, params or {})
        output = self._wsman.invoke(cim_class.resource_uri, method, input_element, selectors)
        outputs = self._in_context(label, _decode_untyped_group, output)
        return_text = outputs.pop("ReturnValue", None)
        try:
            return_value = int(str(return_text).strip())
        except ValueError as exc:
            raise WsmanProtocolError(f"{method}_OUTPUT has no integer ReturnValue (got {return_text!r})",
                                     machine=self._wsman.display_name, operation=label) from exc
        if return_value == JOB_STARTED:
            job = outputs.get("Job")
            if not isinstance(job, CimReference):
                raise WsmanProtocolError(f"{method} returned 4096 (job started) without a Job reference",
                                         machine=self._wsman.display_name, operation=label)
            return MethodResult(return_value, outputs, job)
        if return_value not in success_codes:
            meaning = return_value_meaning(return_value, hyperv=cim_class.name.startswith("Msvm_"))
            raise CimMethodError(method=f"{cim_class.name}.{method}", return_value=return_value, meaning=meaning,
                                 machine=self._wsman.display_name, operation=label)
        return MethodResult(return_value, outputs, None)

    def wait_for_job(self, job: CimReference, *, timeout: float, poll_interval: float = 1.0) -> dict[str, Any]:
        """Poll the job (Get Msvm_ConcreteJob by InstanceID) until JobState 7 (completed) or 32768 (completed with
        warnings: Hyper-V's own state, a success), and return its properties.

        Raises CimJobFailedError for JobState 8/9/10 (with ErrorCode/ErrorDescription), CimJobTimeoutError when
        ``timeout`` seconds pass first (the job may still run on the host). Waits back off from ``poll_interval``,
        doubling up to 10 s, with jitter.
        """
        label = f"Wait for {MSVM_CONCRETE_JOB.name}"
        machine = self._wsman.display_name
        job_id = job.selector("InstanceID")
        if not job_id:
            raise AvmaValueError(f"job reference has no InstanceID selector ({job.resource_uri})", machine=machine, operation=label)
        if timeout < 0 or poll_interval <= 0:
            raise AvmaValueError(f"timeout ({timeout}) must not be negative and poll_interval ({poll_interval}) must be positive",
                                 machine=machine, operation=label)
        deadline = self._clock() + timeout
        interval = poll_interval
        while True:
            state = self.get(MSVM_CONCRETE_JOB, {"InstanceID": job_id})
            job_state = state["JobState"]
            if job_state is None:
                raise WsmanProtocolError(f"job {job_id} has no JobState", machine=machine, operation=label)
            if job_state in JOB_SUCCEEDED_STATES:
                return state
            if job_state in JOB_FAILED_STATES:
                raise CimJobFailedError(job_id=job_id, job_state=job_state, error_code=state["ErrorCode"],
                                        error_description=state["ErrorDescription"] or state["ErrorSummaryDescription"],
                                        machine=machine, operation=label)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise CimJobTimeoutError(job_id=job_id, last_state=job_state, timeout_sec=timeout, machine=machine, operation=label)
            self.progress(_job_progress(state, job_id, timeout - remaining, timeout))
            self._sleep(min(interval + random.uniform(0, interval / 4), remaining))
            interval = min(interval * 2, max(poll_interval, _MAX_POLL_INTERVAL_SEC))
