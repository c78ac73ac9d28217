#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_info
short_description: Tell whether a Hyper-V host can activate its guests through AVMA, and what to do if not
version_added: 0.1.0
description:
  - Reads the AVMA readiness of a Hyper-V host over WS-Management, that is its Windows Server edition, version and build,
    whether it is activated, whether the Hyper-V role is installed, which guest versions it can activate, and the Data
    Exchange integration service of each of its VMs.
  - Returns a list of problems, each with what to do about it, and C(ready=true) when there are none. AVMA needs a
    Windows Server Datacenter host that is itself activated, has Hyper-V, and runs the guest's version or a newer one;
    each guest needs Data Exchange (Key-Value Pair Exchange) enabled.
  - On a node of a failover cluster, every other node is asked whether it is activated too (Microsoft requires every
    node to be activated for guests to stay activated wherever they run), over WS-Management with the same
    connection settings; see O(cluster_node_addresses).
  - Costs seven WS-Management requests (beyond paging), whatever the number of VMs, plus two on each other cluster
    node; three when Hyper-V is not installed.
  - Runs on the controller; see the O(winrm_host) option for how the machine and credentials are chosen.
author:
  - hyperv.avma contributors (@hyperv-avma)
extends_documentation_fragment:
  - hyperv.avma.winrm
  - hyperv.avma.attributes
  - hyperv.avma.attributes.read_only
options:
  check_cluster_nodes:
    description:
      - Read the failover cluster's nodes (C(MSCluster_Node) in C(root/MSCluster)) and ask every other node whether it
        is activated. A host outside a cluster (no C(root/MSCluster) namespace) is not affected.
      - Reading the cluster takes read access to the cluster (C(Grant-ClusterAccess -ReadOnly)) and to the WMI namespace
        C(root/MSCluster). When the host refuses it (access denied) or cannot answer for it, the task still succeeds.
        C(cluster.checked) is then false, the problem V(cluster_not_checked) and a warning say why, and nothing is
        claimed about the other nodes.
      - Reading the cluster over WS-Management is unconfirmed on a real cluster; the live suite reports what it shows.
    type: bool
    default: true
  cluster_node_addresses:
    description:
      - Where to reach cluster nodes, by node name (any case) as V(address), V(address:port) or V([IPv6]:port). A node
        not listed is reached by its name, on the port of this connection.
    type: dict
    default: {}
notes:
  - Hyper-V is taken to be installed when the C(Win32_OptionalFeature) C(Microsoft-Hyper-V) is enabled. When it is
    enabled but the WMI namespace C(root/virtualization/v2) does not answer (a restart is pending, the management
    service is stopped), the problem C(hyperv_unavailable) is reported.
  - Which versions a 2025 host can activate follows Microsoft's rule (its own version and older); Microsoft's table
    does not list 2025 yet (unconfirmed).
seealso:
  - module: hyperv.avma.integration_service
  - module: hyperv.avma.kvp_info
  - name: Automatic Virtual Machine Activation in Windows Server
    description: Microsoft's description of AVMA, its keys and its requirements.
    link: https://learn.microsoft.com/windows-server/get-started/automatic-vm-activation
"""

EXAMPLES = r"""
- name: Check the AVMA readiness of the Hyper-V hosts
  hosts: hyperv_hosts
  gather_facts: false
  tasks:
    - name: Read readiness
      hyperv.avma.host_info:
      register: readiness

    - name: Say what to do on hosts that are not ready
      ansible.builtin.debug:
        msg: "{{ readiness.problems | map(attribute='remedy') | list }}"
      when: not readiness.ready

    - name: Fail when a guest of this version could not be activated here
      ansible.builtin.assert:
        that: "'2022' in readiness.can_activate_releases"
