# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load with faults: host_setup and guest_activation with forks 50 over 200 guests and their 10 hosts, while 5 % of
the requests fail at random (drop before the answer, reset in the middle of the body, HTTP 503, a stall past the
read timeout; 1.25 % each, seeded).

1. Run tests/benchmarks/site_load.yml with the faults on; then run it again (the re-run), faults still on
   (--no-rerun-faults: off).
2. With the faults off: every guest must be AVMA-activated (activation_facts) with nothing left to change
   (product_key in check mode, publishing its status items as guest_activation does), and the lab's write counters
   must show each write exactly once where the state needed it, machine by machine: one InstallProductKey and one
   SetStringValue per published status item on each guest, one Data Exchange switch on each host per VM that had it
   off, and nothing else.
3. A third run, faults off, must make 0 writes.

The guests start without a key (the role keeps a working licence of another channel, so they would need none).

Prints the recap figures (lab counters are cumulative over runs 1 and 2), the faults that fired, the failures, the
write counters and the time of each run; exits 1 when a check fails.

    .venv/bin/python tests/benchmarks/site_load.py [--guests 200] [--hosts 10] [--rate 0.05] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

from benchlab import ROOT, admin, hvlab, import_collection  # pylint: disable=import-error

import_collection()
from ansible_collections.hyperv.avma.plugins.module_utils._avma import status_items  # noqa: E402 pylint: disable=wrong-import-position

# The status items guest_activation publishes on each guest (publish_kvp): one SetStringValue each.
PUBLISHED_ITEMS = len(status_items({}))

HERE = pathlib.Path(__file__).resolve().parent
PASSWORD = "Lab-Passw0rd!"
FAULT_KINDS = ("drop", "reset_mid_body", "http503", "stall")
TIMEOUTS = dict(ansible_winrm_operation_timeout_sec=3, ansible_winrm_read_timeout_sec=6)
STALL_SEC = 8


def fleet_text(hosts, guests):
    lines = ["defaults:", "  credentials:", '    - {user: Administrator, password: "%s"}' % PASSWORD,
             '  os: {version: "2022", edition: ServerDatacenter}', "  windows_license: {channel: kms, status: licensed}",
             "machines:"]
    for number in range(1, hosts + 1):
        lines += ["  hv%02d:" % number, "    address: 127.0.70.%d" % number, "    kind: host"]
    for number in range(1, guests + 1):
        lines += ["  g%03d:" % number, "    address: 127.0.71.%d" % number, "    kind: guest",
                  "    hyperv_host: hv%02d" % ((number - 1) % hosts + 1), "    windows_license: {channel: none, status: unlicensed}"]
        if number % 4 == 0:
            lines.append("    vm: {data_exchange: false}")
    off = collections.Counter("hv%02d" % ((number - 1) % hosts + 1) for number in range(1, guests + 1) if number % 4 == 0)
    return "\n".join(lines) + "\n", off


def playbook(workdir, name, inventory, extra):
    collections_path = ROOT / ".build" / "collections"
    link = collections_path / "ansible_collections" / "hyperv" / "avma"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT, target_is_directory=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_HOME=str(workdir / "home"),
               ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="50", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_HOST_KEY_CHECKING="0",
               PATH=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_CONFIG", None)
    vars_file = workdir / "extra.json"
    vars_file.write_text(json.dumps(extra))
    started = time.perf_counter()
    run = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(HERE / name),
                          "-e", "@%s" % vars_file], env=env, cwd=workdir, capture_output=True, text=True, timeout=3600, check=False)
    return run, time.perf_counter() - started


def recap(run):
    totals = collections.Counter()
    failed_hosts = []
    for match in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", run.stdout, re.MULTILINE):
        host, changed, unreachable, failed = match.group(1), *map(int, match.groups()[1:])
        totals.update(hosts=1, changed_hosts=bool(changed), unreachable=unreachable, failed=failed)
        if unreachable or failed:
            failed_hosts.append(host)
    return totals, failed_hosts


def print_row(label, seconds, totals, stats):
    figures = (label, seconds, totals["hosts"], totals["changed_hosts"], totals["failed"], totals["unreachable"],
               stats["total_requests"], stats["total_writes"])
    print("%-26s %8.0f %8d %12d %7d %7d %9d %9d" % figures)


def writes_by_method(stats):
    by_method = collections.Counter()
    for counters in stats["machines"].values():
        for key, count in counters["writes"].items():
            if key.startswith("Invoke:"):
                by_method[key[len("Invoke:"):]] += count
    return by_method


