# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError, WsmanProtocolError
from ansible_collections.hyperv.avma.plugins.module_utils._xml import (
    Element,
    child,
    children,
    local_name,
    namespace_of,
    parse_xml,
    qname,
    serialize,
)

S = "http://www.w3.org/2003/05/soap-envelope"
W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"


def test_parses_namespaces_into_clark_names(wire):
    root = parse_xml(wire("wsman_identify_response_win2016_real.xml"))
    assert root.tag == qname(S, "Envelope")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    body = child(root, "Body", [S])
    response = child(body, "IdentifyResponse")
    assert local_name(response.tag) == "IdentifyResponse"
    assert namespace_of(response.tag) == "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
    assert namespace_of("plain") is None


def test_child_lookup_by_local_name_and_namespace_set(wire):
    root = parse_xml(wire("wmi_pull_response_EndOfSequence_real.xml"))
    pull = child(child(root, "Body", [S]), "PullResponse", [N])
    assert child(pull, "EndOfSequence", [W]) is None
    assert child(pull, "EndOfSequence", [W, N]) is not None
    assert len(children(child(pull, "Items", [W, N]), "Item")) == 3
    assert child(pull, "Missing") is None


def test_text_in_cdata_and_character_references():
    root = parse_xml(b"<r><a><![CDATA[<INSTANCE CLASSNAME='x'/>]]></a><b>&lt;&#65;&amp;</b></r>")
    assert root.find("a").text == "<INSTANCE CLASSNAME='x'/>"
    assert root.find("b").text == "<A&"


@pytest.mark.parametrize("sample", [
    "entity_billion_laughs_envelope_synthetic.xml",
    "entity_external_envelope_synthetic.xml",
    "entity_parameter_envelope_synthetic.xml",
])
def test_doctype_and_entities_are_refused(wire, sample):
    with pytest.raises(WsmanProtocolError, match="refused"):
        parse_xml(wire(sample))


def test_entity_declaration_is_refused_even_in_a_string():
    with pytest.raises(WsmanProtocolError, match="DOCTYPE"):
        parse_xml('<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>')


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_doctype_in_utf16_is_refused_like_one_in_utf8(encoding):
    document = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    with pytest.raises(WsmanProtocolError, match="DOCTYPE"):
        parse_xml(bom + document.encode(encoding))


def test_utf16_with_a_byte_order_mark_parses():
    root = parse_xml('<?xml version="1.0" encoding="utf-16"?><r a="\u00e9">\u20ac</r>'.encode("utf-16"))
    assert (root.get("a"), root.text) == ("\u00e9", "\u20ac")


@pytest.mark.parametrize("data, reason", [
    # EBCDIC would hide "<!DOCTYPE" from a byte search: only ASCII-based encodings are read.
    (b'<?xml version="1.0" encoding="cp500"?><r/>', "encoding 'cp500' is refused"),
    ("<r/>".encode("utf-16-le"), "NUL byte"),
])
def test_encodings_that_could_hide_a_doctype_are_refused(data, reason):
    with pytest.raises(WsmanProtocolError, match=reason):
        parse_xml(data)


@pytest.mark.parametrize("data", [
    b"<r><![CDATA[<!DOCTYPE r [<!ENTITY e 'x'>]>]]></r>",
    b"<r>&lt;!DOCTYPE r&gt;</r>",
])
def test_a_doctype_in_the_data_is_text_not_markup(data):
    assert parse_xml(data).text.startswith("<!DOCTYPE r")


@pytest.mark.parametrize("prolog", ['<?xml version="1.0"?>', "\ufeff", "<!-- note -->\n", "<?pi data?>  "])
def test_a_doctype_after_anything_a_prolog_may_hold_is_refused(prolog):
    with pytest.raises(WsmanProtocolError, match="DOCTYPE"):
        parse_xml(prolog + '<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>')
    with pytest.raises(WsmanProtocolError, match="DOCTYPE"):
        parse_xml((prolog + '<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>').encode("utf-8"))


def test_latin1_declared_documents_parse():
    assert parse_xml(b'<?xml version="1.0" encoding="ISO-8859-1"?><r>\xe9</r>').text == "\u00e9"


def test_undeclared_entity_is_malformed_not_expanded():
    with pytest.raises(WsmanProtocolError, match="malformed XML"):
        parse_xml(b"<r>&xxe;</r>")


def test_size_bound():
    with pytest.raises(WsmanProtocolError, match="exceeds the limit of 100"):
        parse_xml(b"<r>" + b"x" * 200 + b"</r>", max_size=100)
    assert parse_xml(b"<r>" + b"x" * 90 + b"</r>", max_size=100).text == "x" * 90


@pytest.mark.parametrize("data", [b"", b"<r>", b"not xml", b"<a></b>"])
def test_malformed(data):
    with pytest.raises(WsmanProtocolError, match="malformed XML"):
        parse_xml(data)


def test_serialize_uses_given_prefixes_and_generates_others():
    root = Element(qname(S, "Envelope"))
    body = ET.SubElement(root, qname(S, "Body"))
    item = ET.SubElement(body, qname("urn:class", "Create_INPUT"))
    item.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    item.text = "x"
    text = serialize(root, {"s": S}).decode()
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="')
    assert 'xmlns:ns1="urn:class"' in text and "<ns1:Create_INPUT xml:lang=\"en-US\">x</ns1:Create_INPUT>" in text
    assert "xmlns:xml" not in text
    assert not serialize(root, {"s": S}, xml_declaration=False).startswith(b"<?xml")


def test_serialize_escapes_and_round_trips():
    root = Element("r", {"q": 'say "hi" & <go>\n\ttab'})
    root.text = "a < b & c > d\r\n"
    sub = ET.SubElement(root, "s")
    sub.tail = "tail & more"
    data = serialize(root)
    assert b"<>" not in data
    again = parse_xml(data)
    assert again.get("q") == 'say "hi" & <go>\n\ttab'
    assert again.text == "a < b & c > d\r\n"
    assert again.find("s").tail == "tail & more"


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\ufffe"])
def test_serialize_refuses_characters_xml_cannot_carry(bad):
    root = Element("r")
    root.text = f"product key{bad}"
    with pytest.raises(AvmaValueError, match="XML cannot carry"):
        serialize(root)
