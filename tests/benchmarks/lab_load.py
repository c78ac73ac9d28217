# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the lab under 50 concurrent clients, on one host with 5,000 VMs and on a fleet of 50 hosts x 100 VMs.

Starts each fleet (written to a temporary directory) as its own process, then runs 50 client threads, each with its
own WS-Man client (NTLM over HTTP with message encryption, one authenticated connection per client, as the
collection's modules use it), for --seconds per phase:

- small: an Identify and a one-VM WQL query (``Msvm_ComputerSystem WHERE ElementName = ...``), alternately;
- writes: AddKvpItems of a new item to a VM (each call one write, saved before it is answered).

Prints requests and writes per second as the clients saw them, the errors (there must be none), the lab's own
counters, and what each request cost the lab process (Linux ``/proc``): CPU milliseconds (all its threads), and
kilobytes written to files (``wchar``: its state and lab.log; answers go to sockets, which it does not count).
Throughput depends on the machine and on what else runs on it (both processes share its cores); the cost per request
much less so.

``--lab-root DIR`` runs the lab of another checkout (for example ``git worktree add /tmp/oldlab COMMIT``) against
the same clients, to compare the lab before and after a change; ``--phases small`` skips the writes.

    .venv/bin/python tests/benchmarks/lab_load.py [--seconds 20] [--clients 50] [--lab-root DIR] [--phases small,writes]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import tempfile
import threading
import time

from benchlab import ROOT, admin, hvlab, import_collection  # pylint: disable=import-error

PASSWORD = "Lab-Passw0rd!"


def fleet_text(hosts, vms_per_host, third_octet):
    lines = ["defaults:", "  credentials:", '    - {user: Administrator, password: "%s"}' % PASSWORD,
             '  os: {version: "2022", edition: ServerDatacenter}', "  windows_license: {channel: kms, status: licensed}",
             "machines:"]
    for number in range(1, hosts + 1):
        lines += ["  hv%02d:" % number, "    address: 127.0.%d.%d" % (third_octet, number), "    kind: host",
                  "    hyperv: {jobs: sync}",
                  "    synthetic_vms: {count: %d, name_prefix: vm, guest_items: {Role: tenant}}" % vms_per_host]
    return "\n".join(lines) + "\n"


def lab_usage(pid):
    """``(CPU seconds, bytes passed to write())`` of process ``pid`` so far, all its threads (Linux /proc)."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    with open("/proc/%d/io" % pid, encoding="ascii") as io:
        counters = dict(line.split(": ") for line in io.read().splitlines())
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(counters["wchar"])


def run_clients(endpoints, vms_per_host, clients, seconds, phase):
    # pylint: disable=import-outside-toplevel
    from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient, EmbeddedInstance, wql_string
    from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import COMPUTER_SYSTEM, MANAGEMENT_SERVICE, vm_reference
    from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings, WsmanClient

    counts = [0] * clients
    errors = []
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client_loop(index):
        name, address, port = endpoints[index % len(endpoints)]
        cim = CimClient(WsmanClient(WinrmSettings(host=address, port=port, user="Administrator", password=PASSWORD, label=name)))
        vm_name = "vm%04d" % (index % vms_per_host + 1)
        try:
            vm = cim.query(COMPUTER_SYSTEM, f"ElementName = {wql_string(vm_name)}")[0]
            service = {key: cim.query(MANAGEMENT_SERVICE)[0][key] for key in MANAGEMENT_SERVICE.keys}
        except Exception as error:  # pylint: disable=broad-exception-caught
            errors.append(f"{name}: setup: {error}")
            start.wait()
            return
        start.wait()
        iteration = 0
        while not stop.is_set():
            try:
                if phase == "small":
                    if iteration % 2:
                        cim.query(COMPUTER_SYSTEM, f"ElementName = {wql_string(vm_name)}", properties=["Name"])
                    else:
                        cim._wsman.identify()  # pylint: disable=protected-access
                else:
                    item = EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Data": "1", "Name": "bench-%d-%d" % (index, iteration), "Source": 0},
                                            {"Data": "string", "Name": "string", "Source": "uint16"})
                    cim.invoke(MANAGEMENT_SERVICE, "AddKvpItems", {"TargetSystem": vm_reference(vm["Name"]), "DataItems": [item]},
                               selectors=service)
                counts[index] += 1
            except Exception as error:  # pylint: disable=broad-exception-caught
                errors.append(f"{name}: {error}")
            iteration += 1
        cim.close()

    threads = [threading.Thread(target=client_loop, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - began
    return sum(counts), elapsed, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--lab-root", default=str(ROOT), help="checkout whose lab (tests/hvlab) serves the clients")
    parser.add_argument("--phases", default="small,writes", help="comma-separated: small, writes")
    options = parser.parse_args()
    phases = [phase for phase in options.phases.split(",") if phase]
    if not phases or set(phases) - {"small", "writes"}:
        parser.error("--phases takes small and/or writes")
    import_collection()
    print("lab: %s" % options.lab_root)
    columns = ("fleet", "phase", "clients", "requests", "seconds", "per s", "lab requests", "lab writes", "lab CPU ms/req", "file KB/req")
    print("%-22s %-7s %8s %9s %8s %7s %13s %11s %14s %12s" % columns)
    for label, hosts, vms, octet in (("1 host x 5,000 VMs", 1, 5000, 61), ("50 hosts x 100 VMs", 50, 100, 62)):
        with tempfile.TemporaryDirectory() as directory:
            fleet = pathlib.Path(directory) / "fleet.yml"
            fleet.write_text(fleet_text(hosts, vms, octet))
            lab_dir = pathlib.Path(directory) / "lab"
            hvlab("up", str(fleet), "--dir", str(lab_dir), "--http-port", "0", "--https-port", "0", "--timeout", "600",
                  root=options.lab_root)
            try:
                lab = json.loads((lab_dir / "admin.json").read_text())
                url = lab["url"]
                endpoints = [(machine["name"], machine["address"], machine["ports"]["http"]) for machine in admin(url, "GET", "/machines")["machines"]]
                for phase in phases:
                    admin(url, "POST", "/stats/reset")
                    cpu_before, written_before = lab_usage(lab["pid"])
                    done, elapsed, errors = run_clients(endpoints, vms, options.clients, options.seconds, phase)
                    cpu, written = lab_usage(lab["pid"])
                    stats = admin(url, "GET", "/stats")
                    served = max(stats["total_requests"], 1)
                    figures = (label, phase, options.clients, done, elapsed, done / elapsed, stats["total_requests"], stats["total_writes"],
                               (cpu - cpu_before) * 1000 / served, (written - written_before) / 1024 / served)
                    print("%-22s %-7s %8d %9d %8.1f %7.0f %13d %11d %14.1f %12.1f" % figures)
                    for error in errors[:5]:
                        print("  error: " + error)
                    if errors:
                        print("  %d errors" % len(errors))
            finally:
                hvlab("down", "--dir", str(lab_dir), root=options.lab_root)


if __name__ == "__main__":
    main()
