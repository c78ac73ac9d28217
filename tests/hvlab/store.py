# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIM instances of one machine, in creation order, addressable by class and key values.

A lookup by a class's full key set goes through an index, so a Get on a host with thousands of VMs costs the same as
on a host with one; other lookups scan. Key properties are never changed in place (an instance that would get other
keys is removed and added again), so the index stays true.
"""

from .cimtypes import CimTypeError, from_wire


class CimStore:
    """Instances per class. Instances are plain dicts of property name -> state value (see ``cimtypes``)."""

    def __init__(self, registry):
        self._registry = registry
        self._instances = {}
        self._index = {}

    @staticmethod
    def _slot(cim_class):
        return "%s/%s" % (cim_class.namespace, cim_class.name)

    def add(self, cls, instance):
        """Append ``instance`` (complete, type-checked); a duplicate key is an error."""
        instance = cls.check_instance(instance)
        index = self._index.setdefault(self._slot(cls), {})
        key = _key_text(cls, instance)
        if key in index:
            raise ValueError("%s already has an instance with keys %s" % (cls.name, cls.key_values(instance)))
        self._instances.setdefault(self._slot(cls), []).append(instance)
        index[key] = instance
        return instance

    def extend(self, cls, instances):
        """Append many complete instances in one pass (a host's thousand VMs); a duplicate key is an error."""
        for instance in instances:
            self.add(cls, instance)

    def remove(self, cls, instance):
        """Remove ``instance`` (the stored dict itself) from the store."""
        self.instances(cls).remove(instance)
        del self._index[self._slot(cls)][_key_text(cls, instance)]

    def instances(self, cls):
        """The live list of instances of ``cls`` (empty when none)."""
        return self._instances.get(self._slot(cls), [])

    def find(self, cls, keys):
        """The instance whose key properties equal ``keys`` ({key name: value}); string keys compare case-insensitively
        as WMI does, other keys are parsed from their wire text when given as text. None when there is none."""
        properties = [cls.find_property(name) for name in keys]
        if None in properties:
            return None
        if sorted(prop.name for prop in properties) == sorted(cls.keys):
            wanted = {prop.name: _wanted_key(prop, value) for prop, value in zip(properties, keys.values())}
            if _UNMATCHABLE in wanted.values():
                return None
            return self._index.get(self._slot(cls), {}).get(tuple(wanted[name] for name in cls.keys))
        for instance in self.instances(cls):
            if all(_key_matches(prop, instance[prop.name], value) for prop, value in zip(properties, keys.values())):
                return instance
        return None

    def to_state(self):
        return {slot: [dict(instance) for instance in instances] for slot, instances in self._instances.items()}

    def restore_state(self, state):
        """Replace every instance with those of ``state`` (as ``to_state`` returns it); validate all before replacing."""
        if not isinstance(state, dict):
            raise ValueError("instances must be a mapping of namespace/Class to a list of instances")
        restored = CimStore(self._registry)
        for slot, instances in state.items():
            namespace, _slash, name = str(slot).rpartition("/")
            cls = self._registry.lookup(namespace, name)
            if cls is None or not isinstance(instances, list):
                raise ValueError("unknown class %r in the state" % slot)
            restored.extend(cls, instances)
        self._instances = restored._instances
        self._index = restored._index


_UNMATCHABLE = object()


def _normal(value):
    return value.lower() if isinstance(value, str) else value


def _key_text(cls, instance):
    """The key values of ``instance`` as WMI compares them (strings case-insensitively)."""
    return tuple(_normal(value) for value in cls.key_values(instance))


def _wanted_key(prop, wanted):
    """A wanted key value in the form ``_key_text`` gives, or _UNMATCHABLE when it cannot equal any stored value."""
    if prop.cim_type == "string":
        return str(wanted).lower()
    if isinstance(wanted, str):
        try:
            return from_wire(prop.cim_type, wanted)
        except CimTypeError:
            return _UNMATCHABLE
    return wanted


def _key_matches(prop, stored, wanted):
    if prop.cim_type == "string":
        return stored is not None and str(wanted).lower() == stored.lower()
    if isinstance(wanted, str):
        try:
            wanted = from_wire(prop.cim_type, wanted)
        except CimTypeError:
            return False
    return stored == wanted
