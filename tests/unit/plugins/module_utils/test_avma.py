# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AVMA domain: key catalog, editions, host/guest matrix, eligibility, key validation, event outcomes, KVP names."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils import _avma as avma
from ansible_collections.hyperv.avma.plugins.module_utils import _licensing as licensing
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError

# The published table (avma-facts section 1), written out again so that a typo in the catalog fails here.
PUBLISHED = {
    ("2012 R2", "ServerDatacenter"): "Y4TGP-NPTV9-HTC2H-7MGQ3-DV4TW",
    ("2012 R2", "ServerStandard"): "DBGBW-NPF86-BJVTX-K3WKJ-MTB6V",
    ("2012 R2", "ServerSolution"): "K2XGM-NMBT3-2R6Q8-WF2FK-P36R2",
    ("2016", "ServerDatacenter"): "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J",
    ("2016", "ServerStandard"): "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD",
    ("2016", "ServerSolution"): "B4YNW-62DX9-W8V6M-82649-MHBKQ",
    ("2019", "ServerDatacenter"): "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW",
    ("2019", "ServerStandard"): "TNK62-RXVTB-4P47B-2D623-4GF74",
    ("2019", "ServerSolution"): "2CTP7-NHT64-BP62M-FV6GG-HFV28",
    ("2022", "ServerDatacenter"): "W3GNR-8DDXR-2TFRP-H8P33-DV9BG",
    ("2022", "ServerStandard"): "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK",
    ("2022", "ServerTurbine"): "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J",
    ("2025", "ServerDatacenter"): "YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67",
    ("2025", "ServerStandard"): "WWVGQ-PNHV9-B89P4-8GGM9-9HPQ4",
    ("2025", "ServerTurbine"): "6NMQ9-T38WF-6MFGM-QYGYM-88J4F",
}
CORE_OF = {"ServerDatacenter": "ServerDatacenterCore", "ServerStandard": "ServerStandardCore", "ServerTurbine": "ServerTurbineCor"}
SEMI_ANNUAL = {"1709": "2016", "1803": "2016", "1903": "2019", "1909": "2019"}


@pytest.mark.parametrize("release, edition", sorted(PUBLISHED))
def test_every_published_key_is_in_the_catalog(release, edition):
    assert avma.avma_key_for(release, edition) == PUBLISHED[(release, edition)]


def test_the_catalog_holds_nothing_else():
    assert sorted(entry.key for entry in avma.AVMA_KEYS.values()) == sorted(PUBLISHED.values())


@pytest.mark.parametrize("release, edition", sorted(key for key in PUBLISHED if key[1] in CORE_OF))
def test_core_installs_share_their_editions_key(release, edition):
    assert avma.avma_key_for(release, CORE_OF[edition]) == PUBLISHED[(release, edition)]


@pytest.mark.parametrize("release, ltsc", sorted(SEMI_ANNUAL.items()))
def test_semi_annual_releases_use_their_ltsc_keys(release, ltsc):
    for edition in ("ServerDatacenterCore", "ServerStandardCore"):
        assert avma.avma_key_for(release, edition) == avma.avma_key_for(ltsc, edition)


def test_editions_compare_case_insensitively():
    assert avma.avma_key_for("2022", "serverdatacenter") == PUBLISHED[("2022", "ServerDatacenter")]
    assert avma.avma_key_for("2012 r2", "SERVERSTANDARD") == PUBLISHED[("2012 R2", "ServerStandard")]


def test_the_2022_azure_edition_kms_client_key_is_not_an_avma_key():
    # NTBV8-... is the KMS client key (GVLK) of 2022 Azure Edition, often passed around as its AVMA key.
    assert "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV" not in {entry.key for entry in avma.AVMA_KEYS.values()}
    assert not avma.is_avma_key("NTBV8-9K7Q8-V27C6-M2BTV-KHMXV")


