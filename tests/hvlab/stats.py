# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request and write counters per machine and operation.

``requests`` and ``writes`` count by operation (Identify, Enumerate, Pull, Release, Get, Invoke, Other), and an
Invoke is also counted under ``Invoke:<Class>.<Method>``. ``total_requests`` / ``total_writes`` count each request
once (the ``Invoke:...`` detail keys are not added again). A request answered by an injected fault is counted as a
request of its operation, and under ``faults`` by fault kind; a write whose answer was lost by an injected fault
(``lost_answer``, ``reset_mid_body``, ``stall``) was applied, and is counted as a write.
"""


class Stats:
    def __init__(self, machine_names):
        self._names = list(machine_names)
        self._machines = {}
        self.reset()

    def reset(self):
        self._machines = {name: {"requests": {}, "writes": {}, "faults": {}, "total_requests": 0, "total_writes": 0}
                          for name in self._names}

    def count_fault(self, machine, kind):
        faults = self._machines[machine]["faults"]
        faults[kind] = faults.get(kind, 0) + 1

    def count(self, machine, operation, detail=None, wrote=False):
        entry = self._machines[machine]
        keys = [operation] + ([detail] if detail else [])
        for key in keys:
            entry["requests"][key] = entry["requests"].get(key, 0) + 1
        entry["total_requests"] += 1
        if wrote:
            for key in keys:
                entry["writes"][key] = entry["writes"].get(key, 0) + 1
            entry["total_writes"] += 1

    def snapshot(self):
        machines = {
            name: {"requests": dict(entry["requests"]), "writes": dict(entry["writes"]), "faults": dict(entry["faults"]),
                   "total_requests": entry["total_requests"], "total_writes": entry["total_writes"]}
            for name, entry in self._machines.items()
        }
        return {
            "machines": machines,
            "total_requests": sum(entry["total_requests"] for entry in machines.values()),
            "total_writes": sum(entry["total_writes"] for entry in machines.values()),
            "total_faults": sum(sum(entry["faults"].values()) for entry in machines.values()),
        }
