# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's licensing decisions: which key a machine takes, and how an AVMA request ends (no protocol, no state).

The expected keys are written here again from avma-facts section 1, so a wrong entry in the lab's catalog fails.
"""

import pytest

from hvlab import activation, catalog
from hvlab.fleetspec import AcceptedKey

F050 = 0xC004F050
F069 = 0xC004F069

KEYS = {
    ("2012 R2", "Datacenter"): "Y4TGP-NPTV9-HTC2H-7MGQ3-DV4TW",
    ("2012 R2", "Standard"): "DBGBW-NPF86-BJVTX-K3WKJ-MTB6V",
    ("2012 R2", "Essentials"): "K2XGM-NMBT3-2R6Q8-WF2FK-P36R2",
    ("2016", "Datacenter"): "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J",
    ("2016", "Standard"): "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD",
    ("2016", "Essentials"): "B4YNW-62DX9-W8V6M-82649-MHBKQ",
    ("2019", "Datacenter"): "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW",
    ("2019", "Standard"): "TNK62-RXVTB-4P47B-2D623-4GF74",
    ("2019", "Essentials"): "2CTP7-NHT64-BP62M-FV6GG-HFV28",
    ("2022", "Datacenter"): "W3GNR-8DDXR-2TFRP-H8P33-DV9BG",
    ("2022", "Standard"): "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK",
    ("2022", "AzureEdition"): "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J",
    ("2025", "Datacenter"): "YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67",
    ("2025", "Standard"): "WWVGQ-PNHV9-B89P4-8GGM9-9HPQ4",
    ("2025", "AzureEdition"): "6NMQ9-T38WF-6MFGM-QYGYM-88J4F",
}
KEY_ROW = {"1709": "2016", "1803": "2016", "1903": "2019", "1909": "2019"}
COLUMN = {"ServerDatacenter": "Datacenter", "ServerDatacenterCore": "Datacenter", "ServerStandard": "Standard",
          "ServerStandardCore": "Standard", "ServerSolution": "Essentials", "ServerTurbine": "AzureEdition",
          "ServerTurbineCor": "AzureEdition"}
MAK = "MK7QX-V2HDT-9PRWC-3JYB4-FG6KM"


def every_installable_edition():
    for version in catalog.VERSIONS:
        for edition_id in version.editions:
            yield version, catalog.EDITIONS_BY_ID[edition_id.lower()]


def expected_key(version, edition):
    return KEYS.get((KEY_ROW.get(version.name, version.name), COLUMN.get(edition.edition_id)))


def rejected(key, version, edition, accepted=()):
    with pytest.raises(activation.KeyRejected) as raised:
        activation.check_product_key(key, version, edition, accepted)
    return raised.value.hresult


@pytest.mark.parametrize("version, edition", list(every_installable_edition()),
                         ids=lambda item: getattr(item, "name", getattr(item, "edition_id", None)))
def test_each_machine_takes_exactly_its_own_avma_key(version, edition):
    own = expected_key(version, edition)
    if own is not None:
        grant = activation.check_product_key(own, version, edition)
        assert (grant.channel, grant.partial_key) == ("avma", own[-5:])
    for (row, _column), key in KEYS.items():
        if key == own:
            continue
        same_release = row == KEY_ROW.get(version.name, version.name)
        assert rejected(key, version, edition) == (F069 if same_release else F050), key


def test_evaluation_and_2022_essentials_take_no_avma_key():
    v2022 = catalog.VERSIONS_BY_NAME["2022"]
    for edition_id in ("ServerStandardEval", "ServerDatacenterEval", "ServerSolution"):
        edition = catalog.EDITIONS_BY_ID[edition_id.lower()]
        assert rejected(KEYS["2022", "Standard"], v2022, edition) == F069
        assert rejected(KEYS["2022", "Datacenter"], v2022, edition) == F069


def test_core_and_semi_annual_share_their_keys():
    v1909 = catalog.VERSIONS_BY_NAME["1909"]
    core = catalog.EDITIONS_BY_ID["serverstandardcore"]
    assert activation.check_product_key(KEYS["2019", "Standard"], v1909, core).channel == "avma"
    v1803 = catalog.VERSIONS_BY_NAME["1803"]
    assert activation.check_product_key(KEYS["2016", "Datacenter"], v1803, catalog.EDITIONS_BY_ID["serverdatacentercore"])


@pytest.mark.parametrize("key", ["", "not a key", "W3GNR-8DDXR-2TFRP-H8P33", "W3GNR-8DDXR-2TFRP-H8P33-DV9BGX",
                                 "W3GNR8DDXR2TFRPH8P33DV9BG", "A3GNR-8DDXR-2TFRP-H8P33-DV9BG", "W3GNR-8DDXR-2TFRP-H8P33-DV9B0",
                                 "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV"])
def test_malformed_and_unknown_keys_are_invalid(key):
    assert rejected(key, catalog.VERSIONS_BY_NAME["2022"], catalog.EDITIONS_BY_ID["serverturbine"]) == F050


def test_keys_are_read_case_insensitively_and_trimmed():
    grant = activation.check_product_key("  w3gnr-8ddxr-2tfrp-h8p33-dv9bg ", catalog.VERSIONS_BY_NAME["2022"],
                                         catalog.EDITIONS_BY_ID["serverdatacenter"])
    assert grant.partial_key == "DV9BG"


def test_declared_keys_install_on_their_edition_family_only():
    v2022 = catalog.VERSIONS_BY_NAME["2022"]
    accepted = (AcceptedKey(MAK, "mak", "ServerDatacenter", True),
                AcceptedKey("BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "retail", "ServerStandard", True, "Retail:TB:Eval"))
    grant = activation.check_product_key(MAK.lower(), v2022, catalog.EDITIONS_BY_ID["serverdatacentercore"], accepted)
    assert grant == activation.KeyGrant("mak", "FG6KM", "Volume:MAK")
    assert rejected(MAK, v2022, catalog.EDITIONS_BY_ID["serverstandard"], accepted) == F069
    retail = activation.check_product_key("BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", v2022, catalog.EDITIONS_BY_ID["serverstandard"],
                                          accepted)
    assert retail.product_key_channel == "Retail:TB:Eval"
    assert rejected(MAK, v2022, catalog.EDITIONS_BY_ID["serverdatacenter"]) == F050


def test_which_keys_activate_on_activate():
    accepted = (AcceptedKey("BBBBB-CCCCC-DDDDD-FFFFF-GGGGG", "kms", "ServerStandard", True),)
    assert activation.key_activates("kms", "GGGGG", accepted)
    assert not activation.key_activates("kms", "HHHHH", accepted)
    assert activation.key_activates("mak", "HHHHH", accepted) and activation.key_activates("retail", "HHHHH")


GENERATION_ORDER = ["2012 R2", "2016", "2019", "2022", "2025"]


@pytest.mark.parametrize("host", GENERATION_ORDER)
@pytest.mark.parametrize("guest", GENERATION_ORDER)
def test_a_host_activates_its_release_and_older(host, guest):
    assert activation.can_host_activate(host, guest) == (GENERATION_ORDER.index(host) >= GENERATION_ORDER.index(guest))


@pytest.mark.parametrize("guest, oldest_host", [("1709", "2016"), ("1803", "2016"), ("1903", "2019"), ("1909", "2019")])
def test_semi_annual_guests_need_the_host_of_their_key_row(guest, oldest_host):
    index = GENERATION_ORDER.index(oldest_host)
    assert not activation.can_host_activate(GENERATION_ORDER[index - 1], guest)
    assert all(activation.can_host_activate(host, guest) for host in GENERATION_ORDER[index:])


def host(**changes):
    values = dict(computer_name="HV", version_name="2022", sku=8, activated=True, running=True,
                  data_exchange_enabled=True)
    values.update(changes)
    return activation.HostView(**values)


@pytest.mark.parametrize("guest, view, expected", [
    ("2022", None, (False, 0xC004FD01, "Invalid Host", False)),
    ("2022", host(data_exchange_enabled=False), (False, 0xC004FD04, "Invalid Host", False)),
    ("2022", host(running=False), (False, 0xC004FD04, "Invalid Host", False)),
    ("2022", host(sku=7), (False, 0xC004FD03, "Invalid Host", True)),
    ("2022", host(sku=8, activated=False), (False, 0xC004FD02, "Activation Denied", True)),
    ("2025", host(), (False, 0xC004FD03, "Activation Denied", True)),
    ("2022", host(), (True, 0, "AVMA Success", True)),
    ("2012 R2", host(sku=12, version_name="2012 R2"), (True, 0, "AVMA Success", True)),
    ("2022", host(sku=407), (True, 0, "AVMA Success", True)),
    ("2019", host(sku=408, version_name="2025"), (True, 0, "AVMA Success", True)),
    ("2019", host(sku=80), (False, 0xC004FD03, "Invalid Host", True)),
    # The first failing condition wins: an unactivated Standard host is reported as not Datacenter.
    ("2025", host(sku=7, activated=False), (False, 0xC004FD03, "Invalid Host", True)),
])
def test_avma_decisions(guest, view, expected):
    decision = activation.decide_avma(guest, view)
    assert (decision.licensed, decision.reason, decision.outcome, decision.reached_host) == expected
    assert decision.outcome in activation.OUTCOMES


def test_every_failure_reason_has_the_slerror_text():
    for code in (0xC004FD01, 0xC004FD02, 0xC004FD03, 0xC004FD04, F050, F069):
        assert activation.SL_MESSAGES[code]
    assert activation.SL_MESSAGES[0xC004FD02].startswith("Windows isn't activated on the host machine")
