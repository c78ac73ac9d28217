# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils import _licensing as licensing
from ansible_collections.hyperv.avma.plugins.module_utils._licensing import avma_refusal, plan_key_install, predicted_key_summary

WINDOWS = licensing.WINDOWS_APPLICATION_ID
OFFICE = "0ff1ce15-a989-479d-af46-f275c6370663"
NEVER = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def product(product_id, **properties):
    row = dict(ID=product_id, ApplicationID=WINDOWS, PartialProductKey=None, LicenseIsAddon=False, LicenseStatus=0)
    row.update(properties)
    return row


@pytest.mark.parametrize("code, name", [(0, "Unlicensed"), (1, "Licensed"), (2, "OOBGrace"), (3, "OOTGrace"),
                                        (4, "NonGenuineGrace"), (5, "Notification"), (6, "ExtendedGrace"),
                                        (7, "Unknown(7)"), (None, None)])
def test_license_status_names(code, name):
    assert licensing.license_status_name(code) == name


@pytest.mark.parametrize("code, hex_text, meaning_part", [
    (0xC004FD00, "0xC004FD00", "request limit"),
    (0xC004FD01, "0xC004FD01", "supported Hyper-V platform"),
    (0xC004FD02, "0xC004FD02", "host is not activated"),
    (0xC004FD03, "0xC004FD03", "cannot activate this edition"),
    (0xC004FD04, "0xC004FD04", "not bound"),
    (0, "0x00000000", "no error"),
])
def test_avma_status_reasons_are_decoded(code, hex_text, meaning_part):
    reason = licensing.status_reason(code)
    assert reason["hex"] == hex_text
    assert meaning_part in reason["meaning"]
    assert reason["code"] == code


def test_negative_hresult_is_read_as_unsigned():
    # WMI may hand a uint32 HRESULT through a signed path; -1073414910 is 0xC004FD02.
    assert licensing.status_reason(-1073414910)["hex"] == "0xC004FD02"


def test_unknown_reason_has_hex_but_no_meaning():
    reason = licensing.status_reason(0xC004F074)
    assert reason == dict(code=0xC004F074, hex="0xC004F074", meaning=None, next_step=None)


@pytest.mark.parametrize("build, release", [(9600, "2012 R2"), (14393, "2016"), (16299, "1709"), (17134, "1803"), (17763, "2019"),
                                            (18362, "1903"), (18363, "1909"), (19041, "2004"), (19042, "20H2"), (20348, "2022"),
                                            (26100, "2025"), (22000, None)])
def test_release_for_build(build, release):
    assert licensing.release_for_build(build) == release


@pytest.mark.parametrize("sku, edition", [(7, "ServerStandard"), (8, "ServerDatacenter"), (12, "ServerDatacenterCore"),
                                          (13, "ServerStandardCore"), (50, "ServerSolution"), (79, "ServerStandardEval"),
                                          (80, "ServerDatacenterEval"), (407, "ServerTurbine"), (408, "ServerTurbineCor"), (48, None)])
def test_edition_for_sku(sku, edition):
    assert licensing.edition_id_for_sku(sku) == edition


def test_windows_product_skips_other_applications_addons_and_keyless_rows():
    rows = [
        product("00000000-0000-0000-0000-000000000001"),
        product("00000000-0000-0000-0000-000000000002", ApplicationID=OFFICE, PartialProductKey="6F7TH", LicenseStatus=1),
        product("00000000-0000-0000-0000-000000000003", PartialProductKey="XXXXX", LicenseIsAddon=True, LicenseStatus=1),
        product("00000000-0000-0000-0000-000000000009", PartialProductKey="DV9BG", LicenseStatus=0),
    ]
    assert licensing.select_windows_product(rows)["PartialProductKey"] == "DV9BG"


def test_windows_product_choice_does_not_depend_on_row_order():
    unlicensed = product("b0000000-0000-0000-0000-000000000000", PartialProductKey="AAAAA", LicenseStatus=0)
    licensed_high_id = product("f0000000-0000-0000-0000-000000000000", PartialProductKey="BBBBB", LicenseStatus=1)
    licensed_low_id = product("c0000000-0000-0000-0000-000000000000", PartialProductKey="CCCCC", LicenseStatus=1)
    for rows in ([unlicensed, licensed_high_id, licensed_low_id], [licensed_low_id, licensed_high_id, unlicensed],
                 [licensed_high_id, unlicensed, licensed_low_id]):
        assert licensing.select_windows_product(rows)["PartialProductKey"] == "CCCCC"


def test_application_id_compares_case_insensitively():
    assert licensing.select_windows_product([product("1", ApplicationID=WINDOWS.upper(), PartialProductKey="DV9BG")]) is not None


def test_no_windows_key_gives_no_product():
    assert licensing.select_windows_product([product("1"), product("2", ApplicationID=OFFICE, PartialProductKey="6F7TH")]) is None


