# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault matrix: every module, and the host_setup, guest_activation and compliance_report roles, against each network
fault the lab injects (drop before the answer, reset in the middle of the body, a stall past the read timeout, an
expired enumeration context, an answer lost after the write was applied, HTTP 503), over NTLM with message encryption
on HTTP and on HTTPS, asserting what a user sees:

- a read succeeds after a retry, with the lab's request counts showing exactly one extra request (or one restarted
  enumeration: one more Enumerate and the failed Pull);
- a write is never repeated after it may have been carried out: when its answer was lost it is checked by reading the
  state again, reported ``changed`` with a warning when it was applied, or failed with one line naming the machine, the
  operation and the cause, saying it may have been applied and how to check (``answer_lost``), which the roles answer
  by running the task once more; it is repeated only after a 503, which means it was not carried out;
- in every run ``changed`` is true exactly when the lab's state changed (the lab wrote something for that machine), each
  write happens once over the three runs, and the last re-run writes nothing;
- the compliance report, whose host and guest reads a fault hits, is whole: the same states and evidence as without
  faults, the guest read after a retry rather than left to the host's view.

Each fault is a rule of count 1 aimed at one machine (fleets/fault_matrix.yml gives every module, every product_key
write and every role its own), so one playbook run covers all of them for a fault kind; the lab is reset between
runs. After each of its three runs a machine reads its own counters from the lab, so each run's requests and writes
are known. Every machine answers one item per page, so the expired context hits a Pull of every module and role.

