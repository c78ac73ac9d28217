# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# FOR INTERNAL COLLECTION USE ONLY: the contents of this file may change in any release.
#
# Safe XML for data that comes from the network (SOAP envelopes, embedded CIM-XML written by guests):
# - parse_xml() refuses any DOCTYPE, entity declaration or external entity before ElementTree's C parser sees the
#   text, so neither entity expansion ("billion laughs") nor external entity resolution can happen, and it bounds
#   the input size;
# - serialize() writes element trees with chosen namespace prefixes and refuses characters XML cannot carry;
# - child()/children()/local_name() look elements up by local name within a set of namespaces.

import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping

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
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def namespace_of(tag: str) -> str | None:
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


def _named(element: Element, local: str, namespaces: Collection[str | None] | None) -> bool:
    tag = element.tag
    if tag[:1] != "{":
        return tag == local and (namespaces is None or None in namespaces)
    namespace, _brace, name = tag[1:].partition("}")
    return name == local and (namespaces is None or namespace in namespaces)


def children(parent: Element, local: str, namespaces: Collection[str | None] | None = None) -> list[Element]:
    """Children named ``local`` in any of ``namespaces`` (any namespace when None)."""
    return [element for element in parent if _named(element, local, namespaces)]


def child(parent: Element, local: str, namespaces: Collection[str | None] | None = None) -> Element | None:
    """First child named ``local`` in any of ``namespaces`` (any namespace when None), or None."""
    for element in parent:
        if _named(element, local, namespaces):
            return element
    return None


# A DOCTYPE is the only way into entity declarations and external entities, and XML allows it in one place only: in
# the prolog, after the XML declaration, comments and processing instructions, before the root element. Refusing a
# document whose prolog holds one refuses them all, before the C parser (expat behind ElementTree's C tree builder)
# sees the text; markup inside CDATA sections or text later on is data, never a DOCTYPE. The prolog is read as ASCII,
# so bytes must be UTF-8, ASCII or Latin-1 (UTF-16 with a byte order mark is decoded first); other encodings are
# refused.
_PROLOG_TEXT = re.compile(r"\A\ufeff?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_PROLOG_BYTES = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_ASCII_BASED_ENCODINGS = frozenset(("utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin-1", "latin1"))
_DECLARED_ENCODING = re.compile(rb"""\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']""")


def _refuse_doctype(data: bytes | str) -> None:
    prolog, doctype = (_PROLOG_BYTES, b"<!DOCTYPE") if isinstance(data, bytes) else (_PROLOG_TEXT, "<!DOCTYPE")
    if data.startswith(doctype, prolog.match(data).end()):
        raise WsmanProtocolError("XML with a DOCTYPE is refused (entity expansion and external entities are not allowed)")


def _checked_text(data: bytes | str) -> bytes | str:
    """``data`` ready for the C parser, once it is known to carry no DOCTYPE: UTF-16 bytes come back decoded."""
    if isinstance(data, bytes):
        if data.startswith(_UTF16_BOMS):
            try:
                data = data.decode("utf-16")
            except UnicodeDecodeError as exc:
                raise WsmanProtocolError(f"malformed XML: {exc}") from exc
        else:
            declared = _DECLARED_ENCODING.match(data)
            if declared and declared.group(1).decode("ascii", "replace").lower() not in _ASCII_BASED_ENCODINGS:
                raise WsmanProtocolError(f"XML in the encoding {declared.group(1).decode('ascii', 'replace')!r} is refused")
            if b"\x00" in data:
                raise WsmanProtocolError("malformed XML: a NUL byte outside UTF-16")
    _refuse_doctype(data)
    return data


def parse_xml(data: bytes | str, *, max_size: int = DEFAULT_MAX_SIZE) -> Element:
    """Parse untrusted XML into an Element tree.

    Raises WsmanProtocolError for input over ``max_size`` bytes/characters, malformed XML, or any DOCTYPE,
    entity declaration or external entity reference.
    """
    if len(data) > max_size:
        raise WsmanProtocolError(f"XML document of {len(data)} bytes exceeds the limit of {max_size}")
    parser = ET.XMLParser(target=ET.TreeBuilder())
    try:
        parser.feed(_checked_text(data))
        return parser.close()
    except ET.ParseError as exc:
        raise WsmanProtocolError(f"malformed XML: {exc}") from exc


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
