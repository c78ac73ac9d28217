# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of every class the lab serves. A new namespace or class module adds one line here."""

from . import classes_cimv2, classes_cluster, classes_events, classes_registry, classes_virtualization
from .schema import ClassRegistry

REGISTRY = ClassRegistry(classes_cimv2.CLASSES + classes_events.CLASSES + classes_registry.CLASSES
                         + classes_virtualization.CLASSES + classes_cluster.CLASSES)
