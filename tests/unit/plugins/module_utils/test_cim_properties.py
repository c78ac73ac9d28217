# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Property-based tests (hypothesis) of the CIM codec: embedded instances rendered and parsed back, untrusted
embedded-instance text that never escapes as anything but the collection's own errors, DMTF datetimes, typed values,
and WQL string literals checked against the lab's own WQL parser (written separately, from the specification)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvlab import wql as lab_wql

from ansible_collections.hyperv.avma.plugins.module_utils._cim import (
    CimClass,
    CimProperty,
    EmbeddedInstance,
    decode_instance,
    format_dmtf_datetime,
    parse_cim_datetime,
    parse_embedded_instance,
    render_embedded_instance,
    wql_string,
)
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaError
from ansible_collections.hyperv.avma.plugins.module_utils._xml import parse_xml

COMMON = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters XML 1.0 can carry (tab, newline, carriage return aside, no C0 controls; no surrogates, U+FFFE, U+FFFF).
XML_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff\r",
                          min_codepoint=0x20) | st.sampled_from("\t\n")
XML_TEXT = st.text(XML_CHARS, max_size=200)
IDENTIFIER = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,30}\Z")


@st.composite
def embedded_instances(draw):
    names = draw(st.lists(IDENTIFIER, min_size=1, max_size=6, unique_by=str.lower))
    properties, types = {}, {}
    for name in names:
        kind = draw(st.sampled_from(["string", "uint16", "boolean", "strings", "nil"]))
        if kind == "string":
            properties[name], types[name] = draw(XML_TEXT), "string"
        elif kind == "uint16":
            properties[name], types[name] = draw(st.integers(0, 65535)), "uint16"
        elif kind == "boolean":
            properties[name], types[name] = draw(st.booleans()), "boolean"
        elif kind == "strings":
            properties[name], types[name] = draw(st.lists(XML_TEXT, max_size=4)), "string"
        else:
            properties[name], types[name] = None, "string"
    return EmbeddedInstance(draw(IDENTIFIER), properties, types)


def plain(value):
    """The text form an instance's value takes once rendered (the parser keeps CIM-XML values as text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@COMMON
@given(embedded_instances())
def test_rendered_instances_parse_back_to_the_same_properties(instance):
    text = render_embedded_instance(instance)
    parsed = parse_embedded_instance(text)
    assert parsed.class_name == instance.class_name
    for name, value in instance.properties.items():
        assert plain(parsed.get(name)) == plain(value)


@COMMON
@given(embedded_instances())
def test_an_instance_survives_the_escaping_of_the_wire(instance):
    # On the wire an embedded instance is the text of an element: escaped once more, parsed once more.
    text = render_embedded_instance(instance)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    wrapped = parse_xml("<p:Data xmlns:p='urn:x'>%s</p:Data>" % escaped)
    assert parse_embedded_instance(wrapped.text or "").properties.keys() == instance.properties.keys()


@COMMON
@given(st.text(max_size=400))
def test_untrusted_text_is_parsed_or_refused_with_an_avma_error(text):
    try:
        parse_embedded_instance(text)
    except AvmaError:
        pass


MUTATIONS = st.sampled_from(["<!DOCTYPE x [<!ENTITY e 'boom'>]>", "&e;", "<INSTANCE>", "</PROPERTY>", "\x00", "]]>",
                             "<VALUE>", 'CLASSNAME="', "<!--", "<?xml version='1.0'?>", "&#0;", "&#x110000;"])


@COMMON
@given(embedded_instances(), st.integers(0, 2000), MUTATIONS)
def test_a_damaged_instance_is_parsed_or_refused_never_crashes(instance, position, mutation):
    text = render_embedded_instance(instance)
    position %= len(text) + 1
    try:
        parse_embedded_instance(text[:position] + mutation + text[position:])
    except AvmaError:
        pass


AWARE_DATETIMES = st.datetimes(min_value=datetime(1601, 1, 1), max_value=datetime(9999, 12, 30),
                               timezones=st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-720, 840)))


@COMMON
@given(AWARE_DATETIMES)
def test_dmtf_datetimes_round_trip(value):
    parsed = parse_cim_datetime(format_dmtf_datetime(value))
    assert parsed == value and parsed.utcoffset() == value.utcoffset()


@COMMON
@given(st.text(max_size=40))
def test_datetime_text_parses_or_raises_value_error(text):
    try:
        parse_cim_datetime(text)
    except ValueError:
        pass


TYPED = CimClass("root/cimv2", "X_Typed", (CimProperty("Count", "uint32"), CimProperty("Names", "string", array=True),
                                           CimProperty("Flag", "boolean")))
WMI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/X_Typed"


@COMMON
@given(st.integers(0, 2 ** 32 - 1), st.lists(XML_TEXT.filter(lambda text: text.strip() == text), max_size=5), st.booleans())
def test_typed_values_decode_from_their_wire_form(count, names, flag):
    def escaped(text):
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    body = "".join("<p:Names>%s</p:Names>" % escaped(name) for name in names)
    element = parse_xml("<p:X_Typed xmlns:p='%s'><p:Count>%d</p:Count>%s<p:Flag>%s</p:Flag></p:X_Typed>"
                        % (WMI, count, body, "true" if flag else "false"))
    decoded = decode_instance(element, TYPED)
    assert decoded["Count"] == count and decoded["Flag"] is flag
    assert decoded["Names"] == (names or None), "an array with no element on the wire is absent: null"


@COMMON
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=100))
def test_wql_string_literals_mean_what_they_say_to_an_independent_parser(value):
    query = lab_wql.parse("SELECT Name FROM Win32_Service WHERE Name = %s" % wql_string(value))
    assert query.where.literal == value


@COMMON
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60), st.text(st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_a_literal_never_lets_its_value_escape_into_the_query(first, second):
    query = lab_wql.parse("SELECT Name FROM Win32_Service WHERE Name = %s AND Caption = %s" % (wql_string(first), wql_string(second)))
    assert tuple(operand.literal for operand in query.where.operands) == (first, second)


def test_wql_string_refuses_what_is_not_a_string():
    with pytest.raises(AvmaError):
        wql_string(5)
