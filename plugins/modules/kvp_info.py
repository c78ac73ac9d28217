#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: kvp_info
short_description: Read the Hyper-V Data Exchange (KVP) items of every VM of a host, or of a guest's registry
version_added: 0.1.0
description:
  - With O(scope=host) (the default), run against a Hyper-V host, reads every VM of the host (or those named in
    O(vms)) with its state, its Data Exchange integration service status, and its key-value pair (KVP) items,
    that is the intrinsic items the guest's integration services publish by themselves, the items programs in the guest
    publish, and the items the host pushed to the guest. The intrinsic items are also decoded (fully qualified
    domain name, OS name, version and edition, IPv4 and IPv6 addresses, RDP addresses, integration services version).
  - The host is read with one WS-Management enumeration per WMI class (C(Msvm_ComputerSystem),
    C(Msvm_KvpExchangeComponent), C(Msvm_KvpExchangeComponentSettingData) in C(root/virtualization/v2)), joined on
    the controller, so the number of requests does not grow with the number of VMs beyond the paging of those
    enumerations. No access to the guests is needed.
  - With O(scope=guest), run against a guest, reads the guest's own view of KVP from its registry through
    C(StdRegProv) (keys C(Auto), C(Guest), C(External) and C(Guest\Parameters) under
    C(HKLM\SOFTWARE\Microsoft\Virtual Machine)); one request per key plus one per value.
  - KVP data is written by guests and is not secured. Every item is treated as untrusted input, parsed by property
    name, never by position; XML with a DOCTYPE or entity declarations is refused for that item only; names and
    values are bounded (1024 characters, 1024 items per array); values are returned as plain data and are never
    templated. Items that could not be read, were cut or left out, or hold control characters or template markers are
    listed in C(issues), and a warning says how many there were.
  - KVP data is readable by anyone with access to the host or the guest, whatever C(sensitive) or O(mask_values)
    hide from task output; never store secrets in it.
  - Runs on the controller; see the O(winrm_host) option for how the machine and credentials are chosen.
author:
  - hyperv.avma contributors (@hyperv-avma)
extends_documentation_fragment:
  - hyperv.avma.winrm
  - hyperv.avma.attributes
  - hyperv.avma.attributes.read_only
options:
  scope:
    description:
      - V(host) reads the VMs of the Hyper-V host the task runs against; V(guest) reads the KVP registry keys of the
        Windows guest the task runs against.
    type: str
    choices: [host, guest]
    default: host
  vms:
    description:
      - With O(scope=host), only these VMs, each given by name (case-insensitive) or by VM ID (GUID). Without it,
        every VM of the host.
      - Entries that match no VM are listed in RV(missing_vms) and in a warning.
    type: list
    elements: str
  query:
    description:
      - A JMESPath expression applied to the result on the controller (to RV(host_name), RV(vms) and
        RV(missing_vms), or with O(scope=guest) to RV(guest_registry), RV(intrinsic_facts) and RV(issues)). The
        result then holds only RV(query_result).
      - Needs the Python library C(jmespath) on the controller.
    type: str
  mask_values:
    description:
      - Names or fnmatch patterns (C(*), C(?), C([...]); case-insensitive, as Windows compares registry names) of
        items whose values are replaced by C(********) in the result, in every source (intrinsic, guest, host,
        host-only and the guest's registry keys), before O(query) is applied. Names and the rest of the result are kept.
      - Use it for items pushed with the O(hyperv.avma.kvp_item#module:sensitive) option of kvp_item, which hides
        values from that task's diff only.
      - "Masking is about task output and logs only: KVP is not a secret store. Anyone with administrative access to
        the Hyper-V host (WMI, PowerShell C(Get-VM)) or to the guest (its registry under
        C(HKLM\\SOFTWARE\\Microsoft\\Virtual Machine)) can read every item, whatever C(sensitive) or
        O(mask_values) hide from Ansible."
      - The decoded RV(vms[].intrinsic_facts) and RV(intrinsic_facts) are not masked; mask the intrinsic items they
        come from and leave them out with O(query) if they must not be shown.
    type: list
    elements: str
    default: []
requirements:
  - jmespath on the controller, for O(query)
notes:
  - A VM that does not run has no live Data Exchange component, so its intrinsic and guest items are empty and its
    Data Exchange status is null.
  - Whether Windows renders the embedded item instances as escaped text, CDATA or nested XML is unconfirmed; all three
    are read.
seealso:
  - module: hyperv.avma.kvp_item
  - module: hyperv.avma.host_info
  - name: Msvm_KvpExchangeComponent class
    description: The WMI class of the guest-published items.
    link: https://learn.microsoft.com/windows/win32/hyperv_v2/msvm-kvpexchangecomponent
"""

EXAMPLES = r"""
# In a play on the Hyper-V hosts:
- name: Read the KVP items of every VM of the host
  hyperv.avma.kvp_info:
  register: kvp

- name: Show each VM's fully qualified domain name and addresses
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.intrinsic_facts.fqdn }} {{ item.intrinsic_facts.ipv4_addresses }}"
  loop: "{{ kvp.vms }}"
  loop_control:
    label: "{{ item.name }}"

