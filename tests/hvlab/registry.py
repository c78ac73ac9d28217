# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A machine's registry: keys, values and the result codes of the Win32 registry API that StdRegProv returns.

Only HKEY_LOCAL_MACHINE holds keys in the lab; the other hives exist and are empty. Keys and value names compare
case-insensitively and keep the case they were created with; subkeys enumerate in case-insensitive order, values in
creation order. Values are REG_SZ or REG_DWORD (data kept as text).

What a guest holds (avma-facts section 6): ``HKLM\\SOFTWARE\\Microsoft\\Virtual Machine\\{Auto, Guest, External,
Guest\\Parameters}`` for a VM, and ``HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion`` on every machine.
Auto, External and Guest\\Parameters belong to the integration services: a write there answers ERROR_ACCESS_DENIED
(the lab's choice; Windows' ACLs on them are unconfirmed).
"""

from .classes_registry import REGISTRY_KEY

HKEY_CLASSES_ROOT = 2147483648
HKEY_CURRENT_USER = 2147483649
HKEY_LOCAL_MACHINE = 2147483650
HKEY_USERS = 2147483651
HKEY_CURRENT_CONFIG = 2147483653
HIVES = {HKEY_CLASSES_ROOT: "HKCR", HKEY_CURRENT_USER: "HKCU", HKEY_LOCAL_MACHINE: "HKLM", HKEY_USERS: "HKU",
         HKEY_CURRENT_CONFIG: "HKCC"}

REG_SZ = 1
REG_DWORD = 4

ERROR_SUCCESS = 0
ERROR_INVALID_FUNCTION = 1
ERROR_FILE_NOT_FOUND = 2
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
WBEM_E_TYPE_MISMATCH = 2147749893

VIRTUAL_MACHINE_KEY = "SOFTWARE\\Microsoft\\Virtual Machine"
AUTO_KEY = VIRTUAL_MACHINE_KEY + "\\Auto"
GUEST_KEY = VIRTUAL_MACHINE_KEY + "\\Guest"
EXTERNAL_KEY = VIRTUAL_MACHINE_KEY + "\\External"
PARAMETERS_KEY = GUEST_KEY + "\\Parameters"
CURRENT_VERSION_KEY = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
PROTECTED_KEYS = (AUTO_KEY, EXTERNAL_KEY, PARAMETERS_KEY)


class RegistryError(Exception):
    """A registry call that fails with ``code`` (a Win32 error or WMI code StdRegProv returns)."""

    def __init__(self, code):
        super().__init__("registry error %d" % code)
        self.code = code


def _clean(sub_key):
    return (sub_key or "").strip("\\")


def _path(hive, sub_key):
    if hive not in HIVES:
        raise RegistryError(ERROR_INVALID_HANDLE)
    sub_key = _clean(sub_key)
    return HIVES[hive] + ("\\" + sub_key if sub_key else "")


def _under(path, ancestor):
    path, ancestor = path.lower(), ancestor.lower()
    return path == ancestor or path.startswith(ancestor + "\\")


def is_protected(hive, sub_key):
    """True for keys a program may not write (the integration services' keys and everything below them)."""
    path = _path(hive, sub_key)
    return any(_under(path, "HKLM\\" + key) for key in PROTECTED_KEYS)


def seed(store, spec):
    """The hive roots and ``Windows NT\\CurrentVersion`` of ``MachineSpec`` ``spec`` (the VM keys: ``hyperv.seed``)."""
    store.extend(REGISTRY_KEY, empty_hives())
    os_spec = spec.os
    registry = Registry(store)
    product = os_spec.caption[len("Microsoft "):] if os_spec.caption.startswith("Microsoft ") else os_spec.caption
    core = os_spec.edition.edition_id.endswith(("Core", "Cor"))
    registry.replace_values(HKEY_LOCAL_MACHINE, CURRENT_VERSION_KEY, [
        ("ProductName", product), ("EditionID", os_spec.edition.edition_id), ("CurrentBuild", str(os_spec.build)),
        ("CurrentBuildNumber", str(os_spec.build)), ("CurrentVersion", "6.3"),
        ("InstallationType", "Server Core" if core else "Server")])
    if os_spec.build > 9600:
        major, minor = os_spec.version_string.split(".")[:2]
        registry.set(HKEY_LOCAL_MACHINE, CURRENT_VERSION_KEY, "CurrentMajorVersionNumber", REG_DWORD, major)
        registry.set(HKEY_LOCAL_MACHINE, CURRENT_VERSION_KEY, "CurrentMinorVersionNumber", REG_DWORD, minor)


def new_key(path):
    return REGISTRY_KEY.new_instance(Path=path, ValueNames=[], ValueTypes=[], ValueData=[])


def empty_hives():
    """The root key of every hive, which a registry always has."""
    return [new_key(name) for name in HIVES.values()]


class Registry:
    """The registry in ``store`` (a machine's ``CimStore``); every method takes a hive number and a sub key path."""

    def __init__(self, store):
        self.store = store

    def _key(self, hive, sub_key):
        return self.store.find(REGISTRY_KEY, {"Path": _path(hive, sub_key)})

    def _existing(self, hive, sub_key):
        key = self._key(hive, sub_key)
        if key is None:
            raise RegistryError(ERROR_FILE_NOT_FOUND)
        return key

    def key_exists(self, hive, sub_key):
        return self._key(hive, sub_key) is not None

    def create_key(self, hive, sub_key):
        """Create the key and any missing parent; an existing key (a hive included) is fine."""
        _path(hive, sub_key)
        parts = [part for part in _clean(sub_key).split("\\") if part]
        for depth in range(1, len(parts) + 1):
            partial = "\\".join(parts[:depth])
            if self._key(hive, partial) is None:
                self.store.add(REGISTRY_KEY, new_key(_path(hive, partial)))

    def subkeys(self, hive, sub_key):
        """Names of the direct subkeys, in case-insensitive order."""
        path = self._existing(hive, sub_key)["Path"]
        prefix = path.lower() + "\\"
        names = [key["Path"][len(prefix):] for key in self.store.instances(REGISTRY_KEY)
                 if key["Path"].lower().startswith(prefix) and "\\" not in key["Path"][len(prefix):]]
        return sorted(names, key=str.lower)

    def delete_key(self, hive, sub_key):
        """RegDeleteKey: a key with subkeys cannot be deleted (ERROR_ACCESS_DENIED), nor can a hive."""
        key = self._existing(hive, sub_key)
        if key["Path"] in HIVES.values() or self.subkeys(hive, sub_key):
            raise RegistryError(ERROR_ACCESS_DENIED)
        self.store.remove(REGISTRY_KEY, key)

    def values(self, hive, sub_key):
        """``[(name, type), ...]`` of the key's values, in creation order."""
        key = self._existing(hive, sub_key)
        return list(zip(key["ValueNames"], key["ValueTypes"]))

    def items(self, hive, sub_key):
        """``[(name, data), ...]`` of the key's REG_SZ values, or ``[]`` when the key does not exist."""
        key = self._key(hive, sub_key)
        if key is None:
            return []
        return [(name, data) for name, value_type, data in zip(key["ValueNames"], key["ValueTypes"], key["ValueData"])
                if value_type == REG_SZ]

    def get(self, hive, sub_key, name):
        """``(type, data)`` of a value; ``RegistryError`` 2 for a missing key, None for a missing value."""
        key = self._existing(hive, sub_key)
        index = _index(key, name)
        return None if index is None else (key["ValueTypes"][index], key["ValueData"][index])

    def set(self, hive, sub_key, name, value_type, data):
        """Create or replace a value; the key must exist (ERROR_FILE_NOT_FOUND otherwise)."""
        key = self._existing(hive, sub_key)
        index = _index(key, name)
        if index is None:
            key["ValueNames"].append(name)
            key["ValueTypes"].append(value_type)
            key["ValueData"].append(data)
        else:
            key["ValueTypes"][index] = value_type
            key["ValueData"][index] = data

    def delete_value(self, hive, sub_key, name):
        key = self._existing(hive, sub_key)
        index = _index(key, name)
        if index is None:
            raise RegistryError(ERROR_FILE_NOT_FOUND)
        for column in ("ValueNames", "ValueTypes", "ValueData"):
            del key[column][index]

    def replace_values(self, hive, sub_key, items):
        """Make the key (created when missing) hold exactly the REG_SZ values ``items`` (``[(name, data), ...]``)."""
        self.create_key(hive, sub_key)
        key = self._key(hive, sub_key)
        key["ValueNames"] = [name for name, _data in items]
        key["ValueTypes"] = [REG_SZ] * len(items)
        key["ValueData"] = [data for _name, data in items]


def _index(key, name):
    wanted = (name or "").lower()
    for index, existing in enumerate(key["ValueNames"]):
        if existing.lower() == wanted:
            return index
    return None