Also: machines that never answer are UNREACHABLE in the play recap, a machine that answers with a fault is FAILED.
"""

from __future__ import annotations

import collections
import json
import pathlib
import re

import pytest
import yaml

from saved_results import saved  # pylint: disable=import-error

FLEET = "fault_matrix.yml"
MODULES_DIR = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "modules"
KINDS = ("drop", "reset_mid_body", "stall", "expired_context", "lost_answer", "http503")
# The read timeout the runs use, and a stall that outlasts it.
TIMEOUTS = dict(ansible_winrm_operation_timeout_sec=2, ansible_winrm_read_timeout_sec=4)
STALL_SEC = 6
# Kinds after which the operation was carried out although its answer never arrived whole.
APPLIED = ("reset_mid_body", "stall", "lost_answer")

# Machines that only read: machine -> (module, what every fault kind but expired_context hits).
READS = {
    "hvinfo": ("host_info", {"operation": "Enumerate"}),
    "hvkvp": ("kvp_info", {"operation": "Pull"}),
    "hvcomp": ("host_compliance_info", {"operation": "Enumerate"}),
    "gfacts": ("activation_facts", {"operation": "Enumerate"}),
    "gkey": ("product_key", {"method": "StdRegProv.GetStringValue"}),
    "gevents": ("activation_events", {"operation": "Enumerate"}),
}
# Machines that need one write: machine -> (module or role, the method of that write, which every fault kind but
# expired_context hits).
WRITES = {
    "hvitem": ("kvp_item", "Msvm_VirtualSystemManagementService.AddKvpItems"),
    "hvis": ("integration_service", "Msvm_VirtualSystemManagementService.ModifyResourceSettings"),
    "gkeyw": ("product_key", "SoftwareLicensingService.InstallProductKey"),
    "grefresh": ("product_key", "SoftwareLicensingService.RefreshLicenseStatus"),
    "gact": ("product_key", "SoftwareLicensingProduct.Activate"),
    "guninst": ("product_key", "SoftwareLicensingProduct.UninstallProductKey"),
    "gclear": ("product_key", "SoftwareLicensingService.ClearProductKeyFromRegistry"),
    "gpublish": ("product_key", "StdRegProv.SetStringValue"),
    "hvrole": ("host_setup", "Msvm_VirtualSystemManagementService.ModifyResourceSettings"),
    "grole": ("guest_activation", "SoftwareLicensingService.InstallProductKey"),
}
# A read of guest_activation is faulted too (each kind): the role reads past it and still writes once.
EXTRA_FAULTS = {"grole": {"operation": "Enumerate"}}
# The writes whose effect the state read again shows: dropped (never carried out), the module fails saying the write
# may have been applied, and how to check (answer_lost: true).
CHECK = {
    "hvitem": "check with hyperv.avma.kvp_info (vms: [",
    "hvis": "check with hyperv.avma.kvp_info (vms: [",
    "gkeyw": "check with hyperv.avma.activation_facts",
    "guninst": "check with hyperv.avma.activation_facts",
    "gpublish": "check with hyperv.avma.kvp_info (scope: guest)",
}
# The roles run such a task once more (it reads the state first), which then makes the write.
RETRIED_BY_THE_ROLE = ("hvrole", "grole")
# What the warning after a lost answer names: the write, or the VM whose Data Exchange was switched.
WARNING_NAMES = {"hvis": "switching Data Exchange enabled", "hvrole": "switching Data Exchange enabled",
                 "gact": "Activate() of the Windows product", "grefresh": "RefreshLicenseStatus",
                 "gclear": "ClearProductKeyFromRegistry"}
REPORT_FAULTS = {"hvreport": {"operation": "Enumerate"}, "greport": {"operation": "Enumerate"}}
OPERATIONS = ("Enumerate", "Pull", "Get", "Invoke")


def rule(machine, kind, target):
    rule = dict(target, machine=machine, kind=kind, count=1)
    if kind == "stall":
        rule["seconds"] = STALL_SEC
    return rule


def rules(kind):
    """The fault rules of one run: one per machine (the expired context always hits a Pull), two on grole."""
    targets = [(machine, target) for machine, (_module, target) in READS.items()]
    targets += [(machine, {"method": method}) for machine, (_module, method) in WRITES.items()]
    targets += list(EXTRA_FAULTS.items()) + list(REPORT_FAULTS.items())
    if kind == "expired_context":
        return [rule(machine, kind, {"operation": "Pull"}) for machine in dict(targets)]
    return [rule(machine, kind, target) for machine, target in targets]


def faults_fired(machine, kind):
    return {kind: 2 if machine in EXTRA_FAULTS and kind != "expired_context" else 1}


@pytest.fixture(scope="module", params=["http_ntlm", "https_ntlm"])
def transport(request, lab, tmp_path_factory):
    """(name, inventory): the lab's inventory (HTTP, NTLM with message encryption), or one for HTTPS with NTLM."""
    if request.param == "http_ntlm":
        return request.param, lab.inventory
    document = yaml.safe_load(lab.inventory.read_text())
    for group in document["all"]["children"].values():
        for name, variables in group["hosts"].items():
            variables.update(ansible_port=lab.port(name, "https"), ansible_winrm_scheme="https", ansible_winrm_transport="ntlm")
    path = tmp_path_factory.mktemp("https") / "inventory.yml"
    path.write_text(yaml.safe_dump(document))
    return request.param, path


Run = collections.namedtuple("Run", "output results counters report stats")


class Runs:
    """Runs the matrix playbook from a reset lab, once per fault kind (or without faults: None), and keeps what it saw:
    the output, each machine's three results and its lab counters after each run, the report, the lab's final stats."""

    def __init__(self, lab, playbook_runner, workdir, inventory):
        self.lab = lab
        self.runner = playbook_runner
        self.workdir = workdir
        self.inventory = inventory
        self.cache = {}

    def __call__(self, kind):
        if kind not in self.cache:
            self.lab.admin("POST", "/reset")
            for fault in rules(kind) if kind is not None else []:
                self.lab.admin("POST", "/faults", fault)
            out_dir = self.workdir / (kind or "baseline")
            out_dir.mkdir()
            run = self.runner(self.workdir, "fault_matrix.yml", self.inventory, "--forks", "20",
                              extra_vars=dict(out_dir=str(out_dir), lab_admin_url=self.lab.admin_url, guest_activation_poll_interval=1,
                                              **TIMEOUTS))
            assert run.returncode == 0, run.stdout + run.stderr
            report = json.loads((out_dir / "report" / "avma-report.json").read_text())
            files = saved(out_dir)
            self.cache[kind] = Run(" ".join((run.stdout + run.stderr).split()), {name: data["runs"] for name, data in files.items()},
                                   {name: data["counters"] for name, data in files.items()}, report, self.lab.stats()["machines"])
        return self.cache[kind]


