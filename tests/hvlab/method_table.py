# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every WMI method the lab implements. A new method module adds one line here."""

from . import methods_activation, methods_hyperv, methods_registry
from .methods import MethodTable


def default_method_table():
    """A fresh table of all methods (a service owns its table, so tests can add methods without side effects)."""
    return MethodTable(methods_activation.METHODS + methods_hyperv.METHODS + methods_registry.METHODS)
