#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: activation_events
short_description: Read the AVMA events of a guest (12309) or a Hyper-V host (12310)
version_added: 0.1.0
description:
  - Reads Event 12309 (written by a guest for each AVMA attempt, with its outcome) and Event 12310 (written by a
    Hyper-V host for each AVMA request it served) from the classic Application log, with a WQL query on
    C(Win32_NTLogEvent) over WS-Management.
  - The query carries the bounds (log, event IDs, O(since)). Every event inside them is read, sorted newest first,
    and only then cut at O(max_events), because the order in which Windows enumerates C(Win32_NTLogEvent) is not
    documented and stopping early could drop the newest events.
  - What a large Application log costs, measured against lab guests (C(tests/benchmarks/event_log_cost.py), run as
    C(.venv/bin/python tests/benchmarks/event_log_cost.py), NTLM over HTTP, 2 shared CPU cores). Every event inside
    the window travels and is parsed on the controller. 1,000 matching events cost 2 WS-Man requests, 0.9 MB and 0.13 s
    of controller CPU. 10,000 cost 18 requests, 9.1 MB and 1.0 s. 100,000, the most one call reads, cost 178 requests,
    91 MB and 9.3 s (56 s in all against the lab). Events outside the window do not travel. With 10 matching events
    among 1,000, 10,000 or 100,000 in the log, a call costs one request of about 10 KB and 0.01 s of controller CPU.
  - Windows answers the query by reading the whole Application log, whatever the bounds, so the time one call takes
    on the machine grows with the size of its Application log (not measured against real Windows, since the lab
    filters its log in memory; the live suite shows it). Narrow the window with O(since) so that few events have to travel,
    and raise O(winrm_operation_timeout_sec) for machines with very large logs.
  - The provider, message texts and insertion strings of these events are not documented by Microsoft, so every
    event is returned raw as well as decoded. The outcome is decoded from the codes first (the event ID, and the
    result HRESULT in an insertion string or the message), so events written in any display language are decoded;
    the English outcome words (AVMA Success, Invalid Host, Invalid Data, Activation Denied) only decide where a code
    fits two outcomes, or when an event carries no code.
  - Runs on the controller; see the O(winrm_host) option for how the machine and credentials are chosen.
author:
  - hyperv.avma contributors (@hyperv-avma)
extends_documentation_fragment:
  - hyperv.avma.winrm
  - hyperv.avma.attributes
  - hyperv.avma.attributes.read_only
options:
  event_ids:
    description:
      - Event IDs to read from the Application log.
    type: list
    elements: int
    default: [12309, 12310]
  since:
    description:
      - Only events generated at or after this time.
      - A duration back from now on the controller's clock (V(90s), V(30m), V(12h), V(7d), V(2w)), or an ISO 8601
        time (V(2026-11-20T08:00:00Z); without an offset, UTC).
      - The comparison uses the machine's event times, so a machine clock far from the controller's shifts the window.
      - Without it, every AVMA event the log still holds is read, and the newest O(max_events) are returned.
    type: str
  max_events:
    description:
      - At most this many events are returned (1 to 10000), the newest ones. The events inside the window are all read
        and sorted first (at most 100000 of them). RV(limited) tells when older events were left out.
    type: int
    default: 100
notes:
  - Event texts are written by other software and are bounded here (message 8192 characters, 64 insertion strings of
    2048 characters, other texts 512); RV(events[].truncated) tells when something was cut.
seealso:
  - module: hyperv.avma.product_key
  - module: hyperv.avma.activation_facts
"""

EXAMPLES = r"""
- name: AVMA outcomes of the last week on each guest
  hyperv.avma.activation_events:
    event_ids: [12309]
    since: 7d
  register: guest_events

- name: Show failed attempts
  ansible.builtin.debug:
    msg: "{{ item.time_generated }} {{ item.outcome.text }}: {{ item.outcome.next_step }}"
  loop: "{{ guest_events.events | selectattr('outcome') | rejectattr('outcome.success') }}"
  loop_control:
    label: "{{ item.record_number }}"

- name: AVMA requests a Hyper-V host served since a given time
  hyperv.avma.activation_events:
    event_ids: [12310]
    since: "2026-11-01T00:00:00Z"
    max_events: 1000
"""

RETURN = r"""
events:
  description: The events, newest first (by time generated, then by record number).
  returned: success
  type: list
  elements: dict
  contains:
    time_generated:
      description: When the event was generated (ISO 8601).
      type: str
      sample: "2026-11-20T08:30:00+00:00"
    time_written:
      description: When it was written to the log (ISO 8601).
      type: str
    record_number:
      description: Record number in the Application log.
      type: int
      sample: 4711
    provider:
      description: C(SourceName), the provider that wrote it.
      type: str
    event_id:
      description: C(EventCode), V(12309) or V(12310).
      type: int
      sample: 12309
    type:
      description: C(Type), for example V(Information) or V(Error).
      type: str
    computer_name:
      description: C(ComputerName).
      type: str
    message:
      description: C(Message), the event text as Windows renders it (localised); null when Windows has none.
      type: str
    insertion_strings:
      description: C(InsertionStrings).
      type: list
      elements: str
    outcome:
      description: The AVMA outcome of an Event 12309 or 12310, from its result code or, failing that, its words; null
        when neither is recognisable or the event is not an AVMA event.
      type: dict
      contains:
        name:
          description: V(success), V(invalid_host), V(invalid_data), V(activation_denied), or V(failed) for a failure
            code that names no single outcome (e.g. in another display language).
          type: str
        result_code:
          description: The result HRESULT found in the event (V(0x00000000), V(0xC004FD02), ...), or null.
          type: str
        result_meaning:
          description: What the result code means, for the AVMA codes; null otherwise.
          type: str
        decoded_from:
          description: V(result_code) or V(words), whichever decided the outcome.
          type: str
        text:
          description: The words Windows uses for it.
          type: str
          sample: Invalid Host
        meaning:
          description: What the outcome means.
          type: str
        next_step:
          description: What to do about it; null for success.
          type: str
        success:
          description: Whether the guest was activated.
          type: bool
    raw:
      description: The C(Win32_NTLogEvent) properties as read (bounded; times as ISO 8601).
      type: dict
    truncated:
      description: Whether a text of the event was cut to its bound.
      type: bool
count:
  description: Number of events returned.
  returned: success
  type: int
since:
  description: Start of the window (ISO 8601, UTC), or null without O(since).
  returned: success
  type: str
limited:
  description: Whether more events matched than O(max_events), so that older ones were left out.
  returned: success
  type: bool
"""

from ansible_collections.hyperv.avma.plugins.module_utils._events import ACTIVATION_EVENTS_SPEC, activation_events_task
from ansible_collections.hyperv.avma.plugins.module_utils._module import run_module


def main():
    run_module(activation_events_task, ACTIVATION_EVENTS_SPEC)


if __name__ == "__main__":
    main()