@pytest.fixture(scope="module")
def baseline_runs(lab, playbook_runner, tmp_path_factory):
    """The run without faults, once (over HTTP): the WS-Man requests and writes it counts are those of either transport."""
    return Runs(lab, playbook_runner, tmp_path_factory.mktemp("matrix-baseline"), lab.inventory)


@pytest.fixture(scope="module")
def runs(lab, playbook_runner, tmp_path_factory, transport, baseline_runs):
    fault_runs = Runs(lab, playbook_runner, tmp_path_factory.mktemp("matrix-" + transport[0]), transport[1])
    return lambda kind: baseline_runs(None) if kind is None else fault_runs(kind)


def per_run(counters, field):
    """The lab counter ``field`` of each of the three runs (the counters are cumulative), as Counters."""
    totals = [collections.Counter(entry[field]) for entry in counters]
    return [totals[0]] + [totals[index] - totals[index - 1] for index in (1, 2)]


def method_writes(counters):
    """The writes of each of the three runs by method ("Invoke:Class.Method": n)."""
    return [collections.Counter({key: count for key, count in run.items() if ":" in key}) for run in per_run(counters, "writes")]


def requests(counters):
    return [{operation: run.get(operation, 0) for operation in OPERATIONS} for run in per_run(counters, "requests")]


def one_line_naming(message, machine, operation):
    assert "\n" not in message and message.startswith(machine + " (") and operation in message, message


def warned(output, machine, name):
    """Whether the run printed a warning about ``machine`` saying that the answer of ``name`` was lost."""
    return any(re.match(re.escape(machine) + r"\b", chunk) and name in chunk.split("the answer was lost")[0] and "the answer was lost" in chunk
               for chunk in output.split("[WARNING]: ")[1:])


# -- reads ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("machine, kind", [(machine, kind) for machine in READS for kind in KINDS])
def test_a_read_succeeds_after_one_retry(runs, machine, kind):
    run, baseline = runs(kind), runs(None)
    attempts = run.results[machine]
    assert [result.get("failed", False) for result in attempts] == [False, False, False], attempts[0].get("msg")
    assert [result["changed"] for result in attempts] == [False, False, False]
    if READS[machine][0] == "kvp_info":
        assert attempts[0]["query_result"] == baseline.results[machine][0]["query_result"]
        assert attempts[0]["query_result"]["vms"] == 200, "no VM lost or counted twice by a restarted enumeration"
    if READS[machine][0] == "host_compliance_info":
        assert attempts[0]["kvp"] == baseline.results[machine][0]["kvp"] and attempts[0]["events"]["count"] == 2
    expected = requests(baseline.counters[machine])
    target = READS[machine][1] if kind != "expired_context" else {"operation": "Pull"}
    operation = target.get("operation", "Invoke")
    if operation == "Pull" and kind != "http503":
        # The Pull's answer was lost or its context is gone: the enumeration started again from the beginning.
        expected[0]["Enumerate"] += 1
    expected[0][operation] += 1
    assert requests(run.counters[machine]) == expected
    assert run.counters[machine][-1]["faults"] == {kind: 1}
    assert run.counters[machine][-1]["total_writes"] == 0


# -- writes ---------------------------------------------------------------------------------------------------------


def changed_of(result):
    if "data_exchange_enabled_for" in result:
        return bool(result["data_exchange_enabled_for"])
    return bool(result.get("changed"))


