# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault matrix: every module, and the host_setup, guest_activation and compliance_report roles, against each network fault the lab
injects (drop before the answer, reset in the middle of the body, a stall past the read timeout, an expired
enumeration context, an answer lost after the write was applied, HTTP 503), over NTLM with message encryption on
HTTP and over HTTPS, asserting what a user sees:

- a read succeeds after a retry, with the lab's request counts showing exactly one extra request (or one restarted
  enumeration);
- a write is never repeated after it may have been carried out: when its answer was lost it is checked by reading the
  state again, reported ``changed`` with a warning when it was applied, or failed with one line naming the machine, the
  operation and the cause; it is repeated only after a 503, which means it was not carried out;
- ``changed`` is true exactly in the run that changed the lab's state (each write happens once), and the re-runs
  converge;
- the compliance report, whose host and guest reads a fault hits, is whole: the same states and evidence as without
  faults, the guest read after a retry rather than left to the host's view.

Each fault is a rule of count 1 aimed at one module's machine (fleets/fault_matrix.yml gives every module its own), so
one playbook run covers every module for a fault kind; the lab is reset between runs. The expired context needs a
Pull, which only kvp_info's 200-VM host makes.

Also: machines that never answer are UNREACHABLE in the play recap, a machine that answers with a fault is FAILED.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from saved_results import saved  # pylint: disable=import-error

FLEET = "fault_matrix.yml"
KINDS = ("drop", "reset_mid_body", "stall", "expired_context", "lost_answer", "http503")
# The read timeout the runs use, and a stall that outlasts it.
TIMEOUTS = dict(ansible_winrm_operation_timeout_sec=2, ansible_winrm_read_timeout_sec=4)
STALL_SEC = 6

# machine: (module, what the fault hits, the lab operation counted for it)
MODULES = {
    "hvinfo": ("host_info", {"operation": "Enumerate"}, "Enumerate"),
    "hvkvp": ("kvp_info", {"operation": "Pull"}, "Pull"),
    "hvitem": ("kvp_item", {"operation": "Invoke"}, "Invoke"),
    "hvis": ("integration_service", {"operation": "Invoke"}, "Invoke"),
    "gfacts": ("activation_facts", {"operation": "Enumerate"}, "Enumerate"),
    "gkey": ("product_key", {"method": "StdRegProv.GetStringValue"}, "Invoke"),
    "gevents": ("activation_events", {"operation": "Enumerate"}, "Enumerate"),
}
WRITERS = ("hvitem", "hvis")
WRITE_METHODS = {"hvitem": "Msvm_VirtualSystemManagementService.AddKvpItems",
                 "hvis": "Msvm_VirtualSystemManagementService.ModifyResourceSettings"}
# Kinds after which a write may have been applied: the state is read again, the write is never repeated.
LOST = ("reset_mid_body", "stall", "lost_answer")


def rule(machine, kind, target):
    rule = dict(target, machine=machine, kind=kind, count=1)
    if kind == "stall":
        rule["seconds"] = STALL_SEC
    return rule


def applies(machine, kind):
    """The expired context needs a Pull: only hvkvp's enumerations span several answers."""
    return kind != "expired_context" or MODULES[machine][2] == "Pull"


@pytest.fixture(scope="module", params=["http_ntlm", "https_basic"])
def transport(request, lab, tmp_path_factory):
    """(name, inventory): the lab's inventory (HTTP, NTLM with message encryption), or one for HTTPS with Basic."""
    if request.param == "http_ntlm":
        return request.param, lab.inventory
    document = yaml.safe_load(lab.inventory.read_text())
    for group in document["all"]["children"].values():
        for name, variables in group["hosts"].items():
            variables.update(ansible_port=lab.port(name, "https"), ansible_winrm_scheme="https", ansible_winrm_transport="basic")
    path = tmp_path_factory.mktemp("https") / "inventory.yml"
    path.write_text(yaml.safe_dump(document))
    return request.param, path


class Runs:
    """Runs the matrix playbook from a reset lab, once per fault kind (and once without faults), and keeps the results."""

    def __init__(self, lab, playbook_runner, workdir, inventory):
        self.lab = lab
        self.runner = playbook_runner
        self.workdir = workdir
        self.inventory = inventory
        self.cache = {}

    def __call__(self, kind):
        if kind not in self.cache:
            self.lab.admin("POST", "/reset")
            if kind is not None:
                for machine, (_module, target, _operation) in MODULES.items():
                    if applies(machine, kind):
                        self.lab.admin("POST", "/faults", rule(machine, kind, target))
            out_dir = self.workdir / (kind or "baseline")
            out_dir.mkdir()
            run = self.runner(self.workdir, "fault_matrix.yml", self.inventory, "--forks", "10",
                              extra_vars=dict(out_dir=str(out_dir), **TIMEOUTS))
            assert run.returncode == 0, run.stdout + run.stderr
            self.cache[kind] = (run, saved(out_dir), self.lab.stats()["machines"])
        return self.cache[kind]


