# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: kvp_info against hosts of 10 to 5,000 VMs, and the per-VM patterns it replaces, in one run.

Starts a lab fleet of four Hyper-V hosts (10, 100, 1,000 and 5,000 running VMs with Data Exchange on) on free ports in
a temporary directory and puts a TCP proxy in front of it that adds 0 or 20 ms to every round trip
(tests/benchmarks/delay_proxy.py). Each measurement runs in a fresh Python process (NTLM over HTTP with message
encryption), so its CPU time and peak memory are its own:

- ``kvp_info``: the collection's task, three enumerations whatever the VM count;
- ``per_vm``: what common scripts do, on one session: list the VMs, then one query per VM for its KVP component;
- ``session_per_vm``: a model of a script that runs one PowerShell remoting command per VM: a new connection and a
  new NTLM handshake for each VM's query (only up to 100 VMs: it is the slowest by far).

Columns: WS-Man requests and authentication round trips (the lab's counters), bytes through the proxy, wall time,
controller CPU (the measuring process), lab CPU (the lab process), peak memory (the measuring process's max RSS).
Budgets (issue 11) are checked at the end; a missed budget makes the run exit 1 after the table is printed.

    .venv/bin/python tests/benchmarks/kvp_baselines.py [--counts 10,100,1000,5000] [--delays 0,20] [--markdown FILE]
        [--collection CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

from benchlab import admin, finish, hvlab, import_collection, process_cpu_seconds  # pylint: disable=import-error

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from delay_proxy import DelayProxy  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = "Bench-Passw0rd!"
COUNTS = (10, 100, 1000, 5000)
SESSION_PER_VM_MAX = 100
PER_VM_MAX = 1000

# Issue 11's budgets that this benchmark can measure.
BUDGET_CPU_MS_PER_VM = 0.4
BUDGET_MEMORY_KB_PER_VM = 20
BUDGET_REQUEST_RATIO = 25
BUDGET_WALL_RATIO = 15


def fleet_yaml(counts):
    lines = ["defaults:", "  credentials:", f'    - {{user: Administrator, password: "{PASSWORD}"}}',
             '  os: {version: "2022", edition: ServerDatacenter}', "  windows_license: {channel: kms, status: licensed}", "machines:"]
    for index, count in enumerate(counts):
        lines += [f"  bench{count}:", f"    address: 127.0.47.{10 + index}", "    kind: host", "    synthetic_vms:",
                  f"      count: {count}", "      name_prefix: vm", "      guest_items: {Role: tenant, Tier: bronze}"]
    return "\n".join(lines) + "\n"


def worker(scenario, port, expected, collection):
    """One measurement in this process: prints a JSON line with wall, CPU, peak memory and the VMs it read."""
    import_collection(collection)
    # pylint: disable=import-outside-toplevel
    from ansible_collections.hyperv.avma.plugins.module_utils import _hyperv
    from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient, wql_string
    from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings, WsmanClient

    def client():
        return CimClient(WsmanClient(WinrmSettings(host="127.0.0.1", port=port, user="Administrator", password=PASSWORD,
                                                   label="bench")))

    started, cpu_started = time.perf_counter(), time.process_time()
    if scenario == "kvp_info":
        cim = client()
        params = {option: settings.get("default") for option, settings in _hyperv.KVP_INFO_SPEC.items()}
        read = len(_hyperv.kvp_info_task(cim, params, False, False)["vms"])
        cim.close()
    else:
        cim = client()
        _host, vms = _hyperv.read_vms(cim)
        cim.close()
        read = 0
        session = client() if scenario == "per_vm" else None
        for vm in vms:
            cim = session or client()
            rows = cim.query(_hyperv.KVP_COMPONENT, where=f"SystemName = {wql_string(vm['id'])}")
            read += len(rows)
            if session is None:
                cim.close()
        if session is not None:
            session.close()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if read != expected:
        raise SystemExit(f"{scenario}: read {read} VMs, expected {expected}")
    print(json.dumps(dict(wall=wall, cpu=cpu, peak_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))


def measure(scenario, count, delay_ms, lab_port, url, lab_pid):
    with DelayProxy(("127.0.47.%d" % (10 + COUNTS_IN_RUN.index(count)), lab_port), delay_ms / 1000) as proxy:
        admin(url, "POST", "/stats/reset")
        lab_cpu = process_cpu_seconds(lab_pid)
        run = subprocess.run([sys.executable, __file__, "--worker", scenario, str(proxy.address[1]), str(count), str(COLLECTION[0])],
                             capture_output=True, text=True, timeout=3600, check=False)
        if run.returncode:
            raise SystemExit(f"{scenario} at {count} VMs failed: {run.stderr.strip().splitlines()[-1:]}")
        output = run.stdout
        lab_cpu = process_cpu_seconds(lab_pid) - lab_cpu
        stats = admin(url, "GET", "/stats")["machines"][f"bench{count}"]
        row = json.loads(output.strip().splitlines()[-1])
        row.update(scenario=scenario, vms=count, delay_ms=delay_ms, requests=stats["total_requests"],
                   requests_by_operation=stats["requests"], auth_round_trips=stats.get("auth_requests", 0),
                   bytes=proxy.bytes_to_server + proxy.bytes_to_client, lab_cpu=lab_cpu)
        return row


COUNTS_IN_RUN: list[int] = []
COLLECTION: list[pathlib.Path] = []


def table(rows):
    head = ("| scenario | VMs | delay ms | requests | auth round trips | bytes | wall s | controller CPU s | lab CPU s | peak MB |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    body = [f"| {r['scenario']} | {r['vms']:,} | {r['delay_ms']} | {r['requests']:,} | {r['auth_round_trips']:,} | {r['bytes']:,} | "
            f"{r['wall']:.2f} | {r['cpu']:.2f} | {r['lab_cpu']:.2f} | {r['peak_kb'] / 1024:.0f} |" for r in rows]
    return "\n".join([head, *body])


def budgets(rows):
    def find(scenario, vms, delay):
        return next((r for r in rows if (r["scenario"], r["vms"], r["delay_ms"]) == (scenario, vms, delay)), None)

    checks = []
    large, small = find("kvp_info", 1000, 0), find("kvp_info", 10, 0)
    if large:
        cpu_ms = large["cpu"] * 1000 / large["vms"]
        checks.append((f"kvp_info at 1,000 VMs: {cpu_ms:.2f} ms controller CPU per VM (budget {BUDGET_CPU_MS_PER_VM})",
                       cpu_ms <= BUDGET_CPU_MS_PER_VM))
        pages = large["requests_by_operation"].get("Pull", 0)
        checks.append((f"kvp_info at 1,000 VMs: {large['requests']} requests = 3 + {pages} pages",
                       large["requests"] == 3 + pages))
        if small:
            per_vm_kb = (large["peak_kb"] - small["peak_kb"]) / 990
            checks.append((f"kvp_info at 1,000 VMs: {per_vm_kb:.1f} KB peak memory per VM over the 10-VM run "
                           f"(budget {BUDGET_MEMORY_KB_PER_VM})", per_vm_kb <= BUDGET_MEMORY_KB_PER_VM))
    ours, theirs = find("kvp_info", 1000, 20), find("per_vm", 1000, 20)
    if ours and theirs:
        request_ratio = theirs["requests"] / ours["requests"]
        wall_ratio = theirs["wall"] / ours["wall"]
        checks.append((f"at 1,000 VMs and 20 ms: {request_ratio:.1f}x fewer requests than per_vm (budget {BUDGET_REQUEST_RATIO}x)",
                       request_ratio >= BUDGET_REQUEST_RATIO))
        checks.append((f"at 1,000 VMs and 20 ms: {wall_ratio:.1f}x less wall time than per_vm (budget {BUDGET_WALL_RATIO}x)",
                       wall_ratio >= BUDGET_WALL_RATIO))
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)))
    parser.add_argument("--delays", default="0,20")
    parser.add_argument("--markdown", type=pathlib.Path)
    parser.add_argument("--collection", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parents[2],
                        help="the checkout whose collection to measure, e.g. a git worktree of an older commit (the lab stays this one's)")
    parser.add_argument("--worker", nargs=4, metavar=("SCENARIO", "PORT", "VMS", "COLLECTION"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        scenario, port, count, collection = options.worker
        worker(scenario, int(port), int(count), collection)
        return 0
    COUNTS_IN_RUN.extend(int(count) for count in options.counts.split(","))
    COLLECTION.append(options.collection.resolve())
    delays = [int(delay) for delay in options.delays.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        fleet = pathlib.Path(directory) / "fleet.yml"
        fleet.write_text(fleet_yaml(COUNTS_IN_RUN))
        hvlab("up", str(fleet), "--dir", directory, "--http-port", "0", "--https-port", "0", "--timeout", "300")
        try:
            lab = json.loads((pathlib.Path(directory) / "admin.json").read_text())
            ports = {machine["name"]: machine["ports"]["http"] for machine in admin(lab["url"], "GET", "/machines")["machines"]}
            for delay in delays:
                for count in COUNTS_IN_RUN:
                    scenarios = ["kvp_info"] + (["per_vm"] if count <= PER_VM_MAX else []) + (
                        ["session_per_vm"] if count <= SESSION_PER_VM_MAX else [])
                    for scenario in scenarios:
                        rows.append(measure(scenario, count, delay, ports[f"bench{count}"], lab["url"], lab["pid"]))
                        print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
        finally:
            hvlab("down", "--dir", directory)
    return finish(table(rows), budgets(rows), options.markdown)


if __name__ == "__main__":
    sys.exit(main())