@pytest.mark.parametrize("machine, kind", [(machine, kind) for machine in WRITES for kind in KINDS])
def test_a_write_is_done_once_and_reported_as_it_really_went(runs, machine, kind):
    run, baseline = runs(kind), runs(None)
    attempts = run.results[machine]
    module, method = WRITES[machine]
    writes = method_writes(run.counters[machine])
    assert [changed_of(result) for result in baseline.results[machine]] == [True, False, False]
    assert [changed_of(result) for result in attempts] == [sum(run_writes.values()) > 0 for run_writes in writes], (
        "changed exactly when the lab's state changed: %s %s" % (attempts, writes))
    assert not writes[2] and not attempts[2].get("failed") and not changed_of(attempts[2]), "the last re-run writes nothing"
    assert run.counters[machine][-1]["faults"] == faults_fired(machine, kind)
    total, baseline_total = sum(writes, collections.Counter()), sum(method_writes(baseline.counters[machine]), collections.Counter())
    first = attempts[0]
    if kind == "drop" and machine in CHECK:
        # Not carried out, and never repeated: the state read again does not show it, which the run says.
        assert first["failed"] is True and not writes[0], first
        one_line_naming(first["msg"], machine, "Invoke " + method)
        assert "the answer was lost" in first["msg"] and "may have been applied" in first["msg"], first["msg"]
        assert CHECK[machine] in first["msg"] and first["answer_lost"] is True, first
        assert changed_of(attempts[1]) and total == baseline_total, "done once, by the re-run"
        return
    assert [result.get("failed", False) for result in attempts] == [False, False, False], first.get("msg")
    assert changed_of(first) and writes[0] and not writes[1], "done in the run the fault hit"
    if kind == "drop" and machine in RETRIED_BY_THE_ROLE:
        assert re.search(r"FAILED - RETRYING: \[%s\]" % machine, run.output), "the role ran the task once more"
    if kind == "drop" and machine == "gact":
        # Activate() was not carried out; the RefreshLicenseStatus that follows it activated the guest.
        assert total == {"Invoke:SoftwareLicensingService.RefreshLicenseStatus": 1} and first["after"]["license_status"] == "Licensed"
    elif kind == "drop" and machine == "gclear":
        # What ClearProductKeyFromRegistry clears cannot be read over WMI: the warning says so, the key is uninstalled.
        assert total == {"Invoke:SoftwareLicensingProduct.UninstallProductKey": 1}
    else:
        assert total == baseline_total, "every write exactly once"
    if kind == "http503":
        assert requests(run.counters[machine])[0]["Invoke"] == requests(baseline.counters[machine])[0]["Invoke"] + 1, (
            "a 503 means not carried out: repeated")
    if kind in APPLIED or (kind == "drop" and machine not in RETRIED_BY_THE_ROLE):
        name = WARNING_NAMES.get(machine, method.rsplit(".", 1)[1])
        assert warned(run.output, machine, name), "a warning says the answer of %s was lost" % name
    if kind == "expired_context":
        # Counted over the three runs: guest_activation on grole reads hvrole too, while hvrole's own runs go on.
        totals, baseline_totals = run.counters[machine][-1]["requests"], baseline.counters[machine][-1]["requests"]
        assert (totals["Enumerate"], totals["Pull"]) == (baseline_totals["Enumerate"] + 1, baseline_totals["Pull"] + 1), "restarted"


def test_the_matrix_covers_every_module_and_role():
    modules = {path.stem for path in MODULES_DIR.glob("*.py") if not path.stem.startswith("_")}
    covered = {module for module, _target in READS.values()} | {module for module, _method in WRITES.values()}
    assert modules and modules <= covered, "modules without a row: %s" % sorted(modules - covered)
    assert {"host_setup", "guest_activation"} <= covered
    product_key_writes = {method.rsplit(".", 1)[1] for machine, (module, method) in WRITES.items() if module == "product_key"}
    assert product_key_writes == {"InstallProductKey", "RefreshLicenseStatus", "Activate", "UninstallProductKey",
                                  "ClearProductKeyFromRegistry", "SetStringValue"}


# -- the compliance report ------------------------------------------------------------------------------------------


def report_states(report):
    """What a reader of the report acts on, VM by VM: its state, the evidence's source and summary, the problems and
    what would settle an unknown (not the times, which follow the clock of the run)."""
    return sorted((vm["name"], vm["compliance"], [(item["source"], item["summary"]) for item in vm["evidence"] or []],
                   sorted(problem["code"] for problem in vm["problems"]), json.dumps(vm["settle"], sort_keys=True), vm["guest"])
                  for host in report["hosts"] for vm in host["vms"])


