#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: integration_service
short_description: Switch the Hyper-V Data Exchange integration service on or off for VMs of a host
version_added: 0.1.0
description:
  - Ensures that the Data Exchange (Key-Value Pair Exchange) integration service, which AVMA needs, is enabled (or
    disabled) for the given VMs, or for every VM, of the Hyper-V host the task runs against.
  - Reads the VMs and their settings in two enumerations (C(Msvm_ComputerSystem),
    C(Msvm_KvpExchangeComponentSettingData)), then changes only the VMs whose setting differs, one method call and its
    job per VM. A second run changes nothing.
  - "The change is an embedded C(Msvm_KvpExchangeComponentSettingData) with the VM's C(InstanceID) and the new
    C(EnabledState) (2 enabled, 3 disabled), given to C(Msvm_VirtualSystemManagementService.ModifyResourceSettings),
    as the Hyper-V PowerShell module and a WS-Man client tested against a real host do it. When the host does not
    have that method or refuses the call before starting a job (any return code but 4096), C(ModifyGuestServiceSettings)
    is tried instead, and later VMs go straight to the method that worked. A job that started and failed is not
    retried with the other method."
  - Runs on the controller; see the O(winrm_host) option for how the machine and credentials are chosen.
author:
  - hyperv.avma contributors (@hyperv-avma)
extends_documentation_fragment:
  - hyperv.avma.winrm
  - hyperv.avma.attributes
attributes:
  check_mode:
    support: full
    description: Reads the settings and reports which VMs would change, without changing any.
  diff_mode:
    support: full
    description: Shows the setting before and after, per VM that changes.
options:
  vms:
    description:
      - The VMs, each by name (case-insensitive) or VM ID. A name that several VMs share is refused, give the ID instead.
      - Exactly one of O(vms) and O(all_vms=true) is required.
    type: list
    elements: str
  all_vms:
    description:
      - Every VM of the host.
    type: bool
    default: false
  state:
    description:
      - Whether Data Exchange should be V(enabled) or V(disabled).
    type: str
    choices: [enabled, disabled]
    default: enabled
  job_timeout:
    description:
      - How long to wait for each job of the host, in seconds.
    type: int
    default: 300
  job_poll_interval:
    description:
      - The first wait between two looks at a job, in seconds; it doubles up to 10 seconds.
    type: float
    default: 1.0
notes:
  - A switch whose answer is lost (connection reset, or no answer within the read timeout) is never repeated; the
    VM's setting is read again. When it shows the new state, the VM counts as changed and a warning says the answer
    was lost; when it does not, the task fails saying the switch may have been applied all the same and how to check.
seealso:
  - module: hyperv.avma.host_info
  - name: Msvm_KvpExchangeComponentSettingData class
    description: The WMI class of the Data Exchange setting.
    link: https://learn.microsoft.com/windows/win32/hyperv_v2/msvm-kvpexchangecomponentsettingdata
"""

EXAMPLES = r"""
# In a play on the Hyper-V hosts:
- name: Enable Data Exchange on every VM of the host
  hyperv.avma.integration_service:
    all_vms: true

- name: Disable it for one VM
  hyperv.avma.integration_service:
    vms: [lab-sandbox]
    state: disabled
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
vms:
  description: The selected VMs and their setting.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the VM.
      type: str
    id:
      description: VM ID, upper case.
      type: str
    enabled_before:
      description: Whether Data Exchange was enabled before the task; null when the host did not say.
      type: bool
    enabled:
      description: Whether it is enabled now (in check mode, would be).
      type: bool
    changed:
      description: Whether the task changed (in check mode, would change) this VM.
      type: bool
"""

from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import INTEGRATION_SERVICE_SPEC, integration_service_task
from ansible_collections.hyperv.avma.plugins.module_utils._module import run_module


def main():
    run_module(integration_service_task, INTEGRATION_SERVICE_SPEC)


if __name__ == "__main__":
    main()
