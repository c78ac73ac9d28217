# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# FOR INTERNAL COLLECTION USE ONLY: the contents of this file may change in any release.
#
# Safe XML for data that comes from the network (SOAP envelopes, embedded CIM-XML written by guests):
# - parse_xml() drives expat directly and refuses any DOCTYPE, entity declaration or external entity, so neither
#   entity expansion ("billion laughs") nor external entity resolution can happen, and it bounds the input size;
# - serialize() writes element trees with chosen namespace prefixes and refuses characters XML cannot carry;
# - child()/children()/local_name() look elements up by local name within a set of namespaces.

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from xml.parsers import expat

from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError, WsmanProtocolError

Element = ET.Element

DEFAULT_MAX_SIZE = 4 * 1024 * 1024

# The "xml" prefix is bound by the XML Namespaces recommendation itself and is never declared.
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

_XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
_NOT_XML_CHAR = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_ATTRIBUTE_ESCAPES = dict(_TEXT_ESCAPES, **{'"': "&quot;", "\n": "&#10;", "\t": "&#9;"})
_TEXT_SPECIALS = re.compile("[&<>\r]")
_ATTRIBUTE_SPECIALS = re.compile('[&<>\r"\n\t]')


def qname(namespace: str | None, local: str) -> str:
    """ElementTree's ``{namespace}local`` form."""
    return f"{{{namespace}}}{local}" if namespace else local


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def namespace_of(tag: str) -> str | None:
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


def children(parent: Element, local: str, namespaces: Iterable[str | None] | None = None) -> list[Element]:
    """Children named ``local`` in any of ``namespaces`` (any namespace when None)."""
    allowed = None if namespaces is None else set(namespaces)
    return [
        element for element in parent
        if local_name(element.tag) == local and (allowed is None or namespace_of(element.tag) in allowed)
    ]


def child(parent: Element, local: str, namespaces: Iterable[str | None] | None = None) -> Element | None:
    """First child named ``local`` in any of ``namespaces`` (any namespace when None), or None."""
    found = children(parent, local, namespaces)
    return found[0] if found else None


def _refuse(construct: str):
    def handler(*_args):
        raise WsmanProtocolError(f"XML with a {construct} is refused (entity expansion and external entities are not allowed)")
    return handler


def _clark(expat_name: str) -> str:
    # expat reports "namespace-uri local" with the separator given to ParserCreate.
    namespace, _sep, local = expat_name.rpartition(" ")
    return qname(namespace, local)


def parse_xml(data: bytes | str, *, max_size: int = DEFAULT_MAX_SIZE) -> Element:
    """Parse untrusted XML into an Element tree.

    Raises WsmanProtocolError for input over ``max_size`` bytes/characters, malformed XML, or any DOCTYPE,
    entity declaration or external entity reference.
    """
    if len(data) > max_size:
        raise WsmanProtocolError(f"XML document of {len(data)} bytes exceeds the limit of {max_size}")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse("DOCTYPE")
    parser.EntityDeclHandler = _refuse("entity declaration")
    parser.UnparsedEntityDeclHandler = _refuse("unparsed entity declaration")
    parser.ExternalEntityRefHandler = _refuse("external entity reference")
    parser.buffer_text = True
    parser.StartElementHandler = lambda name, attributes: builder.start(
        _clark(name), {_clark(key): value for key, value in attributes.items()})
    parser.EndElementHandler = lambda name: builder.end(_clark(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise WsmanProtocolError(f"malformed XML: {exc}") from exc
    return builder.close()


def check_xml_text(text: str, what: str) -> str:
    """Return ``text`` unchanged, or raise AvmaValueError if it holds characters XML 1.0 cannot carry."""
    bad = _NOT_XML_CHAR.search(text)
    if bad:
        raise AvmaValueError(f"{what} contains the character U+{ord(bad.group()):04X}, which XML cannot carry")
    return text


def _escape(text: str, specials: re.Pattern, escapes: Mapping[str, str], what: str) -> str:
    return specials.sub(lambda match: escapes[match.group()], check_xml_text(text, what))


def serialize(root: Element, prefixes: Mapping[str, str] | None = None, *, xml_declaration: bool = True) -> bytes:
    """Write ``root`` as UTF-8 XML.

    ``prefixes`` maps prefix -> namespace URI; every namespace used in the tree is declared once on the root, with its
    prefix from the map or a generated ``ns<N>`` one. Text and attribute values are escaped; characters that XML cannot
    carry raise AvmaValueError.
    """
    prefix_of = {uri: prefix for prefix, uri in (prefixes or {}).items()}
    declared: dict[str, str] = {}

    def name(tag: str) -> str:
        namespace = namespace_of(tag)
        if namespace is None:
            return tag
        if namespace == XML_NAMESPACE:
            return f"xml:{local_name(tag)}"
        if namespace not in declared:
            declared[namespace] = prefix_of.get(namespace) or f"ns{len(declared)}"
        return f"{declared[namespace]}:{local_name(tag)}"

    def write(element: Element, out: list[str]) -> None:
        out.append("<" + name(element.tag))
        for key, value in element.attrib.items():
            out.append(f' {name(key)}="{_escape(str(value), _ATTRIBUTE_SPECIALS, _ATTRIBUTE_ESCAPES, key)}"')
        if element.text is None and len(element) == 0:
            out.append("/>")
        else:
            out.append(">")
            if element.text:
                out.append(_escape(element.text, _TEXT_SPECIALS, _TEXT_ESCAPES, local_name(element.tag)))
            for sub in element:
                write(sub, out)
                if sub.tail:
                    out.append(_escape(sub.tail, _TEXT_SPECIALS, _TEXT_ESCAPES, local_name(element.tag)))
            out.append(f"</{name(element.tag)}>")

    body: list[str] = []
    write(root, body)
    # The root's start tag is body[0] ("<prefix:Local"): the namespace declarations go right after it.
    declarations = "".join(f' xmlns:{prefix}="{_escape(uri, _ATTRIBUTE_SPECIALS, _ATTRIBUTE_ESCAPES, "namespace")}"'
                           for uri, prefix in declared.items())
    document = (body[0] + declarations + "".join(body[1:])).encode("utf-8")
    return _XML_DECLARATION + document if xml_declaration else document
