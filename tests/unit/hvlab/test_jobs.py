# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Msvm_ConcreteJob as a managed state: reads or seconds advance it, rules make it fail, old jobs go away."""

from datetime import timedelta

import pytest

from hvlab import hyperv, jobs
from hvlab.cimtypes import normalize, parse_datetime

from ansible_collections.hyperv.avma.tests.unit.hvlab.kvp_test_helpers import (
    enumerate_all, fleet_document, get_job, job_id, kvp_call, properties, return_value, service_for, wait_job)

WEB = hyperv.guest_vm_id("kvpweb")


def host_with(**hyperv_settings):
    document = fleet_document("kvp_host")
    document["machines"]["hv1"]["hyperv"] = hyperv_settings
    return service_for(document)


@pytest.mark.parametrize("polls, reads", [(0, 1), (1, 2), (3, 4)])
def test_a_job_stays_running_for_the_configured_number_of_reads(polls, reads):
    service = host_with(job_polls=polls)
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    job, count = wait_job(service, "hv1", job_id(outs))
    assert (count, job["JobState"], job["ErrorCode"]) == (reads, "7", "0")


def test_every_read_of_the_class_advances_running_jobs():
    service = host_with(job_polls=1)
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    items, _requests = enumerate_all(service, "hv1", "SELECT * FROM Msvm_ConcreteJob")
    assert [properties(item)["JobState"] for item in items] == ["4"]
    assert get_job(service, "hv1", job_id(outs))["JobState"] == "7"


def test_a_timed_job_completes_when_its_seconds_have_passed():
    service = host_with(job_seconds=60)
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    instance_id = job_id(outs)
    for _read in range(5):
        assert get_job(service, "hv1", instance_id)["JobState"] == "4"
    host = service.fleet.machines["hv1"]
    job = host.store.find(jobs.MSVM_CONCRETE_JOB, {"InstanceID": instance_id})
    job["TimeSubmitted"] = normalize("datetime", parse_datetime(job["TimeSubmitted"]) - timedelta(seconds=61))
    assert get_job(service, "hv1", instance_id)["JobState"] == "7"


def test_failure_rules_fail_the_next_jobs_that_match_and_change_nothing():
    service = service_for("kvp_host")
    host = service.fleet.machines["hv1"]
    rule = jobs.add_failure_rule(host, {"method": "RemoveKvpItems", "vm": "WEB01", "count": 1, "error_code": 32775,
                                        "error_description": "Invalid state for this operation."})
    assert rule["count"] == 1
    _reply, _root, outs = kvp_call(service, "hv1", "RemoveKvpItems", WEB, [("LegacyActivationNote", "")])
    job, _reads = wait_job(service, "hv1", job_id(outs))
    assert (job["JobState"], job["ErrorCode"], job["ErrorDescription"]) == ("10", "32775", "Invalid state for this operation.")
    _reply, _root, outs = kvp_call(service, "hv1", "RemoveKvpItems", WEB, [("LegacyActivationNote", "")])
    assert wait_job(service, "hv1", job_id(outs))[0]["JobState"] == "7"


def test_a_rule_for_another_method_or_vm_does_not_fire():
    service = service_for("kvp_host")
    host = service.fleet.machines["hv1"]
    jobs.add_failure_rule(host, {"method": "AddKvpItems", "vm": "hostile01"})
    jobs.add_failure_rule(host, {"method": "RemoveKvpItems"})
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    assert wait_job(service, "hv1", job_id(outs))[0]["JobState"] == "7"
    jobs.clear_failure_rules(host)
    _reply, _root, outs = kvp_call(service, "hv1", "RemoveKvpItems", WEB, [("a", "")])
    assert wait_job(service, "hv1", job_id(outs))[0]["JobState"] == "7"


@pytest.mark.parametrize("rule", [
    {"count": 0}, {"error_code": 70000}, {"vm": 3}, {"colour": "red"}, "not a rule",
])
def test_bad_failure_rules_are_refused(rule):
    with pytest.raises(ValueError):
        jobs.add_failure_rule(service_for("kvp_host").fleet.machines["hv1"], rule)


def test_finished_jobs_are_removed_after_five_minutes():
    service = service_for("kvp_host")
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    instance_id = job_id(outs)
    assert wait_job(service, "hv1", instance_id)[0]["JobState"] == "7"
    host = service.fleet.machines["hv1"]
    job = host.store.find(jobs.MSVM_CONCRETE_JOB, {"InstanceID": instance_id})
    job["TimeOfLastStateChange"] = normalize("datetime", parse_datetime(job["TimeOfLastStateChange"]) - timedelta(minutes=6))
    assert get_job(service, "hv1", instance_id) is None
    assert host.store.instances(jobs.JOB_PLAN) == []


def test_jobs_survive_a_state_round_trip():
    service = service_for("kvp_host")
    _reply, _root, outs = kvp_call(service, "hv1", "AddKvpItems", WEB, [("a", "1")])
    assert return_value(outs) == 4096
    state = service.fleet.to_state()
    restored = service_for("kvp_host")
    restored.fleet.restore_state(state)
    assert wait_job(restored, "hv1", job_id(outs))[0]["JobState"] == "7"
