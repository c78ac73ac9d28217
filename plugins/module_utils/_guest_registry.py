# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A guest's registry over WMI (``StdRegProv``, root/cimv2), as the guest-scope KVP items need it: the keys under
``HKLM\\SOFTWARE\\Microsoft\\Virtual Machine`` (``Auto``, ``Guest``, ``External``, ``Guest\\Parameters``).

StdRegProv is a class with static methods: each call is one WS-Man Invoke on the class, without selectors. Its
ReturnValue is a Win32 error code (0 success, 2 not found, 5 access denied, ...). What the guest wrote there is
untrusted: ``read_string_values`` bounds how much is read.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClass, CimClient, return_value_meaning
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaError, AvmaValueError, CimMethodError, WsmanProtocolError

HKLM = 2147483650  # HKEY_LOCAL_MACHINE as StdRegProv's hDefKey
HIVE_NAMES = {2147483648: "HKCR", 2147483649: "HKCU", HKLM: "HKLM", 2147483651: "HKU", 2147483653: "HKCC"}

KVP_ROOT = r"SOFTWARE\Microsoft\Virtual Machine"
KVP_KEYS = {
    "auto": KVP_ROOT + r"\Auto",
    "guest": KVP_ROOT + r"\Guest",
    "external": KVP_ROOT + r"\External",
    "guest_parameters": KVP_ROOT + r"\Guest\Parameters",
}

STD_REG_PROV = CimClass("root/cimv2", "StdRegProv")

# Registry value types EnumValues reports.
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11

SUCCESS = 0
NOT_FOUND = 2
# What StdRegProv's Get*Value methods are commonly seen to return for a value missing from an existing key
# (ERROR_INVALID_FUNCTION); unconfirmed, so it reads as "not found" like 2.
VALUE_MISSING = 1
_MAX_KEY_PATH_CHARS = 255 * 8  # depth is bounded by the registry itself; this only refuses nonsense early
_MAX_VALUE_NAME_CHARS = 16383  # the registry's own limit

# KVP items are at most 1024 characters of name and of data each (avma-facts section 6); a guest can write more.
DEFAULT_MAX_VALUES = 128
DEFAULT_MAX_LENGTH = 1024


class GuestRegistryError(AvmaError):
    """A StdRegProv method answered with a Win32 error: ``return_value`` and its ``meaning``, for ``key_path`` (and
    ``value_name``)."""

    def __init__(self, *, method: str, return_value: int, hive: int, key_path: str, value_name: str | None = None,
                 machine: str | None = None) -> None:
        self.method = method
        self.return_value = return_value
        self.meaning = return_value_meaning(return_value)
        self.key_path = key_path
        self.value_name = value_name
        where = "%s\\%s" % (HIVE_NAMES.get(hive, str(hive)), key_path) + (" value %r" % value_name if value_name is not None else "")
        super().__init__("StdRegProv.%s on %s returned %d (%s)" % (method, where, return_value, self.meaning),
                         machine=machine, operation="Invoke StdRegProv.%s" % method)


def _check_key_path(key_path):
    if not isinstance(key_path, str) or not key_path.strip("\\") or "\x00" in key_path or len(key_path) > _MAX_KEY_PATH_CHARS:
        raise AvmaValueError("invalid registry key path %r" % (key_path,))
    return key_path.strip("\\")


def _check_value_name(name):
    if not isinstance(name, str) or "\x00" in name or len(name) > _MAX_VALUE_NAME_CHARS:
        raise AvmaValueError("invalid registry value name %r" % (name,))
    return name


