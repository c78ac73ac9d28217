# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM classes as data: typed properties, key properties, singleton flag, which kinds of machine have the class.

A class is declared once, in a ``classes_*`` module, with ``cim_class(...)`` and a compact property list::

    cim_class("root/cimv2", "SoftwareLicensingService", keys=("Version",), singleton=True,
              properties="Version:string ClientMachineID:string RemainingWindowsReArmCount:uint32 MUILanguages:string[]")

WMI matches class and property names case-insensitively; so does the registry. Rendering follows Windows' order:
properties sorted case-insensitively (Win32_DiskDrive capture: ``Partitions`` before ``PNPDeviceID``).
"""

from dataclasses import dataclass
from functools import cached_property

from .cimtypes import CIM_TYPES, normalize
from .namespaces import DMTF_URI_PREFIX, WMI_URI_PREFIX

MACHINE_KINDS = ("guest", "host")


@dataclass(frozen=True)
class CimProperty:
    name: str
    cim_type: str
    is_array: bool = False

    def check(self, value):
        """The state form of ``value`` for this property (arrays as lists); raise ``CimTypeError``."""
        if self.is_array and value is not None:
            return [normalize(self.cim_type, item) for item in value]
        return normalize(self.cim_type, value)


@dataclass(frozen=True)
class CimClass:
    namespace: str
    name: str
    properties: tuple
    keys: tuple
    singleton: bool = False
    machine_kinds: tuple = MACHINE_KINDS
    # Called with the machine before its instances of the class are read (Get, Enumerate, instance Invoke): lets
    # state that changes by itself, such as a job that advances per read or with time, catch up first.
    refresh: object = None

    @cached_property
    def _properties_by_name(self):
        return {prop.name.lower(): prop for prop in self.properties}

    def find_property(self, name):
        """The ``CimProperty`` called ``name`` (case-insensitive), or None."""
        return self._properties_by_name.get(name.lower())

    @property
    def wmi_resource_uri(self):
        return "%s%s/%s" % (WMI_URI_PREFIX, self.namespace, self.name)

    @property
    def dmtf_resource_uri(self):
        return DMTF_URI_PREFIX + self.name

    def new_instance(self, **values):
        """A complete instance: every property present, unknown names refused, values type-checked.

        Datetimes that are not given default to None; give ``cimtypes.NEVER`` explicitly where WMI reports 1601-01-01.
        """
        instance = {prop.name: None for prop in self.properties}
        for name, value in values.items():
            prop = self.find_property(name)
            if prop is None:
                raise ValueError("%s has no property %s" % (self.name, name))
            instance[prop.name] = prop.check(value)
        return instance

    def check_instance(self, instance):
        """Validate a stored instance (from a state file): the exact property set and the types; return it normalised."""
        if not isinstance(instance, dict) or set(instance) != {prop.name for prop in self.properties}:
            raise ValueError("an instance of %s must have exactly the properties of the class" % self.name)
        return {prop.name: prop.check(instance[prop.name]) for prop in self.properties}

    def key_values(self, instance):
        return tuple(instance[key] for key in self.keys)


def parse_properties(spec):
    """``"Name:string Flags:uint16[]"`` -> tuple of ``CimProperty`` sorted as Windows renders them."""
    properties = []
    for token in spec.split():
        name, _colon, cim_type = token.partition(":")
        is_array = cim_type.endswith("[]")
        cim_type = cim_type[:-2] if is_array else cim_type
        if cim_type not in CIM_TYPES:
            raise ValueError("unknown CIM type %r for %s" % (cim_type, name))
        properties.append(CimProperty(name, cim_type, is_array))
    return tuple(sorted(properties, key=lambda prop: prop.name.lower()))


def cim_class(namespace, name, *, keys, properties, singleton=False, machine_kinds=MACHINE_KINDS, refresh=None):
    """Declare a class from the compact property spec; every key must be a declared property. ``machine_kinds=()``
    declares lab-internal state: stored and saved with the machine, never served."""
    parsed = parse_properties(properties)
    declared = {prop.name for prop in parsed}
    missing = [key for key in keys if key not in declared]
    if missing:
        raise ValueError("%s: keys %s are not declared properties" % (name, missing))
    return CimClass(namespace, name, parsed, tuple(keys), singleton, tuple(machine_kinds), refresh)


class ClassRegistry:
    """All classes the lab knows, looked up by namespace and name, case-insensitively."""

    def __init__(self, classes=()):
        self._classes = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls):
        key = (cls.namespace.lower(), cls.name.lower())
        if key in self._classes:
            raise ValueError("class %s/%s is already registered" % (cls.namespace, cls.name))
        self._classes[key] = cls
        return cls

    def lookup(self, namespace, name, machine_kind=None):
        cls = self._classes.get((namespace.lower(), name.lower()))
        if cls is None or (machine_kind is not None and machine_kind not in cls.machine_kinds):
            return None
        return cls

    def has_namespace(self, namespace, machine_kind):
        return any(key[0] == namespace.lower() and machine_kind in cls.machine_kinds for key, cls in self._classes.items())

    def classes(self):
        return tuple(self._classes.values())