"""

RETURN = r"""
host:
  description: The host.
  returned: success
  type: dict
  contains:
    name:
      description: Computer name (C(Win32_OperatingSystem.CSName)).
      type: str
      sample: HV01
    os:
      description: The operating system, with the fields of the C(os) part of M(hyperv.avma.activation_facts).
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
          description: Windows Server release of that build, or null.
          type: str
          sample: "2022"
        sku:
          description: C(OperatingSystemSKU).
          type: int
          sample: 8
        edition_id:
          description: EditionID.
          type: str
          sample: ServerDatacenter
    is_datacenter:
      description: Whether the host runs a Datacenter edition (Server Core included), the only one that can activate guests.
      type: bool
    activated:
      description: Whether the host's own Windows licence is Licensed.
      type: bool
    license_status_name:
      description: Name of the host's licence status; null when no Windows key is installed.
      type: str
      sample: Licensed
    hyperv_installed:
      description: Whether the Hyper-V role is installed (enabled).
      type: bool
can_activate_releases:
  description:
    - The guest releases this host can activate, newest first; empty for a host that is not Datacenter or whose
      release is unknown. The host must still be activated (see RV(problems)).
  returned: success
  type: list
  elements: str
  sample: ["2022", "1909", "1903", "2019", "1803", "1709", "2016", "2012 R2"]
vms:
  description: The host's VMs and their Data Exchange integration service.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Display name of the VM.
      type: str
    id:
      description: VM ID, upper case.
      type: str
    state:
      description: State of the VM (V(running), V(off), V(saved), ...).
      type: str
    state_code:
      description: C(EnabledState) of the VM.
      type: int
    data_exchange_enabled:
      description: Whether Data Exchange is switched on for the VM; null when the host did not say.
      type: bool
    data_exchange_status:
      description: Status the running service reports (V(OK), V(No Contact), ...); null when the VM does not run.
      type: str
    data_exchange_status_code:
      description: First C(OperationalStatus) code of the service; null when the VM does not run.
      type: int
vms_with_data_exchange_off:
  description: Names of the VMs whose Data Exchange is switched off.
  returned: success
  type: list
  elements: str
problems:
  description: Why the host or its VMs cannot take part in AVMA, each with what to do; empty when ready.
  returned: success
  type: list
  elements: dict
  contains:
    code:
      description:
        - V(host_release_unknown), V(host_not_datacenter), V(host_not_activated), V(hyperv_missing),
          V(hyperv_unavailable), and per VM V(data_exchange_off) and V(data_exchange_not_ok) (a running VM whose Data
          Exchange reports a status other than OK or Degraded; Degraded means the exchange works with an older
          protocol version, typically older integration services in the guest), per other cluster node
          V(cluster_node_not_activated) and V(cluster_node_unchecked), and V(cluster_not_checked) when the failover
          cluster itself could not be read (so the other nodes are not known).
      type: str
    message:
      description: What is wrong.
      type: str
    remedy:
      description: What to do about it.
      type: str
    vm:
      description: The VM the problem is about; null for problems of the host.
      type: str
cluster:
  description: The host's failover cluster, or null when it is not a cluster node (or O(check_cluster_nodes=false)).
  returned: success
  type: dict
  contains:
    checked:
      description: Whether the cluster could be read; false when the host refused it (access denied) or failed to answer for it.
      type: bool
    error:
      description: Why the cluster could not be read; null when it was.
      type: str
    nodes:
      description: Every node, this one included; empty when the cluster could not be read.
      type: list
      elements: dict
      contains:
        name: {description: The node's name., type: str}
        state: {description: "V(up), V(down), V(paused), V(joining), or unknown (N).", type: str}
        checked: {description: Whether its activation could be read., type: bool}
        activated: {description: Whether its Windows product is Licensed; null when not checked., type: bool}
        release: {description: Its Windows Server release (other nodes only)., type: str}
        edition_id: {description: Its EditionID (other nodes only)., type: str}
        error: {description: Why it could not be checked; null otherwise., type: str}
ready:
  description: True when there are no problems.
  returned: success
  type: bool
"""

from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import HOST_INFO_SPEC, host_info_task
from ansible_collections.hyperv.avma.plugins.module_utils._module import run_module


def main():
    run_module(host_info_task, HOST_INFO_SPEC)


if __name__ == "__main__":
    main()
