# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hyperv.avma.host_setup role, host_info and integration_service run by real ansible-playbook against a lab
fleet with one Standard host, one unactivated host and one VM with Data Exchange off."""

from __future__ import annotations

import re


from saved_results import saved  # pylint: disable=import-error

FLEET = "host_setup.yml"
HOSTS = ("hvready", "hvstd", "hvunact")
FOUND = {
    "hvstd": [("host_not_datacenter", None)],
    "hvunact": [("host_not_activated", None)],
    "hvready": [("data_exchange_off", "dxoff")],
}
REMAINING = {"hvstd": [("host_not_datacenter", None)], "hvunact": [("host_not_activated", None)], "hvready": []}


def problems(report, key):
    return [(problem["code"], problem["vm"]) for problem in report[key]]


def recap_changed(stdout):
    """changed= of each host in the PLAY RECAP, less the one task that saves the report."""
    return {host: int(changed) - 1 for host, changed in re.findall(r"^(\w+)\s+: ok=\d+\s+changed=(\d+)", stdout, re.MULTILINE)}


def run_role(ansible_playbook, lab, out_dir, *arguments):
    run = ansible_playbook("host_setup.yml", lab.inventory, *arguments, extra_vars=dict(out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    return run, saved(out_dir)


def test_check_mode_reports_the_problems_and_changes_nothing(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    run, reports = run_role(ansible_playbook, lab, out_dir, "--check")
    assert sorted(reports) == sorted(HOSTS)
    for host in HOSTS:
        assert problems(reports[host], "problems_found") == FOUND[host], host
        assert problems(reports[host], "problems") == REMAINING[host], host
    assert reports["hvready"]["data_exchange_enabled_for"] == ["dxoff"] and reports["hvready"]["ready"] is True
    assert recap_changed(run.stdout) == {"hvready": 1, "hvstd": 0, "hvunact": 0}
    assert lab.stats()["total_writes"] == 0


def test_the_role_fixes_data_exchange_and_a_second_run_changes_nothing(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    run, reports = run_role(ansible_playbook, lab, out_dir)
    for host in HOSTS:
        assert problems(reports[host], "problems_found") == FOUND[host], host
        assert problems(reports[host], "problems") == REMAINING[host], host
        assert reports[host]["ready"] is (host == "hvready")
    assert reports["hvready"]["data_exchange_enabled_for"] == ["dxoff"]
    assert reports["hvstd"]["data_exchange_enabled_for"] == [] and reports["hvunact"]["data_exchange_enabled_for"] == []
    assert recap_changed(run.stdout) == {"hvready": 1, "hvstd": 0, "hvunact": 0}
    stats = lab.stats()["machines"]
    assert stats["hvready"]["total_writes"] == 1
    assert stats["hvstd"]["total_writes"] == 0 and stats["hvunact"]["total_writes"] == 0

    lab.reset_stats()
    run, reports = run_role(ansible_playbook, lab, out_dir)
    for host in HOSTS:
        assert problems(reports[host], "problems_found") == REMAINING[host], host
        assert problems(reports[host], "problems") == REMAINING[host], host
        assert reports[host]["data_exchange_enabled_for"] == []
    assert recap_changed(run.stdout) == {"hvready": 0, "hvstd": 0, "hvunact": 0}
    assert lab.stats()["total_writes"] == 0


def test_host_info_matches_the_fleet(lab, ansible_playbook, out_dir):
    run = ansible_playbook("host_readiness.yml", lab.inventory, extra_vars=dict(target_hosts="hyperv_hosts", out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    results = saved(out_dir)
    std, unact, ready = results["hvstd"], results["hvunact"], results["hvready"]
    assert std["host"]["os"]["edition_id"] == "ServerStandard" and std["host"]["is_datacenter"] is False
    assert std["can_activate_releases"] == []
    assert unact["host"]["activated"] is False and unact["host"]["license_status_name"] == "Unlicensed"
    assert ready["host"] == dict(name="HVREADY", os=ready["host"]["os"], is_datacenter=True, activated=True, license_status_name="Licensed",
                                 hyperv_installed=True)
    assert ready["can_activate_releases"][0] == "2022" and "2012 R2" in ready["can_activate_releases"]
    assert sorted(vm["name"] for vm in ready["vms"]) == ["dxoff", "dxon"]
    assert all(vm["data_exchange_enabled"] is True and vm["data_exchange_status"] == "OK" for vm in ready["vms"])


def test_integration_service_switches_one_vm_off_and_on(lab, ansible_playbook, out_dir):
    def switch(state, *arguments):
        run = ansible_playbook("host_data_exchange.yml", lab.inventory, *arguments,
                               extra_vars=dict(target_hosts="hvready", out_dir=str(out_dir), service_vms=["DXON"], service_state=state))
        assert run.returncode == 0, run.stdout + run.stderr
        return run, saved(out_dir)["hvready"]

    run, result = switch("disabled", "--diff")
    assert result["changed"] is True
    assert [(vm["name"], vm["enabled_before"], vm["enabled"]) for vm in result["vms"]] == [("dxon", True, False)]
    assert "dxon" in run.stdout and "disabled" in run.stdout  # the diff
    _run, again = switch("disabled")
    assert again["changed"] is False
    lab.reset_stats()
    _run, back = switch("enabled")
    assert back["changed"] is True and back["vms"][0]["enabled"] is True
    assert lab.stats()["machines"]["hvready"]["writes"] == {"Invoke": 1, "Invoke:Msvm_VirtualSystemManagementService.ModifyResourceSettings": 1}
