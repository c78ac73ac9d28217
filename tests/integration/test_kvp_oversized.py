# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One guest's 1 MB KVP item on a host of 100 VMs (fleets/kvp_oversized.yml): kvp_info and the kvp inventory plugin
list the 99 other VMs with their items and flag only that one (issue too_large), instead of losing the whole host
to w:EncodingLimit. The compliance report lists every VM of the host too, and host_setup works on that host and names
the VM it switches."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import yaml

from saved_results import saved  # pylint: disable=import-error

FLEET = "kvp_oversized.yml"
ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
TENANTS = ["tenant%04d" % number for number in range(1, 100)]


def test_kvp_info_lists_the_99_and_flags_the_one(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    run = ansible_playbook("kvp_info.yml", lab.inventory, extra_vars=dict(target_hosts="hv52", out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    result = saved(out_dir)["hv52"]
    by_name = {vm["name"]: vm for vm in result["vms"]}
    assert sorted(by_name) == sorted(TENANTS + ["bigvm"])
    assert all(by_name[name]["guest_items"] == {"Role": "tenant"} and by_name[name]["issues"] == [] for name in TENANTS)
    assert all(by_name[name]["intrinsic_facts"]["os_version"] for name in TENANTS)
    big = by_name["bigvm"]
    assert [(issue["source"], issue["code"]) for issue in big["issues"]] == [("guest", "too_large")]
    assert "w:EncodingLimit" in big["issues"][0]["message"] and big["guest_items"] == {}
    assert big["data_exchange"]["enabled"] is True, "its setting (host side) was still read"
    assert "1 problems in KVP data written by guests (1 VMs)" in run.stdout + run.stderr
    requests = lab.stats()["machines"]["hv52"]["requests"]
    # Components: the whole class, small pages, then the 100 VMs one by one; the other classes in one go each.
    assert requests["Enumerate"] <= 2 + 2 + 100 + 1


def test_the_inventory_plugin_lists_the_99_and_flags_the_one(lab, tmp_path):
    config = dict(plugin="hyperv.avma.kvp", hyperv_hosts=[dict(name="hv52", winrm_host="127.0.52.10", winrm_port=lab.port("hv52"))],
                  winrm_user="Administrator", winrm_scheme="http", hostname_source="vm_name")
    inventory = tmp_path / "oversized.kvp.yml"
    inventory.write_text(yaml.safe_dump(config))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), HYPERV_AVMA_WINRM_PASSWORD="Lab-Passw0rd!", ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    run = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    hostvars = json.loads(run.stdout)["_meta"]["hostvars"]
    assert sorted(hostvars) == sorted(TENANTS + ["bigvm"])
    flagged = sorted(name for name, variables in hostvars.items() if variables["kvp_issues"])
    assert flagged == ["bigvm"]
    codes = [json.loads(json.dumps(issue)).get("code") for issue in hostvars["bigvm"]["kvp_issues"]]
    assert "too_large" in json.dumps(codes)


def test_the_report_lists_every_vm_of_the_host_and_flags_the_one(lab, ansible_playbook, tmp_path):
    report_dir = tmp_path / "report"
    run = ansible_playbook(str(ROOT / "playbooks" / "report.yml"), lab.inventory, extra_vars=dict(compliance_report_dir=str(report_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((report_dir / "avma-report.json").read_text())
    names = sorted(vm["name"] for host in report["hosts"] for vm in host["vms"])
    assert names == sorted(TENANTS + ["bigvm"])
    flagged = [(problem["code"], problem["vm"]) for problem in report["problems"] if problem["code"] == "kvp_too_large"]
    assert flagged == [("kvp_too_large", "bigvm")], report["problems"]


def test_host_setup_works_on_that_host_and_names_the_vm_it_switches(lab, ansible_playbook, out_dir):
    # bigvm's Data Exchange is switched off, so host_setup has that VM to name; its 1 MB item stays in the guest.
    switched = ansible_playbook("host_data_exchange.yml", lab.inventory,
                                extra_vars=dict(target_hosts="hv52", out_dir=str(out_dir), service_vms=["bigvm"], service_state="disabled"))
    assert switched.returncode == 0, switched.stdout + switched.stderr
    saved(out_dir)
    lab.reset_stats()
    run = ansible_playbook("host_setup.yml", lab.inventory, extra_vars=dict(target_hosts="hv52", out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    report = saved(out_dir)["hv52"]
    assert report["problems_found"] == [dict(report["problems_found"][0], code="data_exchange_off", vm="bigvm")], report
    assert report["data_exchange_enabled_for"] == ["bigvm"] and report["ready"] is True and report["problems"] == []
    assert lab.stats()["machines"]["hv52"]["writes"] == {"Invoke": 1, "Invoke:Msvm_VirtualSystemManagementService.ModifyResourceSettings": 1}
    # The host answers for its 100 VMs again, the 1 MB item included: kvp_info still flags only that VM.
    after = ansible_playbook("kvp_info.yml", lab.inventory, extra_vars=dict(target_hosts="hv52", out_dir=str(out_dir)))
    assert after.returncode == 0, after.stdout + after.stderr
    flagged = [vm["name"] for vm in saved(out_dir)["hv52"]["vms"] if vm["issues"]]
    assert flagged == ["bigvm"]