@pytest.mark.parametrize("kind", KINDS)
def test_the_report_reads_past_each_fault_and_is_whole(runs, kind):
    run, baseline = runs(kind), runs(None)
    report, baseline_report = run.report, baseline.report
    assert report["summary"]["hosts_failed"] == 0 and report["summary"] == baseline_report["summary"]
    assert report["scope"]["guests_read"] == ["greport"], "the guest read was retried, not left to the host's view"
    assert report_states(report) == report_states(baseline_report)
    assert [(vm["name"], vm["compliance"]) for host in report["hosts"] for vm in host["vms"] if vm["name"] == "greport"] == [
        ("greport", "compliant")]
    for machine in REPORT_FAULTS:
        assert run.stats[machine]["faults"] == {kind: 1}
        extra = {"Enumerate": 1, "Pull": 1} if kind == "expired_context" else {"Enumerate": 1}
        for operation in ("Enumerate", "Pull"):
            assert run.stats[machine]["requests"].get(operation, 0) == baseline.stats[machine]["requests"].get(operation, 0) + extra.get(
                operation, 0), (machine, operation)
        assert run.stats[machine]["total_writes"] == 0


# -- UNREACHABLE and FAILED -----------------------------------------------------------------------------------------


def test_machines_that_never_answer_are_unreachable_and_those_that_answered_failed(lab, transport, playbook_runner, tmp_path):
    """UNREACHABLE: hvinfo drops every request, gfacts points where nothing listens, gkeyw holds every answer past the
    read timeout (a stall before any answer). FAILED: gevents answers a fault, gact answers its first requests and then
    drops every Pull (mid-task). gkey answers."""
    name, inventory = transport
    lab.admin("POST", "/reset")
    lab.admin("POST", "/faults", {"machine": "hvinfo", "kind": "drop"})
    lab.admin("POST", "/faults", {"machine": "gevents", "kind": "wsman_fault", "code": 5, "wmi_code": 0x80070005})
    lab.admin("POST", "/faults", {"machine": "gkeyw", "kind": "stall", "seconds": STALL_SEC})
    lab.admin("POST", "/faults", {"machine": "gact", "operation": "Pull", "kind": "drop"})
    document = yaml.safe_load(inventory.read_text())
    closed_port = lab.port("grole", "http" if name == "http_ntlm" else "https")
    document["all"]["children"]["hyperv_guests"]["hosts"]["gfacts"]["ansible_host"] = "127.0.48.99"
    document["all"]["children"]["hyperv_guests"]["hosts"]["gfacts"]["ansible_port"] = closed_port
    changed_inventory = tmp_path / "inventory.yml"
    changed_inventory.write_text(yaml.safe_dump(document))
    run = playbook_runner(tmp_path, "reachability.yml", changed_inventory,
                          extra_vars=dict(target_hosts="hvinfo,gfacts,gevents,gkey,gkeyw,gact", reachability_retries=1, **TIMEOUTS))
    lab.admin("DELETE", "/faults")
    recap = {match.group(1): match.group(2) for match in re.finditer(r"^(\w+)\s+:\s+(ok=.*)$", run.stdout, re.MULTILINE)}
    for machine in ("hvinfo", "gfacts", "gkeyw"):
        assert re.search(r"unreachable=1\s+failed=0", recap[machine]), (machine, run.stdout)
    for machine in ("gevents", "gact"):
        assert re.search(r"unreachable=0\s+failed=1", recap[machine]), (machine, run.stdout)
    assert re.search(r"ok=1\s+changed=0\s+unreachable=0\s+failed=0", recap["gkey"]), run.stdout
    lines = [line for line in run.stdout.splitlines() if line.startswith(("fatal:", "UNREACHABLE"))]
    expected = [("hvinfo", "UNREACHABLE!", "was reset before a complete answer"), ("gfacts", "UNREACHABLE!", "refused"),
                ("gkeyw", "UNREACHABLE!", "no HTTP answer within read_timeout_sec=4"), ("gevents", "FAILED!", "WS-Man fault 5"),
                ("gact", "FAILED!", "Pull SoftwareLicensingProduct: connection to")]
    for machine, status, cause in expected:
        assert [line for line in lines if "[%s]" % machine in line and status in line and cause in line], (machine, lines)
    assert len(lines) == len(expected), lines
