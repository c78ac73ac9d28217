# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The initial CIM state of a machine: one place lists which seed builds which class's instances."""

from . import eventlog, hyperv, seed_licensing, seed_os
from . import registry as guest_registry
from .classes_cimv2 import SOFTWARE_LICENSING_PRODUCT, SOFTWARE_LICENSING_SERVICE, WIN32_COMPUTER_SYSTEM, WIN32_OPERATING_SYSTEM
from .store import CimStore


def initial_store(spec, registry):
    """A new ``CimStore`` holding the instances the fleet file describes for ``MachineSpec`` ``spec``."""
    store = CimStore(registry)
    store.add(WIN32_OPERATING_SYSTEM, seed_os.operating_system(spec))
    store.add(WIN32_COMPUTER_SYSTEM, seed_os.computer_system(spec))
    store.add(SOFTWARE_LICENSING_SERVICE, seed_licensing.licensing_service(spec))
    for row in seed_licensing.licensing_products(spec):
        store.add(SOFTWARE_LICENSING_PRODUCT, row)
    eventlog.seed_events(store, spec)
    guest_registry.seed(store, spec)
    hyperv.seed(store, spec)
    return store
