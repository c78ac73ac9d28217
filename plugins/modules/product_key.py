#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: product_key
short_description: Install, activate or remove the Windows product key of a Windows Server guest, AVMA by default
version_added: 0.1.0
description:
  - Installs the Automatic Virtual Machine Activation (AVMA) key that fits the guest's Windows Server version and
    edition, or a key you give (for example a MAK, retail or KMS client key that replaces AVMA), and activates
    Windows; or removes the key.
  - Talks to the guest over WS-Management with the WMI calls C(slmgr.vbs) makes
    (C(SoftwareLicensingService.InstallProductKey), C(RefreshLicenseStatus), C(ClearProductKeyFromRegistry),
    C(SoftwareLicensingProduct.Activate), C(UninstallProductKey)); no PowerShell, no text parsing.
  - The version comes from the build number and the edition from C(OperatingSystemSKU) (else the product's
    C(LicenseFamily)); Server Core installs use their edition's key. Guests without a published AVMA key
    (evaluation editions, Windows Server 2004 and 20H2, Essentials of 2022 and 2025) fail with what to do, before
    anything is written. The Windows Server 2025 keys are not confirmed by a Microsoft page the collection could
    read.
  - When the key replaces an AVMA key, the activation data published through Data Exchange (KVP) from the guest can
    be removed with it, see O(clean_stale_kvp).
  - Whether the guest's Hyper-V host can activate it (Datacenter, activated, not older than the guest, Data Exchange
    on) is checked on the host, for example with the C(hyperv.avma.guest_activation) role; this module sees the
    guest only, and reports a failed activation with its decoded reason.
  - An AVMA key (O(key) omitted, V(avma), or an AVMA key given) is refused before anything is written on a machine
    that is not a Hyper-V virtual machine (a physical machine, a Hyper-V host, a VM of another hypervisor), where no
    AVMA key can activate. A Hyper-V VM is recognised by its virtual hardware (C(Win32_ComputerSystem) Manufacturer
    V(Microsoft Corporation) and Model V(Virtual Machine)), or by the values its Hyper-V host publishes into
    C(HKLM\SOFTWARE\Microsoft\Virtual Machine\Guest\Parameters).
  - When the answer to C(InstallProductKey) is lost (connection reset, or no answer within the read timeout), the
    key is read back, and C(changed) then says what the guest really carries, or the task fails saying the key was not
    installed, or that it may have been and how to check.
  - Runs on the controller; see the O(winrm_host) option for how the machine and credentials are chosen.
author:
  - hyperv.avma contributors (@hyperv-avma)
extends_documentation_fragment:
  - hyperv.avma.winrm
  - hyperv.avma.attributes
