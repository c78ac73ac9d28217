# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WQL: grammar, binding to a class, and evaluation on instances."""

import pytest

from hvlab import wql
from hvlab.schema import cim_class

PRODUCT = cim_class("root/cimv2", "Product", keys=("ID",), properties="""
    ID:string Name:string PartialProductKey:string LicenseStatus:uint32 LicenseIsAddon:boolean
    GracePeriodRemaining:uint32 Delta:sint32 Installed:datetime Tags:string[]""")

ROWS = [
    PRODUCT.new_instance(ID="a", Name="Windows(R), ServerDatacenter edition", PartialProductKey="DV9BG", LicenseStatus=1,
                         LicenseIsAddon=False, GracePeriodRemaining=0, Delta=-5, Installed="2026-11-20T08:30:00Z",
                         Tags=["x"]),
    PRODUCT.new_instance(ID="b", Name="Office 21, Office21ProPlus2021VL_KMS_Client_AE edition", PartialProductKey="6F7TH",
                         LicenseStatus=5, LicenseIsAddon=False, GracePeriodRemaining=43200, Delta=3,
                         Installed="2025-01-01T00:00:00Z"),
    PRODUCT.new_instance(ID="c", Name="Windows(R), ServerStandard edition", LicenseStatus=0, LicenseIsAddon=True,
                         GracePeriodRemaining=0, Delta=0),
    PRODUCT.new_instance(ID="d", Name="It's 100% \"quoted\"", LicenseStatus=0, LicenseIsAddon=False),
]


def run(text):
    query = wql.bind(wql.parse(text), PRODUCT)
    return [row["ID"] for row in ROWS if query.matches(row)]


@pytest.mark.parametrize("text, expected", [
    ("SELECT * FROM Product", ["a", "b", "c", "d"]),
    ("select * from product", ["a", "b", "c", "d"]),
    ("SELECT * FROM Product WHERE LicenseStatus = 1", ["a"]),
    ("SELECT * FROM Product WHERE LicenseStatus <> 1", ["b", "c", "d"]),
    ("SELECT * FROM Product WHERE LicenseStatus != 1", ["b", "c", "d"]),
    ("SELECT * FROM Product WHERE LicenseStatus > 0", ["a", "b"]),
    ("SELECT * FROM Product WHERE LicenseStatus >= 1 AND LicenseStatus <= 4", ["a"]),
    ("SELECT * FROM Product WHERE LicenseStatus < 1", ["c", "d"]),
    ("SELECT * FROM Product WHERE 1 < LicenseStatus", ["b"]),
    ("SELECT * FROM Product WHERE Delta < 0", ["a"]),
    ("SELECT * FROM Product WHERE Delta >= -5 AND Delta < 3", ["a", "c"]),
    ("SELECT * FROM Product WHERE PartialProductKey IS NULL", ["c", "d"]),
    ("SELECT * FROM Product WHERE PartialProductKey IS NOT NULL", ["a", "b"]),
    ("SELECT * FROM Product WHERE PartialProductKey = 'dv9bg'", ["a"]),
    ("SELECT * FROM Product WHERE PartialProductKey <> 'DV9BG'", ["b"]),
    ('SELECT * FROM Product WHERE Name LIKE "Windows(R)%"', ["a", "c"]),
    ("SELECT * FROM Product WHERE Name LIKE '%server________ edition'", ["c"]),
    ("SELECT * FROM Product WHERE Name LIKE '%[DS]erver%'", ["a", "c"]),
    ("SELECT * FROM Product WHERE Name LIKE '[^W]%'", ["b", "d"]),
    ("SELECT * FROM Product WHERE Name LIKE '%100[%]%'", ["d"]),
    ("SELECT * FROM Product WHERE Name = 'It\\'s 100% \"quoted\"'", ["d"]),
    ("SELECT * FROM Product WHERE Name = \"It's 100% \\\"quoted\\\"\"", ["d"]),
    ("SELECT * FROM Product WHERE LicenseIsAddon = TRUE", ["c"]),
    ("SELECT * FROM Product WHERE LicenseIsAddon = false", ["a", "b", "d"]),
    ("SELECT * FROM Product WHERE LicenseIsAddon = 1", ["c"]),
    ("SELECT * FROM Product WHERE NOT LicenseIsAddon = TRUE", ["a", "b", "d"]),
    ("SELECT * FROM Product WHERE LicenseStatus = 1 OR LicenseStatus = 5 AND GracePeriodRemaining > 0", ["a", "b"]),
    ("SELECT * FROM Product WHERE (LicenseStatus = 1 OR LicenseStatus = 5) AND GracePeriodRemaining > 0", ["b"]),
    ("SELECT * FROM Product WHERE NOT (LicenseStatus = 0 OR PartialProductKey IS NULL)", ["a", "b"]),
    ("SELECT * FROM Product WHERE LicenseStatus = '5'", ["b"]),
    ("SELECT * FROM Product WHERE Installed > '2026-01-01T00:00:00Z'", ["a"]),
    ("SELECT * FROM Product WHERE Installed < '20260101000000.000000+000'", ["b"]),
    ("SELECT * FROM Product WHERE GracePeriodRemaining = 43200.0", ["b"]),
])
def test_queries_select_the_expected_rows(text, expected):
    assert run(text) == expected