@pytest.mark.parametrize("description, expected", [
    ("Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel", True),
    ("Windows(R) Operating System, VOLUME_KMSCLIENT channel", False),
    ("Windows(R) Operating System, RETAIL channel", False),
    (None, False),
])
def test_avma_is_recognised_by_description(description, expected):
    assert licensing.is_avma_description(description) is expected


def test_never_activated_time_is_none():
    assert licensing.activation_time_or_none(NEVER) is None
    assert licensing.activation_time_or_none(None) is None
    when = datetime.datetime(2026, 11, 20, 8, 30, tzinfo=datetime.timezone.utc)
    assert licensing.activation_time_or_none(when) == "2026-11-20T08:30:00+00:00"


def test_activation_facts_of_an_avma_licensed_guest():
    when = datetime.datetime(2026, 11, 20, 8, 30, tzinfo=datetime.timezone.utc)
    facts = licensing.activation_facts(
        dict(Caption="Microsoft Windows Server 2022 Datacenter", Version="10.0.20348", BuildNumber="20348", OperatingSystemSKU=8),
        [product("1", Name="Windows(R), ServerDatacenter edition", PartialProductKey="DV9BG", LicenseStatus=1, LicenseStatusReason=0,
                 Description="Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel", LicenseFamily="ServerDatacenter",
                 GracePeriodRemaining=10080, AutomaticVMActivationHostMachineName="HV2022", AutomaticVMActivationLastActivationTime=when,
                 IAID="3a7e1a2b-0000-4000-8000-000000000001")],
    )
    assert facts["os"] == dict(caption="Microsoft Windows Server 2022 Datacenter", version="10.0.20348", build=20348,
                               release="2022", sku=8, edition_id="ServerDatacenter")
    windows = facts["windows_product"]
    assert windows["avma_activated"] is True and windows["is_avma_key"] is True
    assert windows["license_status_name"] == "Licensed"
    assert windows["avma_host_machine_name"] == "HV2022"
    assert windows["avma_last_activation_time"] == "2026-11-20T08:30:00+00:00"
    assert windows["license_status_reason"]["meaning"] == "no error"


def test_activation_facts_of_an_avma_guest_whose_host_is_not_activated():
    facts = licensing.activation_facts(
        dict(BuildNumber="9600", OperatingSystemSKU=7),
        [product("1", PartialProductKey="MTB6V", LicenseStatus=0, LicenseStatusReason=0xC004FD02, AutomaticVMActivationHostMachineName="",
                 Description="Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel", AutomaticVMActivationLastActivationTime=NEVER)],
    )
    windows = facts["windows_product"]
    assert windows["is_avma_key"] is True and windows["avma_activated"] is False
    assert windows["license_status_reason"]["hex"] == "0xC004FD02"
    assert "activate the Hyper-V host" in windows["license_status_reason"]["next_step"]
    assert windows["avma_host_machine_name"] is None and windows["avma_last_activation_time"] is None
    assert facts["os"]["release"] == "2012 R2"


def test_unknown_sku_falls_back_to_the_license_family():
    facts = licensing.activation_facts(dict(BuildNumber="20348", OperatingSystemSKU=999),
                                       [product("1", PartialProductKey="AAAAA", LicenseFamily="ServerAzureStackHCICor")])
    assert facts["os"]["edition_id"] == "ServerAzureStackHCICor"


def test_guest_without_windows_key():
    facts = licensing.activation_facts(dict(BuildNumber="20348", OperatingSystemSKU=79), [])
    assert facts["windows_product"] is None
    assert facts["os"]["edition_id"] == "ServerStandardEval"


AVMA_KEY = "W3GNR-8DDXR-2TFRP-H8P33-DV9BG"
MAK_SUMMARY = dict(partial_product_key="2YT43", is_avma=False, channel="Volume:MAK", description_channel="VOLUME_MAK", license_status="Licensed")


@pytest.mark.parametrize("installed, replace, activate, expected", [
    (None, "not_licensed", True, dict(install=True, activate=True, kept=None)),
    (dict(MAK_SUMMARY, license_status="OOBGrace"), "not_licensed", True, dict(install=True, activate=True, kept=None)),
    (MAK_SUMMARY, "not_licensed", True, dict(install=False, activate=False, kept=dict(
        partial_product_key="2YT43", channel="VOLUME_MAK", license_status="Licensed", reason="a Licensed non-AVMA key is kept unless replace_key=always"))),
    (MAK_SUMMARY, "always", False, dict(install=True, activate=False, kept=None)),
    (dict(partial_product_key="DV9BG", is_avma=True, license_status="Unlicensed"), "not_licensed", True, dict(install=False, activate=True, kept=None)),
    (dict(partial_product_key="DV9BG", is_avma=True, license_status="Licensed"), "always", True, dict(install=False, activate=False, kept=None)),
    (dict(partial_product_key="XXXXX", is_avma=True, license_status="Licensed"), "not_licensed", True, dict(install=True, activate=True, kept=None)),
])
def test_plan_key_install(installed, replace, activate, expected):
    plan = plan_key_install(target_key=AVMA_KEY, target_is_avma=True, installed=installed, activate=activate, replace=replace)
    assert plan == dict(expected, writes=expected["install"] or expected["activate"],
                        vm_check=not ((installed or {}).get("partial_product_key") == "DV9BG" and installed.get("license_status") == "Licensed"))


