#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: kvp_item
short_description: Make Hyper-V Data Exchange (KVP) items present or absent, from the host or inside a guest
version_added: 0.1.0
description:
  - With O(scope=host) (the default), run against a Hyper-V host, sets or removes the items the host pushes to VMs
    (C(HostExchangeItems), Source 0) through C(Msvm_VirtualSystemManagementService.AddKvpItems), C(ModifyKvpItems) and
    C(RemoveKvpItems); each call's job is polled to completion, and a failed job fails the task with the VM's name
    and the job's error. Items the guest publishes itself cannot be changed from the host.
  - With O(scope=guest), run against a guest, sets or removes the guest's own KVP registry values under
    C(HKLM\SOFTWARE\Microsoft\Virtual Machine) (key O(key)) through C(StdRegProv); the host then sees the
    C(Guest) values as the VM's guest items. Registry value names compare case-insensitively.
  - Idempotent, since the current items are read first (one enumeration per class on a host), and only what differs is
    sent. A second run changes nothing.
  - Runs on the controller; see the O(winrm_host) option for how the machine and credentials are chosen.
author:
  - hyperv.avma contributors (@hyperv-avma)
extends_documentation_fragment:
  - hyperv.avma.winrm
  - hyperv.avma.attributes
attributes:
  check_mode:
    support: full
    description: Reads the current items and reports what would change, without sending any change.
  diff_mode:
    support: full
    description: Shows the names and values of the changed items, per VM with O(scope=host); values of O(sensitive) items are hidden.
options:
  scope:
    description:
      - V(host) changes the items the host pushes to its VMs; V(guest) changes the registry values of the guest the
        task runs against.
    type: str
    choices: [host, guest]
    default: host
  vms:
    description:
      - With O(scope=host), the VMs to change, each by name (case-insensitive) or VM ID. A name that several VMs
        share is refused, give the ID instead. Exactly one of O(vms) and O(all_vms=true) is required with O(scope=host).
    type: list
    elements: str
  all_vms:
    description:
      - With O(scope=host), change every VM of the host.
    type: bool
    default: false
  state:
    description:
      - V(present) adds the O(items) that are missing and changes those whose value differs.
      - V(absent) removes the items named in O(names) or in O(items), and those matching O(patterns).
    type: str
    choices: [present, absent]
    default: present
  items:
    description:
      - Items as name -> value. Names and values have at most 1024 characters; values are sent as text.
      - Required with O(state=present). With O(state=absent) only the names count.
    type: dict
  names:
    description:
      - With O(state=absent), names of the items to remove (exact; case-insensitive with O(scope=guest)).
    type: list
    elements: str
    default: []
  patterns:
    description:
      - With O(state=absent), glob patterns (C(*), C(?), C([...])) of the names of the items to remove, for example
        V(HyperVAvma.*) for the items this collection publishes.
    type: list
    elements: str
    default: []
  key:
    description:
      - With O(scope=guest), the registry key to change under C(HKLM\SOFTWARE\Microsoft\Virtual Machine), one of
        V(guest) (C(Guest)), V(external) (C(External)) or V(guest_parameters) (C(Guest\Parameters)). C(Auto) belongs
        to the integration services and is never changed.
      - C(External) and C(Guest\\Parameters) hold what the host pushed, so an item removed there from inside the guest
        comes back at the guest's next restart (the host pushes it again). Remove host-pushed items with
        O(scope=host) on the Hyper-V host to remove them for good.
    type: str
    choices: [guest, external, guest_parameters]
    default: guest
  sensitive:
    description:
      - "Names or glob patterns of items whose values are never shown in the diff; V((hidden: sensitive)) is shown
        instead. Values given in O(items) are not returned otherwise."
      - This hides values from this task's output only. The items are stored in clear on the host and in the guest,
        readable by anyone with access to either, and a later M(hyperv.avma.kvp_info) shows them unless its
        O(hyperv.avma.kvp_info#module:mask_values) names them.
    type: list
    elements: str
    default: []
  job_timeout:
    description:
      - With O(scope=host), how long to wait for each job of the host, in seconds. A job still running then fails the
        task (it may still complete on the host).
    type: int
    default: 300
  job_poll_interval:
    description:
      - With O(scope=host), the first wait between two looks at a job, in seconds; it doubles up to 10 seconds.
    type: float
    default: 1.0
notes:
  - The wire form of C(DataItems) (one element per embedded C(Msvm_KvpExchangeDataItem) instance, as escaped CIM-XML
    text) and the shape of the job reference are inferred from Microsoft's documentation and other clients;
    unconfirmed against a capture of a real host.
  - Changes are sent per VM, removals first, at most 128 items per call. When a call fails, the task fails; the
    changes sent before it are listed in RV(changes).
  - A call whose answer is lost (connection reset, or no answer within the read timeout) is never repeated; the items
    are read again. When they show the change, it counts as made and a warning says the answer was lost; when they
    do not, the task fails saying the write may have been applied all the same and how to check. Either way a
    re-run reads the state first and converges.
  - Inside the embedded instances, markup characters are sent as numeric character references (C(&#38;) for C(&)),
    because a real Hyper-V host refuses the named entities (C(&amp;)) there.
  - Item names are refused before anything is written when they would not fit the VMBus key of 512 bytes (UTF-16,
    with its terminating NUL, so 255 characters of the Basic Multilingual Plane), so the guest always receives them whole.
  - The host's return codes are read with their Hyper-V meanings (4096 job started, 32768 failed, 32769 access denied,
    32770 not supported, 32773 invalid parameter, 32775 invalid state); an Add of a name the VM already has is
    answered 32773 at once.
seealso:
  - module: hyperv.avma.kvp_info
  - name: RemoveKvpItems method of the Msvm_VirtualSystemManagementService class
    description: The WMI method that removes host-pushed items.
    link: https://learn.microsoft.com/windows/win32/hyperv_v2/removekvpitems-msvm-virtualsystemmanagementservice
"""

EXAMPLES = r"""
# In a play on the Hyper-V hosts:
- name: Remove the host-pushed items named HyperVAvma.* from every VM of the host
  hyperv.avma.kvp_item:
    all_vms: true
    state: absent
    patterns: ["HyperVAvma.*"]

- name: Push two items to one VM, one of them secret
  hyperv.avma.kvp_item:
    vms: [web01]
    items:
      Role: web
      EnrollmentToken: "{{ vault_enrollment_token }}"
    sensitive: [EnrollmentToken]

- name: Inside a guest, withdraw an item it published
  hyperv.avma.kvp_item:
    scope: guest
    state: absent
    names: [OldInventoryTag]
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
changes:
  description:
    - The changes made (or, in check mode, that would be made), without values.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: V(add), V(modify) or V(remove).
      type: str
    name:
      description: Name of the item (as it exists, for registry values in another case).
      type: str
    vm:
      description: Name of the VM, with O(scope=host).
      type: str
    vm_id:
      description: ID of the VM, with O(scope=host).
      type: str
  sample: [{action: remove, name: HyperVAvma.LicenseStatus, vm: web01, vm_id: B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E}]
"""

from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import KVP_ITEM_SPEC, kvp_item_task
from ansible_collections.hyperv.avma.plugins.module_utils._module import run_module


def main():
    run_module(kvp_item_task, KVP_ITEM_SPEC)


if __name__ == "__main__":
    main()
