# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the collection's playbooks over lab fleets, as ansible-playbook runs them, in one run.

Two lab fleets on free ports, each in a temporary directory:

- a report fleet of --hosts Hyper-V hosts with --vms running VMs each (Data Exchange on, 21 KVP items per VM):
  ``hyperv.avma.report`` (playbooks/report.yml) at --report-forks;
- a guest fleet of --guest-hosts Hyper-V hosts and --guests guests without a key: ``hyperv.avma.site`` once to
  activate them all (not measured), then, with every guest compliant: ``activation_facts`` and ``product_key`` over
  every guest at each of --forks, ``activation_facts`` at the most forks through the module path (a jump host's path:
  AnsiballZ, one Python process per task; connection_plugins/jump_host.py) to compare with the action plugin's
  in-process path, and the second run of ``hyperv.avma.site``.

With --delays 0,20, every scenario runs once per delay: at 20, each machine is reached through its own
tests/benchmarks/delay_proxy.py, which adds 20 ms to every round trip.

Columns: WS-Man requests, authentication round trips and body bytes (the lab's counters), writes, wall time,
controller CPU (ansible-playbook and every process it started), lab CPU (the lab process, from /proc), peak memory (the
largest process of the run). The budgets of issue 11 that it measures are checked at the end; a missed budget makes
the run exit 1 after the table is printed.

    .venv/bin/python tests/benchmarks/fleet_playbooks.py [--hosts 50] [--vms 100] [--guests 200] [--guest-hosts 10]
        [--forks 20,50] [--report-forks 50] [--delays 0,20] [--markdown FILE] [--parts report,guests] [--collection CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import yaml

from benchlab import ROOT, admin, collections_path, finish, hvlab, process_cpu_seconds  # pylint: disable=import-error
from delay_proxy import DelayProxy  # pylint: disable=import-error

HERE = pathlib.Path(__file__).resolve().parent
PASSWORD = "Bench-Passw0rd!"

# Issue 11's budgets that this benchmark measures.
BUDGET_REPORT_WALL_SEC = 15
BUDGET_REPORT_AUTH_PER_HOST = 3
BUDGET_SITE_REQUESTS_PER_GUEST = 6

# ansible-playbook with this process's resource usage of its own children: CPU of the whole tree, and the largest
# process's peak memory.
_MEASURED = """
import json, resource, subprocess, sys
run = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.buffer.write(run.stdout)
print(json.dumps(dict(rc=run.returncode, cpu=usage.ru_utime + usage.ru_stime, peak_kb=usage.ru_maxrss)), file=sys.stderr)
"""


def report_fleet(hosts, vms):
    lines = ["defaults:", "  credentials:", '    - {user: Administrator, password: "%s"}' % PASSWORD,
             '  os: {version: "2022", edition: ServerDatacenter}', "  windows_license: {channel: kms, status: licensed}", "machines:"]
    for number in range(1, hosts + 1):
        lines += ["  hv%02d:" % number, "    address: 127.0.73.%d" % number, "    kind: host", "    hyperv: {jobs: sync}",
                  "    synthetic_vms: {count: %d, name_prefix: vm, guest_items: {Role: tenant}}" % vms]
    return "\n".join(lines) + "\n"


def guest_fleet(hosts, guests):
    lines = ["defaults:", "  credentials:", '    - {user: Administrator, password: "%s"}' % PASSWORD,
             '  os: {version: "2022", edition: ServerDatacenter}', "  windows_license: {channel: kms, status: licensed}", "machines:"]
    for number in range(1, hosts + 1):
        lines += ["  gh%02d:" % number, "    address: 127.0.74.%d" % number, "    kind: host", "    hyperv: {jobs: sync}"]
    for number in range(1, guests + 1):
        lines += ["  g%03d:" % number, "    address: 127.0.75.%d" % number, "    kind: guest", "    hyperv_host: gh%02d" % ((number - 1) % hosts + 1),
                  "    windows_license: {channel: none, status: unlicensed}"]
    return "\n".join(lines) + "\n"


class Lab:
    """A lab fleet started in ``directory``; with a delay, an inventory whose machines are reached through proxies."""

    def __init__(self, directory, fleet_text):
        self.directory = directory
        directory.mkdir()
        (directory / "fleet.yml").write_text(fleet_text)
        hvlab("up", str(directory / "fleet.yml"), "--dir", str(directory / "lab"), "--http-port", "0", "--https-port", "0", "--timeout", "600")
        info = json.loads((directory / "lab" / "admin.json").read_text())
        self.url, self.pid = info["url"], info["pid"]
        self.inventory = directory / "lab" / "inventory.yml"

    def stop(self):
        hvlab("down", "--dir", str(self.directory / "lab"))

    def proxied_inventory(self, delay_ms, proxies):
        """The lab's inventory with every machine behind a DelayProxy of ``delay_ms`` (added to ``proxies``)."""
        if not delay_ms:
            return self.inventory
        inventory = yaml.safe_load(self.inventory.read_text())
        for group in inventory["all"]["children"].values():
            for variables in group["hosts"].values():
                proxy = DelayProxy((variables["ansible_host"], int(variables["ansible_port"])), delay_ms / 1000).__enter__()
                proxies.append(proxy)
                variables["ansible_host"], variables["ansible_port"] = "127.0.0.1", proxy.address[1]
        path = self.directory / f"inventory-{delay_ms}ms.yml"
        path.write_text(yaml.safe_dump(inventory))
        return path


def playbook(workdir, lab, inventory, playbook_path, forks, extra, collection=ROOT):
    """One ansible-playbook run with the collection of the checkout at ``collection``, and what it cost; fails the
    benchmark when the run fails."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path(collection)), ANSIBLE_HOME=str(workdir / "home"),
               ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS=str(forks), ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_HOST_KEY_CHECKING="0",
               ANSIBLE_CONNECTION_PLUGINS=str(HERE / "connection_plugins"),
               PATH=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_CONFIG", None)
    vars_file = workdir / "extra.json"
    vars_file.write_text(json.dumps(extra))
    admin(lab.url, "POST", "/stats/reset")
    lab_cpu = process_cpu_seconds(lab.pid)
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", _MEASURED, str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i",
                          str(inventory), str(playbook_path), "-e", "@%s" % vars_file], env=env, cwd=workdir, capture_output=True,
                         text=True, timeout=3600, check=False)
    wall = time.perf_counter() - started
    lab_cpu = process_cpu_seconds(lab.pid) - lab_cpu
    usage = json.loads(run.stderr.strip().splitlines()[-1])
    if usage["rc"]:
        tail = "\n".join(run.stdout.splitlines()[-30:])
        raise SystemExit(f"{playbook_path.name} failed (rc {usage['rc']}):\n{tail}")
    stats = admin(lab.url, "GET", "/stats")
    machines = stats["machines"].values()
    return dict(wall=wall, cpu=usage["cpu"], peak_kb=usage["peak_kb"], lab_cpu=lab_cpu, requests=stats["total_requests"],
                writes=stats["total_writes"], auth_round_trips=stats["total_auth_requests"],
                bytes=sum(entry.get("bytes_received", 0) + entry.get("bytes_sent", 0) for entry in machines))


def _row(scenario, scale, forks, delay_ms, figures):
    row = dict(figures, scenario=scenario, scale=scale, forks=forks, delay_ms=delay_ms)
    print(table([row]).splitlines()[-1], file=sys.stderr, flush=True)
    return row


def report_scenarios(workdir, options, delays, collection):
    """hyperv.avma.report over the report fleet, once per delay."""
    rows = []
    lab = Lab(workdir / "report-fleet", report_fleet(options.hosts, options.vms))
    try:
        for delay in delays:
            proxies = []
            inventory = lab.proxied_inventory(delay, proxies)
            figures = playbook(workdir, lab, inventory, collection / "playbooks" / "report.yml", options.report_forks,
                               dict(compliance_report_dir=str(workdir / "reports" / f"report-{delay}")), collection)
            rows.append(_row("report", f"{options.hosts} hosts x {options.vms} VMs", options.report_forks, delay, figures))
            for proxy in proxies:
                proxy.__exit__()
    finally:
        lab.stop()
    return rows


def guest_scenarios(workdir, options, forks, delays, collection):
    """hyperv.avma.site once over the guest fleet (not measured), then each scenario over its compliant guests, once
    per delay."""
    rows = []
    lab = Lab(workdir / "guest-fleet", guest_fleet(options.guest_hosts, options.guests))
    scale = f"{options.guests} guests, {options.guest_hosts} hosts"
    site_vars = dict(compliance_report_dir=str(workdir / "reports" / "site"), guest_activation_poll_interval=1)
    try:
        playbook(workdir, lab, lab.inventory, collection / "playbooks" / "site.yml", max(forks), site_vars, collection)
        for delay in delays:
            proxies = []
            inventory = lab.proxied_inventory(delay, proxies)
            for fork_count in forks:
                rows.append(_row("activation_facts", scale, fork_count, delay,
                                 playbook(workdir, lab, inventory, HERE / "fleet_activation_facts.yml", fork_count, {}, collection)))
                rows.append(_row("product_key, already compliant", scale, fork_count, delay,
                                 playbook(workdir, lab, inventory, HERE / "fleet_product_key.yml", fork_count, {}, collection)))
            rows.append(_row("activation_facts, module path", scale, max(forks), delay,
                             playbook(workdir, lab, inventory, HERE / "fleet_activation_facts.yml", max(forks), dict(bench_module_path=True),
                                      collection)))
            rows.append(_row("site.yml, second run", scale, max(forks), delay,
                             playbook(workdir, lab, inventory, collection / "playbooks" / "site.yml", max(forks), site_vars, collection)))
            for proxy in proxies:
                proxy.__exit__()
    finally:
        lab.stop()
    return rows


def table(rows):
    head = ("| scenario | scale | forks | delay ms | requests | auth round trips | bytes | writes | wall s | controller CPU s | lab CPU s | "
            "peak MB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    body = [f"| {r['scenario']} | {r['scale']} | {r['forks']} | {r['delay_ms']} | {r['requests']:,} | {r['auth_round_trips']:,} | "
            f"{r['bytes']:,} | {r['writes']:,} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['lab_cpu']:.1f} | {r['peak_kb'] / 1024:.0f} |"
            for r in rows]
    return "\n".join([head, *body])


def budgets(rows, hosts, guests):
    checks = []
    for row in rows:
        if row["scenario"] == "report" and row["delay_ms"] == 0:
            checks.append((f"report over {row['scale']} at forks {row['forks']}: {row['wall']:.1f} s wall (budget {BUDGET_REPORT_WALL_SEC})",
                           row["wall"] <= BUDGET_REPORT_WALL_SEC))
            per_host = row["auth_round_trips"] / hosts
            checks.append((f"report: {per_host:.1f} authentication round trips per host (budget {BUDGET_REPORT_AUTH_PER_HOST})",
                           per_host <= BUDGET_REPORT_AUTH_PER_HOST))
        if row["scenario"] == "site.yml, second run" and row["delay_ms"] == 0:
            per_guest = row["requests"] / guests
            checks.append((f"second site.yml run over {guests} compliant guests: {row['writes']} writes (budget 0)", row["writes"] == 0))
            checks.append((f"second site.yml run: {per_guest:.1f} requests per guest, hosts' included (budget {BUDGET_SITE_REQUESTS_PER_GUEST})",
                           per_guest <= BUDGET_SITE_REQUESTS_PER_GUEST))
    module = next((row for row in rows if row["scenario"] == "activation_facts, module path" and row["delay_ms"] == 0), None)
    action = module and next(row for row in rows if row["scenario"] == "activation_facts" and (row["forks"], row["delay_ms"]) == (module["forks"], 0))
    if module:
        checks.append((f"activation_facts: the module path costs {module['cpu'] / action['cpu']:.1f}x the controller CPU of the action path "
                       f"({module['cpu'] * 1000 / guests:.0f} against {action['cpu'] * 1000 / guests:.0f} ms per guest)", True))
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--vms", type=int, default=100)
    parser.add_argument("--guests", type=int, default=200)
    parser.add_argument("--guest-hosts", type=int, default=10)
    parser.add_argument("--forks", default="20,50")
    parser.add_argument("--report-forks", type=int, default=50)
    parser.add_argument("--delays", default="0,20")
    parser.add_argument("--markdown", type=pathlib.Path)
    parser.add_argument("--parts", default="report,guests", help="which fleets to run: report, guests or both")
    parser.add_argument("--collection", type=pathlib.Path, default=ROOT,
                        help="the checkout whose collection (and playbooks) to measure, e.g. a git worktree of an older commit; the lab and "
                             "the benchmark's own playbooks stay this checkout's")
    options = parser.parse_args()
    collection = options.collection.resolve()
    parts = set(options.parts.split(","))
    forks = [int(value) for value in options.forks.split(",")]
    delays = [int(value) for value in options.delays.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = pathlib.Path(directory)
        if "report" in parts:
            rows += report_scenarios(workdir, options, delays, collection)
        if "guests" in parts:
            rows += guest_scenarios(workdir, options, forks, delays, collection)

    return finish(table(rows), budgets(rows, options.hosts, options.guests), options.markdown, f", collection of {collection}")


if __name__ == "__main__":
    sys.exit(main())
