# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WMI methods as data: which class has which method, its parameters, and the Python function that runs it.

A method module (``methods_activation``, ...) declares ``METHODS = (method(...), ...)``; ``method_table`` gathers
them. A handler takes a ``MethodCall`` and returns a ``MethodResult``; a failure the method reports (Windows'
non-zero ReturnValue, HTTP 200) is a result, not an exception. ``MethodResult.wrote`` tells the service that state
changed, so that it counts a write and the server persists the fleet state.
"""

from dataclasses import dataclass, field

from .schema import CimProperty, parse_properties

RETURN_VALUE = CimProperty("ReturnValue", "uint32")


@dataclass(frozen=True)
class MethodSpec:
    namespace: str
    class_name: str
    name: str
    handler: object
    static: bool
    in_params: tuple
    out_params: tuple

    def in_param(self, name):
        for prop in self.in_params:
            if prop.name.lower() == name.lower():
                return prop
        return None

    @property
    def output_types(self):
        types = {prop.name: prop for prop in self.out_params}
        types[RETURN_VALUE.name] = RETURN_VALUE
        return types


@dataclass
class MethodCall:
    """One invocation: the machine, the target class, the instance (None for a static method), the typed input
    parameters (absent ones are None), the authenticated user and the fleet the machine belongs to."""

    machine: object
    cim_class: object
    instance: dict
    params: dict
    user: str
    fleet: object = None


@dataclass
class MethodResult:
    return_value: int
    out: dict = field(default_factory=dict)
    wrote: bool = False


def method(namespace, class_name, name, handler, *, static=False, params="", out=""):
    """Declare a method; ``params``/``out`` use the property spec of ``schema.parse_properties``."""
    return MethodSpec(namespace, class_name, name, handler, static, parse_properties(params), parse_properties(out))


class MethodTable:
    """Methods by (namespace, class, method), case-insensitively."""

    def __init__(self, specs=()):
        self._specs = {}
        for spec in specs:
            self.register(spec)

    @staticmethod
    def _key(namespace, class_name, name):
        return (namespace.lower(), class_name.lower(), name.lower())

    def register(self, spec):
        key = self._key(spec.namespace, spec.class_name, spec.name)
        if key in self._specs:
            raise ValueError("method %s.%s is already registered" % (spec.class_name, spec.name))
        self._specs[key] = spec
        return spec

    def unregister(self, namespace, class_name, name):
        self._specs.pop(self._key(namespace, class_name, name), None)

    def lookup(self, namespace, class_name, name):
        return self._specs.get(self._key(namespace, class_name, name))
