#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: activation_facts
short_description: Gather the Windows activation facts of a Windows Server guest
version_added: 0.1.0
description:
  - Reads the operating system and the Windows licence of a Windows machine over WS-Management (WMI classes
    C(Win32_OperatingSystem) and C(SoftwareLicensingProduct)) and sets them as the C(avma) fact.
  - Tells whether the machine is activated through Automatic Virtual Machine Activation (AVMA), by which Hyper-V host
    and when, and decodes the AVMA status reasons.
  - The Windows product is the C(SoftwareLicensingProduct) row of the Windows application that carries a key and is
    not an add-on; when several qualify, a licensed row is preferred, then the lowest ID, so the choice is stable.
  - Costs two WS-Management requests per machine after authentication.
  - Runs on the controller; see the O(winrm_host) option for how the machine and credentials are chosen.
author:
  - hyperv.avma contributors (@hyperv-avma)
extends_documentation_fragment:
  - hyperv.avma.winrm
  - hyperv.avma.attributes
  - hyperv.avma.attributes.read_only
attributes:
  facts:
    support: full
    description: Sets the C(avma) fact.
options: {}
seealso:
  - name: Automatic Virtual Machine Activation in Windows Server
    description: Microsoft's description of AVMA, its keys and its requirements.
    link: https://learn.microsoft.com/windows-server/get-started/automatic-vm-activation
"""

EXAMPLES = r"""
# In a play on Windows guests reached through their winrm connection:
- name: Read the activation state
  hyperv.avma.activation_facts:

- name: Show guests that are not activated through AVMA
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}: {{ ansible_facts.avma.windows_product.license_status_name | default('no Windows key') }}"
  when: not (ansible_facts.avma.windows_product.avma_activated | default(false))

- name: Gather activation facts with explicit connection options, from the controller
  hyperv.avma.activation_facts:
    winrm_host: web01.corp.example.com
    winrm_transport: ntlm
    winrm_user: CORP\ansible
    winrm_password: "{{ vault_winrm_password }}"
  delegate_to: localhost

- name: Share connection options between the tasks of a block with module_defaults
  module_defaults:
    group/hyperv.avma.winrm:
      winrm_scheme: https
      winrm_transport: basic
      winrm_user: ansible
      winrm_password: "{{ vault_winrm_password }}"
      winrm_ca_trust_path: /etc/pki/corp-ca.pem
  delegate_to: localhost
  block:
    - name: Read the activation state of one guest
      hyperv.avma.activation_facts:
        winrm_host: web02.corp.example.com
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to the host's facts.
  returned: success
  type: dict
  contains:
    avma:
      description: Operating system and Windows licence of the machine.
      returned: success
      type: dict
      contains:
        os:
          description: The operating system, from C(Win32_OperatingSystem).
          returned: success
          type: dict
          contains:
            caption:
              description: Product name Windows shows.
              type: str
              returned: success
              sample: Microsoft Windows Server 2022 Datacenter
            version:
              description: Version number.
              type: str
              returned: success
              sample: 10.0.20348
            build:
              description: Build number.
              type: int
              returned: success
              sample: 20348
            release:
              description: Windows Server release of that build, or null for builds the collection does not know.
              type: str
              returned: success
              sample: "2022"
            sku:
              description: C(OperatingSystemSKU).
              type: int
              returned: success
              sample: 8
            edition_id:
              description:
                - EditionID of the SKU (for example V(ServerDatacenter), V(ServerStandardCore), V(ServerTurbine));
                  for SKUs outside the server editions AVMA knows, the Windows product's C(LicenseFamily).
              type: str
              returned: success
              sample: ServerDatacenter
        windows_product:
          description: The Windows product, from C(SoftwareLicensingProduct); null when no Windows key is installed.
          returned: success
          type: dict
          contains:
            name:
              description: Product name.
              type: str
              returned: when a Windows key is installed
              sample: Windows(R), ServerDatacenter edition
            description:
              description: Product description; names the key's channel.
              type: str
              returned: when a Windows key is installed
              sample: Windows(R) Operating System, VIRTUAL_MACHINE_ACTIVATION channel
            id:
              description: Product ID (C(SoftwareLicensingProduct.ID)).
              type: str
              returned: when a Windows key is installed
            partial_product_key:
              description: Last five characters of the installed key.
              type: str
              returned: when a Windows key is installed
              sample: DV9BG
            channel:
              description: C(ProductKeyChannel) as Windows reports it; what it shows for AVMA keys is unconfirmed.
              type: str
              returned: when a Windows key is installed
            license_family:
              description: C(LicenseFamily), the edition the key licenses.
              type: str
              returned: when a Windows key is installed
              sample: ServerDatacenter
            license_status:
              description: C(LicenseStatus) code.
              type: int
              returned: when a Windows key is installed
              sample: 1
            license_status_name:
              description: Name of the licence status.
              type: str
              returned: when a Windows key is installed
              sample: Licensed
            license_status_reason:
              description: C(LicenseStatusReason) decoded.
              type: dict
              returned: when a Windows key is installed
              contains:
                code:
                  description: HRESULT as an unsigned number.
                  type: int
                  sample: 3221552386
                hex:
                  description: HRESULT in hexadecimal.
                  type: str
                  sample: "0xC004FD02"
                meaning:
                  description: What the code means, for no error and the AVMA codes 0xC004FD00 to 0xC004FD04; null otherwise.
                  type: str
                  sample: the Hyper-V host is not activated
                next_step:
                  description: What to do about an AVMA code; null otherwise.
                  type: str
                  sample: activate the Hyper-V host, then activate the guest again
            grace_period_minutes:
              description: C(GracePeriodRemaining), in minutes.
              type: int
              returned: when a Windows key is installed
            is_avma_key:
              description: Whether the installed key is an AVMA key (its description names the VIRTUAL_MACHINE_ACTIVATION channel).
              type: bool
              returned: when a Windows key is installed
            avma_activated:
              description: Whether the machine is licensed through an AVMA key.
              type: bool
              returned: when a Windows key is installed
            avma_host_machine_name:
              description: Hyper-V host that last activated the machine through AVMA; null when none did.
              type: str
              returned: when a Windows key is installed
              sample: HV01
            avma_last_activation_time:
              description: Time of the last AVMA activation (ISO 8601); null when none happened.
              type: str
              returned: when a Windows key is installed
              sample: "2026-11-20T08:30:00+00:00"
            iaid:
              description: C(IAID), the inherited activation ID of an AVMA activation; null when none.
              type: str
              returned: when a Windows key is installed
"""

from ansible_collections.hyperv.avma.plugins.module_utils._guest_licensing import ACTIVATION_FACTS_SPEC, activation_facts_task
from ansible_collections.hyperv.avma.plugins.module_utils._module import run_module


def main():
    run_module(activation_facts_task, ACTIVATION_FACTS_SPEC)


if __name__ == "__main__":
    main()
