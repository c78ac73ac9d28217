# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.host_compliance_info run by real ansible-playbook against lab Hyper-V hosts: the same readiness, and of
the KVP data and AVMA requests what the report reads of what kvp_info and activation_events give, for the same WS-Man
requests over one authenticated session instead of three; a host without Hyper-V is read, not failed."""

from __future__ import annotations

from saved_results import saved  # pylint: disable=import-error

FLEET = "host_compliance_info.yml"
HOSTS = ("hvc22", "hvcnohv")


def run_reads(ansible_playbook, lab, out_dir, *arguments, **extra):
    lab.reset_stats()
    run = ansible_playbook("host_compliance_info.yml", lab.inventory, *arguments, extra_vars=dict(out_dir=str(out_dir), **extra))
    assert run.returncode == 0, run.stdout + run.stderr
    machines = lab.stats()["machines"]
    return saved(out_dir), {name: machines[name] for name in HOSTS}


def without(result, *keys):
    return {key: value for key, value in result.items() if key not in ("changed", "failed", "warnings", *keys)}


def report_view(vm):
    """What host_compliance_info keeps of a VM of kvp_info: identity, state and issues; whether Data Exchange is on;
    the intrinsic facts the report shows; and of the guest's items only the collection's own."""
    view = {key: vm[key] for key in ("name", "id", "state", "issues")}
    view["data_exchange"] = {"enabled": vm["data_exchange"]["enabled"]}
    view["intrinsic_facts"] = {key: vm["intrinsic_facts"][key] for key in ("fqdn", "os_name", "os_release", "os_edition_id", "ipv4_addresses")}
    view["guest_items"] = {name: value for name, value in vm["guest_items"].items() if name.startswith("HyperVAvma.")}
    return view


def test_one_task_reads_what_the_three_modules_read(lab, ansible_playbook, out_dir):
    results, _stats = run_reads(ansible_playbook, lab, out_dir, compare_modules=True)
    combined, separate = results["hvc22"]["combined"], results["hvc22"]
    assert combined["changed"] is False
    assert combined["host_info"] == without(separate["host_info"])
    assert combined["kvp"] == dict(without(separate["kvp"]), vms=[report_view(vm) for vm in separate["kvp"]["vms"]])
    # Each event without its message and raw properties: what the report reads of it, the outcome decoded from its codes.
    assert combined["events"]["events"] == [
        {key: event[key] for key in ("time_generated", "record_number", "event_id", "insertion_strings", "outcome", "truncated")}
        for event in separate["events"]["events"]]
    assert all(event["outcome"]["name"] == "success" for event in combined["events"]["events"])
    assert combined["events"]["count"] == 2 and combined["events"]["limited"] is False
    assert [vm["name"] for vm in combined["kvp"]["vms"]] == ["gc22", "hvcvm0001", "hvcvm0002", "hvcvm0003"]
    # The guests' other items (Role) stay on the host; the status the collection publishes comes along.
    assert [vm["guest_items"] for vm in combined["kvp"]["vms"][1:]] == [{"HyperVAvma.Channel": "AVMA"}] * 3
    assert all(vm["guest_items"]["Role"] == "tenant" for vm in separate["kvp"]["vms"][1:])
    assert combined["host_info"]["vms_with_data_exchange_off"] == ["gc22"]
    assert [(event["event_id"], event["insertion_strings"][0]) for event in combined["events"]["events"]] == [(12310, "gc22")] * 2


def test_a_host_without_hyperv_is_read_with_no_vms(lab, ansible_playbook, out_dir):
    results, _stats = run_reads(ansible_playbook, lab, out_dir, target_hosts="hvcnohv")
    combined = results["hvcnohv"]["combined"]
    assert combined.get("failed") is not True
    assert [problem["code"] for problem in combined["host_info"]["problems"]] == ["hyperv_missing"]
    assert combined["kvp"]["vms"] == [] and combined["events"]["count"] == 0


def test_the_same_requests_over_one_authentication_instead_of_three(lab, ansible_playbook, out_dir):
    _results, alone = run_reads(ansible_playbook, lab, out_dir, target_hosts="hvc22")
    _results, with_modules = run_reads(ansible_playbook, lab, out_dir, target_hosts="hvc22", compare_modules=True)
    combined, both = alone["hvc22"], with_modules["hvc22"]
    assert combined["auth_requests"] > 0
    # The three modules cost three times the authentication of the one task, and the same WS-Man requests.
    assert both["auth_requests"] - combined["auth_requests"] == 3 * combined["auth_requests"]
    separate_requests = {operation: count - combined["requests"].get(operation, 0) for operation, count in both["requests"].items()}
    assert separate_requests == combined["requests"]
    assert combined["total_writes"] == 0
