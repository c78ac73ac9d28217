# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""StdRegProv, the registry provider class, in root/default (its home) and root/cimv2 (where Windows also serves
it), and the lab-internal class that holds a machine's registry.

StdRegProv has no properties and no instances: its methods are static (``methods_registry``). The registry itself
is stored as one ``REGISTRY_KEY`` instance per key: the full path (``HKLM\\SOFTWARE\\...``, case preserved, compared
case-insensitively) and the key's values as three parallel arrays, in the order they were created.
"""

from .schema import cim_class

STD_REG_PROV_DEFAULT = cim_class("root/default", "StdRegProv", keys=(), properties="")
STD_REG_PROV_CIMV2 = cim_class("root/cimv2", "StdRegProv", keys=(), properties="")

REGISTRY_KEY = cim_class("hvlab", "RegistryKey", keys=("Path",), machine_kinds=(), properties="""
    Path:string ValueNames:string[] ValueTypes:uint32[] ValueData:string[]""")

CLASSES = (STD_REG_PROV_DEFAULT, STD_REG_PROV_CIMV2, REGISTRY_KEY)
