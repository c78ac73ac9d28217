# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""StdRegProv's static methods, in root/default and root/cimv2, over the machine's ``registry``.

Return values are those of the registry API, as StdRegProv passes them on: 0 success, 2 key (or value, for
DeleteValue) not found, 5 access denied (a key with subkeys for DeleteKey; the integration services' keys for any
write), 6 invalid handle (an unknown hDefKey), 2147749893 WBEM_E_TYPE_MISMATCH (GetStringValue on a value that is not
REG_SZ, GetDWORDValue on one that is not REG_DWORD). A null or empty sSubKeyName is the hive itself. GetStringValue and GetDWORDValue on a
missing value in an existing key return 1, as StdRegProv is commonly seen to do (unconfirmed: treat 1 and 2 alike).
hDefKey defaults to HKEY_LOCAL_MACHINE, as in the MOF. Enumerations of an empty key return 0 and null arrays.

Every successful write is a write (persisted, counted), and a write under the guest's ``Virtual Machine\\Guest``
key is published to its Hyper-V host (``hyperv.guest_registry_changed``).
"""

from . import hyperv
from .methods import MethodResult, method
from .registry import (ERROR_ACCESS_DENIED, ERROR_INVALID_FUNCTION, HKEY_LOCAL_MACHINE, REG_DWORD, REG_SZ,
                       WBEM_E_TYPE_MISMATCH, Registry, RegistryError, is_protected)

KEY_PARAMS = "hDefKey:uint32 sSubKeyName:string"
VALUE_PARAMS = KEY_PARAMS + " sValueName:string"
NAMESPACES = ("root/default", "root/cimv2")


def _call_parts(call):
    params = call.params
    hive = params["hDefKey"] if params["hDefKey"] is not None else HKEY_LOCAL_MACHINE
    return Registry(call.machine.store), hive, params["sSubKeyName"]


def _reading(function):
    """A read: ``function(call, registry, hive, sub_key)`` returns ``(return value, out)``."""
    def handler(call):
        registry, hive, sub_key = _call_parts(call)
        try:
            code, out = function(call, registry, hive, sub_key)
        except RegistryError as error:
            return MethodResult(error.code)
        return MethodResult(code, out)
    return handler


def _writing(function):
    """A write: refused under the integration services' keys; ``function(call, registry, hive, sub_key)``."""
    def handler(call):
        registry, hive, sub_key = _call_parts(call)
        try:
            if is_protected(hive, sub_key):
                return MethodResult(ERROR_ACCESS_DENIED)
            function(call, registry, hive, sub_key)
        except RegistryError as error:
            return MethodResult(error.code)
        hyperv.guest_registry_changed(call.fleet, call.machine)
        return MethodResult(0, wrote=True)
    return handler


@_reading
def enum_key(_call, registry, hive, sub_key):
    return 0, {"sNames": registry.subkeys(hive, sub_key) or None}


@_reading
def enum_values(_call, registry, hive, sub_key):
    values = registry.values(hive, sub_key)
    return 0, {"sNames": [name for name, _type in values] or None, "Types": [value_type for _name, value_type in values] or None}


def _typed_value(registry, hive, sub_key, name, wanted_type):
    found = registry.get(hive, sub_key, name)
    if found is None:
        return ERROR_INVALID_FUNCTION, None
    value_type, data = found
    if value_type != wanted_type:
        return WBEM_E_TYPE_MISMATCH, None
    return 0, data


@_reading
def get_string_value(call, registry, hive, sub_key):
    code, data = _typed_value(registry, hive, sub_key, call.params["sValueName"], REG_SZ)
    return code, {"sValue": data}


@_reading
def get_dword_value(call, registry, hive, sub_key):
    code, data = _typed_value(registry, hive, sub_key, call.params["sValueName"], REG_DWORD)
    return code, {"uValue": None if data is None else int(data)}


@_writing
def set_string_value(call, registry, hive, sub_key):
    registry.set(hive, sub_key, call.params["sValueName"] or "", REG_SZ, call.params["sValue"] or "")


@_writing
def delete_value(call, registry, hive, sub_key):
    registry.delete_value(hive, sub_key, call.params["sValueName"] or "")


@_writing
def create_key(_call, registry, hive, sub_key):
    registry.create_key(hive, sub_key)


@_writing
def delete_key(_call, registry, hive, sub_key):
    registry.delete_key(hive, sub_key)


def _methods(namespace):
    def declare(name, handler, params, out=""):
        return method(namespace, "StdRegProv", name, handler, static=True, params=params, out=out)
    return (
        declare("EnumKey", enum_key, KEY_PARAMS, "sNames:string[]"),
        declare("EnumValues", enum_values, KEY_PARAMS, "sNames:string[] Types:sint32[]"),
        declare("GetStringValue", get_string_value, VALUE_PARAMS, "sValue:string"),
        declare("GetDWORDValue", get_dword_value, VALUE_PARAMS, "uValue:uint32"),
        declare("SetStringValue", set_string_value, VALUE_PARAMS + " sValue:string"),
        declare("DeleteValue", delete_value, VALUE_PARAMS),
        declare("CreateKey", create_key, KEY_PARAMS),
        declare("DeleteKey", delete_key, KEY_PARAMS),
    )


METHODS = tuple(spec for namespace in NAMESPACES for spec in _methods(namespace))