@pytest.fixture(scope="module")
def runs(lab, playbook_runner, tmp_path_factory, transport):
    return Runs(lab, playbook_runner, tmp_path_factory.mktemp("matrix-" + transport[0]), transport[1])


def one_line_naming(message, machine, operation):
    assert "\n" not in message and message.startswith(machine + " (") and operation in message, message


READ_CASES = [(machine, kind) for machine in MODULES if machine not in WRITERS for kind in KINDS if applies(machine, kind)]


@pytest.mark.parametrize("machine, kind", READ_CASES)
def test_a_read_succeeds_after_one_retry(runs, machine, kind):
    _run, results, stats = runs(kind)
    _baseline_run, baseline, baseline_stats = runs(None)
    attempts = results[machine]
    assert [result.get("failed", False) for result in attempts] == [False, False, False], attempts[0].get("msg")
    assert [result["changed"] for result in attempts] == [False, False, False]
    module = MODULES[machine][0]
    if module == "kvp_info":
        assert attempts[0]["query_result"] == baseline[machine][0]["query_result"]
        assert attempts[0]["query_result"]["vms"] == 200, "no VM lost or counted twice by a restarted enumeration"
    counts, expected = stats[machine]["requests"], dict(baseline_stats[machine]["requests"])
    operation = MODULES[machine][2]
    if operation == "Pull" and kind != "http503":
        # The Pull's answer was lost or its context is gone: the enumeration started again from the beginning.
        expected["Enumerate"] += 1
    expected[operation] += 1
    assert {key: counts.get(key) for key in ("Enumerate", "Pull", "Invoke")} == {
        key: expected.get(key) for key in ("Enumerate", "Pull", "Invoke")}
    assert stats[machine]["faults"] == {kind: 1}
    assert stats[machine]["total_writes"] == baseline_stats[machine]["total_writes"]


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "expired_context"])
@pytest.mark.parametrize("machine", WRITERS)
def test_a_write_is_done_once_and_reported_as_it_really_went(runs, machine, kind):
    run, results, stats = runs(kind)
    _baseline_run, baseline, baseline_stats = runs(None)
    attempts = results[machine]
    method = WRITE_METHODS[machine]
    assert [result["changed"] for result in baseline[machine]] == [True, False, False]
    writes, baseline_writes = stats[machine]["writes"], baseline_stats[machine]["writes"]
    assert writes.get("Invoke:" + method) == baseline_writes["Invoke:" + method], "every write exactly once"
    assert stats[machine]["faults"] == {kind: 1}
    if kind == "drop":
        # The request may have been carried out: not repeated, the state read again shows it was not.
        first = attempts[0]
        assert first["failed"] is True and first["changed"] is False
        one_line_naming(first["msg"], machine, "Invoke " + method)
        assert "the answer was lost" in first["msg"] and "may have been applied" in first["msg"]
        assert [result["changed"] for result in attempts[1:]] == [True, False]
        return
    assert [result.get("failed", False) for result in attempts] == [False, False, False], attempts[0].get("msg")
    assert [result["changed"] for result in attempts] == [True, False, False]
    requests, baseline_requests = stats[machine]["requests"], baseline_stats[machine]["requests"]
    if kind == "http503":
        assert requests["Invoke"] == baseline_requests["Invoke"] + 1, "a 503 means not carried out: repeated"
    else:
        assert requests["Invoke"] == baseline_requests["Invoke"], "never repeated after a lost answer"
        assert re.search(r"\[WARNING\]: .*%s.*the answer was lost" % re.escape(method.rsplit(".", 1)[1] if machine == "hvitem" else "Data Exchange"),
                         " ".join((run.stdout + run.stderr).split()))


def test_the_matrix_covers_every_module():
    modules = {module for module, _target, _operation in MODULES.values()}
    assert modules == {"host_info", "kvp_info", "kvp_item", "integration_service", "activation_facts", "product_key", "activation_events"}


# -- roles ----------------------------------------------------------------------------------------------------------

ROLE_FAULTS = {"hvrole": {"operation": "Invoke"}, "grole": {"operation": "Enumerate"},
               "hvreport": {"operation": "Enumerate"}, "greport": {"operation": "Enumerate"}}