attributes:
  check_mode:
    support: full
    description:
      - Reads the guest and returns what would change, in RV(actions) and the diff; writes nothing. The same plan
        decides check mode and the real run.
      - Check mode never predicts the licence status after an activation (C(after.license_status) is null), since whether
        it succeeds depends on the Hyper-V host (AVMA) or the activation service. The
        P(hyperv.avma.guest_activation#role) role asks the host first.
  diff_mode:
    support: full
    description: Shows the key (masked down to its last five characters), its channel, the licence status and the KVP items before and after.
options:
  key:
    description:
      - The product key to install, as five groups of five characters separated by hyphens.
      - Omit it, or give V(avma), to install the public AVMA key of the guest's version and edition.
      - An explicit key is never returned nor logged; results and diffs show its last five characters only.
      - An explicit AVMA key must be the one of the guest's version and edition.
      - With O(state=absent), the key to remove; omitted or V(avma), the AVMA key, whichever version it is of.
    type: str
  state:
    description:
      - V(present) installs the key (C(InstallProductKey) and C(RefreshLicenseStatus)) unless the installed Windows
        key already ends with the same five characters.
      - V(absent) uninstalls the Windows key (C(UninstallProductKey)) and clears it from the registry
        (C(ClearProductKeyFromRegistry)) when it is the key O(key) names; any other installed key stays.
    type: str
    choices: [present, absent]
    default: present
  activate:
    description:
      - With O(state=present), activate Windows (C(Activate) on the Windows product and C(RefreshLicenseStatus))
        when the key was installed or Windows is not licensed yet, then wait until it is licensed.
      - When it does not become licensed within O(activation_timeout), the task fails with the decoded reason (for
        example 0xC004FD02, the Hyper-V host is not activated), the latest Event 12309 outcome and what to do next.
    type: bool
    default: true
  activation_timeout:
    description:
      - Seconds to wait for a licensed state after C(Activate). V(0) reads once.
    type: int
    default: 120
  poll_interval:
    description:
      - Seconds between two reads of the licence status while waiting.
    type: int
    default: 5
  clean_stale_kvp:
    description:
      - When the guest ends without an AVMA key (another key installed, or the key removed), remove the activation
        data published through KVP from the guest, that is values of the registry key
        C(HKLM\SOFTWARE\Microsoft\Virtual Machine\Guest) (the items the host sees as the guest's exchange items).
      - Removes the collection's own items (names starting with C(HyperVAvma.)) and those matching
        O(stale_kvp_names). Which items AVMA itself publishes is not documented by Microsoft.
    type: bool
    default: true
  stale_kvp_names:
    description:
      - More guest KVP item names to remove with O(clean_stale_kvp), or glob patterns (C(*), C(?), C([...])),
        compared case-insensitively.
    type: list
    elements: str
    default: []
  replace_key:
    description:
      - What may be replaced with O(state=present) when the guest already holds another key.
      - V(not_licensed) never replaces a key that is not an AVMA key while Windows is Licensed with it (for example a
        deliberate, working MAK or retail key); nothing is written then, not even KVP, and RV(kept) says what was kept. An
        AVMA key, or a key Windows is not Licensed with, is replaced.
      - V(always) replaces any other key.
    type: str
    choices: [not_licensed, always]
    default: not_licensed
    version_added: 0.2.0
  publish_kvp:
    description:
      - When the guest ends with an AVMA key, publish its activation status as guest KVP items, so that the hoster
        can read it from the Hyper-V host without access to the guest; only values that differ are written.
      - The items are C(HyperVAvma.Release), C(HyperVAvma.Edition), C(HyperVAvma.PartialProductKey),
        C(HyperVAvma.Channel), C(HyperVAvma.LicenseStatus), C(HyperVAvma.LicenseStatusReason),
        C(HyperVAvma.HostMachineName) and C(HyperVAvma.LastActivationTime); other C(HyperVAvma.) items are removed.
      - Also done when the activation fails, so that the host sees the failure.
    type: bool
    default: false
notes:
  - A guest's KVP data is not secured; the C(Guest\Parameters) values returned in RV(hyperv_host) are what the host
    wrote there, as untrusted as anything a guest reports.
  - Event 12309 texts are not documented; its outcome is recognised by its words (see C(hyperv.avma.activation_events)).
seealso:
  - module: hyperv.avma.activation_facts
  - module: hyperv.avma.activation_events
  - name: Automatic Virtual Machine Activation in Windows Server
    description: Microsoft's description of AVMA, its keys and its requirements.
    link: https://learn.microsoft.com/windows-server/get-started/automatic-vm-activation
"""

EXAMPLES = r"""
- name: Install the AVMA key of each guest's version and edition and activate it
  hyperv.avma.product_key:

- name: See what would change, with the key masked in the diff
  hyperv.avma.product_key:
  check_mode: true
  diff: true

- name: Replace AVMA by a MAK key and remove the AVMA data published through KVP
  hyperv.avma.product_key:
    key: "{{ vault_mak_key }}"
    stale_kvp_names:
      - "Avma*"

- name: Install the AVMA key without activating, and publish the state for the hoster
  hyperv.avma.product_key:
    key: avma
    activate: false
    publish_kvp: true

- name: Switch every guest to AVMA, also those licensed with a working MAK or retail key
  hyperv.avma.product_key:
    replace_key: always

- name: Remove an AVMA key
  hyperv.avma.product_key:
    state: absent
"""

RETURN = r"""
answer_lost:
  description:
    - Present, and V(true), when the task failed because the answer of one of its writes was lost and the state read
      again does not show that write done. The write may still have been applied; running the task again is safe, as
      it reads the state before it changes anything (the roles of the collection do that once).
  returned: failure
  type: bool
  sample: true
actions:
  description: What the task did, or would do in check mode, one sentence each; keys masked.
  returned: always
  type: list
  elements: str
  sample: ["install the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG (AVMA)", "activate Windows"]
os:
  description: The guest's Windows Server version and edition, as the key was chosen for.
  returned: always
  type: dict
  contains:
    caption:
      description: Product name Windows shows.
      type: str
      sample: Microsoft Windows Server 2022 Datacenter
    version:
      description: Version number.
      type: str
      sample: 10.0.20348
    build:
      description: Build number.
      type: int
      sample: 20348
    release:
      description: Windows Server release of that build, or null for builds the collection does not know.
      type: str
      sample: "2022"
    sku:
      description: C(OperatingSystemSKU).
      type: int
      sample: 8
    edition_id:
      description: EditionID (from the SKU, else the Windows product's C(LicenseFamily)).
      type: str
      sample: ServerDatacenter
hyperv_host:
  description:
    - What the Hyper-V host wrote into the guest's C(Guest\Parameters) KVP key, null where absent. Untrusted.
  returned: always
  type: dict
  contains:
    host_name:
      description: C(HostName).
      type: str
    physical_host_name:
      description: C(PhysicalHostName).
      type: str
      sample: HV2022
    physical_host_name_fully_qualified:
      description: C(PhysicalHostNameFullyQualified).
      type: str
    virtual_machine_name:
      description: C(VirtualMachineName).
      type: str
    virtual_machine_id:
      description: C(VirtualMachineId).
      type: str
before:
  description: The Windows key before the task.
  returned: always
  type: dict
  contains:
    partial_product_key:
      description: Last five characters of the installed key; null when none is installed.
      type: str
      sample: DV9BG
    channel:
      description: C(ProductKeyChannel); what it shows for AVMA keys is unconfirmed.
      type: str
    description_channel:
      description: The channel the product's description names, for example V(VIRTUAL_MACHINE_ACTIVATION) or V(VOLUME_MAK).
      type: str
      sample: VIRTUAL_MACHINE_ACTIVATION
    license_status:
      description: Name of the licence status (V(Licensed), V(Unlicensed), ...).
      type: str
      sample: Licensed
    license_status_reason:
      description: C(LicenseStatusReason) in hexadecimal.
      type: str
      sample: "0x00000000"
    is_avma:
      description: Whether the installed key is an AVMA key.
      type: bool
after:
  description:
    - The Windows key after the task, with the same fields as RV(before).
    - In check mode, what the task expects; fields it cannot know before the key is installed or activated (the licence
      status after an activation) are null.
  returned: always
  type: dict
kept:
  description:
    - The installed key that O(replace_key=not_licensed) kept instead of installing O(key), or null.
  returned: always
  type: dict
  version_added: 0.2.0
  contains:
    partial_product_key:
      description: Last five characters of the key kept.
      type: str
      sample: 2YT43
    channel:
      description: Its channel, as the product's description names it (else C(ProductKeyChannel)).
      type: str
      sample: VOLUME_MAK
    license_status:
      description: Its licence status.
      type: str
      sample: Licensed
    reason:
      description: Why it was kept.
      type: str
kvp:
  description: Guest KVP items (values of the C(Guest) registry key) the task removed or published, or would.
  returned: always
  type: dict
  contains:
    removed:
      description: Names of the items removed.
      type: list
      elements: str
      sample: [HyperVAvma.LicenseStatus]
    published:
      description: Names of the items written.
      type: list
      elements: str
      sample: [HyperVAvma.LicenseStatus]
"""

from ansible_collections.hyperv.avma.plugins.module_utils._guest_licensing import PRODUCT_KEY_SPEC, product_key_task
from ansible_collections.hyperv.avma.plugins.module_utils._module import run_module


def main():
    run_module(product_key_task, PRODUCT_KEY_SPEC)


if __name__ == "__main__":
    main()
