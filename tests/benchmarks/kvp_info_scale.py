# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: kvp_info and host_info against lab hosts with 10 and 1,000 running VMs.

Starts the fleet tests/integration/fleets/kvp_scale.yml in a temporary directory, runs each task function over real
WinRM (NTLM, HTTP message encryption) a few times per host, and prints the WS-Man requests the lab counted (they are
deterministic; tests/integration/test_kvp_scale.py asserts them), the wall-clock times and the controller's CPU time
(this process only: the lab runs in another), which are not.

    .venv/bin/python tests/benchmarks/kvp_info_scale.py [--repeat 3] [--profile]

With --profile, one more kvp_info run at 1,000 VMs under cProfile: the cumulative time of each layer (LAYERS) and the
functions that cost the most themselves. cProfile adds its own cost to every Python call,
so the shares matter, not the totals.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import json
import pathlib
import statistics
import tempfile
import time

from benchlab import ROOT, admin, hvlab, import_collection  # pylint: disable=import-error

FLEET = ROOT / "tests" / "integration" / "fleets" / "kvp_scale.yml"
HOSTS = {"hv44small": ("127.0.44.10", 10), "hv44large": ("127.0.44.20", 1000)}
PASSWORD = "Lab-Passw0rd!"

# The layers of a read, by the function (file name, function name) whose cumulative time is the layer's.
LAYERS = (
    ("HTTP exchange, NTLM sealing and unsealing (pywinrm, requests)", ("_wsman.py", "_attempt")),
    ("  of which parsing the envelopes (ElementTree, C)", ("_wsman.py", "_parse")),
    ("decoding every instance's properties", ("_cim.py", "decode_instance")),
    ("  of which parsing and decoding the embedded KVP items", ("_cim.py", "_parse_embedded_together")),
    ("reading the items out of the decoded instances", ("_hyperv.py", "_raw_items")),
    ("checking and bounding the items (names, sizes, characters)", ("_kvp.py", "collect_items")),
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile one more kvp_info run at 1,000 VMs")
    options = parser.parse_args()
    import_collection()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.hyperv.avma.plugins.module_utils import _hyperv
    from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
    from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings, WsmanClient

    tasks = {"kvp_info": (_hyperv.kvp_info_task, _hyperv.KVP_INFO_SPEC), "host_info": (_hyperv.host_info_task, _hyperv.HOST_INFO_SPEC)}
    with tempfile.TemporaryDirectory() as directory:
        hvlab("up", str(FLEET), "--dir", directory)
        try:
            url = json.loads((pathlib.Path(directory) / "admin.json").read_text())["url"]
            print("%-10s %-10s %6s  %-28s %10s %10s %12s" % (
                "task", "host", "VMs", "WS-Man requests per run", "median s", "best s", "median CPU s"))
            for name, (task, spec) in tasks.items():
                params = {option: settings.get("default") for option, settings in spec.items()}
                for host, (address, count) in HOSTS.items():
                    times = []
                    cpu_times = []
                    requests = None
                    for _round in range(options.repeat):
                        admin(url, "POST", "/stats/reset")
                        client = CimClient(WsmanClient(WinrmSettings(host=address, user="Administrator", password=PASSWORD, label=host)))
                        started, cpu_started = time.perf_counter(), time.process_time()
                        result = task(client, params, False, False)
                        times.append(time.perf_counter() - started)
                        cpu_times.append(time.process_time() - cpu_started)
                        client.close()
                        assert len(result["vms"]) == count
                        requests = admin(url, "GET", "/stats")["machines"][host]["requests"]
                    counted = json.dumps(requests, sort_keys=True)
                    print("%-10s %-10s %6d  %-28s %10.2f %10.2f %12.3f" % (
                        name, host, count, counted, statistics.median(times), min(times), statistics.median(cpu_times)))
            if options.profile:
                task, spec = tasks["kvp_info"]
                address, _count = HOSTS["hv44large"]
                client = CimClient(WsmanClient(WinrmSettings(host=address, user="Administrator", password=PASSWORD, label="hv44large")))
                profile(lambda: task(client, {option: settings.get("default") for option, settings in spec.items()}, False, False))
                client.close()
        finally:
            hvlab("down", "--dir", directory)


def profile(run):
    """Run ``run`` under cProfile; print each layer's cumulative time (LAYERS) and the 15 costliest functions."""
    profiler = cProfile.Profile()
    profiler.runcall(run)
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print("\nkvp_info at 1,000 VMs under cProfile: %.2f s" % total)
    for label, (file_name, function) in LAYERS:
        cumulative = sum(entry[3] for (path, _line, name), entry in stats.stats.items()
                         if path.endswith(file_name) and name == function)
        print("  %-66s %6.2f s  %3.0f %%" % (label, cumulative, 100 * cumulative / total))
    listing = io.StringIO()
    pstats.Stats(profiler, stream=listing).sort_stats("tottime").print_stats(15)
    print(listing.getvalue())


if __name__ == "__main__":
    main()