def test_only_the_2025_row_is_unconfirmed():
    unconfirmed = {entry.release for entry in avma.AVMA_KEYS.values() if not entry.confirmed}
    assert unconfirmed == {"2025"} == set(avma.UNCONFIRMED_RELEASES)


@pytest.mark.parametrize("release, edition, words", [
    ("2022", "ServerSolution", ["no AVMA key", "2022", "Essentials", "KMS or MAK"]),
    ("2025", "ServerSolution", ["no AVMA key", "2025", "Essentials"]),
    ("2004", "ServerDatacenterCore", ["no AVMA key", "2004"]),
    ("20H2", "ServerStandardCore", ["no AVMA key", "20H2"]),
    ("2012 R2", "ServerTurbine", ["no AVMA key", "2012 R2", "Azure Edition"]),
    ("2022", "ServerStandardEval", ["evaluation", "DISM /online /Set-Edition:ServerStandard", "convert"]),
    ("2019", "ServerDatacenterEval", ["evaluation", "/Set-Edition:ServerDatacenter"]),
    ("2022", "ServerAzureStackHCICor", ["ServerAzureStackHCICor", "not a Windows Server edition"]),
    ("2022", None, ["None", "not a Windows Server edition"]),
    (None, "ServerDatacenter", ["version is unknown"]),
    ("2030", "ServerDatacenter", ["'2030'", "unknown"]),
])
def test_no_key_is_guessed(release, edition, words):
    with pytest.raises(AvmaValueError) as caught:
        avma.avma_key_for(release, edition)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("sku, edition_id, family, expected", [
    (8, None, None, "ServerDatacenter"),
    (12, "ServerStandard", None, "ServerDatacenterCore"),      # the SKU wins
    (None, "serverstandardcore", None, "ServerStandardCore"),  # canonical spelling
    (999, None, "ServerTurbine", "ServerTurbine"),             # unknown SKU: LicenseFamily
    (999, None, "ServerAzureStackHCICor", "ServerAzureStackHCICor"),
    (None, None, None, None),
])
def test_edition_for(sku, edition_id, family, expected):
    assert avma.edition_for(sku, edition_id, family) == expected


def test_release_for_build_is_the_licensing_one():
    assert avma.release_for_build is licensing.release_for_build
    assert avma.release_for_build(20348) == "2022"


@pytest.mark.parametrize("host, guests", [
    ("2025", ("2025", "2022", "1909", "1903", "2019", "1803", "1709", "2016", "2012 R2")),
    ("2022", ("2022", "1909", "1903", "2019", "1803", "1709", "2016", "2012 R2")),
    ("2019", ("1909", "1903", "2019", "1803", "1709", "2016", "2012 R2")),
    ("2016", ("1803", "1709", "2016", "2012 R2")),
    ("2012 R2", ("2012 R2",)),
    ("2030", ()),
    (None, ()),
])
def test_activatable_guest_releases(host, guests):
    assert avma.activatable_guest_releases(host) == guests


@pytest.mark.parametrize("host, guest, expected", [
    ("2022", "2022", True), ("2022", "2019", True), ("2022", "2016", True), ("2022", "2012 R2", True),
    ("2022", "2025", False), ("2019", "2022", False), ("2016", "2019", False), ("2012 R2", "2016", False),
    ("2025", "2025", True), ("2019", "1909", True), ("2016", "1909", False),
    ("2022", "2004", False), ("2022", "20H2", False),  # no AVMA key at all
    ("2012 r2", "2012 R2", True),
])
def test_can_activate(host, guest, expected):
    assert avma.can_activate(host, guest) is expected


@pytest.mark.parametrize("edition, expected", [
    ("ServerDatacenter", True), ("ServerDatacenterCore", True), ("serverdatacenter", True),
    ("ServerTurbine", True), ("ServerTurbineCor", True),
    ("ServerStandard", False), ("ServerDatacenterEval", False), ("ServerSolution", False), (None, False),
])
def test_only_datacenter_hosts(edition, expected):
    assert avma.is_datacenter_edition(edition) is expected