def _as_list(value):
    """An output array as a list: WS-Man renders a one-element array like a scalar, and an empty one as nil."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _call(cim, method, hive, key_path, params, *, value_name=None, allowed=(SUCCESS,)):
    """Invoke a StdRegProv method; a ReturnValue outside ``allowed`` raises GuestRegistryError.
    Returns (return value, outputs)."""
    try:
        result = cim.invoke(STD_REG_PROV, method, dict(hDefKey=hive, sSubKeyName=key_path, **params), success_codes=allowed)
    except CimMethodError as error:
        raise GuestRegistryError(method=method, return_value=error.return_value, hive=hive, key_path=key_path, value_name=value_name,
                                 machine=error.machine) from error
    return result.return_value, result.outputs


def enum_keys(cim: CimClient, key_path: str, *, hive: int = HKLM) -> list[str]:
    """Names of the subkeys of ``key_path``; empty when the key does not exist. Raises GuestRegistryError."""
    key_path = _check_key_path(key_path)
    code, outputs = _call(cim, "EnumKey", hive, key_path, {}, allowed=(SUCCESS, NOT_FOUND))
    if code == NOT_FOUND:
        return []
    return [str(name) for name in _as_list(outputs.get("sNames"))]


def enum_values(cim: CimClient, key_path: str, *, hive: int = HKLM) -> list[tuple[str, int]]:
    """(name, registry type) of each value of ``key_path``; empty when the key does not exist or has no values.
    Raises GuestRegistryError, WsmanProtocolError when names and types do not pair up."""
    key_path = _check_key_path(key_path)
    code, outputs = _call(cim, "EnumValues", hive, key_path, {}, allowed=(SUCCESS, NOT_FOUND))
    if code == NOT_FOUND:
        return []
    names = [str(name) for name in _as_list(outputs.get("sNames"))]
    types = _as_list(outputs.get("Types"))
    if len(types) != len(names):
        raise WsmanProtocolError("StdRegProv.EnumValues on %s returned %d names but %d types" % (key_path, len(names), len(types)))
    try:
        return [(name, int(str(kind).strip())) for name, kind in zip(names, types)]
    except ValueError as exc:
        raise WsmanProtocolError("StdRegProv.EnumValues on %s returned a type that is not a number" % key_path) from exc


def get_string_value(cim: CimClient, key_path: str, name: str, *, hive: int = HKLM) -> str | None:
    """The string value ``name`` of ``key_path``; None when the key or the value does not exist.
    Raises GuestRegistryError (access denied, not a string value, ...)."""
    key_path = _check_key_path(key_path)
    code, outputs = _call(cim, "GetStringValue", hive, key_path, dict(sValueName=_check_value_name(name)), value_name=name,
                          allowed=(SUCCESS, NOT_FOUND, VALUE_MISSING))
    if code in (NOT_FOUND, VALUE_MISSING):
        return None
    value = outputs.get("sValue")
    return None if value is None else str(value)


def read_string_values(cim: CimClient, key_path: str, *, hive: int = HKLM, max_values: int = DEFAULT_MAX_VALUES,
                       max_length: int = DEFAULT_MAX_LENGTH) -> dict[str, str]:
    """The string values (REG_SZ, REG_EXPAND_SZ) of ``key_path`` as name -> value, bounded because a guest writes
    them: names longer than ``max_length`` are skipped, values are cut to ``max_length`` characters, and at most
    ``max_values`` values are read (in the order EnumValues gives). Costs one request plus one per value read.
    A value deleted between the listing and the read is left out. Raises GuestRegistryError."""
    if max_values < 0 or max_length < 1:
        raise AvmaValueError("max_values (%r) must not be negative and max_length (%r) must be positive" % (max_values, max_length))
    values = {}
    for name, kind in enum_values(cim, key_path, hive=hive):
        if len(values) >= max_values:
            break
        if kind not in (REG_SZ, REG_EXPAND_SZ) or len(name) > max_length:
            continue
        value = get_string_value(cim, key_path, name, hive=hive)
        if value is not None:
            values[name] = value[:max_length]
    return values


def set_string_value(cim: CimClient, key_path: str, name: str, value: str, *, hive: int = HKLM) -> None:
    """Write ``value`` as the REG_SZ value ``name`` of ``key_path`` (which must exist). Raises GuestRegistryError."""
    key_path = _check_key_path(key_path)
    if not isinstance(value, str) or "\x00" in value:
        raise AvmaValueError("registry value %r: the data must be a string without NUL characters" % (name,))
    _call(cim, "SetStringValue", hive, key_path, dict(sValueName=_check_value_name(name), sValue=value), value_name=name)


def delete_value(cim: CimClient, key_path: str, name: str, *, hive: int = HKLM) -> bool:
    """Delete the value ``name`` of ``key_path``: True when it existed, False when there was nothing to delete.
    Raises GuestRegistryError."""
    key_path = _check_key_path(key_path)
    code, _outputs = _call(cim, "DeleteValue", hive, key_path, dict(sValueName=_check_value_name(name)), value_name=name,
                           allowed=(SUCCESS, NOT_FOUND))
    return code == SUCCESS
