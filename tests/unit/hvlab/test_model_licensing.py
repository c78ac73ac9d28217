# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The licensing state the lab derives from a fleet file: many product rows, one Windows key, stable IDs."""

import re

import pytest

from hvlab.fleet import Fleet

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import FOUNDATION

WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NEVER = "1601-01-01T00:00:00Z"


@pytest.fixture(name="fleet", scope="module")
def fleet_fixture():
    return Fleet.load(FOUNDATION)


def rows(fleet, machine, class_name="SoftwareLicensingProduct"):
    fleet_machine = fleet.machines[machine]
    return fleet_machine.store.instances(fleet_machine.registry.lookup("root/cimv2", class_name))


def windows_keyed(product_rows):
    return [row for row in product_rows
            if row["ApplicationID"] == WINDOWS_APP and row["PartialProductKey"] and not row["LicenseIsAddon"]]


@pytest.mark.parametrize("machine", ["hv2022", "g2022dc", "g2019std", "g2016dc", "g2012r2std", "g2025az", "g2022eval"])
def test_every_machine_has_many_rows_and_at_most_one_windows_key(machine, fleet):
    product_rows = rows(fleet, machine)
    keyless_windows = [row for row in product_rows if row["ApplicationID"] == WINDOWS_APP and row["PartialProductKey"] is None]
    assert 6 <= len(keyless_windows) <= 10
    assert all(row["LicenseStatus"] == 0 for row in keyless_windows)
    assert all(GUID.match(row["ID"]) for row in product_rows)
    assert len({row["ID"] for row in product_rows}) == len(product_rows)
    keyed = windows_keyed(product_rows)
    assert len(keyed) == (0 if machine == "g2022eval" else 1)
    if keyed:
        assert product_rows.index(keyed[0]) > 0
        assert product_rows[0]["ApplicationID"] == WINDOWS_APP and product_rows[0]["PartialProductKey"] is None


def test_same_name_rows_exist_for_the_installed_edition_in_other_channels(fleet):
    product_rows = rows(fleet, "g2022dc")
    same_name = [row for row in product_rows if row["Name"] == "Windows(R), ServerDatacenter edition"]
    assert len(same_name) >= 4
    assert {row["Description"].split(", ")[1] for row in same_name} >= {
        "VIRTUAL_MACHINE_ACTIVATION channel", "VOLUME_KMSCLIENT channel", "RETAIL channel"}


def test_avma_guest_row(fleet):
    (row,) = windows_keyed(rows(fleet, "g2022dc"))
    assert row["PartialProductKey"] == "DV9BG"
    assert row["Description"] == "Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel"
    assert row["Name"] == "Windows(R), ServerDatacenter edition" and row["LicenseFamily"] == "ServerDatacenter"
    assert row["LicenseStatus"] == 1 and row["LicenseStatusReason"] == 0
    assert row["AutomaticVMActivationHostMachineName"] == "HV2022"
    assert row["AutomaticVMActivationLastActivationTime"] == "2026-11-20T08:30:00Z"
    assert GUID.match(row["IAID"]) and row["AutomaticVMActivationHostDigitalPid2"]


def test_office_and_add_on_rows_with_keys_come_before_the_windows_row(fleet):
    product_rows = rows(fleet, "g2019std")
    keyed = [row for row in product_rows if row["PartialProductKey"]]
    assert [row["PartialProductKey"] for row in keyed] == ["6F7TH", "Q7XKD", "4GF74"]
    office, addon, windows = keyed
    assert office["ApplicationID"] == OFFICE_APP and not office["LicenseIsAddon"]
    assert office["Description"] == "Office 21, VOLUME_KMSCLIENT channel"
    assert office["LicenseFamily"] == "Office21ProPlus2021VL_KMS_Client_AE"
    assert addon["ApplicationID"] == WINDOWS_APP and addon["LicenseIsAddon"] and addon["LicenseFamily"] == "ServerStandardACor"
    assert windows["Description"].endswith("VIRTUAL_MACHINE_ACTIVATION channel")
    # Activated through the host named in the fleet file (no explicit avma_host).
    assert windows["AutomaticVMActivationHostMachineName"] == "HV2022"


def test_unlicensed_avma_guest_keeps_its_reason(fleet):
    (row,) = windows_keyed(rows(fleet, "g2012r2std"))
    assert row["PartialProductKey"] == "MTB6V"
    assert row["LicenseStatus"] == 0 and row["LicenseStatusReason"] == 0xC004FD02
    assert row["AutomaticVMActivationLastActivationTime"] == NEVER
    assert row["AutomaticVMActivationHostMachineName"] == "" and row["AutomaticVMActivationHostDigitalPid2"] == ""


def test_kms_rows_and_azure_edition(fleet):
    (host_row,) = windows_keyed(rows(fleet, "hv2022"))
    assert host_row["Description"] == "Windows(R) Operating System, VOLUME_KMSCLIENT channel"
    assert host_row["ProductKeyChannel"] == "Volume:GVLK" and re.match(r"^[A-Z0-9]{5}$", host_row["PartialProductKey"])
    assert host_row["IAID"] == "" and host_row["AutomaticVMActivationLastActivationTime"] == NEVER
    (azure,) = windows_keyed(rows(fleet, "g2025az"))
    assert azure["PartialProductKey"] == "88J4F" and azure["LicenseFamily"] == "ServerTurbine"


def test_evaluation_edition_without_a_key(fleet):
    product_rows = rows(fleet, "g2022eval")
    assert all(row["PartialProductKey"] is None and row["LicenseStatus"] == 0 for row in product_rows)
    (os_row,) = rows(fleet, "g2022eval", "Win32_OperatingSystem")
    assert os_row["OperatingSystemSKU"] == 79 and os_row["Caption"] == "Microsoft Windows Server 2022 Standard Evaluation"


def test_operating_system_rows(fleet):
    (os_row,) = rows(fleet, "g2012r2std", "Win32_OperatingSystem")
    assert os_row["Version"] == "6.3.9600" and os_row["BuildNumber"] == "9600" and os_row["OperatingSystemSKU"] == 7
    assert os_row["Caption"] == "Microsoft Windows Server 2012 R2 Standard"
    assert os_row["Name"] == "Microsoft Windows Server 2012 R2 Standard|C:\\Windows|\\Device\\Harddisk0\\Partition2"
    assert os_row["CSName"] == "G2012R2STD" and os_row["ProductType"] == 3 and os_row["MUILanguages"] == ["en-US"]
    (service,) = rows(fleet, "g2022dc", "SoftwareLicensingService")
    assert service["Version"] == "10.0.20348.1" and GUID.match(service["ClientMachineID"])


def test_state_is_deterministic_across_loads(fleet):
    assert Fleet.load(FOUNDATION).to_state() == fleet.to_state()
    assert rows(fleet, "g2022dc")[0]["ID"] != rows(fleet, "g2016dc")[0]["ID"]