- name: Only the names of running VMs whose Data Exchange is not OK
  hyperv.avma.kvp_info:
    query: "vms[?state=='running' && data_exchange.status!='OK'].name"
  register: unhealthy

- name: Two VMs, one by name and one by ID
  hyperv.avma.kvp_info:
    vms:
      - web01
      - 5D8B2E7C-3F4A-4B6D-9E1F-2A3B4C5D6E7F

- name: Read every VM, with the values of enrollment tokens and anything under Secret. masked
  hyperv.avma.kvp_info:
    mask_values:
      - EnrollmentToken
      - "Secret.*"

- name: What a guest itself sees in its KVP registry keys
  hyperv.avma.kvp_info:
    scope: guest
  register: guest_kvp
"""

RETURN = r"""
host_name:
  description: Name of the Hyper-V host (its own C(Msvm_ComputerSystem)).
  returned: O(scope=host) and no O(query)
  type: str
  sample: HV01
vms:
  description: The VMs, in the order the host lists them.
  returned: O(scope=host) and no O(query)
  type: list
  elements: dict
  contains:
    name:
      description: Display name of the VM (C(ElementName)).
      type: str
      sample: web01
    id:
      description: VM ID (C(Msvm_ComputerSystem.Name)), upper case.
      type: str
      sample: B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E
    state:
      description: State of the VM (V(running), V(off), V(saved), V(paused), V(starting), V(stopping), ...).
      type: str
      sample: running
    state_code:
      description: C(EnabledState) of the VM.
      type: int
      sample: 2
    data_exchange:
      description: The Data Exchange (Key-Value Pair Exchange) integration service of the VM.
      type: dict
      contains:
        enabled:
          description: Whether the service is switched on in the VM's settings; null when the host did not say.
          type: bool
        status:
          description:
            - Status the running service reports (V(OK), V(No Contact), V(Lost Communication), V(Degraded),
              V(Protocol Mismatch), V(Disabled), ...); null when the VM does not run.
          type: str
          sample: OK
        status_code:
          description: First C(OperationalStatus) code; null when the VM does not run.
          type: int
          sample: 2
        operational_status:
          description: All C(OperationalStatus) codes.
          type: list
          elements: int
    intrinsic_items:
      description: Items the guest's integration services publish by themselves (name -> value).
      type: dict
      sample: {FullyQualifiedDomainName: web01.corp.example, OSName: Windows Server 2022 Datacenter}
    guest_items:
      description: Items programs in the guest publish (name -> value).
      type: dict
    host_items:
      description: Items the host pushed to the guest (C(HostExchangeItems), name -> value).
      type: dict
    host_only_items:
      description: Items the host keeps for itself (C(HostOnlyItems), name -> value).
      type: dict
    intrinsic_facts:
      description: The intrinsic items decoded.
      type: dict
      contains:
        fqdn:
          description: C(FullyQualifiedDomainName).
          type: str
        os_name:
          description: C(OSName).
          type: str
        os_version:
          description: C(OSVersion).
          type: str
          sample: 10.0.20348
        os_build:
          description: C(OSBuildNumber), else the last part of C(OSVersion).
          type: int
          sample: 20348
        os_release:
          description: Windows Server release of that build, or null.
          type: str
          sample: "2022"
        os_edition_sku:
          description: C(OSEditionId), the OperatingSystemSKU.
          type: int
          sample: 8
        os_edition_id:
          description: EditionID of that SKU, or null for SKUs outside the server editions.
          type: str
          sample: ServerDatacenter
        ipv4_addresses:
          description: C(NetworkAddressIPv4) split on semicolons; entries that are not IPv4 addresses are left out and reported.
          type: list
          elements: str
        ipv6_addresses:
          description: C(NetworkAddressIPv6) split on semicolons.
          type: list
          elements: str
        rdp_ipv4_addresses:
          description: C(RDPAddressIPv4) split on semicolons.
          type: list
          elements: str
        rdp_ipv6_addresses:
          description: C(RDPAddressIPv6) split on semicolons.
          type: list
          elements: str
        integration_services_version:
          description: C(IntegrationServicesVersion).
          type: str
    issues:
      description:
        - Problems found in the VM's items, one per item (see RV(issues) for the fields).
      type: list
      elements: dict
