# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Guest licensing operations: what a Windows guest says about its operating system and its licences, read over WMI.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClass, CimProperty, wql_string
from ansible_collections.hyperv.avma.plugins.module_utils._licensing import WINDOWS_APPLICATION_ID, activation_facts

CIMV2 = "root/cimv2"

OPERATING_SYSTEM = CimClass(CIMV2, "Win32_OperatingSystem", (
    CimProperty("Caption", "string"),
    CimProperty("Version", "string"),
    CimProperty("BuildNumber", "string"),
    CimProperty("OperatingSystemSKU", "uint32"),
    CimProperty("ProductType", "uint32"),
    CimProperty("CSName", "string"),
), keys=("Name",))

SOFTWARE_LICENSING_PRODUCT = CimClass(CIMV2, "SoftwareLicensingProduct", (
    CimProperty("ID", "string"),
    CimProperty("ApplicationID", "string"),
    CimProperty("Name", "string"),
    CimProperty("Description", "string"),
    CimProperty("PartialProductKey", "string"),
    CimProperty("ProductKeyChannel", "string"),
    CimProperty("LicenseFamily", "string"),
    CimProperty("LicenseIsAddon", "boolean"),
    CimProperty("LicenseStatus", "uint32"),
    CimProperty("LicenseStatusReason", "uint32"),
    CimProperty("GracePeriodRemaining", "uint32"),
    CimProperty("IAID", "string"),
    CimProperty("AutomaticVMActivationHostMachineName", "string"),
    CimProperty("AutomaticVMActivationLastActivationTime", "datetime"),
), keys=("ID",))

# Rows of the Windows application that carry a key; add-ons are told apart by the domain layer.
_KEYED_WINDOWS_PRODUCTS = "ApplicationID = %s AND PartialProductKey IS NOT NULL" % wql_string(WINDOWS_APPLICATION_ID)


def read_activation_facts(cim):
    """Read the ``avma`` facts of one guest in two WS-Man requests (one query per class).

    Returns the dict of ``_licensing.activation_facts``. Raises the AvmaError subclasses of the CIM client.
    """
    operating_systems = cim.query(OPERATING_SYSTEM)
    products = cim.query(SOFTWARE_LICENSING_PRODUCT, _KEYED_WINDOWS_PRODUCTS)
    operating_system = operating_systems[0] if operating_systems else {}
    return activation_facts(operating_system, products)


ACTIVATION_FACTS_SPEC: dict = {}


def activation_facts_task(cim, params, check_mode, diff):
    """The activation_facts task: read-only, so check mode and diff change nothing."""
    return dict(changed=False, ansible_facts=dict(avma=read_activation_facts(cim)))
