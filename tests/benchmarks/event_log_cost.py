# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: what activation_events costs against guests whose Application log holds 1,000, 10,000 and 100,000 events.

Two logs per size, each on a lab guest of its own (a fleet written to a temporary directory):

- ``avma``: every event is an Event 12309 inside the window (the worst case: activation_events reads every event
  inside the WQL bounds, at most 100,000, sorts them and keeps the newest ``max_events``);
- ``other``: the events are of another source and ID, with ten 12309 among them (the WQL leaves ten rows).

activation_events runs in this process over real WinRM (NTLM, HTTP message encryption) with event_ids [12309],
since 90d and max_events 100. Printed per log: WS-Man requests (the lab's count), the bytes of the answers the client
received (decrypted SOAP), the wall time, and this process's CPU time (the controller's share; the lab runs in
another process). The lab filters its log in Python as fast as it can: how long real Windows takes to read a large
Application log for the query is not measured here (no Windows): the live suite against a real host shows it.

    .venv/bin/python tests/benchmarks/event_log_cost.py [--sizes 1000 10000 100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import tempfile
import time

import yaml

from benchlab import admin, hvlab, import_collection  # pylint: disable=import-error

PASSWORD = "Bench-Passw0rd!"
WINDOW_DAYS = 60
AVMA_STRINGS = ["AVMA Success", "HVBENCH", "0x00000000"]


def fleet(sizes):
    """A fleet with two guests per size: ``avma<size>`` and ``other<size>`` (addresses 127.0.72.x)."""
    machines = {}
    for index, size in enumerate(sizes):
        every = WINDOW_DAYS * 86400 / size
        machines["avma%d" % size] = dict(address="127.0.72.%d" % (10 + 2 * index), kind="guest", events=[
            dict(id=12309, time="-%dd" % WINDOW_DAYS, count=size, every_seconds=every, insertion_strings=AVMA_STRINGS)])
        machines["other%d" % size] = dict(address="127.0.72.%d" % (11 + 2 * index), kind="guest", events=[
            dict(id=1000, source="Application Error", type="error", time="-%dd" % WINDOW_DAYS, count=size - 10, every_seconds=every,
                 insertion_strings=["app.exe", "10.0.20348.1", "c0000005"]),
            dict(id=12309, time="-%dd" % (WINDOW_DAYS // 2), count=10, every_seconds=3600, insertion_strings=AVMA_STRINGS)])
    return dict(defaults=dict(credentials=[dict(user="Administrator", password=PASSWORD)],
                              os={"version": "2022", "edition": "ServerDatacenter"}), machines=machines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=1)
    options = parser.parse_args()
    import_collection()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
    from ansible_collections.hyperv.avma.plugins.module_utils._events import activation_events_task
    from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings, WsmanClient

    class CountingTransport:
        """The client's transport, counting the bytes of the (decrypted) answers it hands back."""

        def __init__(self, transport):
            self.transport = transport
            self.received = 0

        def send_message(self, message):
            answer = self.transport.send_message(message)
            self.received += len(answer)
            return answer

        def close_session(self):
            self.transport.close_session()

    class CountingWsmanClient(WsmanClient):
        def _get_transport(self, label):
            transport = super()._get_transport(label)
            if not isinstance(transport, CountingTransport):
                transport = self._transport = CountingTransport(transport)
            return transport

    with tempfile.TemporaryDirectory() as directory:
        fleet_file = pathlib.Path(directory) / "fleet.yml"
        fleet_file.write_text(yaml.safe_dump(fleet(options.sizes)))
        lab_dir = pathlib.Path(directory) / "lab"
        started = time.perf_counter()
        hvlab("up", str(fleet_file), "--dir", str(lab_dir), "--http-port", "0", "--https-port", "0", "--timeout", "1800", timeout=1900)
        print("lab started in %.1f s" % (time.perf_counter() - started))
        try:
            url = json.loads((lab_dir / "admin.json").read_text())["url"]
            ports = {machine["name"]: machine["ports"]["http"] for machine in admin(url, "GET", "/machines")["machines"]}
            print("| log | events in the log | 12309 in the window | WS-Man requests | bytes received | wall s | controller CPU s |")
            print("|---|---:|---:|---|---:|---:|---:|")
            for size in options.sizes:
                for shape in ("avma", "other"):
                    name = "%s%d" % (shape, size)
                    address = fleet(options.sizes)["machines"][name]["address"]
                    walls, cpus = [], []
                    for _round in range(options.repeat):
                        admin(url, "POST", "/stats/reset")
                        wsman = CountingWsmanClient(WinrmSettings(host=address, port=ports[name], user="Administrator", password=PASSWORD,
                                                                  label=name, operation_timeout_sec=600, read_timeout_sec=660))
                        client = CimClient(wsman)
                        wall, cpu = time.perf_counter(), time.process_time()
                        result = activation_events_task(client, dict(event_ids=[12309], since="%dd" % 90, max_events=100), False, False)
                        walls.append(time.perf_counter() - wall)
                        cpus.append(time.process_time() - cpu)
                        received = wsman._transport.received
                        client.close()
                    requests = admin(url, "GET", "/stats")["machines"][name]["requests"]
                    matched = size if shape == "avma" else 10
                    assert result["count"] == min(matched, 100) and result["limited"] is (matched > 100), result["count"]
                    print("| %s | %d | %d | %s | %d | %.2f | %.2f |" % (
                        shape, size, matched, ", ".join("%s %d" % item for item in sorted(requests.items())), received,
                        statistics.median(walls), statistics.median(cpus)))
        finally:
            hvlab("down", "--dir", str(lab_dir))


if __name__ == "__main__":
    main()
