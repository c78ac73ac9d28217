# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Embedded CIM-XML instances (DMTF DSP0201), the way Hyper-V carries KVP items and setting data in strings.

``render_item`` writes an ``Msvm_KvpExchangeDataItem`` as WMI's ``GetText(CimDtd20)`` does, in one of two shapes:
``full`` (Caption, Description and ElementName present without a VALUE, marked PROPAGATED, as public samples of
GuestIntrinsicExchangeItems show) or ``minimal`` (Data, Name, Source only; avma-facts section 6). Text is escaped,
and characters XML 1.0 cannot carry (control characters, U+FFFE, ...) become numeric character references, so the
instance text itself is always ASCII-safe even when what it says is hostile; a client parsing it must cope.

``parse_instance`` reads an embedded instance a client sends (DataItems, ResourceSettings): the DTD-refusing parser
of ``xmlsafe``, properties by NAME, nothing expanded. Like a real Hyper-V host (r4sd/go-wsman, tested against one),
it refuses named entities (``&amp;``, ``&lt;``, ...) inside the instance and takes numeric character references
(``&#38;``); with ``strict=False`` (fleet ``wire.named_entities: accepted``) it takes both.
"""

import re

from .xmlsafe import XmlRejected, parse_xml

DATA_ITEM_CLASS = "Msvm_KvpExchangeDataItem"
SOURCE_HOST = 0
SOURCE_GUEST = 1
SOURCE_INTRINSIC = 2
SOURCE_HOST_ONLY = 4
ITEM_SHAPES = ("full", "minimal")

# Characters outside the XML 1.0 Char production, plus the markup characters.
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


# What a host answers to an embedded instance with a named entity (fleet ``wire.named_entities``): a real host was
# seen answering 32773 and 32768; ``accepted`` is the lenient parser's behaviour.
NAMED_ENTITY_ANSWERS = ("invalid_parameter", "failed", "accepted")
_NAMED_ENTITY = re.compile(r"&(?!#[0-9]+;|#x[0-9A-Fa-f]+;)")


class InstanceError(ValueError):
    """Text that is not an embedded CIM-XML instance the lab can read."""


class NamedEntityRefused(InstanceError):
    """An embedded instance that uses a named entity reference, which Hyper-V's embedded-instance parser refuses."""


def escape_cim_text(value):
    """``value`` as CIM-XML character data."""
    return _NEEDS_ESCAPE.sub(lambda match: _NAMED.get(match.group(), "&#%d;" % ord(match.group())), value)


def _property(name, cim_type, value, propagated=False):
    flag = ' PROPAGATED="true"' if propagated else ""
    inner = "" if value is None else "<VALUE>%s</VALUE>" % escape_cim_text(str(value))
    return '<PROPERTY NAME="%s"%s TYPE="%s">%s</PROPERTY>' % (name, flag, cim_type, inner)


def render_item(name, data, source, shape="full"):
    """The embedded-instance text of one KVP item."""
    parts = []
    if shape == "full":
        parts.append(_property("Caption", "string", None, True))
    parts.append(_property("Data", "string", data))
    if shape == "full":
        parts.append(_property("Description", "string", None, True))
        parts.append(_property("ElementName", "string", None, True))
    parts.append(_property("Name", "string", name))
    parts.append(_property("Source", "uint16", source))
    return '<INSTANCE CLASSNAME="%s">%s</INSTANCE>' % (DATA_ITEM_CLASS, "".join(parts))


def render_instance(class_name, properties):
    """Any instance from ``((name, cim_type, value), ...)``; None values get no VALUE element."""
    return '<INSTANCE CLASSNAME="%s">%s</INSTANCE>' % (
        class_name, "".join(_property(name, cim_type, value) for name, cim_type, value in properties))


def parse_instance(text, strict=True):
    """``(class name, {property name lower-cased: text or None})`` of an embedded instance; ``InstanceError``
    (``NamedEntityRefused`` for a named entity when ``strict``)."""
    if not isinstance(text, str) or not text.strip():
        raise InstanceError("the embedded instance is empty")
    if strict and _NAMED_ENTITY.search(text):
        raise NamedEntityRefused("the embedded instance uses a named entity; Hyper-V takes only numeric character references")
    try:
        root = parse_xml(text.strip())
    except XmlRejected as error:
        raise InstanceError("not an embedded instance: %s" % error.reason) from error
    if root.tag != "INSTANCE" or not root.get("CLASSNAME"):
        raise InstanceError("the root element must be INSTANCE with a CLASSNAME")
    properties = {}
    for prop in root:
        if prop.tag not in ("PROPERTY", "PROPERTY.ARRAY") or not prop.get("NAME"):
            raise InstanceError("unexpected element %s in the instance" % prop.tag)
        value = prop.find("VALUE")
        properties[prop.get("NAME").lower()] = None if value is None else (value.text or "")
    return root.get("CLASSNAME"), properties


def parse_item(text, strict=True):
    """``(name, data, source)`` of an embedded ``Msvm_KvpExchangeDataItem``; ``InstanceError`` when it is not one."""
    class_name, properties = parse_instance(text, strict)
    if class_name.lower() != DATA_ITEM_CLASS.lower():
        raise InstanceError("the instance is a %s, not a %s" % (class_name, DATA_ITEM_CLASS))
    name = properties.get("name")
    if not name:
        raise InstanceError("the item has no Name")
    source = properties.get("source")
    if source is not None and not source.strip().isdigit():
        raise InstanceError("Source must be a number, got %r" % source)
    return name, properties.get("data") or "", None if source is None else int(source)