def test_host_problems():
    assert avma.host_problems("2022", "ServerDatacenter", True) == []
    codes = [problem["code"] for problem in avma.host_problems("2022", "ServerStandard", False)]
    assert codes == ["host_not_datacenter", "host_not_activated"]
    problem = avma.host_problems("2019", "ServerDatacenter", False)[0]
    assert "activate the Hyper-V host" in problem["remedy"]
    assert [problem["code"] for problem in avma.host_problems(None, "ServerDatacenter", True)] == ["host_release_unknown"]


@pytest.mark.parametrize("release, edition, host, codes", [
    ("2022", "ServerStandard", "2022", []),
    ("2022", "ServerStandard", None, []),
    ("2025", "ServerDatacenter", "2022", ["guest_newer_than_host"]),
    ("2022", "ServerStandardEval", "2022", ["guest_not_eligible"]),
    ("2022", "ServerSolution", "2025", ["guest_not_eligible"]),
])
def test_guest_problems(release, edition, host, codes):
    problems = avma.guest_problems(release, edition, host)
    assert [problem["code"] for problem in problems] == codes
    for problem in problems:
        assert problem["message"] and problem["remedy"]


def test_evaluation_guest_problem_says_how_to_convert():
    problem = avma.guest_problems("2022", "ServerDatacenterEval")[0]
    assert "DISM" in problem["message"] and "ServerDatacenter" in problem["remedy"]


@pytest.mark.parametrize("key", list(PUBLISHED.values()) + [
    "NPPR9-FWDCX-D2C8J-H872K-2YT43",   # a Windows 10 KMS client key
    " w3gnr-8ddxr-2tfrp-h8p33-dv9bg ",  # case and spaces are forgiven
    "BCDFG-HJKMP-QRTVW-XY234-6789B",   # pre-Windows 8 keys carry no N
])
def test_valid_product_keys(key):
    assert avma.validate_product_key(key) == key.strip().upper()


@pytest.mark.parametrize("key, word", [
    ("W3GNR-8DDXR-2TFRP-H8P33-DV9B", "five groups"),
    ("W3GNR8DDXR2TFRPH8P33DV9BG", "five groups"),
    ("W3GNR-8DDXR-2TFRP-H8P33-DV9BG-AAAAA", "five groups"),
    ("W3GNR-8DDXR-2TFRP-H8P33-DV9B0", "never contain"),   # 0
    ("A3GNR-8DDXR-2TFRP-H8P33-DV9BG", "never contain"),   # A
    ("W3GNR-8DDXR-2TFRP-H8P33-DV9B5", "never contain"),   # 5
    ("W3GNR_8DDXR_2TFRP_H8P33_DV9BG", "five groups"),
    ("NNGNR-8DDXR-2TFRP-H8P33-DV9BG", "N more than once"),
    ("", "five groups"),
    (12345, "string"),
])
def test_invalid_product_keys(key, word):
    with pytest.raises(AvmaValueError) as caught:
        avma.validate_product_key(key)
    assert word in str(caught.value)
    assert str(key) not in str(caught.value) or key == ""


def test_product_key_alphabet_is_the_windows_one():
    assert sorted(avma.PRODUCT_KEY_ALPHABET) == sorted("BCDFGHJKMPQRTVWXY2346789N")
    for key in PUBLISHED.values():
        assert set(key.replace("-", "")) <= set(avma.PRODUCT_KEY_ALPHABET)


def test_masked_key_shows_only_the_last_five_characters():
    assert avma.mask_product_key("W3GNR-8DDXR-2TFRP-H8P33-DV9BG") == "XXXXX-XXXXX-XXXXX-XXXXX-DV9BG"
    assert avma.mask_product_key("dv9bg") == "XXXXX-XXXXX-XXXXX-XXXXX-DV9BG"


