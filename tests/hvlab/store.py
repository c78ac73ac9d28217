# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIM instances of one machine, in creation order, addressable by class and key values."""

from .cimtypes import CimTypeError, from_wire


class CimStore:
    """Instances per class. Instances are plain dicts of property name -> state value (see ``cimtypes``)."""

    def __init__(self, registry):
        self._registry = registry
        self._instances = {}

    @staticmethod
    def _slot(cim_class):
        return "%s/%s" % (cim_class.namespace, cim_class.name)

    def add(self, cls, instance):
        """Append ``instance`` (complete, type-checked); a duplicate key is an error."""
        instance = cls.check_instance(instance)
        if self.find(cls, dict(zip(cls.keys, cls.key_values(instance)))) is not None:
            raise ValueError("%s already has an instance with keys %s" % (cls.name, cls.key_values(instance)))
        self._instances.setdefault(self._slot(cls), []).append(instance)
        return instance

    def extend(self, cls, instances):
        """Append many complete instances in one pass (a host's thousand VMs); a duplicate key is an error."""
        slot = self._instances.setdefault(self._slot(cls), [])
        seen = {_key_text(cls, instance) for instance in slot}
        for instance in instances:
            instance = cls.check_instance(instance)
            key = _key_text(cls, instance)
            if key in seen:
                raise ValueError("%s already has an instance with keys %s" % (cls.name, cls.key_values(instance)))
            seen.add(key)
            slot.append(instance)

    def remove(self, cls, instance):
        """Remove ``instance`` (the stored dict itself) from the store."""
        self.instances(cls).remove(instance)

    def instances(self, cls):
        """The live list of instances of ``cls`` (empty when none)."""
        return self._instances.get(self._slot(cls), [])

    def find(self, cls, keys):
        """The instance whose key properties equal ``keys`` ({key name: value}); string keys compare case-insensitively
        as WMI does, other keys are parsed from their wire text when given as text. None when there is none."""
        for instance in self.instances(cls):
            if all(_key_matches(cls.find_property(name), instance[cls.find_property(name).name], value) for name, value in keys.items()):
                return instance
        return None

    def to_state(self):
        return {slot: [dict(instance) for instance in instances] for slot, instances in self._instances.items()}

    def restore_state(self, state):
        """Replace every instance with those of ``state`` (as ``to_state`` returns it); validate all before replacing."""
        if not isinstance(state, dict):
            raise ValueError("instances must be a mapping of namespace/Class to a list of instances")
        restored = {}
        for slot, instances in state.items():
            namespace, _slash, name = str(slot).rpartition("/")
            cls = self._registry.lookup(namespace, name)
            if cls is None or not isinstance(instances, list):
                raise ValueError("unknown class %r in the state" % slot)
            restored[self._slot(cls)] = [cls.check_instance(instance) for instance in instances]
        self._instances = restored


def _key_text(cls, instance):
    """The key values of ``instance`` as WMI compares them (strings case-insensitively)."""
    return tuple(value.lower() if isinstance(value, str) else value for value in cls.key_values(instance))


def _key_matches(prop, stored, wanted):
    if prop.cim_type == "string":
        return stored is not None and str(wanted).lower() == stored.lower()
    if isinstance(wanted, str):
        try:
            wanted = from_wire(prop.cim_type, wanted)
        except CimTypeError:
            return False
    return stored == wanted
