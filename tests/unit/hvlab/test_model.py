# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIM model: types, class declarations, the instance store, instance rendering, and the facts catalog."""

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from hvlab import catalog
from hvlab.cimtypes import CimTypeError, format_datetime, from_wire, normalize, parse_datetime, to_wire
from hvlab.cimxml import render_epr, render_fragment, render_instance
from hvlab.classes import REGISTRY
from hvlab.schema import ClassRegistry, cim_class, parse_properties
from hvlab.store import CimStore

THING = cim_class("root/test", "Thing", keys=("Name", "Index"), properties="""
    Name:string Index:uint16 flags:uint8[] Created:datetime Enabled:boolean Caption:string Codes:uint32[]""")
XSI = "http://www.w3.org/2001/XMLSchema-instance"


@pytest.mark.parametrize("text, expected", [
    ("2026-11-20T08:30:00Z", datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)),
    ("2013-04-10T16:17:23.5Z", datetime(2013, 4, 10, 16, 17, 23, 500000, tzinfo=timezone.utc)),
    ("2026-11-20T08:30:00+01:00", datetime(2026, 11, 20, 8, 30, tzinfo=timezone(timedelta(hours=1)))),
    ("20261120083000.000000+060", datetime(2026, 11, 20, 8, 30, tzinfo=timezone(timedelta(hours=1)))),
    ("16010101000000.000000-000", datetime(1601, 1, 1, tzinfo=timezone.utc)),
])
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2026-11-20T08:30:00", "yesterday", "2026-13-01T00:00:00Z", ""])
def test_parse_datetime_refuses(text):
    with pytest.raises(CimTypeError):
        parse_datetime(text)


def test_format_datetime_like_windows():
    assert format_datetime(datetime(2013, 4, 10, 16, 17, 23, 500000, tzinfo=timezone.utc)) == "2013-04-10T16:17:23.5Z"
    assert format_datetime(datetime(2013, 4, 10, 19, 24, 28, 85000, tzinfo=timezone.utc)) == "2013-04-10T19:24:28.085Z"
    assert format_datetime(datetime(1601, 1, 1, tzinfo=timezone.utc)) == "1601-01-01T00:00:00Z"
    assert format_datetime(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))) == "2026-01-01T00:00:00-05:30"


@pytest.mark.parametrize("cim_type, value", [
    ("uint8", 256), ("uint8", -1), ("uint32", 2 ** 32), ("sint32", -2 ** 31 - 1), ("uint16", True), ("uint32", "5"),
    ("boolean", 1), ("string", 5), ("datetime", "now"), ("real64", "1.5")])
def test_normalize_refuses_values_the_type_cannot_hold(cim_type, value):
    with pytest.raises(CimTypeError):
        normalize(cim_type, value)