def test_avma_key_entry():
    entry = avma.avma_key_entry("tnk62-rxvtb-4p47b-2d623-4gf74")
    assert (entry.release, entry.column, entry.confirmed) == ("2019", "Standard", True)
    assert avma.avma_key_entry("NPPR9-FWDCX-D2C8J-H872K-2YT43") is None
    assert avma.avma_key_entry(None) is None


@pytest.mark.parametrize("code", range(0xC004FD00, 0xC004FD05))
def test_avma_status_reasons_have_meaning_and_next_step(code):
    reason = avma.status_reason(code)
    assert reason["meaning"] and reason["next_step"]
    assert avma.AVMA_STATUS_REASONS is licensing.AVMA_STATUS_REASONS


@pytest.mark.parametrize("texts, name", [
    (("Automatic VM Activation result: AVMA Success",), "success"),
    (("Result:", "invalid host"), "invalid_host"),
    (("The guest's request failed: Invalid  Data",), "invalid_data"),
    ((None, "ACTIVATION DENIED"), "activation_denied"),
])
def test_event_outcomes_are_recognised_by_their_words(texts, name):
    outcome = avma.decode_event_outcome(*texts)
    assert outcome["name"] == name
    assert outcome["meaning"]
    assert outcome["success"] is (name == "success")
    assert (outcome["next_step"] is None) is (name == "success")


def test_unknown_event_text_is_not_decoded():
    assert avma.decode_event_outcome("something else happened", None) is None
    assert avma.decode_event_outcome() is None
    assert avma.decode_event_outcome("InvalidHostname") is None


def test_status_items_carry_the_prefix_and_no_secret():
    facts = dict(os=dict(release="2022", edition_id="ServerDatacenter"),
                 windows_product=dict(partial_product_key="DV9BG", is_avma_key=True, channel="Retail", license_status_name="Licensed",
                                      license_status_reason=dict(hex="0x00000000"), avma_host_machine_name="HV2022",
                                      avma_last_activation_time=None))
    items = avma.status_items(facts)
    assert all(name.startswith(avma.AVMA_KVP_PREFIX) for name in items)
    assert items["HyperVAvma.Channel"] == "AVMA"
    assert items["HyperVAvma.LicenseStatus"] == "Licensed"
    assert items["HyperVAvma.LastActivationTime"] == ""
    assert "W3GNR" not in " ".join(items.values())
    assert avma.status_items(dict(os={}, windows_product=None))["HyperVAvma.LicenseStatus"] == "NoKey"


@pytest.mark.parametrize("name, patterns, expected", [
    ("HyperVAvma.LicenseStatus", (), True),
    ("hypervavma.licensestatus", (), True),
    ("AvmaHost", (), False),
    ("AvmaHost", ("avma*",), True),
    ("VirtualMachineActivation", ("VirtualMachineActivation",), True),
    ("Other", ("Avma*", "Virtual?"), False),
])
def test_kvp_name_matches(name, patterns, expected):
    assert avma.kvp_name_matches(name, patterns) is expected


def test_kvp_prefix_is_fixed():
    assert avma.AVMA_KVP_PREFIX == "HyperVAvma."


def test_published_items_end_with_the_digest_of_the_status_items():
    facts = dict(os=dict(release="2022", edition_id="ServerDatacenter"), windows_product=dict(
        partial_product_key="DV9BG", is_avma_key=True, license_status_name="Licensed", license_status_reason=dict(hex="0x00000000"),
        avma_host_machine_name="HV1", avma_last_activation_time="2026-12-01T08:00:00+00:00"))
    items = avma.published_items(facts)
    status = avma.status_items(facts)
    assert items == dict(status, **{"HyperVAvma.StatusDigest": avma.status_digest(status)})
    assert len(items["HyperVAvma.StatusDigest"]) == 16
    # Any value that changes changes the digest; the order the items come in does not.
    assert avma.status_digest(dict(status, **{"HyperVAvma.LicenseStatus": "Unlicensed"})) != avma.status_digest(status)
    assert avma.status_digest(dict(reversed(list(status.items())))) == avma.status_digest(status)
