# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Property-based tests (hypothesis) of the CIM codec: embedded instances rendered and parsed back, untrusted
embedded-instance text that never escapes as anything but the collection's own errors, DMTF datetimes, typed values,
and WQL string literals checked against the lab's own WQL parser (written separately, from the specification); method
input as the lab reads it (its parameter reader, embedded-instance parser and endpoint-reference reader); and the batch
parse of an embedded-instance array, against parsing each instance alone and against the lab's own KVP items."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvlab import kvp_items as lab_kvp_items
from hvlab import wql as lab_wql
from hvlab.handlers import _read_parameters as lab_read_parameters
from hvlab.methods import method as lab_method
from hvlab.methods_hyperv import _reference_selectors as lab_reference_selectors
from hvlab.xmlsafe import parse_xml as lab_parse_xml

from ansible_collections.hyperv.avma.plugins.module_utils._cim import (
    CimClass,
    CimProperty,
    CimReference,
    EmbeddedInstance,
    _parse_embedded_together,
    build_method_input,
    decode_instance,
    format_dmtf_datetime,
    parse_cim_datetime,
    parse_embedded_instance,
    render_embedded_instance,
    wql_string,
)
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaError
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import NAMESPACES
from ansible_collections.hyperv.avma.plugins.module_utils._xml import parse_xml, serialize

COMMON = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# For the properties whose every example is a whole array of instances.
ARRAYS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters XML 1.0 can carry (tab, newline, carriage return aside, no C0 controls; no surrogates, U+FFFE, U+FFFF).
XML_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff\r",
                          min_codepoint=0x20) | st.sampled_from("\t\n")
# Text of such characters, with markup (which a uniform draw over all of Unicode almost never gives) mixed in.
MARKUP = st.sampled_from(["&", "<", ">", '"', "'", "]]>", "&amp;", "&#38;", "<VALUE>", "</INSTANCE>"])
XML_TEXT = st.lists(st.text(XML_CHARS, max_size=40) | MARKUP, max_size=8).map("".join)
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


# -- method input, as the lab reads it ---------------------------------------------------------------------------

METHOD_RESOURCE = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/X_Methods"
# Scalar embedded instances (the lab's instance parser reads PROPERTY values, not arrays).
SCALAR_INSTANCES = embedded_instances().filter(lambda instance: not any(isinstance(value, list) for value in instance.properties.values()))
SELECTOR_TEXT = XML_TEXT.map(str.strip)


@st.composite
def method_parameters(draw):
    """(parameters as build_method_input takes them, the lab's parameter spec of the method)."""
    names = draw(st.lists(IDENTIFIER, min_size=1, max_size=6, unique_by=str.lower))
    params, spec = {}, []
    for name in names:
        kind = draw(st.sampled_from(["string", "uint32", "boolean", "strings", "nil", "embedded", "reference"]))
        if kind == "string":
            params[name], cim_type = draw(XML_TEXT), "string"
        elif kind == "uint32":
            params[name], cim_type = draw(st.integers(0, 2 ** 32 - 1)), "uint32"
        elif kind == "boolean":
            params[name], cim_type = draw(st.booleans()), "boolean"
        elif kind == "strings":
            params[name], cim_type = draw(st.lists(XML_TEXT, max_size=4)), "string[]"
        elif kind == "nil":
            params[name], cim_type = None, "string"
        elif kind == "embedded":
            params[name], cim_type = draw(SCALAR_INSTANCES), "string"
        else:
            selectors = draw(st.dictionaries(IDENTIFIER, SELECTOR_TEXT, min_size=1, max_size=4).filter(
                lambda found: len({key.lower() for key in found}) == len(found)))
            params[name], cim_type = CimReference(METHOD_RESOURCE.rsplit("/", 1)[0] + "/" + draw(IDENTIFIER), selectors), "reference"
        spec.append("%s:%s" % (name, cim_type))
    return params, lab_method("root/cimv2", "X_Methods", "Run", None, params=" ".join(spec))


