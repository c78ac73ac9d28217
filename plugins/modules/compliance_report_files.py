#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compliance_report_files
short_description: Build the fleet AVMA compliance report on the controller and write its files
version_added: 0.1.0
description:
  - Decides, from what M(hyperv.avma.host_compliance_info) read from each Hyper-V host (and, where guest access is
    allowed, the guests' M(hyperv.avma.activation_facts)), whether each VM is V(compliant) (with its evidence),
    V(not_compliant) (with the cause) or V(unknown) (saying what would settle it), as
    P(hyperv.avma.compliance_report#filter) does, and writes the report's files in one step.
  - "The files: C(avma-report.json) (the machine-readable source of truth, with its C(schema_version)),
    C(avma-report.csv) (one row per VM) and C(avma-usage.csv) (monthly AVMA usage per host, for SPLA reporting),
    C(avma-report.html) (one self-contained page for people, printable on A4). Each file is written whole, through a
    temporary file and a rename, or not at all."
  - For a sliced job (AWX job slicing, or any run split over host subsets), each slice writes one fragment per host
    into O(fragment_dir) instead (O(hosts) and O(fragment_dir)), and a last run builds the one report from every
    fragment there (O(fragment_dir) without O(hosts)), the same report an unsliced run writes.
  - Used by the P(hyperv.avma.compliance_report#role) role, which gives it what each host answered.
  - Runs on the controller, in the Ansible process, whatever the task's host and connection.
author:
  - hyperv.avma contributors (@hyperv-avma)
options:
  hosts:
    description:
      - The Hyper-V hosts of the report, each with what was read from it.
      - Mutually exclusive with reading fragments; at least one of O(hosts) and O(fragment_dir) is required.
    type: list
    elements: dict
    suboptions:
      name:
        description: The host's inventory name.
        type: str
        required: true
      result:
        description:
          - The result M(hyperv.avma.host_compliance_info) registered for the host, also when it failed or the host
            did not answer (the report then names the host as not read, with the reason). Omitted or null, the host
            is reported as not read in this run.
        type: dict
      guests:
        description:
          - The activation facts (the C(avma) fact of M(hyperv.avma.activation_facts)) of this host's guests that were
            read, by guest name or FQDN. A VM of the host whose guest is found here is judged by its own licence.
        type: dict
        default: {}
  fragment_dir:
    description:
      - A directory on the controller for the fragments of a sliced job. With O(hosts), one fragment per host
        (C(<host>.json), mode 0600, since it holds what the host answered) is written there, and no report. Without
        O(hosts), the report is built from every fragment in it.
    type: path
  dest:
    description:
      - The directory on the controller to write the report's files to; created (mode 0755) when missing. Required
        unless only fragments are written.
    type: path
  formats:
    description:
      - Which files to write. V(csv) writes both C(avma-report.csv) and C(avma-usage.csv).
    type: list
    elements: str
    choices: [json, csv, html]
    default: [json, csv, html]
  renewal_days:
    description:
      - The renewal window in days. An AVMA guest renews its activation every 7 days, so a VM that uses AVMA and
        runs has a request in any 7-day window; an older request says nothing about today.
    type: int
    default: 7
  usage_from:
    description: First calendar month (V(YYYY-MM)) of the usage history; empty, the month of the oldest request read.
    type: str
    default: ""
  usage_to:
    description: Last calendar month (V(YYYY-MM)) of the usage history; empty, the current month.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: Builds the report (so bad input fails) but writes no file and creates no directory.
  diff_mode:
    support: none
    description: The report's files are rewritten whole each run; no diff is shown.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller, in the Ansible process.
notes:
  - The report carries the time it was made, so each run writes its files again and reports a change.
  - The task result carries the summary, scope and problems, not the whole report; read C(avma-report.json) for
    everything.
seealso:
  - module: hyperv.avma.host_compliance_info
  - plugin: hyperv.avma.compliance_report
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read every Hyper-V host, then write one report
  hosts: hyperv_hosts
  gather_facts: false
  tasks:
    - name: Read what the report needs from the host
      hyperv.avma.host_compliance_info:
      register: host_read
      ignore_errors: true
      ignore_unreachable: true

    - name: Write one report of every host of the play, with what each registered
      hyperv.avma.compliance_report_files:
        hosts: >-
          {% set entries = namespace(list=[]) %}{% for name in ansible_play_hosts_all %}{% set entries.list = entries.list
          + [{'name': name, 'result': hostvars[name].host_read | default(none)}] %}{% endfor %}{{ entries.list }}
        dest: /srv/reports/avma
        formats: [json, html]
      run_once: true
      delegate_to: localhost
      register: report

    - name: Show the summary
      ansible.builtin.debug:
        var: report.summary
      run_once: true

- name: Assemble the report of a sliced job from its fragments
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the report
      hyperv.avma.compliance_report_files:
        fragment_dir: /srv/reports/avma-fragments
        dest: /srv/reports/avma
"""

RETURN = r"""
files:
  description: The report's files written (in check mode, that would be written).
  returned: when the report is written
  type: list
  elements: str
  sample: [/srv/reports/avma/avma-report.json, /srv/reports/avma/avma-report.html]
fragments:
  description: The fragments written (in check mode, that would be written), one per host.
  returned: when fragments are written
  type: list
  elements: str
generated_at:
  description: The time of the report (ISO 8601 with zone, whole seconds), the reference of every age and window.
  returned: when the report is written
  type: str
summary:
  description: The report's counts, as in C(avma-report.json).
  returned: when the report is written
  type: dict
  contains:
    hosts:
      description: Hosts in the report.
      type: int
    hosts_failed:
      description: Hosts that could not be read.
      type: int
    hosts_not_ready:
      description: Hosts that cannot activate guests through AVMA (or were not read).
      type: int
    vms:
      description: VMs of the hosts read.
      type: int
    compliant_vms:
      description: VMs compliant, with evidence.
      type: int
    non_compliant_vms:
      description: VMs not compliant, with a cause.
      type: int
    unknown_vms:
      description: VMs whose state nothing read can settle.
      type: int
    problems:
      description: Problems found, hosts' and VMs'.
      type: int
scope:
  description: Which hosts were asked, read and failed, and which guests were read.
  returned: when the report is written
  type: dict
problems:
  description: Every problem, hosts' first, each with C(code), C(host), C(vm), C(message) and C(remedy).
  returned: when the report is written
  type: list
  elements: dict
"""