def test_only_an_avma_key_and_only_a_machine_not_activated_with_it_needs_the_vm_check():
    activated = dict(partial_product_key="DV9BG", is_avma=True, license_status="Licensed")
    assert plan_key_install(target_key=AVMA_KEY, target_is_avma=True, installed=activated, activate=True, replace="not_licensed")["vm_check"] is False
    # A working KMS licence on a Hyper-V host: kept, but the host is checked first, so that it is refused as no VM.
    kept = plan_key_install(target_key=AVMA_KEY, target_is_avma=True, installed=MAK_SUMMARY, activate=True, replace="not_licensed")
    assert kept["kept"] and kept["vm_check"] is True
    mak = plan_key_install(target_key="NPPR9-FWDCX-D2C8J-H872K-2YT43", target_is_avma=False, installed=None, activate=True, replace="always")
    assert mak["vm_check"] is False and mak["install"] is True


def test_a_plan_with_no_policy_it_knows_fails():
    with pytest.raises(ValueError):
        plan_key_install(target_key=AVMA_KEY, target_is_avma=True, installed=None, activate=True, replace="sometimes")


@pytest.mark.parametrize("hardware_is_vm, has_guest_parameters, allowed, words", [
    (True, True, True, None),
    (True, False, True, None),
    # Physical hardware outweighs Guest\Parameters left in the registry, as in an image captured in a VM.
    (False, True, False, "Win32_ComputerSystem reports Dell Inc. PowerEdge R750, which outweighs the Guest\\Parameters KVP values it holds"),
    (False, False, False, "Win32_ComputerSystem reports Dell Inc. PowerEdge R750, and no Hyper-V host has published Guest\\Parameters"),
    # Hardware that names nothing: what the host published decides.
    (None, True, True, None),
    (None, False, False, "Win32_ComputerSystem names no hardware, and no Hyper-V host has published"),
])
def test_the_virtual_hardware_decides_whether_a_machine_is_a_hyperv_vm(hardware_is_vm, has_guest_parameters, allowed, words):
    refusal = avma_refusal(hardware_is_vm=hardware_is_vm, has_guest_parameters=has_guest_parameters,
                           hardware=None if hardware_is_vm is None else "Dell Inc. PowerEdge R750")
    assert (refusal is None) is allowed
    if words:
        assert words in refusal and refusal.endswith("so an AVMA key cannot activate it; nothing was changed")


UNLICENSED_AVMA = dict(partial_product_key="DV9BG", channel="Retail", description_channel="VIRTUAL_MACHINE_ACTIVATION", license_status="Unlicensed",
                       license_status_reason="0xC004FD02", is_avma=True)
NO_KEY = dict(partial_product_key=None, channel=None, description_channel=None, license_status=None, license_status_reason=None, is_avma=False)


@pytest.mark.parametrize("installed, target, plan, expected", [
    (MAK_SUMMARY, AVMA_KEY, dict(install=False, activate=False), MAK_SUMMARY),
    (NO_KEY, AVMA_KEY, dict(install=True, activate=True),
     dict(NO_KEY, partial_product_key="DV9BG", is_avma=True, license_status="(known after activation: it depends on the Hyper-V host)")),
    (UNLICENSED_AVMA, AVMA_KEY, dict(install=False, activate=True),
     dict(UNLICENSED_AVMA, license_status="(known after activation: it depends on the Hyper-V host)", license_status_reason=None)),
    (UNLICENSED_AVMA, "NPPR9-FWDCX-D2C8J-H872K-2YT43", dict(install=True, activate=True),
     dict(NO_KEY, partial_product_key="2YT43", license_status="(known after activation)")),
    (NO_KEY, "NPPR9-FWDCX-D2C8J-H872K-2YT43", dict(install=True, activate=False),
     dict(NO_KEY, partial_product_key="2YT43", license_status="(known after the key is installed)")),
])
def test_check_mode_predicts_the_key_but_not_the_licence_status(installed, target, plan, expected):
    summary = dict(installed, license_status_reason=installed.get("license_status_reason"), channel=installed.get("channel"))
    predicted = predicted_key_summary(summary, dict(plan, kept=None, refusal=None), target_key=target, target_is_avma=target == AVMA_KEY)
    assert predicted == dict(expected, license_status_reason=expected.get("license_status_reason"), channel=expected.get("channel"))
    assert predicted["license_status"] != "Licensed" or not (plan["install"] or plan["activate"])