@ARRAYS
@given(method_parameters())
def test_method_input_means_to_the_lab_what_the_caller_gave(drawn):
    params, spec = drawn
    body = lab_parse_xml(serialize(build_method_input(METHOD_RESOURCE, "Run", params), NAMESPACES))
    read = {name.lower(): value for name, value in lab_read_parameters(spec, body).items()}
    for name, value in params.items():
        got = read[name.lower()]
        if isinstance(value, list):
            assert got == (value or None), "an empty array sends nothing, which the method reads as null"
        elif isinstance(value, EmbeddedInstance):
            # Hyper-V's embedded-instance parser refuses named entities: the lab's strict parser must take it.
            class_name, properties = lab_kvp_items.parse_instance(got, strict=True)
            assert class_name == value.class_name
            assert properties == {key.lower(): None if item is None else plain(item) for key, item in value.properties.items()}
        elif isinstance(value, CimReference):
            assert lab_reference_selectors(got) == (value.resource_uri, {key.lower(): item for key, item in value.selectors.items()})
        else:
            assert got == value


# -- the batch parse of an embedded-instance array -------------------------------------------------------------------

HOSTILE_TEXT = st.text(max_size=60)


@st.composite
def embedded_texts(draw):
    """The texts of one embedded-instance array: instances the collection renders, KVP items the lab renders (data of
    any character, hostile ones included), and damaged or foreign text."""
    texts = []
    for _index in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["ours", "lab", "hostile", "damaged", "around"]))
        if kind == "ours":
            texts.append(render_embedded_instance(draw(embedded_instances())))
        elif kind == "lab":
            texts.append(lab_kvp_items.render_item(draw(IDENTIFIER), draw(HOSTILE_TEXT), draw(st.sampled_from([0, 1, 2, 4])),
                                                   draw(st.sampled_from(lab_kvp_items.ITEM_SHAPES))))
        elif kind == "hostile":
            texts.append(draw(HOSTILE_TEXT))
        elif kind == "around":
            # Something before or after a well-formed instance: text, markup, a second instance smuggled in.
            text = render_embedded_instance(draw(embedded_instances()))
            extra = draw(st.sampled_from(["x", "<!-- c -->", "<?pi x?>", '<INSTANCE CLASSNAME="Y"/>', "</INSTANCE>", "<a>"]))
            texts.append(extra + text if draw(st.booleans()) else text + extra)
        else:
            text = render_embedded_instance(draw(embedded_instances()))
            position = draw(st.integers(0, len(text)))
            texts.append(text[:position] + draw(MUTATIONS) + text[position:])
    return texts


def alone(text):
    try:
        return parse_embedded_instance(text)
    except AvmaError:
        return None


@ARRAYS
@given(embedded_texts())
def test_a_batch_parse_gives_what_each_parse_alone_gives_or_nothing(texts):
    together = _parse_embedded_together(texts)
    if together is None:
        return
    singles = [alone(text) for text in texts]
    assert None not in singles, "a batch parse never accepts a text that does not parse alone"
    assert [(item.class_name, item.properties, item.types) for item in together] == [
        (item.class_name, item.properties, item.types) for item in singles]


@ARRAYS
@given(st.lists(embedded_instances(), min_size=1, max_size=4))
def test_instances_the_collection_renders_parse_together(instances):
    together = _parse_embedded_together([render_embedded_instance(instance) for instance in instances])
    assert together is not None and [item.class_name for item in together] == [instance.class_name for instance in instances]


@ARRAYS
@given(st.lists(st.tuples(IDENTIFIER, HOSTILE_TEXT, st.sampled_from([0, 1, 2, 4]), st.sampled_from(lab_kvp_items.ITEM_SHAPES)),
                min_size=1, max_size=6))
def test_kvp_items_the_lab_renders_read_as_the_lab_reads_them(items):
    texts = [lab_kvp_items.render_item(name, data, source, shape) for name, data, source, shape in items]
    readable = []
    for text in texts:
        try:
            readable.append(lab_kvp_items.parse_item(text, strict=False))
        except lab_kvp_items.InstanceError:
            readable.append(None)
    together = _parse_embedded_together(texts)
    if None in readable:
        # Data XML cannot carry (a control character, a lone surrogate) leaves the item unreadable to both parsers.
        assert together is None
        return
    assert together is not None
    assert [(item.get("Name"), item.get("Data") or "", item.get("Source")) for item in together] == readable
