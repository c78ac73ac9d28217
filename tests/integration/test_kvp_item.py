# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.kvp_item run by real ansible-playbook against lab Hyper-V hosts: host-pushed items removed and set
(jobs polled, synchronous answers, failed jobs), the guest's registry following, check mode, diff, idempotence,
and guest-scope items; host_info on a host without Hyper-V."""

from __future__ import annotations

import json
import re


from saved_results import saved  # pylint: disable=import-error

FLEET = "kvp_item.yml"
PASSWORD = "Lab-Passw0rd!"


def run_playbook(ansible_playbook, lab, out_dir, playbook, hosts, *arguments, **extra):
    run = ansible_playbook(playbook, lab.inventory, *arguments, extra_vars=dict(target_hosts=hosts, out_dir=str(out_dir), **extra))
    assert run.returncode == 0, run.stdout + run.stderr
    return run, saved(out_dir)


def host_items(ansible_playbook, lab, out_dir, host):
    _run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_info.yml", host)
    return {vm["name"]: vm["host_items"] for vm in results[host]["vms"]}


def guest_registry(ansible_playbook, lab, out_dir, guest):
    _run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_info.yml", guest, kvp_scope="guest")
    return results[guest]["guest_registry"]


def invokes(stats, machine):
    return {key: count for key, count in stats["machines"][machine]["requests"].items() if key.startswith("Invoke")}


REMOVE_OURS = dict(item_all_vms=True, item_state="absent", item_patterns=["HyperVAvma.*"])


def test_remove_host_pushed_items_everywhere_then_nothing_left_to_do(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "hv45,hv45sync", "--check", "--diff", **REMOVE_OURS)
    assert results["hv45"]["changed"] is True
    assert sorted((change["vm"], change["name"]) for change in results["hv45"]["changes"]) == [
        ("app01", "HyperVAvma.Channel"), ("app01", "HyperVAvma.LicenseStatus"), ("app02", "hypervavma.licensestatus")]
    assert "HyperVAvma.Channel" in run.stdout  # the diff
    stats = lab.stats()
    assert stats["total_writes"] == 0 and invokes(stats, "hv45") == {}

    lab.reset_stats()
    run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "hv45,hv45sync", "-v", **REMOVE_OURS)
    assert results["hv45"]["changed"] is True and results["hv45sync"]["changed"] is True
    # At -v each wait for a job says what it waits for, while the task still runs.
    waits = re.findall(r"^<hv45> hyperv\.avma\.kvp_item: waiting for the job (\S+) \((.+?)\): 4 \(running\)", run.stdout, re.MULTILINE)
    assert len(waits) == 4 and len({job for job, _name in waits}) == 2, run.stdout
    stats = lab.stats()
    assert invokes(stats, "hv45") == {"Invoke": 2, "Invoke:Msvm_VirtualSystemManagementService.RemoveKvpItems": 2}
    assert stats["machines"]["hv45"]["requests"]["Get"] >= 2  # the jobs, polled until they ended
    assert invokes(stats, "hv45sync") == {"Invoke": 1, "Invoke:Msvm_VirtualSystemManagementService.RemoveKvpItems": 1}
    assert "Get" not in stats["machines"]["hv45sync"]["requests"]  # answered without a job

    assert host_items(ansible_playbook, lab, out_dir, "hv45") == {"app01": {"Keep": "1"}, "app02": {}}
    assert host_items(ansible_playbook, lab, out_dir, "hv45sync") == {"app03": {"Keep": "3"}}
    assert guest_registry(ansible_playbook, lab, out_dir, "app45a")["external"] == {"Keep": "1"}
    assert guest_registry(ansible_playbook, lab, out_dir, "app45b")["external"] == {}

    lab.reset_stats()
    run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "hv45,hv45sync", **REMOVE_OURS)
    assert results["hv45"]["changed"] is False and results["hv45"]["changes"] == [] and results["hv45sync"]["changed"] is False
    assert re.search(r"hv45\s+: ok=2\s+changed=1\s", run.stdout)  # only the save task changed
    stats = lab.stats()
    assert stats["total_writes"] == 0 and invokes(stats, "hv45") == {} and invokes(stats, "hv45sync") == {}
    assert stats["machines"]["hv45"]["requests"] == {"Enumerate": 2}


def test_set_items_with_a_sensitive_value_hidden_from_the_diff(lab, ansible_playbook, out_dir):
    secret = "Tok-9f8e7d6c5b4a"
    arguments = dict(item_vms=["app01"], item_items={"Keep": "2", "EnrollmentToken": secret, "Added": "yes"}, item_sensitive=["Enroll*"])
    run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "hv45", "--diff", **arguments)
    assert [(change["action"], change["name"]) for change in results["hv45"]["changes"]] == [
        ("modify", "Keep"), ("add", "EnrollmentToken"), ("add", "Added")]
    assert secret not in run.stdout and secret not in json.dumps(results)
    assert "(hidden: sensitive)" in run.stdout
    items = host_items(ansible_playbook, lab, out_dir, "hv45")["app01"]
    assert items == {"Keep": "2", "EnrollmentToken": secret, "Added": "yes"}
    assert guest_registry(ansible_playbook, lab, out_dir, "app45a")["external"] == items
    _run, again = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "hv45", **arguments)
    assert again["hv45"]["changed"] is False


def test_a_failing_job_fails_the_task_and_names_the_vm(lab, ansible_playbook, out_dir):
    lab.admin("POST", "/jobs/failures", {"machine": "hv45", "method": "AddKvpItems", "vm": "app02", "error_description": "Injected by the test"})
    arguments = dict(target_hosts="hv45", out_dir=str(out_dir), item_vms=["app01", "app02"], item_items={"Batch": "7"})
    run = ansible_playbook("kvp_item.yml", lab.inventory, extra_vars=arguments)
    output = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in output
    marker = re.search(r"^fatal: \[hv45\]: FAILED! => ", run.stdout, re.MULTILINE)
    assert marker, output
    result = json.JSONDecoder().raw_decode(run.stdout[marker.end():])[0]
    assert "\n" not in result["msg"]
    assert re.search(r"AddKvpItems: VM 'app02' \([0-9A-F-]{36}\): job [0-9A-F-]+ ended in state 10 \(exception\); error 32768: Injected by the test",
                     result["msg"]), result["msg"]
    assert result["changed"] is True
    assert [(change["vm"], change["name"]) for change in result["changes"]] == [("app01", "Batch")]
    assert PASSWORD not in output
    items = host_items(ansible_playbook, lab, out_dir, "hv45")
    assert items["app01"]["Batch"] == "7" and "Batch" not in items["app02"]
    _run, retried = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "hv45", item_vms=["app01", "app02"], item_items={"Batch": "7"})
    assert [(change["vm"], change["name"]) for change in retried["hv45"]["changes"]] == [("app02", "Batch")]


def test_guest_scope_items_reach_the_host(lab, ansible_playbook, out_dir):
    arguments = dict(item_scope="guest", item_items={"HyperVAvma.Inventory": "rack-7"})
    _run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "app45b", **arguments)
    assert results["app45b"]["changes"] == [dict(action="add", name="HyperVAvma.Inventory")]
    _run, hosts = run_playbook(ansible_playbook, lab, out_dir, "kvp_info.yml", "hv45", kvp_vms=["app02"])
    assert hosts["hv45"]["vms"][0]["guest_items"] == {"HyperVAvma.Inventory": "rack-7"}
    _run, again = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "app45b", **arguments)
    assert again["app45b"]["changed"] is False

    removal = dict(item_scope="guest", item_state="absent", item_patterns=["hypervavma.*"])
    _run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_item.yml", "app45b", **removal)
    assert results["app45b"]["changes"] == [dict(action="remove", name="HyperVAvma.Inventory")]
    _run, hosts = run_playbook(ansible_playbook, lab, out_dir, "kvp_info.yml", "hv45", kvp_vms=["app02"])
    assert hosts["hv45"]["vms"][0]["guest_items"] == {}


def test_host_info_on_a_host_without_hyperv(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    _run, results = run_playbook(ansible_playbook, lab, out_dir, "host_readiness.yml", "hv45nohv")
    result = results["hv45nohv"]
    assert result["ready"] is False and result["host"]["hyperv_installed"] is False
    assert [problem["code"] for problem in result["problems"]] == ["hyperv_missing"]
    assert result["vms"] == []
    assert lab.stats()["machines"]["hv45nohv"]["requests"] == {"Enumerate": 3}


def test_a_warning_names_the_host(lab, ansible_playbook, out_dir):
    run, results = run_playbook(ansible_playbook, lab, out_dir, "kvp_info.yml", "hv45", kvp_vms=["app01", "nosuchvm"])
    assert [vm["name"] for vm in results["hv45"]["vms"]] == ["app01"]
    assert "[WARNING]: hv45: no VM of this host is named or has the ID: nosuchvm" in run.stdout + run.stderr
