# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIM instances of one machine, in creation order, addressable by class and key values.

A lookup by a class's full key set goes through an index, so a Get on a host with thousands of VMs costs the same as
on a host with one; other lookups scan. Key properties are never changed in place (an instance that would get other
keys is removed and added again), so the index stays true.

A store can report its changes to a ``ChangeLog`` (``track``): instances added and removed, and instances changed in
place, which a stored instance notices itself (it is a dict whose writes, and the writes to its arrays, tell the
store; setting a property to the value it has is no change). The lab saves what the log drains, so a write costs
the size of what it changed, not that of the machine.
"""

from .cimtypes import CimTypeError, from_wire


class CimStore:
    """Instances per class. Instances are dicts of property name -> state value (see ``cimtypes``)."""

    def __init__(self, registry):
        self._registry = registry
        self._instances = {}
        self._index = {}
        self.label = None
        self.changes = None

    def track(self, label, changes):
        """Report every change from now on to ``changes`` (a ``ChangeLog``), under ``label`` (the machine's name)."""
        self.label = label
        self.changes = changes

    @staticmethod
    def _slot(cim_class):
        return "%s/%s" % (cim_class.namespace, cim_class.name)

    def add(self, cls, instance):
        """Append ``instance`` (complete, type-checked) and return the stored instance; a duplicate key is an error."""
        checked = cls.check_instance(instance)
        slot = self._slot(cls)
        index = self._index.setdefault(slot, {})
        key = _key_text(cls, checked)
        if key in index:
            raise ValueError("%s already has an instance with keys %s" % (cls.name, cls.key_values(checked)))
        stored = _Instance.adopt(checked, self, slot, key)
        self._instances.setdefault(slot, []).append(stored)
        index[key] = stored
        if self.changes is not None:
            self.changes.added(self, stored)
        return stored

    def extend(self, cls, instances):
        """Append many complete instances in one pass (a host's thousand VMs); a duplicate key is an error."""
        for instance in instances:
            self.add(cls, instance)

    def remove(self, cls, instance):
        """Remove ``instance`` (the stored dict itself) from the store."""
        self.instances(cls).remove(instance)
        del self._index[self._slot(cls)][_key_text(cls, instance)]
        if isinstance(instance, _Instance) and instance.store is self:
            instance.store = None
            if self.changes is not None:
                self.changes.removed(self, instance, cls.key_values(instance))

    def put(self, cls, instance):
        """Store ``instance`` (complete): its values replace those of the stored instance with the same keys, in
        place; an instance with new keys is appended. Returns the stored instance."""
        checked = cls.check_instance(instance)
        stored = self._index.get(self._slot(cls), {}).get(_key_text(cls, checked))
        if stored is None:
            return self.add(cls, checked)
        stored.update(checked)
        return stored

    def delete(self, cls, key_values):
        """Remove the instance whose key properties (in ``cls.keys`` order) are ``key_values``, if there is one."""
        if not isinstance(key_values, (list, tuple)) or len(key_values) != len(cls.keys):
            raise ValueError("%s has %d key properties, got %r" % (cls.name, len(cls.keys), key_values))
        stored = self._index.get(self._slot(cls), {}).get(_key_text(cls, dict(zip(cls.keys, key_values))))
        if stored is not None:
            self.remove(cls, stored)

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

    def class_at(self, slot):
        """The class of a ``namespace/Class`` slot (as ``to_state`` names it); ValueError when there is none."""
        namespace, _slash, name = str(slot).rpartition("/")
        cls = self._registry.lookup(namespace, name)
        if cls is None:
            raise ValueError("unknown class %r in the state" % slot)
        return cls

    def to_state(self):
        """Every instance as JSON types: ``{"namespace/Class": [instance, ...]}`` (classes that have some), copies
        (arrays too) that later changes of the store do not reach."""
        return {slot: [_copy(instance) for instance in instances] for slot, instances in self._instances.items() if instances}

    def restore_state(self, state):
        """Replace every instance with those of ``state`` (as ``to_state`` returns it); validate all before replacing."""
        if not isinstance(state, dict):
            raise ValueError("instances must be a mapping of namespace/Class to a list of instances")
        restored = CimStore(self._registry)
        for slot, instances in state.items():
            if not isinstance(instances, list):
                raise ValueError("the instances of %r in the state are not a list" % slot)
            restored.extend(self.class_at(slot), instances)
        for instances in restored._instances.values():
            for instance in instances:
                instance.store = self
        self._instances = restored._instances
        self._index = restored._index


class ChangeLog:
    """What changed in the stores that report to it since the last ``drain``, one entry per instance key: its last
    form, or its removal. Replaying what ``drain`` returns on the stores as they were at the previous drain gives the
    stores as they are, in the same order."""

    def __init__(self):
        self._entries = {}
        self._additions = 0

    def _entry(self, store, slot, key):
        entry = self._entries.get((id(store), slot, key))
        if entry is None:
            entry = self._entries[(id(store), slot, key)] = _Entry(store, slot)
        return entry

    def added(self, store, instance):
        entry = self._entry(store, instance.slot, instance.key)
        self._additions += 1
        entry.instance, entry.appended = instance, self._additions

    def removed(self, store, instance, key_values):
        entry = self._entry(store, instance.slot, instance.key)
        entry.instance, entry.appended, entry.removed_keys = None, None, list(key_values)

    def changed(self, store, instance):
        entry = self._entry(store, instance.slot, instance.key)
        entry.instance = instance

    def drain(self):
        """The changes as records, oldest state first, and forget them: ``["del", machine, slot, [key values]]``
        for each removed key, then ``["put", machine, slot, instance]`` for each instance changed in place, then for
        each one added (or removed and added again), in the order they were added. Records are JSON types."""
        removals, updates, additions = [], [], []
        for entry in self._entries.values():
            label = entry.store.label
            if entry.removed_keys is not None:
                removals.append(["del", label, entry.slot, entry.removed_keys])
            if entry.instance is not None:
                record = ["put", label, entry.slot, _copy(entry.instance)]
                if entry.appended is None:
                    updates.append(record)
                else:
                    additions.append((entry.appended, record))
        self._entries = {}
        additions.sort(key=lambda pair: pair[0])
        return removals + updates + [record for _order, record in additions]


class _Entry:
    """One key's change since the last drain: the live instance with that key (None when it is gone), whether it
    was appended (the order of its addition), and the key values when it was removed on the way."""

    __slots__ = ("store", "slot", "instance", "appended", "removed_keys")

    def __init__(self, store, slot):
        self.store = store
        self.slot = slot
        self.instance = None
        self.appended = None
        self.removed_keys = None


class _Instance(dict):
    """A stored instance: a dict that tells its store when it changes, and whose arrays tell it too."""

    __slots__ = ("store", "slot", "key")

    @classmethod
    def adopt(cls, values, store, slot, key):
        instance = cls(values)
        for name, value in values.items():
            if isinstance(value, list):
                dict.__setitem__(instance, name, _Array(value, instance))
        instance.store, instance.slot, instance.key = store, slot, key
        return instance

    def changed(self):
        store = self.store
        if store is not None and store.changes is not None:
            store.changes.changed(store, self)

    def __setitem__(self, name, value):
        if self._set(name, value):
            self.changed()

    def _set(self, name, value):
        """Store ``value`` under ``name`` unless it is already there (same type and value); True when it changed."""
        if name in self and _same(dict.__getitem__(self, name), value):
            return False
        dict.__setitem__(self, name, _Array(value, self) if isinstance(value, list) else value)
        return True

    def __delitem__(self, name):
        dict.__delitem__(self, name)
        self.changed()

    def update(self, *args, **kwargs):
        changed = [self._set(name, value) for name, value in dict(*args, **kwargs).items()]
        if any(changed):
            self.changed()

    def __ior__(self, other):
        self.update(other)
        return self

    def setdefault(self, name, default=None):
        if name not in self:
            self[name] = default
        return dict.__getitem__(self, name)

    def pop(self, *args):
        value = dict.pop(self, *args)
        self.changed()
        return value

    def popitem(self):
        item = dict.popitem(self)
        self.changed()
        return item

    def clear(self):
        dict.clear(self)
        self.changed()


class _Array(list):
    """An array property of a stored instance: a list that tells the instance when it changes."""

    __slots__ = ("owner",)

    def __init__(self, items, owner):
        super().__init__(items)
        self.owner = owner


def _telling_the_owner(method):
    def write(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        self.owner.changed()
        return result
    write.__name__ = method.__name__
    return write


for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop", "remove", "clear",
              "sort", "reverse"):
    setattr(_Array, _name, _telling_the_owner(getattr(list, _name)))
del _name


def _same(old, new):
    """Whether ``new`` is what ``old`` already holds: equal and of the same types (``1`` is not ``True``)."""
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(old_item, new_item) for old_item, new_item in zip(old, new))
    return type(old) is type(new) and old == new


def _copy(instance):
    """A plain copy of an instance: a dict of JSON types, with its own lists."""
    return {name: list(value) if isinstance(value, list) else value for name, value in instance.items()}


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
