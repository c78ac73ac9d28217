# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated fleet: its machines, their CIM state, and saving/restoring that state.

``Fleet.load(path)`` reads a fleet file (FLEET.md). Each ``Machine`` keeps its spec (what the file says) and its
``store`` (what WMI would answer now). ``to_state``/``restore_state`` round-trip the mutable part as JSON types;
``reset`` rebuilds it from the file. Once ``track_changes`` is called, ``drain_changes`` returns what changed since
its last call as records that ``replay_changes`` applies again (the lab's journal).
"""

from .classes import REGISTRY
from .fleetfile import load_fleet_file, parse_fleet
from .fleetspec import Credential
from .seed import initial_store
from .store import ChangeLog, CimStore

STATE_FORMAT = 1


class Machine:
    """One simulated Windows machine.

    ``name``, ``address`` (loopback), ``kind`` (guest | host), ``credentials`` (list of ``Credential``),
    ``inventory`` (extra inventory settings from the fleet file), ``spec`` (the validated ``MachineSpec``) and
    ``store`` (its ``CimStore``).
    """

    def __init__(self, spec, registry=REGISTRY):
        self.spec = spec
        self.name = spec.name
        self.address = spec.address
        self.kind = spec.kind
        self.credentials = list(spec.credentials)
        self.inventory = dict(spec.inventory)
        self.winrm_auth = spec.winrm_auth
        self.hyperv_host = spec.hyperv_host
        self.cluster_peers = ()  # the nodes of its failover cluster (itself included), set by Fleet
        self.fault_style = spec.fault_style
        self.registry = registry
        self.store = initial_store(spec, registry)

    def reset(self):
        self.store = initial_store(self.spec, self.registry)

    def __repr__(self):
        return "Machine(%r, %s, %s)" % (self.name, self.address, self.kind)


class Fleet:
    """All machines of a fleet file, in file order (``machines``: name -> ``Machine``)."""

    def __init__(self, specs, registry=REGISTRY):
        self.machines = {spec.name: Machine(spec, registry) for spec in specs}
        self._by_address = {machine.address: machine for machine in self.machines.values()}
        self._changes = None
        # VM GUID (lower case) -> name of the host it was last found on: a hint, checked on every use.
        self.vm_host_hints = {}
        clusters = {}
        for machine in self.machines.values():
            if machine.spec.hyperv is not None and machine.spec.hyperv.cluster:
                clusters.setdefault(machine.spec.hyperv.cluster.lower(), []).append(machine)
        for nodes in clusters.values():
            for node in nodes:
                node.cluster_peers = tuple(nodes)

    @classmethod
    def load(cls, path):
        """Parse and validate the fleet YAML at ``path``; ``ValueError`` names the machine and field on bad input."""
        return cls(load_fleet_file(path))

    @classmethod
    def from_document(cls, document, source="fleet"):
        """A fleet from an already parsed YAML document (tests, generated fleets)."""
        return cls(parse_fleet(document, source))

    def machine_by_address(self, address):
        return self._by_address.get(str(address))

    def track_changes(self):
        """From now on, record every change of every machine's state for ``drain_changes``."""
        self._changes = ChangeLog()
        for machine in self.machines.values():
            machine.store.track(machine.name, self._changes)

    def drain_changes(self):
        """What changed since the last call (or since ``track_changes``), as JSON records for ``replay_changes``;
        see ``store.ChangeLog.drain``. Its cost is that of the instances changed, whatever the size of the fleet."""
        return self._changes.drain() if self._changes is not None else []

    def replay_changes(self, records):
        """Apply records ``drain_changes`` returned, in order. Records of machines the fleet does not have are
        ignored (as in ``restore_state``); ``ValueError`` on a malformed record."""
        for record in records:
            if not isinstance(record, list) or len(record) != 4 or record[0] not in ("put", "del"):
                raise ValueError("not a change record: %.200r" % (record,))
            kind, name, slot, value = record
            machine = self.machines.get(name) if isinstance(name, str) else None
            if machine is None:
                continue
            store = machine.store
            try:
                if kind == "put":
                    store.put(store.class_at(slot), value)
                else:
                    store.delete(store.class_at(slot), value)
            except ValueError as error:
                raise ValueError("change of machine %r: %s" % (name, error)) from error

    def to_state(self):
        """The full mutable state as JSON types: ``{"format": 1, "machines": {name: {"instances": {...}}}}``; a copy
        that later changes do not reach."""
        return {
            "format": STATE_FORMAT,
            "machines": {name: {"instances": machine.store.to_state()} for name, machine in self.machines.items()},
        }

    def restore_state(self, state):
        """Load a state ``to_state`` returned. Machines absent from it keep their current state; machines the fleet
        does not have are ignored (the fleet file is the authority on which machines exist). ``ValueError`` on a
        malformed state, before anything is changed."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or not isinstance(state.get("machines"), dict):
            raise ValueError("not a lab state of format %d" % STATE_FORMAT)
        staged = {}
        for name, machine_state in state["machines"].items():
            machine = self.machines.get(name)
            if machine is None:
                continue
            if not isinstance(machine_state, dict) or "instances" not in machine_state:
                raise ValueError("state of machine %r has no instances" % name)
            store = CimStore(machine.registry)
            try:
                store.restore_state(machine_state["instances"])
            except ValueError as error:
                raise ValueError("state of machine %r: %s" % (name, error)) from error
            staged[name] = store
        for name, store in staged.items():
            self.machines[name].store = store
            if self._changes is not None:
                store.track(name, self._changes)

    def reset(self):
        """Back to the fleet file's initial state."""
        for machine in self.machines.values():
            machine.reset()
            if self._changes is not None:
                machine.store.track(machine.name, self._changes)


__all__ = ("Credential", "Fleet", "Machine")