def write_problems(stats, guests, data_exchange_off):
    """Each write exactly once where the state needed it, machine by machine."""
    problems = []
    for name, counters in sorted(stats["machines"].items()):
        writes = {key[len("Invoke:"):]: count for key, count in counters["writes"].items() if key.startswith("Invoke:")}
        if name.startswith("g"):
            expected = {"SoftwareLicensingService.InstallProductKey": 1, "StdRegProv.SetStringValue": PUBLISHED_ITEMS}
        else:
            expected = {"Msvm_VirtualSystemManagementService.ModifyResourceSettings": data_exchange_off[name]} if data_exchange_off[name] else {}
        if writes != expected:
            problems.append("%s wrote %s, expected %s" % (name, writes, expected))
    if sum(name.startswith("g") for name in stats["machines"]) != guests:
        problems.append("the lab counted %d guests, expected %d" % (sum(name.startswith("g") for name in stats["machines"]), guests))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guests", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rerun-faults", action=argparse.BooleanOptionalAction, default=True,
                        help="keep the random faults on during the re-run (default) or not")
    options = parser.parse_args()
    problems = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = pathlib.Path(directory)
        text, data_exchange_off = fleet_text(options.hosts, options.guests)
        (workdir / "fleet.yml").write_text(text)
        lab_dir = workdir / "lab"
        hvlab("up", str(workdir / "fleet.yml"), "--dir", str(lab_dir), "--http-port", "0", "--https-port", "0")
        try:
            url = json.loads((lab_dir / "admin.json").read_text())["url"]
            inventory = lab_dir / "inventory.yml"
            extra = dict(TIMEOUTS, guest_activation_poll_interval=1, out_dir=str(workdir))

            def faults_on():
                for offset, kind in enumerate(FAULT_KINDS):
                    rule = dict(kind=kind, rate=options.rate / len(FAULT_KINDS), seed=options.seed + offset)
                    if kind == "stall":
                        rule["seconds"] = STALL_SEC
                    admin(url, "POST", "/faults", rule)

            print("%-26s %8s %8s %12s %7s %7s %9s %9s" % ("run", "seconds", "hosts", "changed", "failed", "unreach", "requests", "writes"))
            for label, faults in (("1 (%g %% faults)" % (options.rate * 100), True),
                                  ("2 re-run (%s)" % ("%g %% faults" % (options.rate * 100) if options.rerun_faults else "no faults"), options.rerun_faults)):
                admin(url, "DELETE", "/faults")
                if faults:
                    faults_on()
                run, seconds = playbook(workdir, "site_load.yml", inventory, extra)
                totals, failed_hosts = recap(run)
                stats = admin(url, "GET", "/stats")
                print_row(label, seconds, totals, stats)
                fired = collections.Counter()
                for counters in stats["machines"].values():
                    fired.update(counters["faults"])
                print("    faults fired (all runs so far): %s; hosts failed or unreachable: %s" % (dict(fired), ", ".join(failed_hosts) or "none"))
                for line in run.stdout.splitlines():
                    if line.startswith(("fatal:", "failed:")) and "...ignoring" not in line:
                        print("      " + line[:400])
            admin(url, "DELETE", "/faults")
            stats = admin(url, "GET", "/stats")
            writes = writes_by_method(stats)
            print("    writes of runs 1 and 2 by method: %s" % dict(writes))
            for method in sorted(writes):
                spread = collections.Counter(counters["writes"].get("Invoke:" + method, 0) for counters in stats["machines"].values()
                                             if counters["writes"].get("Invoke:" + method))
                print("      %s: machines by number of writes %s" % (method, dict(sorted(spread.items()))))

            out = workdir / "facts"
            out.mkdir()
            run, _seconds = playbook(workdir, "site_verify.yml", inventory, dict(extra, out_dir=str(out)))
            activated, settled = 0, 0
            for path in out.glob("*.json"):
                saved = json.loads(path.read_text())
                product = (saved["facts"].get("ansible_facts", {}).get("avma") or {}).get("windows_product") or {}
                activated += bool(product.get("is_avma_key") and product.get("avma_activated"))
                settled += not saved["pending"].get("changed", True) and not saved["pending"].get("failed")
            print("    guests AVMA-activated: %d of %d; with nothing left to change: %d" % (activated, options.guests, settled))
            if activated != options.guests or settled != options.guests:
                problems.append("%d guests are not AVMA-activated, %d have something left to change"
                                % (options.guests - activated, options.guests - settled))
            problems += write_problems(stats, options.guests, data_exchange_off)

            admin(url, "POST", "/stats/reset")
            run, seconds = playbook(workdir, "site_load.yml", inventory, extra)
            totals, failed_hosts = recap(run)
            stats = admin(url, "GET", "/stats")
            print_row("3 (no faults)", seconds, totals, stats)
            if stats["total_writes"]:
                problems.append("the third run made %d writes: %s" % (stats["total_writes"], dict(writes_by_method(stats))))
        finally:
            hvlab("down", "--dir", str(lab_dir))
    for problem in problems:
        print("PROBLEM: " + problem)
    print("all checks passed" if not problems else "%d checks failed" % len(problems))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
