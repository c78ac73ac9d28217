# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the compliance report needs from one Hyper-V host, read in one task over one authenticated session: its AVMA
readiness (as host_info), every VM with its KVP items (as kvp_info, scope host) and the AVMA requests it answered
(Event 12310, as activation_events).

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError
from ansible_collections.hyperv.avma.plugins.module_utils._events import HOST_EVENT_ID, MAX_EVENTS_LIMIT, activation_events_task, parse_since
from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import HOST_INFO_SPEC, kvp_info_task, names_the_machine, read_host_readiness

HOST_COMPLIANCE_INFO_SPEC = dict(
    HOST_INFO_SPEC,
    events_since=dict(type="str", default="90d"),
    max_events=dict(type="int", default=1000),
    mask_values=dict(type="list", elements="str", default=[]),
)

# Readiness problems after which the host has no Hyper-V to ask for its VMs.
_NO_VIRTUALIZATION = frozenset({"hyperv_missing", "hyperv_unavailable"})


@names_the_machine
def host_compliance_info_task(cim, params, check_mode, diff):
    """The host_compliance_info task: read-only. Returns ``host_info`` (the host_info result), ``kvp`` (the kvp_info
    result for every VM), ``events`` (the activation_events result for Event 12310: events, count, since, limited),
    and the warnings of the KVP read. A host without a working Hyper-V has no VMs to read: ``kvp`` then lists none and
    ``host_info`` says why. Bad options fail before any request."""
    parse_since(params["events_since"])
    if not 1 <= params["max_events"] <= MAX_EVENTS_LIMIT:
        raise AvmaValueError("max_events (%d) must be a number from 1 to %d" % (params["max_events"], MAX_EVENTS_LIMIT))
    events_params = dict(event_ids=[HOST_EVENT_ID], since=params["events_since"], max_events=params["max_events"])
    readiness = read_host_readiness(cim, params)
    if any(problem["code"] in _NO_VIRTUALIZATION for problem in readiness["problems"]):
        kvp = dict(host_name=readiness["host"]["name"], vms=[], missing_vms=[], owned_elsewhere=[])
    else:
        kvp = kvp_info_task(cim, dict(scope="host", vms=None, query=None, mask_values=params["mask_values"]), check_mode, diff)
        del kvp["changed"]
    warnings = kvp.pop("warnings", [])
    events = activation_events_task(cim, events_params, check_mode, diff)
    del events["changed"]
    result = dict(changed=False, host_info=readiness, kvp=kvp, events=events)
    if warnings:
        result["warnings"] = warnings
    return result
