# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_compliance_info's options are checked before any request (the reads themselves: the integration test)."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError
from ansible_collections.hyperv.avma.plugins.module_utils._host_compliance import (
    NOT_READ,
    host_compliance_info_task,
    report_event,
    report_host,
    report_vm,
)


class NoRequests:
    display_name = "hv01 (127.0.10.1:5985)"

    def __getattr__(self, name):
        raise AssertionError("a request was made: %s" % name)


def params(**overrides):
    return dict(dict(check_cluster_nodes=True, cluster_node_addresses={}, events_since="90d", max_events=1000), **overrides)


@pytest.mark.parametrize("overrides, message", [
    (dict(max_events=0), "max_events (0) must be a number from 1 to 10000"),
    (dict(max_events=10001), "max_events (10001) must be a number from 1 to 10000"),
    (dict(events_since="last tuesday"), "last tuesday"),
])
def test_bad_options_fail_naming_the_machine_before_any_request(overrides, message):
    with pytest.raises(AvmaValueError) as caught:
        host_compliance_info_task(NoRequests(), params(**overrides), False, False)
    assert str(caught.value).startswith("hv01 (127.0.10.1:5985): ") and message in str(caught.value)


def test_a_vm_keeps_what_the_report_reads_and_only_the_collections_own_items():
    facts = dict(fqdn="web.corp", os_name="Windows Server 2022 Datacenter", os_version="10.0.20348", os_build=20348, os_release="2022",
                 os_edition_sku=8, os_edition_id="ServerDatacenter", ipv4_addresses=["10.0.0.5"], ipv6_addresses=[], rdp_ipv4_addresses=[],
                 rdp_ipv6_addresses=[], integration_services_version="10.0.20348.1", os_vendor="Microsoft", os_signature=None)
    vm = dict(name="web", id="ID", state="running", state_code=2, intrinsic_facts=facts,
              data_exchange=dict(enabled=True, status="OK", status_code=2, operational_status=[2]),
              issues=[dict(code="control_characters")], intrinsic_items=dict(OSName="Windows"), host_items=dict(Owner="x"),
              host_only_items={}, guest_items={"HyperVAvma.LicenseStatus": "Licensed", "hypervavma.Channel": "AVMA", "Role": "db"})
    shown = dict(fqdn="web.corp", os_name="Windows Server 2022 Datacenter", os_release="2022", os_edition_id="ServerDatacenter",
                 ipv4_addresses=["10.0.0.5"])
    assert report_vm(vm) == dict(name="web", id="ID", state="running", data_exchange=dict(enabled=True), intrinsic_facts=shown,
                                 issues=[dict(code="control_characters")],
                                 guest_items={"HyperVAvma.LicenseStatus": "Licensed", "hypervavma.Channel": "AVMA"})


def test_an_event_keeps_its_decoded_outcome_not_its_message():
    event = dict(time_generated="2026-12-01T08:00:00+00:00", time_written=None, record_number=7, provider="p", event_id=12310, type="t",
                 computer_name="HV1", message="long text", insertion_strings=["web"], outcome=dict(name="success"), raw={}, truncated=False)
    assert report_event(event) == dict(time_generated="2026-12-01T08:00:00+00:00", record_number=7, event_id=12310, insertion_strings=["web"],
                                       outcome=dict(name="success"), truncated=False)


@pytest.mark.parametrize("read, expected", [
    (None, dict(name="hv1", error=NOT_READ)),
    (dict(skipped=True, changed=False), dict(name="hv1", error=NOT_READ)),
    (dict(unreachable=True, msg="hv1: refused"), dict(name="hv1", error="no answer: hv1: refused")),
    (dict(unreachable=True), dict(name="hv1", error="no answer: the host did not answer")),
    (dict(failed=True, msg="hv1: access denied"), dict(name="hv1", error="hv1: access denied")),
    (dict(failed=True), dict(name="hv1", error="the host could not be read")),
    (dict(changed=False, host_info="not a dict", kvp={}), dict(name="hv1", error="the host could not be read")),
])
def test_a_host_without_an_answer_is_named_with_the_reason(read, expected):
    assert report_host("hv1", read) == expected


def test_a_host_that_answered_gives_its_readiness_vms_and_requests():
    read = dict(changed=False, host_info=dict(ready=True), kvp=dict(vms=[dict(name="web")]),
                events=dict(events=[dict(event_id=12310)], count=1, since="2026-09-03T00:00:00+00:00", limited=True))
    assert report_host("hv1", read) == dict(name="hv1", host_info=dict(ready=True), kvp=dict(vms=[dict(name="web")]),
                                            events=[dict(event_id=12310)], events_limited=True, events_since="2026-09-03T00:00:00+00:00")
