#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_compliance_info
short_description: Read in one task what an AVMA compliance report needs from a Hyper-V host
version_added: 0.1.0
description:
  - Reads, over one WS-Management session, what the C(hyperv.avma.compliance_report) role needs from a Hyper-V
    host; a play that would run M(hyperv.avma.host_info), M(hyperv.avma.kvp_info) and
    M(hyperv.avma.activation_events) one after the other authenticates once instead of three times.
  - The host's AVMA readiness as M(hyperv.avma.host_info) gives it (RV(host_info)); every VM with what the report reads
    of its KVP data (RV(kvp)); and the AVMA requests the host answered (Event 12310, RV(events)).
  - Only what the report reads comes back, so that a fleet's answers stay small on the controller (a report moves
    every host's answer through Ansible) - of each VM its identity, state, Data Exchange, the decoded intrinsic facts,
    the issues found in its KVP data and, of the items its guest wrote, only those the collection publishes
    (C(HyperVAvma.*)); of each event its time, record number, insertion strings and the outcome decoded from its
    codes. For every KVP item use M(hyperv.avma.kvp_info); for the events' messages, M(hyperv.avma.activation_events).
  - A host without a working Hyper-V (readiness problems C(hyperv_missing) or C(hyperv_unavailable)) has no VMs to
    read, so RV(kvp) then lists none and RV(host_info) says why; its events are still read.
  - KVP values are data written by guests, returned as plain data, bounded and checked as by
    M(hyperv.avma.kvp_info), and a VM whose items cannot be read is reported in its C(issues) without hiding the others.
  - Costs the requests of the three modules together (eleven on a host with no cluster, beyond paging), and one
    authentication.
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
      - As in M(hyperv.avma.host_info), read the failover cluster's nodes and ask every other node whether it is
        activated.
    type: bool
    default: true
  cluster_node_addresses:
    description:
      - As in M(hyperv.avma.host_info), where to reach cluster nodes, by node name, as V(address), V(address:port) or
        V([IPv6]:port).
    type: dict
    default: {}
  events_since:
    description:
      - Only Events 12310 generated at or after this time, a duration back from now on the controller's clock (V(90s),
        V(30m), V(12h), V(7d), V(2w)) or an ISO 8601 time (without an offset, UTC), as O(hyperv.avma.activation_events#module:since).
    type: str
    default: 90d
  max_events:
    description:
      - At most this many Events 12310 are returned (1 to 10000), the newest ones; RV(events.limited) tells when older
        ones were left out.
    type: int
    default: 1000
notes:
  - Check mode and diff change nothing, since the module only reads.
seealso:
  - module: hyperv.avma.host_info
  - module: hyperv.avma.kvp_info
  - module: hyperv.avma.activation_events
"""

EXAMPLES = r"""
- name: Read what the compliance report needs from each Hyper-V host
  hosts: hyperv_hosts
  gather_facts: false
  tasks:
    - name: Read readiness, KVP and AVMA requests in one task
      hyperv.avma.host_compliance_info:
        events_since: 30d
      register: host_read

    - name: Show the VMs with Data Exchange off and the number of AVMA requests answered
      ansible.builtin.debug:
        msg: "{{ host_read.host_info.vms_with_data_exchange_off }}; {{ host_read.events.count }} requests"
"""

RETURN = r"""
host_info:
  description: The host's AVMA readiness, as the result of M(hyperv.avma.host_info) (C(host), C(cluster),
    C(can_activate_releases), C(vms), C(vms_with_data_exchange_off), C(problems), C(ready)).
  returned: success
  type: dict
kvp:
  description: Every VM of the host with what the report reads of its KVP data; no VMs on a host without a working
    Hyper-V.
  returned: success
  type: dict
  contains:
    host_name:
      description: The host's name, as Hyper-V gives it.
      type: str
    vms:
      description:
        - Each VM as M(hyperv.avma.kvp_info) returns it, with C(name), C(id), C(state) and C(issues); of
          C(data_exchange) only C(enabled); of C(intrinsic_facts) only C(fqdn), C(os_name), C(os_release),
          C(os_edition_id) and C(ipv4_addresses); and C(guest_items) holding only the collection's own items
          (C(HyperVAvma.*)); without the other item maps.
      type: list
      elements: dict
    missing_vms:
      description: Always empty here (no VM is asked for by name).
      type: list
      elements: str
    owned_elsewhere:
      description: Always empty here (no VM is asked for by name).
      type: list
      elements: dict
events:
  description: The AVMA requests the host answered (Event 12310), newest first.
  returned: success
  type: dict
  contains:
    events:
      description:
        - Each event with C(time_generated), C(record_number), C(event_id), C(insertion_strings), C(outcome) (decoded
          from its codes, as M(hyperv.avma.activation_events) decodes it) and C(truncated); without the message and
          the raw properties.
      type: list
      elements: dict
    count:
      description: How many events were returned.
      type: int
    since:
      description: The start of the window (ISO 8601).
      type: str
    limited:
      description: Whether more events matched than O(max_events), so older ones were left out.
      type: bool
"""

from ansible_collections.hyperv.avma.plugins.module_utils._host_compliance import HOST_COMPLIANCE_INFO_SPEC, host_compliance_info_task
from ansible_collections.hyperv.avma.plugins.module_utils._module import run_module


def main():
    run_module(host_compliance_info_task, HOST_COMPLIANCE_INFO_SPEC)


if __name__ == "__main__":
    main()
