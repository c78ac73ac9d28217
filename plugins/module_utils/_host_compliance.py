# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the compliance report needs from one Hyper-V host, read in one task over one authenticated session: its AVMA
readiness (as host_info), every VM with what the report reads of its KVP data, and the AVMA requests the host answered
(Event 12310).

Only what the report reads is returned: a fleet report moves every host's answer through Ansible (the worker's result,
the host's variables), so the whole KVP data of every VM (kvp_info's result) would cost the controller megabytes per
host for items the report never looks at.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._avma import AVMA_KVP_PREFIX
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError
from ansible_collections.hyperv.avma.plugins.module_utils._events import HOST_EVENT_ID, MAX_EVENTS_LIMIT, activation_events_task, parse_since
from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import HOST_INFO_SPEC, kvp_info_task, names_the_machine, read_host_readiness

HOST_COMPLIANCE_INFO_SPEC = dict(
    HOST_INFO_SPEC,
    events_since=dict(type="str", default="90d"),
    max_events=dict(type="int", default=1000),
)

# Readiness problems after which the host has no Hyper-V to ask for its VMs.
_NO_VIRTUALIZATION = frozenset({"hyperv_missing", "hyperv_unavailable"})
_VM_FIELDS = ("name", "id", "state", "issues")
_INTRINSIC_FACTS = ("fqdn", "os_name", "os_release", "os_edition_id", "ipv4_addresses")
_EVENT_FIELDS = ("time_generated", "record_number", "event_id", "insertion_strings", "outcome", "truncated")


def report_vm(vm):
    """What the report reads of a VM from kvp_info's view of it: identity, state, whether Data Exchange is on, the
    intrinsic facts it shows (_INTRINSIC_FACTS), the issues found in its KVP data, and of its guest items only those
    the collection publishes (AVMA_KVP_PREFIX). Every field more costs the controller at each step of a fleet run that
    carries the answer (the worker's result, the callback, the report task's arguments)."""
    prefix = AVMA_KVP_PREFIX.lower()
    entry = {field: vm[field] for field in _VM_FIELDS}
    entry["data_exchange"] = dict(enabled=vm["data_exchange"]["enabled"])
    entry["intrinsic_facts"] = {fact: vm["intrinsic_facts"].get(fact) for fact in _INTRINSIC_FACTS}
    entry["guest_items"] = {name: value for name, value in vm["guest_items"].items() if name.lower().startswith(prefix)}
    return entry


def report_event(event):
    """What the report reads of an Event 12310 (activation_events' record): when, which VM (insertion strings) and the
    outcome decoded from its codes; the message and raw properties stay on the host."""
    return {field: event[field] for field in _EVENT_FIELDS}


@names_the_machine
def host_compliance_info_task(cim, params, check_mode, diff):
    """The host_compliance_info task: read-only. Returns ``host_info`` (the host_info result), ``kvp`` (every VM as
    report_vm gives it, plus ``host_name``, ``missing_vms``, ``owned_elsewhere``), ``events`` (Event 12310 as
    report_event gives them: events, count, since, limited), and the warnings of the KVP read. A host without a
    working Hyper-V has no VMs to read: ``kvp`` then lists none and ``host_info`` says why. Bad options fail before any
    request."""
    parse_since(params["events_since"])
    if not 1 <= params["max_events"] <= MAX_EVENTS_LIMIT:
        raise AvmaValueError("max_events (%d) must be a number from 1 to %d" % (params["max_events"], MAX_EVENTS_LIMIT))
    events_params = dict(event_ids=[HOST_EVENT_ID], since=params["events_since"], max_events=params["max_events"])
    readiness = read_host_readiness(cim, params)
    if any(problem["code"] in _NO_VIRTUALIZATION for problem in readiness["problems"]):
        kvp = dict(host_name=readiness["host"]["name"], vms=[], missing_vms=[], owned_elsewhere=[])
    else:
        kvp = kvp_info_task(cim, dict(scope="host", vms=None, query=None, mask_values=[]), check_mode, diff)
        del kvp["changed"]
        kvp["vms"] = [report_vm(vm) for vm in kvp["vms"]]
    warnings = kvp.pop("warnings", [])
    events = activation_events_task(cim, events_params, check_mode, diff)
    del events["changed"]
    events["events"] = [report_event(event) for event in events["events"]]
    result = dict(changed=False, host_info=readiness, kvp=kvp, events=events)
    if warnings:
        result["warnings"] = warnings
    return result


# What the compliance report says of a host it has no answer of.
NOT_READ = "the host failed earlier in this run (see the play recap)"
NOT_ANSWERED = "the host did not answer"
READ_FAILED = "the host could not be read"


def report_host(name, read):
    """The compliance report's input for one host (see _compliance.build_report) from what host_compliance_info
    registered for it: the host's answer; or, when the task failed (or never ran), why the host could not be read.
    ``read`` is the registered result, None when there is none."""
    if not isinstance(read, dict) or read.get("skipped"):
        return dict(name=name, error=NOT_READ)
    if read.get("unreachable"):
        return dict(name=name, error="no answer: %s" % (read.get("msg") or NOT_ANSWERED))
    if read.get("failed") or not isinstance(read.get("host_info"), dict) or not isinstance(read.get("kvp"), dict):
        return dict(name=name, error=str(read.get("msg") or READ_FAILED))
    events = read.get("events") if isinstance(read.get("events"), dict) else {}
    return dict(name=name, host_info=read["host_info"], kvp=read["kvp"], events=events.get("events") or [],
                events_limited=bool(events.get("limited")), events_since=events.get("since"))