def test_null_properties_never_match_a_comparison():
    assert run("SELECT * FROM Product WHERE PartialProductKey <> 'x'") == ["a", "b"]
    assert run("SELECT * FROM Product WHERE Installed <> '2026-11-20T08:30:00Z'") == ["b"]


def test_selected_properties_are_resolved_to_canonical_names():
    query = wql.bind(wql.parse("SELECT name, partialproductkey FROM Product"), PRODUCT)
    assert query.properties == ("Name", "PartialProductKey")
    assert wql.bind(wql.parse("SELECT * FROM Product"), PRODUCT).properties is None


def test_parse_keeps_the_class_name_as_written():
    assert wql.parse("SELECT * FROM softwarelicensingproduct WHERE x = 1").class_name == "softwarelicensingproduct"


@pytest.mark.parametrize("text", [
    "", "SELECT", "SELECT *", "SELECT * FROM", "SELECT * Product", "SELECT *, Name FROM Product", "SELECT Name, FROM Product",
    "SELECT * FROM Product WHERE", "SELECT * FROM Product WHERE Name", "SELECT * FROM Product WHERE Name = ",
    "SELECT * FROM Product WHERE Name = 'open", "SELECT * FROM Product WHERE (Name = 'a'",
    "SELECT * FROM Product WHERE Name = 'a')", "SELECT * FROM Product WHERE Name IS 'a'",
    "SELECT * FROM Product WHERE Name LIKE 5", "SELECT * FROM Product extra", "SELECT * FROM Product WHERE Name == 'a'",
    "SELECT * FROM Product WHERE Name = 'a' AND", "SELECT * FROM Product; DROP", "SELECT * FROM Product WHERE 1 = 1",
    "ASSOCIATORS OF {Product}", "SELECT * FROM Product WHERE Name = @x",
])
def test_syntax_errors(text):
    with pytest.raises(wql.WqlSyntaxError):
        wql.parse(text)


@pytest.mark.parametrize("text", [
    "SELECT Nope FROM Product",
    "SELECT * FROM Product WHERE Nope = 1",
    "SELECT * FROM Product WHERE Tags = 'x'",
    "SELECT * FROM Product WHERE LicenseStatus = 'one'",
    "SELECT * FROM Product WHERE LicenseIsAddon = 'yes'",
    "SELECT * FROM Product WHERE LicenseStatus LIKE '1%'",
    "SELECT * FROM Product WHERE Installed > 'yesterday'",
    "SELECT * FROM Product WHERE Name LIKE '[abc'",
])
def test_semantic_errors(text):
    with pytest.raises(wql.WqlSemanticError):
        query = wql.bind(wql.parse(text), PRODUCT)
        for row in ROWS:
            query.matches(row)


def test_tokens():
    kinds = [(token.kind, token.value) for token in wql.tokenize("select Name from X where A>=-2 and B='q\\'s'")]
    assert kinds == [("keyword", "SELECT"), ("name", "Name"), ("keyword", "FROM"), ("name", "X"), ("keyword", "WHERE"),
                     ("name", "A"), ("operator", ">="), ("number", -2), ("keyword", "AND"), ("name", "B"),
                     ("operator", "="), ("string", "q's"), ("end", None)]


def test_like_patterns():
    assert wql.like_to_regex("a%b_c").match("AxyzBqC")
    assert not wql.like_to_regex("a%b_c").match("abc")
    assert wql.like_to_regex("x.y*z").match("X.Y*Z") and not wql.like_to_regex("x.y").match("xay")
