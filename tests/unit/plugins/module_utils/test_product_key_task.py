# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The product_key task against a fake guest: what it writes, in which order, what it returns, what it never shows."""

from __future__ import annotations

import datetime
import json

import re

import pytest
from ansible_collections.hyperv.avma.tests.unit.plugins.module_utils.fake_guest_cim import GUEST_KEY, PARAMETERS_KEY, FakeGuest, event_row, windows_row

from ansible_collections.hyperv.avma.plugins.module_utils import _guest_licensing as guest_licensing
from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaError,
    AvmaValueError,
    LostAnswerError,
    WinrmTransportError,
    WsmanFaultError,
)

AVMA_2022_DC = "W3GNR-8DDXR-2TFRP-H8P33-DV9BG"
AVMA_2019_STD = "TNK62-RXVTB-4P47B-2D623-4GF74"
MAK = "NPPR9-FWDCX-D2C8J-H872K-2YT43"
AVMA = "VIRTUAL_MACHINE_ACTIVATION"
UTC = datetime.timezone.utc


class FakeTime:
    """Stands in for the time module: sleeping advances the clock."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def fake_time(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(guest_licensing, "time", clock)
    monkeypatch.setattr(guest_licensing, "utc_now", lambda: datetime.datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    return clock


def params(**overrides):
    values = dict(key=None, state="present", activate=True, activation_timeout=30, poll_interval=5, clean_stale_kvp=True,
                  stale_kvp_names=[], publish_kvp=False, replace_key="not_licensed")
    values.update(overrides)
    return values


def run(guest, check_mode=False, diff=False, **overrides):
    return guest_licensing.product_key_task(guest, params(**overrides), check_mode, diff)


def avma_guest(**kwargs):
    kwargs.setdefault("channels", {AVMA_2022_DC: AVMA})
    return FakeGuest(**kwargs)


def licensed_avma_guest(**kwargs):
    return avma_guest(product=windows_row("DV9BG", channel=AVMA, status=1), **kwargs)


def no_secret(result, *keys):
    text = json.dumps(result)
    for key in keys:
        assert key not in text
        assert key.replace("-", "") not in text


def test_installs_and_activates_the_avma_key_of_the_guests_version_and_edition():
    guest = avma_guest()
    result = run(guest, diff=True)
    assert guest.write_methods == ["InstallProductKey", "RefreshLicenseStatus", "Activate", "RefreshLicenseStatus"]
    assert guest.writes[0][3] == {"ProductKey": AVMA_2022_DC}
    assert result["changed"] is True
    assert result["actions"] == ["install the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG (AVMA)", "activate Windows"]
    assert result["before"]["partial_product_key"] is None
    assert result["after"] == dict(partial_product_key="DV9BG", channel="Retail", description_channel=AVMA, license_status="Licensed",
                                   license_status_reason="0x00000000", is_avma=True)
    assert result["os"]["release"] == "2022" and result["os"]["edition_id"] == "ServerDatacenter"
    assert result["diff"]["after"]["product_key"] == "XXXXX-XXXXX-XXXXX-XXXXX-DV9BG"
    no_secret(result, AVMA_2022_DC)


def test_no_activate_call_when_the_key_activated_itself_on_install():
    guest = avma_guest(activates_on_install=True)
    result = run(guest)
    assert guest.write_methods == ["InstallProductKey", "RefreshLicenseStatus"]
    assert result["actions"] == ["install the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG (AVMA)"]
    assert result["after"]["license_status"] == "Licensed"


def test_key_avma_is_the_same_as_no_key():
    guest = avma_guest()
    run(guest, key=" AVMA ")
    assert guest.writes[0][3] == {"ProductKey": AVMA_2022_DC}


def test_core_edition_gets_its_editions_key():
    guest = FakeGuest(build=17763, sku=13, channels={AVMA_2019_STD: AVMA})
    run(guest)
    assert guest.writes[0][3] == {"ProductKey": AVMA_2019_STD}


def test_same_last_five_characters_means_no_change():
    guest = licensed_avma_guest()
    result = run(guest, diff=True)
    assert result["changed"] is False and result["actions"] == []
    assert guest.writes == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_installed_but_unlicensed_key_is_only_activated():
    guest = avma_guest(product=windows_row("DV9BG", channel=AVMA, status=0, reason=0xC004FD04))
    result = run(guest)
    assert guest.write_methods == ["Activate", "RefreshLicenseStatus"]
    assert result["actions"] == ["activate Windows"]
    assert result["after"]["license_status"] == "Licensed"


def test_activate_false_installs_only():
    guest = avma_guest()
    result = run(guest, activate=False)
    assert guest.write_methods == ["InstallProductKey", "RefreshLicenseStatus"]
    assert result["after"]["license_status"] == "Unlicensed"


def test_check_mode_writes_nothing_and_says_what_would_change():
    guest = avma_guest(product=windows_row("8XDDG", channel="VOLUME_KMSCLIENT", status=2))
    result = run(guest, check_mode=True, diff=True)
    assert guest.writes == []
    assert result["changed"] is True
    assert result["actions"] == ["install the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG (AVMA)", "activate Windows"]
    assert result["diff"]["before"]["product_key"] == "XXXXX-XXXXX-XXXXX-XXXXX-8XDDG"
    assert result["diff"]["before"]["channel"] == "VOLUME_KMSCLIENT"
    # Whether the host activates it is not known before it asks: check mode never predicts "Licensed", and says so.
    known_later = "(known after activation: it depends on the Hyper-V host)"
    assert result["diff"]["after"] == dict(product_key="XXXXX-XXXXX-XXXXX-XXXXX-DV9BG", channel=None, license_status=known_later, is_avma=True)
    assert result["after"]["license_status"] == known_later and result["after"]["license_status_reason"] is None
    assert result["kept"] is None
    no_secret(result, AVMA_2022_DC)


def test_a_licensed_non_avma_key_is_kept_without_any_write():
    items = {GUEST_KEY: {"HyperVAvma.Channel": (1, "AVMA"), "LegacyAvmaState": (1, "done")}}
    for check_mode in (True, False):
        guest = avma_guest(product=windows_row("2YT43", channel="VOLUME_MAK", status=1), registry=items)
        result = run(guest, check_mode=check_mode, stale_kvp_names=["Legacy*"], publish_kvp=True)
        assert guest.writes == []
        assert result["changed"] is False and result["actions"] == []
        assert result["kept"] == dict(partial_product_key="2YT43", channel="VOLUME_MAK", license_status="Licensed",
                                      reason="a Licensed non-AVMA key is kept unless replace_key=always")
        assert result["after"]["partial_product_key"] == "2YT43"


def test_replace_key_always_switches_a_licensed_mak_guest_to_avma():
    guest = avma_guest(product=windows_row("2YT43", channel="VOLUME_MAK", status=1))
    predicted = run(guest, check_mode=True, replace_key="always")
    result = run(guest, replace_key="always")
    assert predicted["actions"][0] == result["actions"][0] == "install the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG (AVMA)"
    assert result["after"]["is_avma"] is True and result["after"]["license_status"] == "Licensed" and result["kept"] is None


def test_avma_key_on_a_machine_that_is_not_a_hyperv_vm_is_refused_before_any_write():
    guest = avma_guest(hyperv_vm=False)
    with pytest.raises(AvmaValueError, match=r"g2022dc: product_key: this machine is not a Hyper-V virtual machine "
                                             r"\(Win32_ComputerSystem reports Dell Inc. PowerEdge R750, and no Hyper-V host"):
        run(guest)
    assert guest.writes == []
    # Hyper-V's virtual hardware is enough, also while no host parameters were published (Data Exchange off).
    virtual = avma_guest(hyperv_vm=False, hardware=dict(Manufacturer="Microsoft Corporation", Model="Virtual Machine"))
    assert run(virtual)["after"]["is_avma"] is True
    mak = avma_guest(hyperv_vm=False, channels={MAK: "VOLUME_MAK"})
    assert run(mak, key=MAK)["after"]["partial_product_key"] == "2YT43"


def test_guest_parameters_left_on_physical_hardware_do_not_make_it_a_vm():
    # An image captured in a VM keeps the Guest\Parameters values its host published; the hardware tells the truth.
    imaged = avma_guest(hardware=dict(Manufacturer="Dell Inc.", Model="PowerEdge R750"))
    with pytest.raises(AvmaValueError, match=r"reports Dell Inc. PowerEdge R750, which outweighs the Guest\\Parameters KVP values it holds"):
        run(imaged)
    assert imaged.writes == []
    # Hardware that names nothing leaves the decision to what the host published.
    unnamed = avma_guest(hardware=dict(Manufacturer="", Model=" "))
    assert run(unnamed)["after"]["is_avma"] is True


def test_check_mode_refuses_key_avma_on_a_machine_that_is_not_a_hyperv_vm():
    host = avma_guest(hyperv_vm=False)
    with pytest.raises(AvmaValueError, match="this machine is not a Hyper-V virtual machine .* nothing was changed"):
        run(host, check_mode=True, key="avma")
    assert host.writes == []


@pytest.mark.parametrize("product, overrides, status", [
    (windows_row("2YT43", channel="VOLUME_MAK", status=1), dict(), "Licensed"),
    (windows_row("DV9BG", channel=AVMA, status=0), dict(), "(known after activation: it depends on the Hyper-V host)"),
    (None, dict(key=MAK), "(known after activation)"),
    (None, dict(key=MAK, activate=False), "(known after the key is installed)"),
])
def test_check_mode_never_states_a_licence_status_it_has_not_seen(product, overrides, status):
    guest = avma_guest(product=product, channels={AVMA_2022_DC: AVMA, MAK: "VOLUME_MAK"})
    predicted = run(guest, check_mode=True, **overrides)
    assert guest.writes == [] and predicted["after"]["license_status"] == status
    # The real run then reports what Windows answered.
    assert run(guest, **overrides)["after"]["license_status"] in ("Licensed", "Unlicensed")


class _LostAnswerGuest(FakeGuest):
    """``lost`` maps a method ("InstallProductKey", "SetStringValue", ...) to whether its first call is carried out
    before its answer is lost (the connection is reset); later calls answer normally."""

    def __init__(self, lost, **kwargs):
        super().__init__(**kwargs)
        self.lost = dict(lost)

    def invoke(self, cim_class, method, params=None, *, selectors=None, success_codes=(0,)):
        if method not in self.lost:
            return super().invoke(cim_class, method, params, selectors=selectors, success_codes=success_codes)
        applied = self.lost.pop(method)
        if applied:
            super().invoke(cim_class, method, params, selectors=selectors, success_codes=success_codes)
        else:
            self.calls.append(("invoke", cim_class.name, method, dict(params or {}), selectors))
        raise WinrmTransportError("connection reset by peer", kind="reset", machine=self.display_name,
                                  operation="Invoke %s.%s" % (cim_class.name, method))


LOST = r"the answer was lost \(connection reset by peer\)"
MAY_HAVE_BEEN_APPLIED = (r"and the state read again does not show the change; the write may have been applied all the same: "
                         r"check with hyperv.avma.activation_facts, or run the task again")


@pytest.mark.parametrize("applied", [True, False])
def test_a_lost_install_answer_is_checked_by_reading_the_key_never_repeated(applied):
    guest = _LostAnswerGuest({"InstallProductKey": applied}, channels={AVMA_2022_DC: AVMA}, activates_on_install=True)
    if applied:
        result = run(guest)
        assert result["changed"] is True and result["after"]["partial_product_key"] == "DV9BG"
        assert result["after"]["license_status"] == "Licensed"
        assert len(result["warnings"]) == 1
        assert re.match(r"InstallProductKey of the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG: %s; the state was read again and shows the "
                        r"change made, so it is reported as changed$" % LOST, result["warnings"][0])
        assert guest.write_methods == ["InstallProductKey", "RefreshLicenseStatus"]
        assert run(guest)["changed"] is False and guest.write_methods == ["InstallProductKey", "RefreshLicenseStatus"]
        return
    with pytest.raises(LostAnswerError, match=r"^g2022dc: Invoke SoftwareLicensingService.InstallProductKey: InstallProductKey of the key "
                                              r"XXXXX-XXXXX-XXXXX-XXXXX-DV9BG: %s %s" % (LOST, MAY_HAVE_BEEN_APPLIED)):
        run(guest)
    assert guest.write_methods == ["InstallProductKey"]


@pytest.mark.parametrize("applied", [True, False])
def test_a_lost_refresh_answer_is_a_warning_with_the_licence_read_again(applied):
    guest = _LostAnswerGuest({"RefreshLicenseStatus": applied}, channels={AVMA_2022_DC: AVMA}, activates_on_install=True)
    result = run(guest)
    assert result["changed"] is True and result["after"]["license_status"] == "Licensed"
    assert result["warnings"] == ["RefreshLicenseStatus: the answer was lost (connection reset by peer); it changes no key, so the "
                                  "task goes on and reports the licence as read afterwards; read again now: Licensed, key ...DV9BG"]
    assert guest.write_methods == ["InstallProductKey", "RefreshLicenseStatus"]


@pytest.mark.parametrize("applied", [True, False])
def test_a_lost_activate_answer_is_checked_by_reading_the_licence(applied):
    guest = _LostAnswerGuest({"Activate": applied}, product=windows_row("DV9BG", channel=AVMA, status=0, reason=0xC004FD02))
    if applied:
        result = run(guest)
        assert result["changed"] is True and result["actions"] == ["activate Windows"]
        assert result["after"]["license_status"] == "Licensed"
        assert re.match(r"Activate\(\) of the Windows product: %s; the state was read again and shows the change made" % LOST,
                        result["warnings"][0])
        assert guest.write_methods == ["Activate", "RefreshLicenseStatus"]
        assert run(guest)["changed"] is False and guest.write_methods == ["Activate", "RefreshLicenseStatus"]
        return
    with pytest.raises(AvmaError, match=r"activation failed: the answer to Activate\(\) was lost \(connection reset by peer\), so it "
                                        r"may have been applied all the same \(check with hyperv.avma.activation_facts later\); "
                                        r"not licensed 30 s after Activate\(\)"):
        run(guest)
    assert guest.write_methods == ["Activate", "RefreshLicenseStatus"], "Activate() is not repeated"


@pytest.mark.parametrize("applied", [True, False])
def test_a_lost_uninstall_answer_is_checked_by_reading_the_key(applied):
    guest = _LostAnswerGuest({"UninstallProductKey": applied}, product=windows_row("DV9BG", channel=AVMA, status=1))
    if applied:
        result = run(guest, state="absent")
        assert result["changed"] is True and result["after"]["partial_product_key"] is None
        assert re.match(r"UninstallProductKey of the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG: %s; the state was read again" % LOST,
                        result["warnings"][0])
        assert guest.write_methods == ["UninstallProductKey", "ClearProductKeyFromRegistry", "RefreshLicenseStatus"]
        assert run(guest, state="absent")["changed"] is False and len(guest.writes) == 3
        return
    with pytest.raises(LostAnswerError, match=r"^g2022dc: Invoke SoftwareLicensingProduct.UninstallProductKey: UninstallProductKey of the key "
                                              r"XXXXX-XXXXX-XXXXX-XXXXX-DV9BG: %s %s" % (LOST, MAY_HAVE_BEEN_APPLIED)):
        run(guest, state="absent")
    assert guest.write_methods == ["UninstallProductKey"]


@pytest.mark.parametrize("applied", [True, False])
def test_a_lost_clear_answer_warns_that_the_registry_copy_cannot_be_read(applied):
    guest = _LostAnswerGuest({"ClearProductKeyFromRegistry": applied}, product=windows_row("DV9BG", channel=AVMA, status=1))
    result = run(guest, state="absent")
    assert result["changed"] is True and result["after"]["partial_product_key"] is None
    assert result["warnings"] == [
        "ClearProductKeyFromRegistry: the answer was lost (connection reset by peer); the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG is "
        "uninstalled, but whether its copy was also cleared from the registry cannot be read over WMI: run slmgr.vbs /cpky on "
        "the guest if that matters (it is safe to run again)"]
    assert guest.write_methods == ["UninstallProductKey", "ClearProductKeyFromRegistry", "RefreshLicenseStatus"]


@pytest.mark.parametrize("applied", [True, False])
def test_a_lost_publish_answer_is_checked_by_reading_the_item(applied):
    guest = _LostAnswerGuest({"SetStringValue": applied}, product=windows_row("DV9BG", channel=AVMA, status=1))
    if applied:
        result = run(guest, publish_kvp=True)
        assert result["changed"] is True
        assert re.match(r"StdRegProv.SetStringValue of the guest KVP item HyperVAvma\.\w+: %s; the state was read again" % LOST,
                        result["warnings"][0])
        published = [call[3]["sValueName"] for call in guest.writes if call[2] == "SetStringValue"]
        assert sorted(published) == result["kvp"]["published"] and len(set(published)) == len(published), "none written twice"
        assert run(guest, publish_kvp=True)["changed"] is False and len(guest.writes) == len(published)
        return
    with pytest.raises(LostAnswerError, match=r"^g2022dc: Invoke StdRegProv.SetStringValue: StdRegProv.SetStringValue of the guest KVP item "
                                              r"HyperVAvma\.\w+: %s and the state read again does not show the change; the write may have "
                                              r"been applied all the same: check with hyperv.avma.kvp_info \(scope: guest\) or the registry "
                                              r"key HKLM\\SOFTWARE\\Microsoft\\Virtual Machine\\Guest, or run the task again" % LOST):
        run(guest, publish_kvp=True)
    assert guest.write_methods == ["SetStringValue"]


@pytest.mark.parametrize("build, sku, words", [
    (20348, 79, ["g2022dc", "evaluation", "DISM /online /Set-Edition:ServerStandard"]),
    (20348, 50, ["g2022dc", "no AVMA key", "2022", "Essentials"]),
    (19041, 12, ["g2022dc", "no AVMA key", "2004"]),
    (22000, 8, ["g2022dc", "version is unknown"]),
])
def test_ineligible_guest_fails_before_any_write(build, sku, words):
    guest = FakeGuest(build=build, sku=sku)
    with pytest.raises(AvmaValueError) as caught:
        run(guest)
    message = str(caught.value)
    assert message.startswith("g2022dc: product_key: ")
    for word in words:
        assert word in message
    assert guest.writes == []


def test_ineligible_guest_also_fails_in_check_mode():
    guest = FakeGuest(sku=79)
    with pytest.raises(AvmaValueError, match="evaluation"):
        run(guest, check_mode=True)


def test_invalid_key_fails_before_any_request():
    guest = FakeGuest()
    with pytest.raises(AvmaValueError) as caught:
        run(guest, key="W3GNR-8DDXR-2TFRP-H8P33-DV9B0")
    assert guest.calls == []
    assert "DV9B0" not in str(caught.value) and str(caught.value).startswith("g2022dc: product_key: ")


def test_an_avma_key_of_another_version_is_refused():
    guest = FakeGuest()
    with pytest.raises(AvmaValueError) as caught:
        run(guest, key=AVMA_2019_STD)
    assert "Windows Server 2019 Standard" in str(caught.value) and "2022 ServerDatacenter" in str(caught.value)
    assert AVMA_2019_STD not in str(caught.value)
    assert guest.writes == []


@pytest.mark.parametrize("overrides, word", [(dict(activation_timeout=-1), "activation_timeout"), (dict(poll_interval=0), "poll_interval"),
                                             (dict(stale_kvp_names=[""]), "stale_kvp_names")])
def test_bad_options_fail_before_any_request(overrides, word):
    guest = FakeGuest()
    with pytest.raises(AvmaValueError, match=word):
        run(guest, **overrides)
    assert guest.calls == []


def kvp_registry():
    return {GUEST_KEY: {"HyperVAvma.LicenseStatus": (1, "Licensed"), "HyperVAvma.Release": (1, "2022"), "AvmaHost": (1, "HV2022"),
                        "VendorAgent": (1, "keep me")},
            PARAMETERS_KEY: {"PhysicalHostName": (1, "HV2022"), "HostName": (1, "hv2022.lab"), "VirtualMachineName": (1, "web01")}}


def test_switching_to_a_mak_key_removes_the_stale_kvp_items():
    guest = licensed_avma_guest(registry=kvp_registry())
    result = run(guest, key=MAK.lower(), stale_kvp_names=["avma*"], diff=True)
    assert guest.writes[0][3] == {"ProductKey": MAK}
    assert guest.values() == {"VendorAgent": "keep me"}
    assert result["kvp"] == dict(removed=["AvmaHost", "HyperVAvma.LicenseStatus", "HyperVAvma.Release"], published=[])
    assert result["after"]["is_avma"] is False and result["after"]["description_channel"] == "VOLUME_MAK"
    assert result["before"]["is_avma"] is True
    assert result["diff"]["before"]["kvp_items"] == {"AvmaHost": "HV2022", "HyperVAvma.LicenseStatus": "Licensed", "HyperVAvma.Release": "2022"}
    assert "kvp_items" not in result["diff"]["after"]
    no_secret(result, MAK)
    second = run(guest, key=MAK, stale_kvp_names=["avma*"])
    assert second["changed"] is False


def test_clean_stale_kvp_false_keeps_the_items():
    guest = licensed_avma_guest(registry=kvp_registry())
    result = run(guest, key=MAK, clean_stale_kvp=False)
    assert "HyperVAvma.LicenseStatus" in guest.values()
    assert result["kvp"] == dict(removed=[], published=[])


def test_check_mode_switch_lists_the_items_it_would_remove():
    guest = licensed_avma_guest(registry=kvp_registry())
    result = run(guest, check_mode=True, key=MAK)
    assert guest.writes == []
    assert result["actions"] == ["install the key XXXXX-XXXXX-XXXXX-XXXXX-2YT43", "activate Windows",
                                 "remove the guest KVP items HyperVAvma.LicenseStatus, HyperVAvma.Release"]
    no_secret(result, MAK)


def test_publishes_status_items_only_when_they_change():
    guest = avma_guest(registry=kvp_registry())
    result = run(guest, publish_kvp=True)
    values = guest.values()
    assert values["HyperVAvma.LicenseStatus"] == "Licensed"
    assert values["HyperVAvma.PartialProductKey"] == "DV9BG"
    assert values["HyperVAvma.Channel"] == "AVMA"
    assert values["HyperVAvma.HostMachineName"] == "HV2022"
    assert values["AvmaHost"] == "HV2022" and values["VendorAgent"] == "keep me"
    written = [call[3]["sValueName"] for call in guest.writes if call[2] == "SetStringValue"]
    assert "HyperVAvma.Release" not in written  # already "2022"
    assert result["kvp"]["published"] == sorted(written)
    before = len(guest.writes)
    assert run(guest, publish_kvp=True)["changed"] is False
    assert len(guest.writes) == before


def test_publishing_removes_unknown_items_of_the_prefix():
    registry = kvp_registry()
    registry[GUEST_KEY]["HyperVAvma.OldName"] = (1, "x")
    guest = licensed_avma_guest(registry=registry)
    result = run(guest, publish_kvp=True)
    assert "HyperVAvma.OldName" not in guest.values()
    assert result["kvp"]["removed"] == ["HyperVAvma.OldName"]


def test_check_mode_publishing_with_a_pending_install_writes_nothing():
    guest = avma_guest()
    result = run(guest, check_mode=True, publish_kvp=True, diff=True)
    assert guest.writes == []
    assert "HyperVAvma.LicenseStatus" in result["kvp"]["published"]
    assert result["diff"]["after"]["kvp_items"]["HyperVAvma.LicenseStatus"] == "(known after activation)"


def test_hyperv_host_comes_from_guest_parameters_when_the_task_writes():
    guest = avma_guest(registry=kvp_registry())
    result = run(guest, check_mode=True)
    assert result["installs"] is True and result["activates"] is True
    assert result["hyperv_host"] == dict(host_name="hv2022.lab", physical_host_name="HV2022", physical_host_name_fully_qualified=None,
                                         virtual_machine_name="web01", virtual_machine_id=None)


def reads_of(guest, key):
    return [call for call in guest.calls if call[0] == "invoke" and (call[3] or {}).get("sSubKeyName", "").lower() == key.lower()]


def test_a_guest_with_nothing_to_do_costs_three_reads():
    guest = licensed_avma_guest(registry=kvp_registry())
    run(guest, publish_kvp=True)  # publishes the status items and their digest
    guest.calls.clear()
    result = run(guest, publish_kvp=True)
    assert result["changed"] is False and result["installs"] is False and result["activates"] is False
    # The OS, the Windows product and the digest of the published items; no Guest\Parameters, no hardware, no item by item.
    assert result["hyperv_host"] is None and not reads_of(guest, PARAMETERS_KEY)
    assert [call[1:3] for call in guest.calls] == [
        ("Win32_OperatingSystem", None), ("SoftwareLicensingProduct", guest.calls[1][2]), ("StdRegProv", "GetStringValue")]


def test_published_items_that_no_longer_match_their_digest_are_read_and_written_again():
    guest = licensed_avma_guest(registry=kvp_registry())
    run(guest, publish_kvp=True)
    guest.registry[GUEST_KEY.lower()]["HyperVAvma.StatusDigest"] = (1, "0000000000000000")
    result = run(guest, publish_kvp=True)
    assert result["changed"] is True and result["kvp"]["published"] == ["HyperVAvma.StatusDigest"]
    assert run(guest, publish_kvp=True)["changed"] is False


def test_refused_activation_fails_with_reason_event_and_next_step():
    events = [event_row(41, 12309, datetime.datetime(2026, 11, 20, 11, 59, tzinfo=UTC), message="AVMA activation: Invalid Host")]
    guest = avma_guest(activation=("refuse", 0xC004FD02), events=events, registry=kvp_registry())
    with pytest.raises(AvmaError) as caught:
        run(guest)
    message = str(caught.value)
    assert message.startswith("g2022dc: product_key: activation failed: Activate() returned 0xC004FD02 (the Hyper-V host is not activated)")
    assert "; licence status Unlicensed; " in message  # the reason is the one Activate() returned: said once
    assert "latest Event 12309 (2026-11-20T11:59:00+00:00): Invalid Host" in message
    assert "Hyper-V host (from KVP): HV2022" in message
    assert message.endswith("next step: activate the Hyper-V host, then activate the guest again")
    assert "TimeGenerated >= '20261120114500.000000+000'" in guest.queries[-1]["where"]
    assert "\n" not in message


def test_refusal_as_a_wmi_fault_is_decoded_the_same_way():
    guest = avma_guest(activation=("refuse", 0xC004FD03), licensing_faults=True)
    with pytest.raises(AvmaError) as caught:
        run(guest)
    assert "Activate() returned 0xC004FD03 (the Hyper-V host cannot activate this edition" in str(caught.value)
    assert guest.write_methods == ["InstallProductKey", "RefreshLicenseStatus", "Activate", "RefreshLicenseStatus"]


def test_refused_install_as_a_wmi_fault():
    guest = FakeGuest(install_refusal=0xC004F050, licensing_faults=True)
    with pytest.raises(AvmaError, match=r"installing the key XXXXX-XXXXX-XXXXX-XXXXX-2YT43 failed: InstallProductKey returned 0xC004F050"):
        run(guest, key=MAK)


def test_other_faults_are_not_taken_for_a_refusal():
    guest = avma_guest(activation=("refuse", 0x80070005), licensing_faults=True)
    with pytest.raises(WsmanFaultError) as caught:
        run(guest)
    assert "0x80070005" in str(caught.value) and str(caught.value).startswith("g2022dc")
    assert guest.write_methods[-1] == "Activate"


def test_activation_that_never_comes_fails_after_the_timeout(fake_time):
    guest = avma_guest(activation=("unlicensed", 0xC004FD04))
    with pytest.raises(AvmaError) as caught:
        run(guest, activation_timeout=12, poll_interval=5)
    message = str(caught.value)
    assert "not licensed 12 s after Activate()" in message
    assert "0xC004FD04 (the guest is not activated: it is not bound to a host)" in message
    assert "no Event 12309 with a known outcome since 2026-11-20T11:45:00+00:00" in message
    assert "next step: check that Data Exchange is enabled" in message
    assert fake_time.sleeps == [5, 5, 2]


def test_activation_is_polled_until_licensed(fake_time):
    guest = avma_guest(activation=("pending", 2))
    result = run(guest, poll_interval=3)
    assert result["after"]["license_status"] == "Licensed"
    assert fake_time.sleeps == [3, 3]


def test_each_wait_for_activation_says_what_windows_shows_and_how_long_it_waited(fake_time):
    guest = avma_guest(activation=("pending", 2))
    run(guest, activation_timeout=30, poll_interval=3)
    assert len(guest.progress_lines) == 2
    assert re.fullmatch(r"waiting for activation: Windows' license status is (\d+) \((\w+)\); 0 s of at most 30 s", guest.progress_lines[0])
    assert guest.progress_lines[1].endswith("; 3 s of at most 30 s")


def test_zero_timeout_reads_once(fake_time):
    guest = avma_guest(activation=("pending", 2))
    with pytest.raises(AvmaError, match="not licensed 0 s after"):
        run(guest, activation_timeout=0)
    assert fake_time.sleeps == []


def test_unreadable_event_log_does_not_hide_the_activation_failure():
    fault = WsmanFaultError(code=2150858778, wmi_code=0x80041010, reason="Invalid class", machine="g2022dc")
    guest = avma_guest(activation=("refuse", 0xC004FD03), event_log_error=fault)
    with pytest.raises(AvmaError) as caught:
        run(guest)
    assert "0xC004FD03" in str(caught.value) and "the Application log could not be read" in str(caught.value)


def test_failed_activation_is_still_published_when_asked():
    guest = avma_guest(activation=("refuse", 0xC004FD02))
    with pytest.raises(AvmaError):
        run(guest, publish_kvp=True)
    assert guest.values()["HyperVAvma.LicenseStatus"] == "Unlicensed"
    assert guest.values()["HyperVAvma.LicenseStatusReason"] == "0xC004FD02"


def test_refused_install_shows_the_masked_key_and_the_code():
    guest = FakeGuest(install_refusal=0xC004F069)
    with pytest.raises(AvmaError) as caught:
        run(guest, key=MAK)
    message = str(caught.value)
    assert "installing the key XXXXX-XXXXX-XXXXX-XXXXX-2YT43 failed: InstallProductKey returned 0xC004F069" in message
    assert MAK not in message
    assert guest.write_methods == ["InstallProductKey"]


def test_absent_removes_the_avma_key_and_its_kvp_items():
    guest = licensed_avma_guest(registry=kvp_registry())
    result = run(guest, state="absent", diff=True)
    assert guest.write_methods == ["UninstallProductKey", "ClearProductKeyFromRegistry", "RefreshLicenseStatus", "DeleteValue", "DeleteValue"]
    assert result["actions"][0] == "uninstall the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG and clear it from the registry"
    assert result["after"]["partial_product_key"] is None
    assert "HyperVAvma.Release" not in guest.values()
    assert run(guest, state="absent")["changed"] is False


def test_absent_leaves_a_key_it_was_not_asked_to_remove():
    guest = FakeGuest(product=windows_row("2YT43", channel="VOLUME_MAK", status=1))
    assert run(guest, state="absent")["changed"] is False
    assert run(guest, state="absent", key=AVMA_2022_DC)["changed"] is False
    result = run(guest, state="absent", key=MAK, check_mode=True)
    assert result["changed"] is True and guest.writes == []


def test_every_sentence_names_keys_masked_only():
    guest = licensed_avma_guest(registry=kvp_registry())
    result = run(guest, key=MAK, diff=True, publish_kvp=True)
    no_secret(result, MAK, AVMA_2022_DC)