def test_normalize_and_wire_round_trip():
    assert normalize("uint64", 2 ** 64 - 1) == 2 ** 64 - 1
    assert normalize("datetime", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "2026-01-02T03:04:05Z"
    assert to_wire("boolean", False) == "false" and from_wire("boolean", "TRUE") is True
    assert from_wire("sint32", " -7 ") == -7 and from_wire("string", " x ") == " x "
    with pytest.raises(CimTypeError):
        from_wire("uint32", "4294967296")


def test_properties_are_ordered_case_insensitively_like_windows():
    names = [prop.name for prop in parse_properties("PNPDeviceID:string Partitions:uint32 SCSIBus:uint32 SectorsPerTrack:uint32")]
    assert names == ["Partitions", "PNPDeviceID", "SCSIBus", "SectorsPerTrack"]


def test_class_declaration_errors():
    with pytest.raises(ValueError, match="unknown CIM type"):
        parse_properties("X:int")
    with pytest.raises(ValueError, match="keys"):
        cim_class("root/test", "Bad", keys=("Missing",), properties="Name:string")
    with pytest.raises(ValueError, match="no property"):
        THING.new_instance(Nope=1)


def test_registry_lookup_is_case_insensitive_and_per_machine_kind():
    registry = ClassRegistry([THING, cim_class("root/virtualization/v2", "Msvm_X", keys=("Name",), properties="Name:string",
                                               machine_kinds=("host",))])
    assert registry.lookup("ROOT/TEST", "thing") is THING
    assert registry.lookup("root/virtualization/v2", "msvm_x", "guest") is None
    assert registry.lookup("root/virtualization/v2", "msvm_x", "host") is not None
    assert registry.has_namespace("root/virtualization/v2", "host") and not registry.has_namespace("root/virtualization/v2", "guest")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(THING)


def test_store_finds_by_key_and_refuses_duplicates():
    store = CimStore(ClassRegistry([THING]))
    store.add(THING, THING.new_instance(Name="Alpha", Index=1))
    store.add(THING, THING.new_instance(Name="Alpha", Index=2))
    assert store.find(THING, {"Name": "alpha", "Index": "2"})["Index"] == 2
    assert store.find(THING, {"Name": "alpha", "Index": "x"}) is None
    assert store.find(THING, {"Name": "beta", "Index": 1}) is None
    with pytest.raises(ValueError, match="already has"):
        store.add(THING, THING.new_instance(Name="ALPHA", Index=1))


def test_store_state_round_trip_and_validation():
    registry = ClassRegistry([THING])
    store = CimStore(registry)
    store.add(THING, THING.new_instance(Name="A", Index=1, flags=[1, 2], Created="2026-01-01T00:00:00Z"))
    state = store.to_state()
    assert state == {"root/test/Thing": [THING.new_instance(Name="A", Index=1, flags=[1, 2], Created="2026-01-01T00:00:00Z")]}
    copy = CimStore(registry)
    copy.restore_state(state)
    assert copy.to_state() == state
    for broken in ({"root/test/Nope": []}, {"root/test/Thing": [{"Name": "A"}]},
                   {"root/test/Thing": [dict(state["root/test/Thing"][0], Index=-1)]}, []):
        with pytest.raises(ValueError):
            copy.restore_state(broken)
    assert copy.to_state() == state


def test_render_instance_nulls_arrays_datetimes():
    instance = THING.new_instance(Name="A&B", Index=3, flags=[1, 2], Created="2026-01-01T00:00:00Z", Enabled=True)
    uri = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/test/Thing"
    root = ET.fromstring(render_instance(THING, instance, uri))
    assert root.tag == "{%s}Thing" % uri and root.get("{%s}type" % XSI) == "p:Thing_Type"
    children = [(child.tag.rpartition("}")[2], child.text) for child in root]
    assert children[:3] == [("Caption", None), ("Codes", None), ("Created", None)]
    assert ("flags", "1") in children and ("flags", "2") in children and ("Name", "A&B") in children
    assert root.find("{%s}Caption" % uri).get("{%s}nil" % XSI) == "true"
    codes = root.find("{%s}Codes" % uri)
    assert codes.get("{%s}nil" % XSI) == "true"
    assert codes.get("{http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd}IsNullArray") == "true"
    assert root.find("{%s}Created/{http://schemas.dmtf.org/wbem/wscim/1/common}Datetime" % uri).text == "2026-01-01T00:00:00Z"
    assert root.find("{%s}Enabled" % uri).text == "true"


def test_render_fragment_and_epr():
    instance = THING.new_instance(Name="A", Index=3, Created="2026-01-01T00:00:00Z")
    fragment = ET.fromstring(render_fragment(THING, instance, ["index", "created"]))
    assert [child.tag for child in fragment] == ["Created", "Index"]
    assert fragment.find("Created/Datetime").text == "2026-01-01T00:00:00Z"
    epr = ET.fromstring(render_epr(THING, instance, "urn:thing", "root/test"))
    selectors = epr.findall(".//{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}Selector")
    assert [(node.get("Name"), node.text) for node in selectors] == [("Name", "A"), ("Index", "3"), ("__cimnamespace", "root/test")]


def test_lab_classes_declare_the_licensing_properties_with_their_types():
    product = REGISTRY.lookup("root/cimv2", "SoftwareLicensingProduct")
    types = {prop.name: prop.cim_type for prop in product.properties}
    assert product.keys == ("ID",) and not product.singleton
    assert types["LicenseStatus"] == "uint32" and types["LicenseStatusReason"] == "uint32"
    assert types["LicenseIsAddon"] == "boolean" and types["AutomaticVMActivationLastActivationTime"] == "datetime"
    assert types["GracePeriodRemaining"] == "uint32" and types["PartialProductKey"] == "string"
    os_class = REGISTRY.lookup("root/cimv2", "Win32_OperatingSystem")
    os_types = {prop.name: (prop.cim_type, prop.is_array) for prop in os_class.properties}
    assert os_types["BuildNumber"] == ("string", False) and os_types["MUILanguages"] == ("string", True)
    assert os_types["OperatingSystemSKU"] == ("uint32", False) and os_types["LastBootUpTime"] == ("datetime", False)
    assert REGISTRY.lookup("root/cimv2", "SoftwareLicensingService").keys == ("Version",)


def test_catalog_avma_keys_follow_the_facts():
    def key(version, edition):
        return catalog.avma_key(catalog.VERSIONS_BY_NAME[version.lower()], catalog.EDITIONS_BY_ID[edition.lower()])
    assert key("2022", "ServerDatacenter") == "W3GNR-8DDXR-2TFRP-H8P33-DV9BG"
    assert key("2022", "ServerDatacenterCore") == key("2022", "ServerDatacenter")
    assert key("2022", "ServerTurbine") == "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J"
    assert key("2012 R2", "ServerSolution") == "K2XGM-NMBT3-2R6Q8-WF2FK-P36R2"
    assert key("1803", "ServerStandardCore") == key("2016", "ServerStandard") == "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD"
    assert key("1909", "ServerDatacenterCore") == key("2019", "ServerDatacenter")
    assert key("2004", "ServerDatacenterCore") is None and key("20H2", "ServerStandardCore") is None
    assert key("2022", "ServerSolution") is None and key("2022", "ServerDatacenterEval") is None
    all_keys = {value for version in catalog.VERSIONS for _column, value in version.avma_keys}
    assert "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV" not in all_keys  # the 2022 Azure Edition KMS client key, not AVMA


def test_catalog_versions_editions_and_statuses():
    builds = {version.name: version.build for version in catalog.VERSIONS}
    assert builds == {"2012 R2": 9600, "2016": 14393, "1709": 16299, "1803": 17134, "2019": 17763, "1903": 18362,
                      "1909": 18363, "2004": 19041, "20H2": 19042, "2022": 20348, "2025": 26100}
    assert {edition.sku: edition.edition_id for edition in catalog.EDITIONS} == {
        7: "ServerStandard", 8: "ServerDatacenter", 12: "ServerDatacenterCore", 13: "ServerStandardCore",
        50: "ServerSolution", 79: "ServerStandardEval", 80: "ServerDatacenterEval", 407: "ServerTurbine",
        408: "ServerTurbineCor"}
    assert catalog.LICENSE_STATUS == {"unlicensed": 0, "licensed": 1, "oob_grace": 2, "oot_grace": 3,
                                      "non_genuine_grace": 4, "notification": 5, "extended_grace": 6}
    assert catalog.VERSIONS_BY_NAME["2012 r2"].version == "6.3.9600"
    assert catalog.caption(catalog.VERSIONS_BY_NAME["2022"], catalog.EDITIONS_BY_SKU[407]) == \
        "Microsoft Windows Server 2022 Datacenter: Azure Edition"
    assert catalog.windows_description(catalog.CHANNELS["avma"]) == \
        "Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel"
