# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse untrusted XML into an ElementTree without ever honouring a DTD.

Requests come from the network, so a document type declaration (and with it any ENTITY declaration, internal or
external) is refused outright instead of being expanded: no entity expansion, no external fetch. Element and
attribute names come back in ElementTree's ``{namespace}local`` form.
"""

import xml.etree.ElementTree as ET
from xml.parsers import expat


class XmlRejected(ValueError):
    """The bytes are not a well-formed XML document the lab is willing to read; ``reason`` says why."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _expanded_name(expat_name):
    # expat joins namespace and local name with the separator given below; ElementTree wants "{ns}local".
    if "}" in expat_name:
        return "{" + expat_name
    return expat_name


def _refuse_doctype(*_args):
    raise XmlRejected("document type declarations are not accepted")


def _refuse_entity(*_args):
    raise XmlRejected("entity declarations are not accepted")


def parse_xml(data):
    """Return the root ``Element`` of ``data`` (bytes or str); raise ``XmlRejected`` for a DTD or malformed XML."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    parser.buffer_text = True
    parser.StartElementHandler = lambda name, attrs: builder.start(
        _expanded_name(name), {_expanded_name(key): value for key, value in attrs.items()})
    parser.EndElementHandler = lambda name: builder.end(_expanded_name(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise XmlRejected("malformed XML: %s" % error) from error
    try:
        return builder.close()
    except AssertionError as error:
        raise XmlRejected("malformed XML: no root element") from error