@pytest.fixture(scope="module")
def role_runs(lab, playbook_runner, tmp_path_factory, transport):
    cache = {}
    workdir = tmp_path_factory.mktemp("roles-" + transport[0])

    def run(kind):
        if kind not in cache:
            lab.admin("POST", "/reset")
            if kind is not None:
                for machine, target in ROLE_FAULTS.items():
                    lab.admin("POST", "/faults", rule(machine, kind, target))
            out_dir = workdir / (kind or "baseline")
            out_dir.mkdir()
            completed = playbook_runner(workdir, "fault_matrix_roles.yml", transport[1],
                                        extra_vars=dict(out_dir=str(out_dir), guest_activation_poll_interval=1, **TIMEOUTS))
            assert completed.returncode == 0, completed.stdout + completed.stderr
            report = json.loads((out_dir / "report" / "avma-report.json").read_text())
            cache[kind] = (completed, dict(saved(out_dir), report=report), lab.stats()["machines"])
        return cache[kind]

    return run


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "expired_context"])
def test_roles_survive_each_fault_and_converge(role_runs, kind):
    _run, results, stats = role_runs(kind)
    _baseline_run, _baseline, baseline_stats = role_runs(None)
    host_runs = results["hvrole"]
    if kind == "drop":
        one_line_naming(host_runs[0]["msg"], "hvrole", "Invoke Msvm_VirtualSystemManagementService.")
        assert "may have been applied" in host_runs[0]["msg"]
    else:
        assert host_runs[0]["data_exchange_enabled_for"] == ["role0001"]
    assert host_runs[1]["data_exchange_enabled_for"] == ([] if kind != "drop" else ["role0001"])
    assert stats["hvrole"]["total_writes"] == baseline_stats["hvrole"]["total_writes"] == 1
    guest_runs = results["grole"]
    assert [result["changed"] for result in guest_runs] == [True, False]
    assert not any(result.get("failed") for result in guest_runs)
    assert stats["grole"]["writes"]["Invoke:SoftwareLicensingService.InstallProductKey"] == 1
    assert stats["grole"]["faults"] == {kind: 1} and stats["hvrole"]["faults"] == {kind: 1}


def report_states(report):
    """What a reader of the report acts on, VM by VM: its state, the evidence's source and summary, the problems and
    what would settle an unknown (not the times, which follow the clock of the run)."""
    return sorted((vm["name"], vm["compliance"], [(item["source"], item["summary"]) for item in vm["evidence"] or []],
                   sorted(problem["code"] for problem in vm["problems"]), json.dumps(vm["settle"], sort_keys=True), vm["guest"])
                  for host in report["hosts"] for vm in host["vms"])


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "expired_context"])
def test_the_report_reads_past_each_fault_and_is_whole(role_runs, kind):
    _run, results, stats = role_runs(kind)
    _baseline_run, baseline, baseline_stats = role_runs(None)
    report, baseline_report = results["report"], baseline["report"]
    assert report["summary"]["hosts_failed"] == 0 and report["summary"] == baseline_report["summary"]
    assert report["scope"]["guests_read"] == ["greport"], "the guest read was retried, not left to the host's view"
    assert report_states(report) == report_states(baseline_report)
    assert [(vm["name"], vm["compliance"]) for host in report["hosts"] for vm in host["vms"] if vm["name"] == "greport"] == [
        ("greport", "compliant")]
    for machine in ("hvreport", "greport"):
        assert stats[machine]["faults"] == {kind: 1}
        assert stats[machine]["requests"]["Enumerate"] == baseline_stats[machine]["requests"]["Enumerate"] + 1, "one retry"
        assert stats[machine]["total_writes"] == 0


# -- UNREACHABLE and FAILED -----------------------------------------------------------------------------------------


def test_machines_that_never_answer_are_unreachable_and_one_that_answers_a_fault_failed(lab, transport, playbook_runner, tmp_path):
    name, inventory = transport
    lab.admin("POST", "/reset")
    lab.admin("POST", "/faults", {"machine": "hvinfo", "kind": "drop"})
    lab.admin("POST", "/faults", {"machine": "gevents", "kind": "wsman_fault", "code": 5, "wmi_code": 0x80070005})
    document = yaml.safe_load(inventory.read_text())
    closed_port = lab.port("grole", "http" if name == "http_ntlm" else "https")
    document["all"]["children"]["hyperv_guests"]["hosts"]["gfacts"]["ansible_host"] = "127.0.48.99"
    document["all"]["children"]["hyperv_guests"]["hosts"]["gfacts"]["ansible_port"] = closed_port
    changed_inventory = tmp_path / "inventory.yml"
    changed_inventory.write_text(yaml.safe_dump(document))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    run = playbook_runner(tmp_path, "reachability.yml", changed_inventory, extra_vars=dict(target_hosts="hvinfo,gfacts,gevents,gkey", **TIMEOUTS))
    lab.admin("DELETE", "/faults")
    recap = {match.group(1): match.group(2) for match in re.finditer(r"^(\w+)\s+:\s+(ok=.*)$", run.stdout, re.MULTILINE)}
    assert re.search(r"unreachable=1\s+failed=0", recap["hvinfo"]), run.stdout
    assert re.search(r"unreachable=1\s+failed=0", recap["gfacts"]), run.stdout
    assert re.search(r"unreachable=0\s+failed=1", recap["gevents"]), run.stdout
    assert re.search(r"ok=1\s+changed=0\s+unreachable=0\s+failed=0", recap["gkey"]), run.stdout
    lines = [line for line in run.stdout.splitlines() if line.startswith(("fatal:", "UNREACHABLE"))]
    assert any("hvinfo" in line and "UNREACHABLE!" in line and "was reset before a complete answer" in line for line in lines), lines
    assert any("gfacts" in line and "UNREACHABLE!" in line and "refused" in line for line in lines), lines
    assert any("gevents" in line and "FAILED!" in line and "WS-Man fault 5" in line for line in lines), lines