missing_vms:
  description:
    - Entries of O(vms) that matched no VM, on this host or elsewhere in its failover cluster.
    - When the cluster could not be read (access denied to C(root/MSCluster)), they are listed here and a warning says
      that another node may run them.
  returned: O(scope=host) and no O(query)
  type: list
  elements: str
owned_elsewhere:
  description:
    - Entries of O(vms) that are VMs of this host's failover cluster running on another node (from
      C(MSCluster_Resource) of type C(Virtual Machine)); read their KVP data on that node.
    - A VM ID is found whatever its cluster role is called (the resource's C(PrivateProperties) name it by C(VmID)); a
      VM name is found when the role or the resource carries it, as Failover Cluster Manager names them until they are
      renamed. Give the VM ID for a VM whose role was renamed.
  returned: O(scope=host) and no O(query)
  type: list
  elements: dict
  contains:
    vm: {description: The entry of O(vms)., type: str}
    owner_node: {description: The node that runs the VM now., type: str}
    vm_id: {description: "The VM's ID from its cluster resource; null when the resource did not give it.", type: str}
guest_registry:
  description: The guest's KVP registry keys, each as name -> value (string values only).
  returned: O(scope=guest) and no O(query)
  type: dict
  contains:
    auto:
      description: C(Auto), the intrinsic items.
      type: dict
    guest:
      description: C(Guest), the items programs in the guest publish.
      type: dict
    external:
      description: C(External), the items the host pushed.
      type: dict
    guest_parameters:
      description: C(Guest\Parameters), what the host says about itself (HostName, VirtualMachineName, ...).
      type: dict
intrinsic_facts:
  description: With O(scope=guest), the items of C(Auto) decoded, with the fields of RV(vms[].intrinsic_facts).
  returned: O(scope=guest) and no O(query)
  type: dict
issues:
  description: With O(scope=guest), problems found in the registry values.
  returned: O(scope=guest) and no O(query)
  type: list
  elements: dict
  contains:
    source:
      description: Where the item is (V(intrinsic), V(guest), V(host), V(host_only), or the registry key).
      type: str
    name:
      description: Name of the item (bounded, control characters escaped), or null when it has none.
      type: str
    code:
      description:
        - V(undecodable), V(unexpected_class), V(missing_name), V(name_too_long), V(duplicate_name) (item left out),
          V(value_truncated) (value cut to 1024 characters), V(too_many_items), V(unexpected_source),
          V(control_characters), V(template_syntax) (item kept), V(invalid_address), V(not_a_string), V(unreadable)
          (a registry value or key whose answer could not be parsed, for example because it holds characters XML
          cannot carry; left out), V(too_large) (the VM's guest-written or host-pushed items do not fit in any answer
          of the host, a C(w:EncodingLimit) fault; those items are left out and every other VM is read).
      type: str
    message:
      description: What was found and what was done about it.
      type: str
query_result:
  description: The result of O(query).
  returned: when O(query) is given
  type: raw
"""

from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import KVP_INFO_SPEC, kvp_info_task
from ansible_collections.hyperv.avma.plugins.module_utils._module import run_module


def main():
    run_module(kvp_info_task, KVP_INFO_SPEC)


if __name__ == "__main__":
    main()
